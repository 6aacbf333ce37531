"""Helpers of the session tests: waiting for a runner's session to end, process probes.

The fixtures they go with (``agent_home``, ``runner``) are in conftest.py; the agent they
run is tests/_agent.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

from reverie.daemon.sessions import SessionRunner
from tests.conftest import wait_for

BERLIN = ZoneInfo("Europe/Berlin")


def ended(r: SessionRunner, timeout: float = 10.0) -> bool:
    """Drive ``r.check()`` until the session it runs has ended."""
    return bool(wait_for(lambda: r.check() is not None or r.current() is None, timeout))


def file_text(path: Path, timeout: float = 10.0) -> str:
    """The text of a file the agent writes, once it is there."""
    text = wait_for(lambda: path.exists() and path.read_text(), timeout)
    assert text, f"{path} never appeared"
    return text


def pids(path: Path) -> list[int]:
    return [int(p) for p in file_text(path).split()]


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def reap(pid: int) -> None:
    """Kill a process a failing test left behind."""
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
