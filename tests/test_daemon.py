"""`reverie run` as a real process: heartbeat, reload, shutdown, one daemon per home."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from reverie.memory.home import Home
from tests import _agent
from tests._logtail import LogTail
from tests._runner import alive, pids
from tests.conftest import make_config, run_cli, start_cli, wait_for

POSTS = {"name": "posts", "type": "files", "path": "posts", "every": "1h"}


def heartbeat(db: Path) -> float | None:
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db, timeout=5) as c:
            row = c.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
    except sqlite3.OperationalError:
        return None
    return float(row[0]) if row else None


@pytest.fixture
def daemon(tmp_path):
    cfg = make_config(tmp_path, sources=[POSTS])
    (tmp_path / "home" / "posts").mkdir(parents=True)
    procs = []

    def start():
        p = start_cli("--config", str(cfg), "--log-format", "json", "run")
        p.log = LogTail(p.stderr)
        procs.append(p)
        return p

    yield cfg, tmp_path / "home", start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_the_daemon_starts_and_records_its_heartbeat(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(Home.at(home).state / "reverie.db")), p.log.text(0)
    assert p.poll() is None


def test_sigterm_exits_0_within_5_seconds(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(Home.at(home).state / "reverie.db"))
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=5) == 0
    assert time.monotonic() - t0 < 5
    assert '"daemon.stopped"' in p.log.text()


def test_sighup_with_a_broken_config_keeps_running_on_the_old_one(daemon):
    cfg, home, start = daemon
    p = start()
    db = Home.at(home).state / "reverie.db"
    assert wait_for(lambda: heartbeat(db))
    good = cfg.read_text()
    cfg.write_text(good.replace("every: 1h", "every: sometimes"))
    p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: p.log.has('"reload.refused"'))
    assert p.poll() is None
    # still alive and working: the state file of the old config's source appears
    assert wait_for(lambda: (home / "perception" / "state.md").exists(), timeout=15)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 0
    err = p.log.text()
    assert "sources[0].every: invalid duration 'sometimes'" in err
    assert '"reload.refused"' in err
    assert "Traceback" not in err


def test_sighup_with_a_good_config_reloads(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(Home.at(home).state / "reverie.db"))
    cfg.write_text(cfg.read_text().replace("every: 1h", "every: 2h"))
    p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: p.log.has('"reload.done"')), p.log.text(0)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 0


def test_a_second_daemon_on_the_same_home_is_refused_with_the_pid(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(Home.at(home).state / "reverie.db"))
    r = run_cli("--config", str(cfg), "run", timeout=20)
    assert r.returncode == 1
    assert f"another reverie (pid {p.pid}) is running on {home.resolve()}" in r.stdout + r.stderr


def test_a_second_daemon_says_who_holds_the_home_on_stderr_and_exits_1(tmp_path):
    from reverie.daemon.lock import HomeLock

    home = tmp_path / "home"
    cfg = make_config(tmp_path)
    lock = HomeLock(Home.at(home).state / "reverie.lock")
    lock.acquire()
    try:
        r = run_cli("--config", str(cfg), "run", timeout=30)
    finally:
        lock.release()
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.strip() == f"reverie: another reverie (pid {os.getpid()}) is running on {home}"


def _running(script) -> bool:
    """Whether some process runs ``script`` (its path on the command line)."""
    needle = str(script).encode()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if needle in f.read():
                        return True
            except OSError:
                continue
    return False


def _daemon_with_a_session_and_a_slow_poll(tmp_path):
    """A running daemon whose slow source is mid-poll and whose agent runs."""
    home = tmp_path / "home"
    slow = tmp_path / "slow.py"
    slow.write_text("import time; time.sleep(40); print(1)\n")
    cfg = make_config(
        tmp_path,
        sources=[{"name": "slow", "type": "command", "argv": [sys.executable, str(slow)],
                  "every": "1h", "timeout": "40s"}],
        sessions={"command": _agent.command(f"pids={tmp_path / 'pids'}", "sleep=60"),
                  "max_duration": "1h", "stop_timeout": "2s"})
    daemon = start_cli("--config", str(cfg), "--log-format", "json", "run")
    assert wait_for(lambda: (Home.at(home).state / "control.sock").exists(), timeout=20)
    # the slow source's first poll starts within 5 s of the daemon's start
    assert wait_for(lambda: _running(slow), timeout=15)
    assert start_cli("--config", str(cfg), "wake").wait(timeout=30) == 0
    [agent_pid] = pids(tmp_path / "pids")
    return daemon, agent_pid


def test_sigterm_stops_the_session_at_once_even_while_a_slow_poll_runs(tmp_path):
    daemon, agent_pid = _daemon_with_a_session_and_a_slow_poll(tmp_path)
    try:
        daemon.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        wait_for(lambda: not alive(agent_pid), timeout=30, every=0.1)
        took = time.monotonic() - sent
    finally:
        daemon.kill()
        daemon.wait(timeout=10)
        if alive(agent_pid):
            os.kill(agent_pid, signal.SIGKILL)
    assert took < 10, f"the agent was stopped {took:.1f}s after SIGTERM"


@pytest.mark.slow
def test_sigterm_exits_after_the_grace_even_when_a_job_hangs_longer(tmp_path):
    from reverie.daemon.lifecycle import SHUTDOWN_GRACE

    daemon, agent_pid = _daemon_with_a_session_and_a_slow_poll(tmp_path)
    try:
        daemon.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        daemon.wait(timeout=SHUTDOWN_GRACE + 30)
        took = time.monotonic() - sent
    finally:
        if daemon.poll() is None:
            daemon.kill()
        if alive(agent_pid):
            os.kill(agent_pid, signal.SIGKILL)
    assert daemon.returncode == 0
    assert took < SHUTDOWN_GRACE + 8, f"the daemon exited {took:.1f}s after SIGTERM"
