"""The daemon's jobs, built from the config, and the catch-up at start.

APScheduler 3.x runs the jobs on a thread pool; nothing it keeps survives a restart on
purpose: what must (last dream, wakes, sessions, heartbeat) is in our store, and
:func:`catch_up` works from there. Each job sets ``misfire_grace_time``, ``coalesce``
and ``max_instances`` for what it is, and is bounded by its own timeout (3.x cannot kill
a hung job, so a job that overruns is abandoned and logged, never waited for).
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from reverie.daemon import logs
from reverie.memory import clock

if TYPE_CHECKING:
    from reverie.daemon.lifecycle import Daemon

log = logs.get("reverie.scheduler")

HEARTBEAT_EVERY = 10.0  # seconds; the watchdog trusts the scheduler while beats are fresh
SESSION_CHECK_EVERY = 2.0
WAKE_ON_EVERY = 30.0


def cron(expr: str, tz: Any) -> CronTrigger:
    return CronTrigger.from_crontab(expr, timezone=tz)


# The work thread of each job by name, across reloads (which recreate the wrappers):
# an abandoned run that still hangs must not be joined by a second copy of itself.
_live: dict[str, threading.Thread] = {}
_live_lock = threading.Lock()
_noted_stuck: set[int] = set()


def bounded(name: str, timeout: float, fn: Callable[[], Any]) -> Callable[[], None]:
    """Wrap a job so it returns within ``timeout`` even when its work hangs; while an
    abandoned run still hangs, later runs of the same job are skipped, never doubled."""

    def run() -> None:
        logs.new_job_context(job=name)
        with _live_lock:
            prev = _live.get(name)
            if prev is not None and prev.is_alive():
                if prev.ident not in _noted_stuck:  # once per stuck run, not every tick
                    _noted_stuck.add(prev.ident or 0)
                    log.warning("job.skipped", job=name,
                                reason="its previous run still hangs (abandoned after its "
                                "timeout); this job waits until it ends")
                return
            _noted_stuck.discard(prev.ident if prev is not None else None)
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
            _live[name] = t
        t.start()
        if not done.wait(timeout):
            log.error("job.timeout", job=name, timeout_s=timeout,
                      note="abandoned; it will not block the next run")
            return
        if error:
            e = error[0]
            log.error("job.failed", job=name, error=f"{e.__class__.__name__}: {e}",
                      exc_info=(type(e), e, e.__traceback__))

    run.__name__ = name
    return run


def make_scheduler(tz: Any) -> BackgroundScheduler:
    # A pool large enough that slow sources never starve the heartbeat or sessions.
    return BackgroundScheduler(
        timezone=tz,
        executors={"default": {"type": "threadpool", "max_workers": 24}},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )


class _SkipLogger:
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


def install_jobs(d: "Daemon") -> None:
    """(Re)create every job from ``d.loaded`` on ``d.scheduler``."""
    sched = d.scheduler
    cfg = d.loaded.config
    tz = d.loaded.tz
    for job in sched.get_jobs():
        job.remove()

    now = clock.now()
    beat = d.heartbeat_every
    sched.add_job(bounded("heartbeat", 30, d.heartbeat), IntervalTrigger(seconds=beat),
                  id="heartbeat", next_run_time=now, coalesce=True, max_instances=1,
                  misfire_grace_time=max(1, int(beat)))

    for spec in cfg.sources:
        if not spec.enabled:
            continue
        timeout = spec.timeout.total_seconds() + 15
        fn = bounded(f"source:{spec.name}", timeout, lambda s=spec: d.poll(s))
        if spec.cron:
            trig: Any = CronTrigger.from_crontab(spec.cron, timezone=tz, jitter=int(spec.effective_jitter) or None)
            grace = 300
        else:
            trig = IntervalTrigger(seconds=spec.interval, jitter=int(spec.effective_jitter) or None)
            grace = max(1, int(spec.interval / 2))
        # First poll soon after start, spread out so 50 sources don't fire in one instant.
        first = now + timedelta(seconds=random.uniform(0, min(5.0, spec.interval / 4)))
        sched.add_job(fn, trig, id=f"source:{spec.name}", next_run_time=first, coalesce=True,
                      max_instances=1, misfire_grace_time=grace)

    sched.add_job(bounded("retention", 600, d.retention), cron("30 3 * * *", tz), id="retention",
                  coalesce=True, max_instances=1, misfire_grace_time=6 * 3600)

    dream = cfg.dream
    dream_timeout = dream.timeout.total_seconds() + 120
    # A dream that fires late (suspend, busy pool) still counts within catch_up; a double
    # fire is harmless: write_dream is exactly-once per date.
    sched.add_job(bounded("dream", dream_timeout, d.dream_now), cron(dream.at, tz), id="dream",
                  coalesce=True, max_instances=1,
                  misfire_grace_time=max(1, int(dream.catch_up.total_seconds())))

    s = cfg.sessions
    if s.enabled:
        for i, expr in enumerate(s.wake):
            sched.add_job(bounded(f"wake:{i}", 120, lambda e=expr: d.scheduled_wake(e)),
                          cron(expr, tz), id=f"wake:{i}", coalesce=True, max_instances=1,
                          misfire_grace_time=max(1, int(s.missed_grace.total_seconds())))
        for i, expr in enumerate(s.sleep):
            sched.add_job(bounded(f"sleep:{i}", s.stop_timeout.total_seconds() + 300,
                                  lambda: d.scheduled_sleep()),
                          cron(expr, tz), id=f"sleep:{i}", coalesce=True, max_instances=1,
                          misfire_grace_time=3600)
        sched.add_job(bounded("sessions", s.stop_timeout.total_seconds() + 300, d.check_sessions),
                      IntervalTrigger(seconds=SESSION_CHECK_EVERY), id="sessions", coalesce=True,
                      max_instances=1, misfire_grace_time=int(SESSION_CHECK_EVERY))
        if cfg.memory.distill:
            sched.add_job(bounded("distill", cfg.dream.timeout.total_seconds() + 60,
                                  d.distill_pending),
                          IntervalTrigger(seconds=60), id="distill", coalesce=True,
                          max_instances=1, misfire_grace_time=60)
        if s.wake_on:
            sched.add_job(bounded("wake_on", 120, d.check_wake_on),
                          IntervalTrigger(seconds=WAKE_ON_EVERY), id="wake_on", coalesce=True,
                          max_instances=1, misfire_grace_time=int(WAKE_ON_EVERY))
