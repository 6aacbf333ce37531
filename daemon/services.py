"""The one place that wires reverie: a loaded config becomes its services.

:func:`build` opens the store and makes the state renderer, the session runner, the
notifier, the control handler and the table of jobs. The daemon (lifecycle.py), the
command line's foreground commands (cli/, foreground.py) and the demo all take
their services from here, and so do the tests that drive whole days in-process with a
fake clock (memory/clock.py).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from reverie.daemon import logs
from reverie.daemon.alerts import STOPPED_WITH_DAEMON, Alerter
from reverie.daemon.config import Loaded
from reverie.daemon.notify import Notifier
from reverie.daemon import scheduler as sched_mod
from reverie.daemon.scheduler import Job, cron
from reverie.memory import clock as clock_mod
from reverie.memory.store import Store
from reverie.perception.types import first_occurrence, last_fire_time
from reverie.memory.errors import described

if TYPE_CHECKING:  # imported where used: a foreground command may need neither
    from zoneinfo import ZoneInfo

    from reverie.daemon.sessions import SessionRunner
    from reverie.memory.home import Home
    from reverie.perception.dreams.write import DreamOutcome
    from reverie.perception.sources import SourceSpec
    from reverie.perception.state import StateRenderer

log = logs.get("reverie.daemon")

HEARTBEAT_EVERY = 10.0  # seconds; the watchdog trusts the scheduler while beats are fresh
SESSION_CHECK_EVERY = 2.0
WAKE_ON_EVERY = 30.0


@dataclass
class Services:
    """What a loaded config becomes. Its methods are the jobs and the control handler."""

    loaded: Loaded
    store: Store
    notifier: Notifier
    clock: clock_mod.Clock
    # made once, by build(), which hands them the services' own methods
    renderer: StateRenderer = field(init=False)
    runner: SessionRunner = field(init=False)
    alerts: Alerter = field(init=False)  # quiet until the daemon starts it
    heartbeat_every: float = HEARTBEAT_EVERY
    # the daemon's "reload on the main loop and wait" (lifecycle.Daemon.request_reload)
    reload_handler: Callable[[], dict] | None = None
    _last_beat: float = field(default=0.0, repr=False)  # monotonic time of the last beat
    # True while the daemon's start recovers the last run (recover): wakes wait for it,
    # so no agent starts over a session not yet adopted or a working.md not yet archived
    recovering: bool = False
    stuck_grace: float = sched_mod.STUCK_GRACE
    _down_since: datetime | None = field(default=None, repr=False)  # the last beat before start

    @property
    def home(self) -> Home:
        return self.loaded.home

    @property
    def tz(self) -> ZoneInfo:
        return self.loaded.tz

    # -- jobs (called on the scheduler's pool) ----------------------------------------

    def heartbeat(self) -> None:
        self.store.beat()
        self._last_beat = clock_mod.monotonic()

    def scheduler_alive(self) -> bool:
        """What feeds the watchdog: fresh beats, and no job stuck past its timeout."""
        if sched_mod.stuck(self.stuck_grace):
            return False
        return clock_mod.monotonic() - self._last_beat < self.heartbeat_every * 3

    def poll(self, spec: SourceSpec) -> None:
        from reverie.perception import poll

        state = self.store.source_state(spec.name)
        go, why = poll.should_run(spec, state, clock_mod.now())
        if not go:
            log.debug("source.backoff", source=spec.name, reason=why)
            return
        poll.poll_source(spec, home=self.home, store=self.store, secrets=self.loaded.secrets)
        self.alerts.after_poll(spec, state, self.store.source_state(spec.name))
        self.renderer.maybe_render()

    def render_state(self) -> None:
        """A fresh state now (before a wake); a broken user template is logged, not fatal."""
        from reverie.perception.state import StateError

        try:
            self.renderer.render()
        except StateError as e:
            log.error("state.render_failed", error=str(e))

    def render_page(self) -> Path:
        """Write morning.html; PageError when it cannot be."""
        from reverie.perception.page import render_page

        return render_page(self.home, self.store, self.loaded.config.sources, tz=self.tz)

    def refresh(self) -> str | None:
        """State and morning page now, for a foreground command: a broken state template
        raises (StateError); a page that cannot be written is returned as one line."""
        from reverie.perception.page import PageError
        from reverie.perception.state import render_state

        render_state(self.home, self.store, self.loaded.config.sources, tz=self.tz,
                     template=self.loaded.state_template)
        try:
            self.render_page()
        except PageError as e:
            return str(e)
        return None

    def distill_pending(self) -> None:
        """Propose a summary of each day whose diary gained consolidated sessions."""
        from reverie.perception.distill import DistillFailure, distill_day

        done = self.store.get_meta("distill.done") or ""
        rows = [r for r in self.store.sessions(since=clock_mod.now() - timedelta(days=2))
                if r.consolidated and r.id > done]
        if not rows:
            return
        days = sorted({r.started.astimezone(self.tz).date() for r in rows})
        for day in days:
            try:
                mem = self.loaded.config.memory
                out = distill_day(self.home, self.store, self.loaded.config.dream, day=day,
                                  secrets=self.loaded.secrets, mode=mem.distill,
                                  patterns_days=mem.patterns_days)
            except DistillFailure as e:
                log.warning("distill.failed", date=day.isoformat(), error=str(e))
                return  # tried again at the next run
            if out is not None:
                log.info("distill.written", date=day.isoformat(), path=str(out.path),
                         tokens=out.tokens)
        self.store.set_meta("distill.done", max(r.id for r in rows))

    def retention(self) -> None:
        keep = self.loaded.config.perception.retention
        n = self.store.apply_retention(clock_mod.now() - keep)
        log.info("retention.applied", removed=n, keep=str(keep))

    def dream_now(self, day: date | None = None, *, force: bool = False,
                  backend: str | None = None) -> DreamOutcome:
        from reverie.perception.dreams.write import write_dream

        now = clock_mod.now()
        out = write_dream(self.home, self.store, self.loaded.config.dream,
                          day=day or now.astimezone(self.tz).date(), tz=self.tz, now=now,
                          force=force, backend=backend, secrets=self.loaded.secrets,
                          sources=self.loaded.config.sources)
        if out.written:
            log.info("dream.written", date=out.day.isoformat(), path=str(out.path),
                     backend=out.backend, fallback_reason=out.fallback_reason)
            if out.fallback_reason:
                self.alerts.dream_fell_back(out.day.isoformat(), out.fallback_reason)
        self.renderer.maybe_render()
        return out

    def scheduled_wake(self, expr: str) -> None:
        if self.recovering:  # recover's catch-up runs the wakes it missed meanwhile
            log.info("wake.deferred", wake=expr, reason="the start's recovery is under way")
            return
        fire = last_fire_time(expr, self.tz, clock_mod.now())
        # A wall time seen twice (the clocks went back) is one wake, as in cron: both fires
        # are recorded under the first, and the store takes a fire time once.
        if fire is not None:
            fire = first_occurrence(fire, self.tz)
        self.runner.wake(f"scheduled wake ({expr})", scheduled=fire,
                         check_quiet=self.loaded.config.sessions.skip_if_quiet)
        self.renderer.maybe_render()

    def scheduled_sleep(self) -> None:
        self.runner.sleep("slept")
        self.renderer.maybe_render()

    def check_failing(self) -> None:
        self.alerts.check_failing(self.loaded.config.sources)

    def check_sessions(self) -> None:
        self.runner.check()

    def check_wake_on(self) -> None:
        if self.recovering:
            return
        self.runner.check_wake_on()

    # -- start, reload, stop ----------------------------------------------------------

    def catch_up(self) -> None:
        """At start: what was due while the daemon was down happens once, now."""
        from reverie.perception.dreams.write import due_dream_day

        cfg = self.loaded.config
        now = clock_mod.now()
        last_seen = self._down_since
        day = due_dream_day(self.store, cfg.dream, tz=self.tz, now=now)
        if day is not None:
            log.info("dream.catch_up", date=day.isoformat())
            try:
                self.dream_now(day)
            except Exception as e:
                log.error("dream.failed", error=described(e))
        if cfg.sessions.enabled:
            self.runner.catch_up(last_seen, now)

    def start(self) -> None:
        """Begin and recover at once (in-process drivers; the daemon runs recover as a
        job once it answers)."""
        self.begin()
        self.recover()

    def begin(self) -> None:
        """The daemon's quick start: born, note how long it was down, beat."""
        self.store.born()
        # read before the first beat: the last beat says how long we were down
        self._down_since = self.store.last_beat()
        # /healthz (perception/metrics.py) judges the beats by how often they come
        self.store.set_meta("heartbeat.every", str(self.heartbeat_every))
        self.heartbeat()

    def recover(self) -> None:
        """Adopt or consolidate a past session, then catch up; wakes wait until it is done.
        The daemon runs it bounded, after READY=1 and the control socket, so a home that
        makes it slow or stuck never keeps `reverie status` or SIGTERM from answering."""
        try:
            self.runner.recover()
            self.catch_up()
        finally:
            self.recovering = False

    def recover_timeout(self) -> float:
        """How long the start's recovery may take: a dream and a session's stop, and
        room for consolidations."""
        cfg = self.loaded.config
        return (cfg.dream.timeout.total_seconds() + cfg.sessions.stop_timeout.total_seconds()
                + 300)

    def reload(self, loaded: Loaded) -> None:
        """Take a reloaded config (same home); the runner keeps the session it watches."""
        cfg = loaded.config
        self.loaded = loaded
        self.renderer.update(specs=cfg.sources, tz=loaded.tz, template=loaded.state_template)
        self.runner.reconfigure(cfg.sessions, tz=loaded.tz, git=cfg.memory.git,
                                working_max=cfg.memory.working_max)
        self.alerts.update(cfg.notify, name=loaded.name, tz=loaded.tz)

    def mark_running(self) -> None:
        """The daemon's start: notify from now on, and tell when the last run did not
        stop cleanly (its mark is still there)."""
        self.alerts.start()
        left = self.store.get_meta("daemon.running")
        mark = f"{os.getpid()}@{clock_mod.to_ts(clock_mod.now())}"
        self.store.set_meta("daemon.running", mark)
        self.store.set_meta_time("daemon.stopped", None)
        if left:
            self.alerts.restarted(left, self.store.last_beat())

    def mark_stopping(self) -> None:
        """A clean stop has begun: /healthz answers 503 from now on (perception/metrics.py),
        not once the beats are stale."""
        self.store.set_meta_time("daemon.stopped", clock_mod.now())

    def mark_stopped(self) -> None:
        self.store.set_meta("daemon.running", "")

    def end_session(self) -> None:
        """End a running session gracefully and consolidate (at the daemon's stop)."""
        if self.runner is not None and self.runner.current():
            try:
                self.runner.sleep(STOPPED_WITH_DAEMON)
            except Exception as e:
                log.error("session.stop_failed", error=described(e))

    def close(self) -> None:
        # Not the renderer's lock: an abandoned job may still hold it.
        self.store.close()

    # -- the control socket -----------------------------------------------------------

    def handle_control(self, req: dict) -> dict:
        """The daemon's answer to `reverie wake|sleep|status|reload` (daemon/control.py)."""
        cmd = req.get("cmd")
        if cmd == "reload":
            if self.reload_handler is None:
                return {"ok": False, "error": "only the daemon reloads"}
            return self.reload_handler()
        if self.runner is None:
            return {"ok": False, "error": "sessions are not configured"}
        if self.recovering and cmd in ("wake", "sleep"):
            return {"ok": False, "error": "the daemon is still recovering the last run "
                    "(adopting or consolidating a session); try again shortly"}
        if cmd == "wake":
            res = self.runner.wake(req.get("reason") or "asked by `reverie wake`")
            self.renderer.maybe_render()
            return {"ok": res.outcome == "started", "outcome": res.outcome,
                    "session_id": res.session_id, "reason": res.reason}
        if cmd == "sleep":
            stopped = self.runner.sleep(req.get("reason") or "slept")
            self.renderer.maybe_render()
            return {"ok": True, "stopped": bool(stopped)}
        if cmd == "status":
            out = {"ok": True, "pid": os.getpid(), "session": self.runner.current()}
            return {**out, "recovering": True} if self.recovering else out
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    # -- the table of jobs ------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """Every job the config asks for, with its trigger, timeout and misfire rules."""
        cfg = self.loaded.config
        tz = self.tz
        now = clock_mod.now()
        beat = self.heartbeat_every
        out = [Job("heartbeat", self.heartbeat, _every(beat, now),
                   30, misfire_grace_time=max(1, int(beat)), first=now)]
        if cfg.notify.urls:  # a failing source is told on this timer, whatever its polls do
            every = self.alerts.check_every()
            out.append(Job("alerts", self.check_failing, _every(every, now), 60,
                           misfire_grace_time=max(1, int(every))))
        enabled = [spec for spec in cfg.sources if spec.enabled]
        # The first polls come soon after start, spread out so 50 sources don't fire in one
        # instant: about one every 100 ms, over at most 5 s (a home with two sources has
        # its first state.md at once, not after a random wait of up to 5 s).
        spread = min(5.0, 0.1 * len(enabled))
        for spec in enabled:
            jitter = int(spec.effective_jitter) or None
            if spec.cron:
                trig: Any = cron(spec.cron, tz, jitter)
                grace = 300
            else:
                trig = _every(spec.interval, now, jitter)
                grace = max(1, int(spec.interval / 2))
            first = now + timedelta(seconds=random.uniform(0, min(spread, spec.interval / 4)))
            out.append(Job(f"source:{spec.name}", _bind(self.poll, spec), trig,
                           spec.timeout.total_seconds() + 15, grace, first=first))

        out.append(Job("retention", self.retention, cron("30 3 * * *", tz), 600,
                       misfire_grace_time=6 * 3600))
        dream = cfg.dream
        # A dream that fires late (suspend, busy pool) still counts within catch_up; a double
        # fire is harmless: write_dream is exactly-once per date.
        out.append(Job("dream", self.dream_now, cron(dream.at, tz),
                       dream.timeout.total_seconds() + 120,
                       misfire_grace_time=max(1, int(dream.catch_up.total_seconds()))))
        s = cfg.sessions
        if s.enabled:
            for i, expr in enumerate(s.wake):
                out.append(Job(f"wake:{i}", _bind(self.scheduled_wake, expr), cron(expr, tz), 120,
                               misfire_grace_time=max(1, int(s.missed_grace.total_seconds()))))
            for i, expr in enumerate(s.sleep):
                out.append(Job(f"sleep:{i}", self.scheduled_sleep, cron(expr, tz),
                               s.stop_timeout.total_seconds() + 300, misfire_grace_time=3600))
            out.append(Job("sessions", self.check_sessions,
                           _every(SESSION_CHECK_EVERY, now),
                           s.stop_timeout.total_seconds() + 300,
                           misfire_grace_time=int(SESSION_CHECK_EVERY)))
            if cfg.memory.distill:
                out.append(Job("distill", self.distill_pending,
                               _every(60, now),
                               cfg.dream.timeout.total_seconds() + 60, misfire_grace_time=60))
            if s.wake_on:
                out.append(Job("wake_on", self.check_wake_on,
                               _every(WAKE_ON_EVERY, now), 120,
                               misfire_grace_time=int(WAKE_ON_EVERY)))
        return out


def _every(seconds: float, now: Any, jitter: int | None = None) -> Any:
    """An interval trigger counted from the clock's now (APScheduler's default start is
    its own now plus one interval: kept, but from the one clock)."""
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(seconds=seconds, jitter=jitter,
                           start_date=now + timedelta(seconds=seconds))


def _bind(fn: Callable[[Any], Any], arg: Any) -> Callable[[], Any]:
    return lambda: fn(arg)


def build(loaded: Loaded, *, clock: clock_mod.Clock | None = None,
          store: Store | None = None, notifier: Notifier | None = None,
          before_wake: Callable[[], None] | None = None) -> Services:
    """The services of ``loaded``. ``clock`` becomes the process's clock (memory/clock.py);
    ``store`` defaults to the home's (opened here); the notifier to systemd's, taken out of
    the environment so the agent's session does not inherit it; ``before_wake`` (what
    renders the state before a wake) to the daemon's logged render."""
    from reverie.daemon.sessions import SessionRunner
    from reverie.perception.digest import notable_since
    from reverie.perception.state import StateRenderer

    if clock is not None:
        clock_mod.install(clock)
    cfg = loaded.config
    if store is None:
        loaded.home.ensure()
        store = Store.open(loaded.home.db)
    if notifier is None:
        notifier = Notifier.from_env(unset_environment=True)
    s = Services(loaded, store, notifier, clock_mod.current())
    # The watchdog must only be fed while the scheduler demonstrably runs jobs, so the
    # heartbeat job runs at least twice per watchdog period.
    wd = notifier.watchdog_interval()
    s.heartbeat_every = min(HEARTBEAT_EVERY, wd / 2) if wd else HEARTBEAT_EVERY
    s.renderer = StateRenderer(loaded.home, store, cfg.sources, tz=loaded.tz,
                               template=loaded.state_template,
                               min_interval=cfg.perception.render_every.total_seconds(),
                               on_render=s.render_page)
    s.alerts = Alerter(cfg.notify, store, name=loaded.name, tz=loaded.tz)
    s.runner = SessionRunner(
        loaded.home, store, cfg.sessions, tz=loaded.tz, git=cfg.memory.git,
        working_max=cfg.memory.working_max, render_state=before_wake or s.render_state,
        notable_since=lambda since, now: notable_since(s.store, since, now,
                                                       rules=s.loaded.config.dream.notable,
                                                       sources=s.loaded.config.sources),
        on_end=s.alerts.session_ended, on_wake_failed=s.alerts.wake_failed)
    return s


__all__ = ["Services", "build", "HEARTBEAT_EVERY", "SESSION_CHECK_EVERY", "WAKE_ON_EVERY"]
