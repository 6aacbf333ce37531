"""Runs a table of jobs (built by daemon/services.py) on APScheduler.

APScheduler 3.x runs the jobs on a thread pool; nothing it keeps survives a restart on
purpose: what must (last dream, wakes, sessions, heartbeat) is in our store, and the
services' catch-up works from there. Each job says its ``misfire_grace_time``,
``coalesce`` and ``max_instances`` for what it is, and is bounded by its own timeout
(3.x cannot kill a hung job, so a job that overruns is abandoned and logged, never
waited for).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from reverie.daemon import logs
from reverie.perception import _cron
from reverie.memory.errors import described

log = logs.get("reverie.scheduler")
UTC = timezone.utc


class Crontab(BaseTrigger):
    """An APScheduler 3.x trigger that fires as crontab(5) reads ``expr`` (0 and 7 are
    Sunday; either day field may match): perception/_cron.py computes every fire time, the
    same reader `reverie status` and `check-config` use, so they cannot disagree.
    APScheduler's own CronTrigger reads weekday 0 as Monday and ANDs the day fields."""

    __slots__ = ("expr", "cron", "timezone", "jitter")

    def __init__(self, expr: str, tz: Any, jitter: int | None = None):
        self.expr, self.cron, self.timezone, self.jitter = expr, _cron.parse(expr), tz, jitter

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        # CronTrigger's start rule: from just past the previous fire time, unless now is
        # earlier (a clock set back), never the previous fire time itself
        start = now
        if previous_fire_time is not None:
            just_after = _utc_add(previous_fire_time, timedelta(microseconds=1))
            start = min(now.astimezone(UTC), just_after.astimezone(UTC))
            # in UTC: a wall time inside an autumn repeat never equals one of another zone
            if start == previous_fire_time.astimezone(UTC):
                start = _utc_add(start, timedelta(microseconds=1))
        t = _cron.next_fire(self.cron, self.timezone, start)
        return self._apply_jitter(t, self.jitter, now)

    def __str__(self) -> str:
        return f"crontab[{self.expr}]"

    def __repr__(self) -> str:
        return f"<Crontab ({self.expr!r}, timezone={self.timezone!s}, jitter={self.jitter})>"


def _utc_add(t: datetime, delta: timedelta) -> datetime:
    return (t.astimezone(UTC) + delta).astimezone(t.tzinfo)


def cron(expr: str, tz: Any, jitter: int | None = None) -> Crontab:
    return Crontab(expr, tz, jitter)


@dataclass(frozen=True)
class Job:
    """One entry of the table of jobs: what runs, when, and how a late or long run is
    treated. ``first`` is the first run (None: the trigger's next fire time)."""

    name: str
    fn: Callable[[], Any]
    trigger: Any  # an APScheduler trigger: get_next_fire_time(previous, now)
    timeout: float
    misfire_grace_time: int
    coalesce: bool = True
    max_instances: int = 1
    first: datetime | None = None


# A run still going this long past its timeout is stuck, not slow: the watchdog stops
# being fed (daemon/services.py), so systemd restarts a daemon that is truly wedged.
STUCK_GRACE = 60.0


@dataclass
class _Run:
    thread: threading.Thread
    # its start plus its timeout, on the machine's monotonic clock: the work thread
    # waits real seconds even when a test's fake clock jumps
    deadline: float
    noted: bool = False  # "still hangs" was logged (once per run, not every tick)
    stuck: bool = False  # "stuck" was logged


# The work thread of each job by name, across reloads (which recreate the wrappers):
# an abandoned run that still hangs must not be joined by a second copy of itself.
_live: dict[str, _Run] = {}
_live_lock = threading.Lock()


def bounded(name: str, timeout: float, fn: Callable[[], Any]) -> Callable[[], None]:
    """Wrap a job so it returns within ``timeout`` even when its work hangs; while an
    abandoned run still hangs, later runs of the same job are skipped, never doubled."""

    def run() -> None:
        logs.new_job_context(job=name)
        with _live_lock:
            prev = _live.get(name)
            if prev is not None and prev.thread.is_alive():
                if not prev.noted:
                    prev.noted = True
                    log.warning("job.skipped", job=name,
                                reason="its previous run still hangs (abandoned after its "
                                "timeout); this job waits until it ends")
                return
        done = threading.Event()
        error: list[BaseException] = []

        def work() -> None:
            logs.new_job_context(job=name)
            try:
                fn()
            except BaseException as e:  # reported below, the daemon keeps running
                error.append(e)
            finally:
                done.set()

        t = threading.Thread(target=work, name=f"job:{name}", daemon=True)
        with _live_lock:
            _live[name] = _Run(t, time.monotonic() + timeout)
        t.start()
        if not done.wait(timeout):
            log.error("job.timeout", job=name, timeout_s=timeout,
                      note="abandoned; it will not block the next run")
            return
        if error:
            e = error[0]
            log.error("job.failed", job=name, error=described(e),
                      exc_info=(type(e), e, e.__traceback__))

    run.__name__ = name
    return run


def stuck(grace: float = STUCK_GRACE) -> list[str]:
    """The jobs whose abandoned run still hangs ``grace`` seconds past its timeout (one
    that was abandoned and has since finished is not stuck). Each is logged once."""
    now = time.monotonic()
    out = []
    with _live_lock:
        for name, r in _live.items():
            if r.thread.is_alive() and now >= r.deadline + grace:
                out.append(name)
                if not r.stuck:
                    r.stuck = True
                    log.error("job.stuck", job=name,
                              overdue_s=round(now - r.deadline, 1),
                              note="still running past its timeout; the watchdog is no "
                              "longer fed")
    return sorted(out)


def make_scheduler(tz: Any) -> BackgroundScheduler:
    # A pool large enough that slow sources never starve the heartbeat or sessions.
    return BackgroundScheduler(
        timezone=tz,
        executors={"default": {"type": "threadpool", "max_workers": 24}},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )


class SkipLogger:
    """Log a skipped run (still running / missed) once until the job next runs fine."""

    def __init__(self) -> None:
        self._noted: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        key = (event.job_id, event.code)
        if event.code == EVENT_JOB_ERROR:
            return
        with self._lock:
            if key in self._noted:
                return
            self._noted.add(key)
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("job.skipped", job=event.job_id,
                        reason="the previous run is still going (logged once)")
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job.missed", job=event.job_id,
                        scheduled=str(getattr(event, "scheduled_run_time", "")),
                        reason="fired too late (logged once)")

    def clear(self, job_id: str) -> None:
        with self._lock:
            self._noted = {k for k in self._noted if k[0] != job_id}


def install(sched: BackgroundScheduler, jobs: list[Job]) -> None:
    """(Re)place every job of ``sched`` by the table ``jobs``, each bounded by its timeout."""
    for job in sched.get_jobs():
        job.remove()
    for j in jobs:
        extra: dict[str, Any] = {} if j.first is None else {"next_run_time": j.first}
        sched.add_job(bounded(j.name, j.timeout, j.fn), j.trigger, id=j.name,
                      coalesce=j.coalesce, max_instances=j.max_instances,
                      misfire_grace_time=j.misfire_grace_time, **extra)


def listen(sched: BackgroundScheduler) -> None:
    """Log skipped runs (still running, missed) once each."""
    sched.add_listener(SkipLogger(), EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
