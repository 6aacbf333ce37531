"""The run loop: lock, jobs, signals as flags, reload, clean shutdown.

What runs is built by daemon/services.py; the jobs run on daemon/scheduler.py.

Signal handlers only set flags; the main loop wakes at least once a second and acts
on them (the huey way), so nothing heavy ever runs inside a signal handler. A reload
asked over the control socket (`reverie reload`) is handed to the loop the same way;
the asking thread waits for the loop's answer.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
from typing import Any

from reverie.daemon import config as config_mod, harden, snapshot
from reverie.daemon.alerts import STOPPED_WITH_DAEMON
from reverie.daemon import logs, scheduler as sched_mod
from reverie.daemon import services as services_mod
from reverie.daemon.lock import HomeLock, LockHeld
from reverie.memory import clock

log = logs.get("reverie.daemon")

SHUTDOWN_GRACE = 20.0  # seconds running jobs get to finish at SIGTERM
END_SESSION_GRACE = 10.0  # seconds past the agent's stop grace for its consolidation
RELOAD_WAIT = 45.0  # seconds a control request waits for the loop to reload


class _ReloadAsk:
    """One `reverie reload` waiting for the main loop's answer."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: dict = {}


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


class Daemon:
    def __init__(self, loaded: config_mod.Loaded, *, run_for: float | None = None):
        self.loaded = loaded
        self.home = loaded.home
        self.run_for = run_for
        self.stop_flag = threading.Event()
        self.reload_flag = threading.Event()
        self._asks: "queue.SimpleQueue[_ReloadAsk]" = queue.SimpleQueue()
        self._refused: str | None = None  # "config refused at HH:MM: ..." until a good reload
        self.services: services_mod.Services | None = None
        self.scheduler: Any = None
        self.control: Any = None
        self.metrics: Any = None  # the metrics listener, when the config asks for one
        # Set when shutdown gave up on running jobs: the pool's worker threads are not
        # daemon threads, so the interpreter would wait for them at exit (see cli.run).
        self.abandoned_jobs = False
        self._recovery: threading.Thread | None = None

    def _status_line(self) -> str:
        s = self.services
        assert s is not None
        job = self.scheduler.get_job("dream") if self.scheduler else None
        nxt = job.next_run_time.astimezone(self.loaded.tz).strftime("%a %H:%M") if job and job.next_run_time else "?"
        cur = s.runner.current() if s.runner else None
        sess = f"session {cur['session_id']} running" if cur else "no session"
        if s.recovering:  # wakes wait for it; a stuck one is named by job.stuck
            sess += ", recovering the last run"
        from reverie.perception import health  # the one rule `status` counts by too

        line = f"{health.summary(s.store, self.loaded.config.sources)}; next dream {nxt}; {sess}"
        if self._refused:  # stays in STATUS= (and `systemctl status`) until a good reload
            return f"{self._refused}; running the previous config: {line}"
        return line

    def _install_signals(self) -> None:
        def on_stop(signum: int, _frame: Any) -> None:
            self.stop_flag.set()
            runner = self.services.runner if self.services is not None else None
            if runner is not None:  # a flag too: how a session that ends now is told
                runner.stopping = STOPPED_WITH_DAEMON

        def on_hup(signum: int, _frame: Any) -> None:
            self.reload_flag.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    def request_reload(self, timeout: float = RELOAD_WAIT) -> dict:
        """Ask the main loop to reload and wait for its answer (called by the control
        socket's threads: the reload itself runs on the loop, never here)."""
        ask = _ReloadAsk()
        self._asks.put(ask)
        self.reload_flag.set()
        if not ask.done.wait(timeout):
            return {"ok": False, "error": f"the daemon did not finish reloading within {timeout:g}s"}
        return ask.result

    def _reload_now(self) -> None:
        """On the main loop: one reload for SIGHUP and every waiting request."""
        self.reload_flag.clear()
        asks = []
        while True:
            try:
                asks.append(self._asks.get_nowait())
            except queue.Empty:
                break
        result = self.reload()
        for ask in asks:
            ask.result = result
            ask.done.set()

    def reload(self) -> dict:
        """Re-read the config; take it when it is valid, else keep the running one.

        Returns ``{"ok": True, "sources": N}`` or ``{"ok": False, "problems": [...]}``
        (one line each, as check-config prints them)."""
        s = self.services
        assert s is not None
        s.notifier.reloading()
        try:
            new = config_mod.load(self.loaded.path)
            from reverie.daemon import strict

            if strict.problems(new):
                raise config_mod.ConfigError(strict.problems(new))
            if new.home != self.home:
                what = "home" if new.home.root != self.home.root else "state_dir"
                raise config_mod.ConfigError(
                    [f"{self.loaded.path}: {what}: cannot change on reload; restart instead"])
            logs.set_secrets(new.secrets)
            s.reload(new)
            sched_mod.install(self.scheduler, s.jobs())
            snapshot.keep_running(new)  # what status answers from while a file is invalid
        except config_mod.ConfigError as e:
            problems = e.problems
        except Exception as e:  # a config that validates but cannot be applied
            problems = [f"{self.loaded.path}: cannot apply: {logs.error_text(e)}"]
        else:
            self.loaded = new
            self._refused = None
            log.info("reload.done", sources=len(new.config.sources))
            s.notifier.ready(self._status_line())
            return {"ok": True, "sources": len(new.config.sources)}
        for line in problems:
            log.error("config.invalid", problem=line)
        log.error("reload.refused", note="keeping the running config")
        at = clock.now().astimezone(self.loaded.tz).strftime("%H:%M")
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self._refused = f"config refused at {at}: {problems[0]}{more}"
        s.notifier.ready(self._status_line())
        return {"ok": False, "problems": problems}

    def run(self) -> int:
        from reverie.daemon import scheduler as sched_mod
        from reverie.daemon.control import ControlServer

        from reverie.daemon import strict

        limit_malloc_arenas()
        harden.make_undumpable()  # the agent (same user) cannot read our /proc/pid/environ
        refused = strict.problems(self.loaded)
        if refused:  # a config or template the agent could have written: never taken
            for line in refused:
                print(f"reverie: {line}", file=sys.stderr)
            return 2
        why = harden.confine_setid(self.loaded.config.sessions)  # sessions.user: set*id for it only
        if why:
            print(f"reverie: {why}", file=sys.stderr)
            return 2
        harden.raise_nofile()  # the listeners cap their connections; the rest may need many
        self.home.ensure()
        lock = HomeLock(self.home.lock)
        try:
            lock.acquire()
        except LockHeld as e:
            print(f"reverie: another reverie (pid {e.pid}) is running on {self.home.root}",
                  file=sys.stderr)
            return 1
        strict.announce_mode(self.loaded)
        self._install_signals()
        try:
            self.services = s = services_mod.build(self.loaded)
            s.reload_handler = self.request_reload
            self.scheduler = sched_mod.make_scheduler(self.loaded.tz)
            sched_mod.listen(self.scheduler)
            s.mark_running()
            snapshot.keep_running(self.loaded)
            s.begin()
            # Recovery reads what the agent left in the home: it runs after READY=1 and
            # the control socket, as a bounded job, and wakes wait for it.
            s.recovering = True
            sched_mod.install(self.scheduler, s.jobs())
            self.scheduler.start()
            self.control = ControlServer(self.home.socket, s.handle_control)
            self.control.start()
            from reverie.daemon.metrics_listener import MetricsListener

            self.metrics = MetricsListener.start(self.loaded, lambda: self.loaded.config.sources)
            s.notifier.ready(self._status_line())
            s.notifier.start_watchdog(s.scheduler_alive, self.stop_flag)
            log.info("daemon.started", home=str(self.home.root), pid=os.getpid(),
                     jobs=len(self.scheduler.get_jobs()), zone=self.loaded.config.timezone)
            self._recovery = threading.Thread(
                target=sched_mod.bounded("recover", s.recover_timeout(), s.recover),
                name="reverie-recover", daemon=True)
            self._recovery.start()
            started = clock.monotonic()
            last_status = 0.0
            while not self.stop_flag.is_set():
                self.stop_flag.wait(1.0)
                if self.reload_flag.is_set():
                    self._reload_now()
                if self.run_for is not None and clock.monotonic() - started >= self.run_for:
                    self.stop_flag.set()
                if clock.monotonic() - last_status > 30:
                    last_status = clock.monotonic()
                    s.notifier.status(self._status_line())
            return self._shutdown()
        finally:
            lock.release()

    def _shutdown(self) -> int:
        s = self.services
        assert s is not None
        s.notifier.stopping()
        s.mark_stopping()
        log.info("daemon.stopping")
        if self.control is not None:
            self.control.stop()
        if self.metrics is not None:
            self.metrics.stop()
        # Stop taking jobs; give running ones a bounded time to finish.
        done = threading.Event()

        def stop_scheduler() -> None:
            self.scheduler.shutdown(wait=True)
            if self._recovery is not None:
                self._recovery.join()
            done.set()

        threading.Thread(target=stop_scheduler, daemon=True).start()
        # systemd stops the whole cgroup anyway: end the session ourselves, gracefully,
        # and consolidate, so what the agent wrote is archived before we exit. At once,
        # not after the jobs' grace: TimeoutStopSec= is stop_timeout + 30 s, and a slow
        # poll must not eat the agent's grace and the consolidation's time before
        # systemd's SIGKILL.
        began = time.monotonic()  # real seconds, as the threads wait them
        ended = self._end_session()
        # one grace from the stop's start: TimeoutStopSec= covers the agent's and this
        if not done.wait(max(1.0, SHUTDOWN_GRACE - (time.monotonic() - began))):
            log.warning("daemon.shutdown_timeout", note="jobs still running were abandoned")
            self.abandoned_jobs = True
        if ended:
            self._end_session()  # a wake job that was already under way started one
        # the session it stopped is the last message: give it its send timeout, bounded
        s.alerts.flush(min(5.0, s.alerts.opts.timeout.total_seconds()))
        s.mark_stopped()
        s.close()
        log.info("daemon.stopped")
        return 0

    def _end_session(self) -> bool:
        """End the session within the agent's stop grace and END_SESSION_GRACE: a session
        end held up by a stuck job (the runner's lock) is abandoned with one line, so
        SIGTERM still stops the daemon. False when it was abandoned."""
        s = self.services
        assert s is not None
        t = threading.Thread(target=s.end_session, name="reverie-end-session", daemon=True)
        t.start()
        t.join(s.loaded.config.sessions.stop_timeout.total_seconds() + END_SESSION_GRACE)
        if t.is_alive():
            log.error("session.stop_abandoned",
                      note="the session's end is held up by a stuck job; not waiting for it")
            self.abandoned_jobs = True
            return False
        return True


__all__ = ["Daemon", "limit_malloc_arenas"]
