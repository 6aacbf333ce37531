"""`reverie wake` and `reverie sleep` when no daemon answers.

One reverie process acts on a home at a time: the daemon, or a foreground `reverie wake`
that runs the session itself. Both hold the home's lock (daemon/lock.py), which says who
they are ("<pid> <role>"). A foreground `reverie sleep` asks the process that
runs the session to end it: SIGTERM to a foreground wake (it puts its agent to sleep
and consolidates), never to a daemon (that one is asked on its control socket).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any, Callable

from reverie.daemon.lock import HomeLock, LockHeld


class ForegroundError(Exception):
    """The foreground command could not do its work (one line for the user)."""



def _refresh(s: Any, warn: Callable[[str], None]) -> None:
    problem = s.refresh()
    if problem:
        warn(f"reverie: morning page not written: {problem}")


def wake(loaded: Any, reason: str, *, warn: Callable[[str], None]) -> Any:
    """Run a session here until it ends (or this process is told to stop), holding the
    home's lock so that a daemon started meanwhile cannot start a second session.
    Returns the runner's WakeResult."""
    from reverie.daemon import harden, services

    why = harden.confine_setid(loaded.config.sessions)  # sessions.user: set*id for it only
    if why:
        raise ForegroundError(why)
    lock = HomeLock(loaded.home.lock, role="wake")
    try:
        lock.acquire()
    except LockHeld as e:
        raise ForegroundError(f"a reverie daemon (pid {e.pid}) holds {loaded.home.root} but "
                              f"its control socket does not answer") from None

    stop = threading.Event()

    def interrupt(signum: int, frame: Any) -> None:
        stop.set()  # run_foreground puts the agent to sleep and consolidates

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)  # Ctrl-C: the same orderly sleep
    # A closed terminal (ssh drop) sends SIGHUP: dying of it would leave the agent,
    # which runs in its own session, unwatched and past max_duration.
    signal.signal(signal.SIGHUP, interrupt)
    try:
        s = services.build(loaded, before_wake=lambda: _refresh(s, warn))
        try:
            s.runner.recover()
            res = s.runner.run_foreground(reason, stop)
            _refresh(s, warn)
        finally:
            s.close()
    finally:
        lock.release()
    return res


def sleep(loaded: Any, *, warn: Callable[[str], None]) -> str:
    """End the session without a daemon; the line to tell the user."""
    from reverie.daemon import services

    stop_s = loaded.config.sessions.stop_timeout.total_seconds()
    info = HomeLock.holder_info(loaded.home.lock)
    if info and info[1] != "wake":
        raise ForegroundError(f"the reverie daemon (pid {info[0]}) on {loaded.home.root} does "
                              "not answer on its control socket; see its log, or restart it")
    holder = info[0] if info else None
    if holder and holder > 0:
        # A foreground `reverie wake` runs the session: ask it to end it (it consolidates).
        os.kill(holder, signal.SIGTERM)
        deadline = time.monotonic() + stop_s + 60
        while HomeLock.holder(loaded.home.lock) and time.monotonic() < deadline:
            time.sleep(0.1)
        if HomeLock.holder(loaded.home.lock):
            raise ForegroundError(f"process {holder} holds {loaded.home.root} and did not stop")
        return f"the agent sleeps (asked process {holder} to end its session)"
    lock = HomeLock(loaded.home.lock)
    try:
        lock.acquire()
    except LockHeld as e:
        raise ForegroundError(f"process {e.pid} holds {loaded.home.root}; try again") from None
    try:
        s = services.build(loaded, before_wake=lambda: _refresh(s, warn))
        try:
            s.runner.recover()  # adopts a session whose process still runs, consolidates the rest
            stopped = s.runner.sleep("slept")
            _refresh(s, warn)
        finally:
            s.close()
    finally:
        lock.release()
    return "the agent sleeps" if stopped else "no session was running; consolidation is up to date"


__all__ = ["ForegroundError", "sleep", "wake"]
