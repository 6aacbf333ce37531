"""Fixtures of the session tests: an initialised home, a runner factory, process probes.

Import the fixtures into a test module (``from tests._runner import agent_home, runner``);
the agent they run is tests/_agent.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reverie.daemon.sessions import SessionRunner, SessionsOptions
from reverie.memory.home import Home, init_home
from tests import _agent
from tests.conftest import wait_for

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def agent_home(home: Home) -> Home:
    """The conftest home, initialised as `reverie init` leaves it (working.md, memory/...)."""
    init_home(home.root)
    return home


@pytest.fixture
def runner(agent_home: Home, store):
    """``runner(*steps, **options)``: a SessionRunner whose agent is tests/_agent.py doing
    ``steps`` (or ``command=[...]``); every agent it started is stopped at the end."""
    made: list[SessionRunner] = []

    def make(*steps: str, render_state=lambda: None, notable_since=None,
             **opts) -> SessionRunner:
        if "webhook" not in opts:
            opts.setdefault("command", _agent.command(*steps))
        opts.setdefault("stop_timeout", "0.5s")
        opts.setdefault("max_duration", "30s")
        r = SessionRunner(agent_home, store, SessionsOptions(**opts), tz=BERLIN,
                          render_state=render_state, notable_since=notable_since)
        made.append(r)
        return r

    yield make
    for r in made:  # never leave an agent behind
        if r.current():
            r.sleep()


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
