"""Drive the daemon's days in-process: a fake clock and the real table of jobs.

:class:`Days` starts the services the daemon would (daemon/services.py) on a
:class:`~reverie.memory.clock.FakeClock`, then moves the clock from fire time to fire
time, asking each job's real APScheduler trigger for its next fire time
(``trigger.get_next_fire_time(previous, now)``), and runs the due jobs synchronously,
with APScheduler 3.x's rules for a late run: all fire times passed are collected,
``coalesce`` keeps the last, and a run later than its ``misfire_grace_time`` is missed.
A day takes milliseconds; a suspend is ``clock.set(later)`` between two runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reverie.daemon import services
from reverie.daemon.notify import Notifier
from reverie.daemon.scheduler import Job
from reverie.memory import clock as clock_mod
from tests.conftest import wait_for


def agent_done(s: services.Services) -> bool:
    """No session, or its agent has exited (a zombie waiting for the runner's check)."""
    cur = s.runner.current()
    if cur is None:
        return True
    try:
        with open(f"/proc/{cur['pid']}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] in "ZX"
    except OSError:
        return True


class Days:
    """One daemon's life on a fake clock: ``start``, ``run_until`` or ``run_for``, ``stop``."""

    def __init__(self, loaded: Any, at: datetime, *, agent_runs_out: bool = True):
        self.loaded = loaded
        self.clock = clock_mod.FakeClock(at)
        # A real agent takes real time; when set, the driver waits (really) for it to
        # exit after each job, so the next session check finds it ended, as a slower
        # real clock would.
        self.agent_runs_out = agent_runs_out
        self.s: services.Services | None = None
        self._next: dict[str, tuple[Job, datetime | None]] = {}
        self.ran: list[tuple[str, datetime]] = []  # (job, fire time) in the order run
        self.missed: list[tuple[str, datetime]] = []

    def start(self, at: datetime | None = None) -> services.Services:
        """The daemon's start at ``at``: build, recover, catch up, beat, then the jobs."""
        if at is not None:
            self.clock.set(at)
        self.s = s = services.build(self.loaded, clock=self.clock, notifier=Notifier(None))
        s.start()
        self._settle()
        now = self.clock.now()
        self._next = {j.name: (j, j.first or j.trigger.get_next_fire_time(None, now))
                      for j in s.jobs()}
        return s

    def run_until(self, until: datetime) -> None:
        """Run every job due up to ``until`` (in fire-time order), then stand at ``until``."""
        while True:
            due = [(t, name) for name, (_, t) in self._next.items() if t is not None]
            if not due:
                break
            first = min(due)[0]
            if first > until:
                break
            if first > self.clock.now():
                self.clock.set(first)
            now = self.clock.now()
            for _, name in sorted(x for x in due if x[0] <= now):
                self._run(name, now)
        if until > self.clock.now():
            self.clock.set(until)

    def run_for(self, seconds: float) -> None:
        self.run_until(self.clock.now() + timedelta(seconds=seconds))

    def stop(self) -> None:
        """The daemon's stop: end the session (consolidating it) and close the store."""
        assert self.s is not None
        self.s.end_session()
        self.s.renderer.close()  # no deferred render after the store is closed
        self.s.close()
        self.s = None

    def life(self, at: datetime, seconds: float) -> None:
        """Start at ``at``, run ``seconds`` of fake time, stop."""
        self.start(at)
        try:
            self.run_for(seconds)
        finally:
            self.stop()

    def close(self) -> None:
        if self.s is not None:
            self.stop()
        clock_mod.install(None)

    # -- APScheduler 3.x's rules, synchronously ------------------------------------------

    def _run(self, name: str, now: datetime) -> None:
        job, t = self._next[name]
        runs: list[datetime] = []
        while t is not None and t <= now:
            runs.append(t)
            t = job.trigger.get_next_fire_time(t, now)
        self._next[name] = (job, t)
        if job.coalesce:
            runs = runs[-1:]
        for fire in runs:
            if now - fire > timedelta(seconds=job.misfire_grace_time):
                self.missed.append((name, fire))
                continue
            self.ran.append((name, fire))
            job.fn()
            self._settle()

    def _settle(self) -> None:
        if self.agent_runs_out and self.s is not None:
            assert wait_for(lambda: agent_done(self.s), timeout=15), "the agent did not exit"
