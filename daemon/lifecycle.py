"""The run loop: lock, jobs, signals as flags, reload, clean shutdown.

Signal handlers only set flags; the main loop wakes at least once a second and acts
on them (the huey way), so nothing heavy ever runs inside a signal handler.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from reverie.daemon import config as config_mod
from reverie.daemon import logs
from reverie.daemon.notify import Notifier
from reverie.memory import clock
from reverie.memory.store import Store
from reverie.perception.types import first_occurrence, last_fire_time

log = logs.get("reverie.daemon")

SHUTDOWN_GRACE = 20.0  # seconds running jobs get to finish at SIGTERM


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas, as MALLOC_ARENA_MAX=2 would.

    glibc gives threads that allocate at once their own heaps; a daemon that runs each
    fetch on a thread for months grows ~20% in resident memory that never comes back
    (measured in tests/test_hostile_soak.py). An explicit MALLOC_ARENA_MAX wins.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if hasattr(libc, "mallopt"):
            libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except OSError:
        pass


class LockHeld(Exception):
    def __init__(self, pid: str):
        super().__init__(pid)
        self.pid = pid


class HomeLock:
    """One reverie process acting on a home at a time: an flock on .reverie/reverie.lock
    holding "<pid> <role>" (role: daemon, or wake for a foreground `reverie wake`)."""

    def __init__(self, path: Path, role: str = "daemon"):
        self.path = path
        self.role = role
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                text = os.pread(fd, 64, 0).decode(errors="replace").split()
                os.close(fd)
                raise LockHeld(text[0] if text else "unknown") from None
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.role}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            finally:
                os.close(self._fd)
                self._fd = None

    @staticmethod
    def holder(path: Path) -> int | None:
        """The pid of the process holding this lock, or None."""
        info = HomeLock.holder_info(path)
        return info[0] if info else None

    @staticmethod
    def holder_info(path: Path) -> tuple[int, str] | None:
        """(pid, role) of the process holding this lock (pid -1 if unreadable), or None."""
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = os.pread(fd, 64, 0).decode(errors="replace").split()
            pid = int(text[0]) if text and text[0].isdigit() else -1
            return pid, (text[1] if len(text) > 1 else "daemon")
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


class Daemon:
    def __init__(self, loaded: config_mod.Loaded, *, log_level: str = "info",
                 log_format: str = "auto", run_for: float | None = None):
        self.loaded = loaded
        self.home = loaded.home
        self.log_level, self.log_format = log_level, log_format
        self.run_for = run_for
        self.stop_flag = threading.Event()
        self.reload_flag = threading.Event()
        self.store: Store | None = None
        self.scheduler: Any = None
        # Taken out of the environment so the agent's session does not inherit them.
        self.notifier = Notifier.from_env(unset_environment=True)
        self._last_beat = 0.0  # monotonic time of the last heartbeat job
        # The watchdog must only be fed while the scheduler demonstrably runs jobs, so
        # the heartbeat job runs at least twice per watchdog period.
        from reverie.daemon import scheduler as sched_mod  # apscheduler: not for `status`

        wd = self.notifier.watchdog_interval()
        self.heartbeat_every = min(sched_mod.HEARTBEAT_EVERY, wd / 2) if wd else sched_mod.HEARTBEAT_EVERY
        self.renderer: Any = None
        self.runner: Any = None
        self.control: Any = None
        # Set when shutdown gave up on running jobs: the pool's worker threads are not
        # daemon threads, so the interpreter would wait for them at exit (see cli.run).
        self.abandoned_jobs = False

    # -- jobs (called on the scheduler's pool) ----------------------------------------

    def heartbeat(self) -> None:
        assert self.store is not None
        self.store.beat()
        self._last_beat = clock.monotonic()

    def scheduler_alive(self) -> bool:
        return clock.monotonic() - self._last_beat < self.heartbeat_every * 3

    def poll(self, spec: Any) -> None:
        from reverie.perception import poll

        state = self.store.source_state(spec.name)
        go, why = poll.should_run(spec, state, clock.now())
        if not go:
            log.debug("source.backoff", source=spec.name, reason=why)
            return
        poll.poll_source(spec, home=self.home, store=self.store, secrets=self.loaded.secrets)
        self.renderer.maybe_render()

    def render_state(self) -> None:
        """A fresh state now (before a wake); a broken user template is logged, not fatal."""
        from reverie.perception.state import StateError

        try:
            self.renderer.render()
        except StateError as e:
            log.error("state.render_failed", error=str(e))

    def render_page(self) -> None:
        from reverie.perception.page import render_page

        render_page(self.home, self.store, self.loaded.config.sources, tz=self.loaded.tz)

    def distill_pending(self) -> None:
        """Propose a summary of each day whose diary gained consolidated sessions."""
        from reverie.perception.distill import DistillFailure, distill_day

        done = self.store.get_meta("distill.done") or ""
        rows = [r for r in self.store.sessions(since=clock.now() - timedelta(days=2))
                if r["consolidated"] and r["id"] > done]
        if not rows:
            return
        days = sorted({clock.from_ts(r["started"]).astimezone(self.loaded.tz).date() for r in rows})
        for day in days:
            try:
                out = distill_day(self.home, self.store, self.loaded.config.dream, day=day,
                                  secrets=self.loaded.secrets)
            except DistillFailure as e:
                log.warning("distill.failed", date=day.isoformat(), error=str(e))
                return  # tried again at the next run
            if out is not None:
                log.info("distill.written", date=day.isoformat(), path=str(out.path),
                         tokens=out.tokens)
        self.store.set_meta("distill.done", max(r["id"] for r in rows))

    def retention(self) -> None:
        keep = self.loaded.config.perception.retention
        n = self.store.apply_retention(clock.now() - keep)
        log.info("retention.applied", removed=n, keep=str(keep))

    def dream_now(self, day: Any = None) -> Any:
        from reverie.perception.dreams.write import write_dream

        tz = self.loaded.tz
        now = clock.now()
        out = write_dream(self.home, self.store, self.loaded.config.dream,
                          day=day or now.astimezone(tz).date(), tz=tz, now=now,
                          secrets=self.loaded.secrets)
        if out.written:
            log.info("dream.written", date=out.day.isoformat(), path=str(out.path),
                     backend=out.backend, fallback_reason=out.fallback_reason)
        self.renderer.maybe_render()
        return out

    def scheduled_wake(self, expr: str) -> None:
        fire = last_fire_time(expr, self.loaded.tz, clock.now())
        # A wall time seen twice (the clocks went back) is one wake, as in cron: both fires
        # are recorded under the first, and the store takes a fire time once.
        if fire is not None:
            fire = first_occurrence(fire, self.loaded.tz)
        self.runner.wake(f"scheduled wake ({expr})", scheduled=fire,
                         check_quiet=self.loaded.config.sessions.skip_if_quiet)
        self.renderer.maybe_render()

    def scheduled_sleep(self) -> None:
        self.runner.sleep("slept")
        self.renderer.maybe_render()

    def check_sessions(self) -> None:
        self.runner.check()

    def check_wake_on(self) -> None:
        self.runner.check_wake_on()

    # -- control socket -------------------------------------------------------------

    def handle_control(self, req: dict) -> dict:
        cmd = req.get("cmd")
        if self.runner is None:
            return {"ok": False, "error": "sessions are not configured"}
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
            return {"ok": True, "pid": os.getpid(), "session": self.runner.current()}
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    # -- the loop ---------------------------------------------------------------------

    def _notable(self, since: Any, now: Any) -> list[str]:
        from reverie.perception.digest import notable_since

        return notable_since(self.store, since, now, rules=self.loaded.config.dream.notable)

    def _build(self) -> None:
        """Create the renderer and the session runner, or hand them a reloaded config
        (the runner keeps the session it is watching across a reload)."""
        from reverie.daemon.sessions import SessionRunner
        from reverie.perception.state import StateRenderer

        cfg = self.loaded.config
        if self.renderer is None:
            self.renderer = StateRenderer(self.home, self.store, cfg.sources, tz=self.loaded.tz,
                                          template=self.loaded.state_template,
                                          min_interval=cfg.perception.render_every.total_seconds(),
                                          on_render=self.render_page)
        else:
            self.renderer.update(specs=cfg.sources, tz=self.loaded.tz, template=self.loaded.state_template)
        if self.runner is None:
            self.runner = SessionRunner(self.home, self.store, cfg.sessions, tz=self.loaded.tz,
                                        git=cfg.memory.git, render_state=self.render_state,
                                        notable_since=self._notable)
        else:
            self.runner.opts, self.runner.tz, self.runner.git = cfg.sessions, self.loaded.tz, cfg.memory.git
            # parsed once in the runner's constructor: without this a reload that adds,
            # changes or removes a wake_on condition would keep checking the old ones
            self.runner.conditions = cfg.sessions.conditions()

    def _status_line(self) -> str:
        states = self.store.all_source_states()
        names = [s.name for s in self.loaded.config.sources if s.enabled]
        failing = [n for n in names if states.get(n, {}).get("consecutive_failures")]
        job = self.scheduler.get_job("dream") if self.scheduler else None
        nxt = job.next_run_time.astimezone(self.loaded.tz).strftime("%a %H:%M") if job and job.next_run_time else "?"
        cur = self.runner.current() if self.runner else None
        sess = f"session {cur['session_id']} running" if cur else "no session"
        return (f"{len(names) - len(failing)} sources ok, {len(failing)} failing; "
                f"next dream {nxt}; {sess}")

    def catch_up(self) -> None:
        """At start: what was due while the daemon was down happens once, now."""
        from reverie.perception.dreams.write import due_dream_day

        cfg = self.loaded.config
        now = clock.now()
        last_seen = self.store.last_beat()
        day = due_dream_day(self.store, cfg.dream, tz=self.loaded.tz, now=now)
        if day is not None:
            log.info("dream.catch_up", date=day.isoformat())
            try:
                self.dream_now(day)
            except Exception as e:
                log.error("dream.failed", error=f"{e.__class__.__name__}: {e}")
        if cfg.sessions.enabled:
            self.runner.catch_up(last_seen, now)

    def _install_signals(self) -> None:
        def on_stop(signum: int, _frame: Any) -> None:
            self.stop_flag.set()

        def on_hup(signum: int, _frame: Any) -> None:
            self.reload_flag.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    def reload(self) -> None:
        self.notifier.reloading()
        try:
            new = config_mod.load(self.loaded.path)
        except config_mod.ConfigError as e:
            for line in e.problems:
                log.error("config.invalid", problem=line)
            log.error("reload.refused", note="keeping the running config")
            self.notifier.ready(self._status_line())
            return
        if new.home != self.home:
            log.error("reload.refused", note="`home` cannot change on reload; restart instead")
            self.notifier.ready(self._status_line())
            return
        logs.set_secrets(new.secrets)
        self.loaded = new
        self._build()
        from reverie.daemon import scheduler as sched_mod

        sched_mod.install_jobs(self)
        log.info("reload.done", sources=len(new.config.sources))
        self.notifier.ready(self._status_line())

    def run(self) -> int:
        from reverie.daemon import scheduler as sched_mod
        from reverie.daemon.control import ControlServer

        limit_malloc_arenas()
        self.home.ensure()
        lock = HomeLock(self.home.lock)
        try:
            lock.acquire()
        except LockHeld as e:
            print(f"reverie: another reverie (pid {e.pid}) is running on {self.home.root}",
                  file=sys.stderr)
            return 1
        self._install_signals()
        self.store = Store.open(self.home.db)
        self.store.born()
        try:
            self._build()
            self.scheduler = sched_mod.make_scheduler(self.loaded.tz)
            self.scheduler.add_listener(sched_mod._SkipLogger(),
                                        sched_mod.EVENT_JOB_MAX_INSTANCES | sched_mod.EVENT_JOB_MISSED)
            self.runner.recover()
            self.catch_up()  # before the first beat: the last beat says how long we were down
            sched_mod.install_jobs(self)
            self.heartbeat()
            self.scheduler.start()
            self.control = ControlServer(self.home.socket, self.handle_control)
            self.control.start()
            self.notifier.ready(self._status_line())
            self.notifier.start_watchdog(self.scheduler_alive, self.stop_flag)
            log.info("daemon.started", home=str(self.home.root), pid=os.getpid(),
                     jobs=len(self.scheduler.get_jobs()), zone=self.loaded.config.timezone)
            started = time.monotonic()
            last_status = 0.0
            while not self.stop_flag.is_set():
                self.stop_flag.wait(1.0)
                if self.reload_flag.is_set():
                    self.reload_flag.clear()
                    self.reload()
                if self.run_for is not None and time.monotonic() - started >= self.run_for:
                    self.stop_flag.set()
                if time.monotonic() - last_status > 30:
                    last_status = time.monotonic()
                    self.notifier.status(self._status_line())
            return self._shutdown()
        finally:
            lock.release()

    def _end_session(self) -> None:
        # systemd stops the whole cgroup anyway: end the session ourselves, gracefully,
        # and consolidate, so what the agent wrote is archived before we exit.
        if self.runner is not None and self.runner.current():
            try:
                self.runner.sleep("daemon stopped")
            except Exception as e:
                log.error("session.stop_failed", error=f"{e.__class__.__name__}: {e}")

    def _shutdown(self) -> int:
        self.notifier.stopping()
        log.info("daemon.stopping")
        if self.control is not None:
            self.control.stop()
        # Stop taking jobs; give running ones a bounded time to finish.
        done = threading.Event()

        def stop_scheduler() -> None:
            self.scheduler.shutdown(wait=True)
            done.set()

        threading.Thread(target=stop_scheduler, daemon=True).start()
        # The session is ended at once, not after the jobs' grace: TimeoutStopSec= is
        # stop_timeout + 30 s, and a slow poll must not eat the agent's grace and the
        # consolidation's time before systemd's SIGKILL.
        self._end_session()
        if not done.wait(SHUTDOWN_GRACE):
            log.warning("daemon.shutdown_timeout", note="jobs still running were abandoned")
            self.abandoned_jobs = True
        self._end_session()  # a wake job that was already under way started one
        self.store.close()
        log.info("daemon.stopped")
        return 0


__all__ = ["Daemon", "HomeLock", "LockHeld", "limit_malloc_arenas"]
