"""`reverie wake` and `reverie sleep` from the command line, with and without a daemon."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest

from tests import _agent
from tests._runner import alive, pids
from tests.conftest import make_config, run_cli, start_cli, wait_for
from reverie.memory.home import Home


@pytest.fixture
def setup(tmp_path):
    """``setup(seconds)``: a config whose agent notes "agent was here <session> #remember" in
    working.md, then sleeps ``seconds``."""
    def make(agent_seconds: float):
        cfg = make_config(tmp_path, sessions={
            "command": _agent.command("write=agent was here $REVERIE_SESSION_ID #remember",
                                      f"sleep={agent_seconds}"),
            "max_duration": "1m", "stop_timeout": "2s"})
        return cfg, tmp_path / "home"
    return make


def sessions(home: Path) -> list[tuple]:
    with sqlite3.connect(Home.at(home).state / "reverie.db") as c:
        return c.execute("SELECT id, end_reason, consolidated FROM sessions").fetchall()


def diary_text(home: Path) -> str:
    return "".join(p.read_text() for p in (home / "diary").glob("*.md"))


def test_wake_without_a_daemon_runs_the_session_and_consolidates(setup):
    cfg, home = setup(0.2)
    r = run_cli("--config", str(cfg), "wake")
    assert r.returncode == 0, r.stderr
    [(sid, end_reason, consolidated)] = sessions(home)
    assert end_reason == "exited" and consolidated == 1
    assert f"agent was here {sid}" in diary_text(home)
    assert f"agent was here {sid}" in (home / "memory" / "notes.md").read_text()
    assert "agent was here" not in (home / "working.md").read_text()


def test_sleep_ends_a_foreground_session_which_then_consolidates(setup):
    cfg, home = setup(60)
    waker = start_cli("--config", str(cfg), "wake")
    try:
        assert wait_for(lambda: "agent was here" in (
            (home / "working.md").read_text() if (home / "working.md").exists() else ""), 15)
        r = run_cli("--config", str(cfg), "sleep", timeout=30)
        assert r.returncode == 0, r.stderr
        assert "the agent sleeps" in r.stdout
        waker.wait(timeout=15)
    finally:
        if waker.poll() is None:
            waker.kill()
    [(sid, end_reason, consolidated)] = sessions(home)
    assert end_reason == "slept" and consolidated == 1
    assert diary_text(home).count(f"agent was here {sid}") == 1


def test_wake_and_sleep_go_through_a_running_daemon(setup):
    cfg, home = setup(60)
    daemon = start_cli("--config", str(cfg), "--log-format", "json", "run")
    try:
        assert wait_for(lambda: (Home.at(home).state / "control.sock").exists(), 15)
        r = run_cli("--config", str(cfg), "wake", timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("woke the agent: session ")
        again = run_cli("--config", str(cfg), "wake", timeout=30)
        assert again.returncode == 1
        assert "a session is running" in again.stderr
        r = run_cli("--config", str(cfg), "sleep", timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "the agent sleeps"
        status = run_cli("--config", str(cfg), "status")
        assert "session: none running" in status.stdout
    finally:
        daemon.terminate()
        assert daemon.wait(timeout=15) == 0
    rows = sessions(home)
    assert len(rows) == 1 and rows[0][1] == "slept" and rows[0][2] == 1


def test_sleep_never_signals_a_daemon_whose_socket_is_gone(setup):
    cfg, home = setup(60)
    daemon = start_cli("--config", str(cfg), "--log-format", "json", "run")
    try:
        sock = Home.at(home).state / "control.sock"
        assert wait_for(sock.exists, 15)
        sock.unlink()
        r = run_cli("--config", str(cfg), "sleep", timeout=30)
        assert r.returncode == 1
        assert f"the reverie daemon (pid {daemon.pid})" in r.stderr
        assert "does not answer on its control socket" in r.stderr
        # no condition to wait for: a SIGTERM would end the daemon within its 1 s loop
        assert wait_for(lambda: daemon.poll() is not None, timeout=0.5) is None
    finally:
        daemon.terminate()
        daemon.wait(timeout=15)


def test_a_foreground_wake_whose_terminal_closes_stops_its_agent_and_consolidates(tmp_path):
    pid_file = tmp_path / "pids"
    home = tmp_path / "home"
    cfg = make_config(tmp_path, sessions={"command": _agent.command(f"pids={pid_file}", "sleep=60"),
                                          "max_duration": "1m", "stop_timeout": "2s"})
    waker = start_cli("--config", str(cfg), "wake")
    try:
        [agent_pid] = pids(pid_file)
        waker.send_signal(signal.SIGHUP)
        waker.wait(timeout=15)
    finally:
        if waker.poll() is None:
            waker.kill()
    outlived = alive(agent_pid)
    if outlived:
        os.kill(agent_pid, signal.SIGKILL)
    assert not outlived, "the agent outlived the `reverie wake` that watched it"
    [(_, end_reason, consolidated)] = sessions(home)
    assert end_reason is not None and consolidated == 1
