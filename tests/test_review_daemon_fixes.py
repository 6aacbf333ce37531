"""Review fixes in daemon/: a hung job never runs twice, a reload takes new wake_on
conditions, a foreground `reverie wake` whose terminal closes puts its agent to sleep."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time

import pytest

from reverie.daemon import config as config_mod
from reverie.daemon import scheduler as sched_mod
from reverie.daemon import services
from reverie.daemon.notify import Notifier
from tests.conftest import start_cli, wait_for


def test_a_hung_job_is_not_started_again_while_its_abandoned_run_still_hangs():
    running, peak, lock, release = [], [0], threading.Lock(), threading.Event()

    def work():
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        release.wait(5)
        with lock:
            running.pop()

    job = sched_mod.bounded("review:hung", 0.1, work)
    try:
        job(), job(), job()
        assert peak[0] == 1
    finally:
        release.set()


def test_a_job_runs_again_once_its_hung_run_has_ended():
    calls, release = [], threading.Event()

    def work():
        calls.append(1)
        if len(calls) == 1:
            release.wait(5)

    job = sched_mod.bounded("review:recovers", 0.1, work)
    job()
    release.set()
    assert wait_for(lambda: not any(t.name == "job:review:recovers" and t.is_alive()
                                    for t in threading.enumerate()), timeout=5)
    job()
    assert len(calls) == 2


def test_a_reload_checks_the_wake_on_conditions_of_the_new_config(tmp_path, write_config):
    (tmp_path / "home").mkdir()
    base = f"""
        home: ./home
        timezone: UTC
        sessions:
          command: [{sys.executable}, -c, "pass"]
    """
    cfg = write_config(base)
    s = services.build(config_mod.load(cfg), notifier=Notifier(None))
    try:
        assert s.runner.conditions == []
        write_config(base.rstrip(" ") + "          wake_on: ['host.load > 3']\n")
        s.reload(config_mod.load(cfg))
        assert [c.text for c in s.runner.conditions] == ["host.load > 3"]
    finally:
        s.close()


AGENT = """
import os, time
with open(os.environ["REVERIE_WORKING"], "a") as f:
    f.write("pid " + str(os.getpid()) + "\\n")
time.sleep(60)
"""


def test_a_foreground_wake_whose_terminal_closes_stops_its_agent_and_consolidates(
        tmp_path, write_config):
    home = tmp_path / "home"
    home.mkdir()
    agent = tmp_path / "agent.py"
    agent.write_text(AGENT)
    cfg = write_config(f"""
        home: ./home
        timezone: UTC
        sessions:
          command: [{sys.executable}, {agent}]
          max_duration: 1m
          stop_timeout: 2s
    """)
    waker = start_cli("--config", str(cfg), "wake")
    try:
        agent_pid = wait_for(lambda: _agent_pid(home), timeout=15)
        assert agent_pid is not None
        waker.send_signal(signal.SIGHUP)
        waker.wait(timeout=15)
    finally:
        if waker.poll() is None:
            waker.kill()
    try:
        os.kill(agent_pid, 0)
        alive = open(f"/proc/{agent_pid}/stat").read().split(") ")[1][0] not in "ZX"
    except (ProcessLookupError, FileNotFoundError):
        alive = False
    if alive:
        os.kill(agent_pid, signal.SIGKILL)
    assert not alive, "the agent outlived the `reverie wake` that watched it"
    with sqlite3.connect(home / ".reverie" / "reverie.db") as c:
        [(end_reason, consolidated)] = c.execute(
            "SELECT end_reason, consolidated FROM sessions").fetchall()
    assert end_reason is not None and consolidated == 1



SLOW_POLL_CONFIG = """
    home: ./home
    timezone: UTC
    sources:
      - name: slow
        type: command
        argv: [{py}, {slow}]
        every: 1h
        timeout: 40s
    sessions:
      command: [{py}, {agent}]
      max_duration: 1h
      stop_timeout: 2s
"""


def _agent_pid(home) -> int | None:
    """The pid the agent wrote into working.md, once it has."""
    text = (home / "working.md").read_text() if (home / "working.md").exists() else ""
    return next((int(l.split()[1]) for l in text.splitlines() if l.startswith("pid ")), None)


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


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().split(") ")[1][0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _daemon_with_a_session_and_a_slow_poll(tmp_path, write_config):
    """A running daemon whose slow source is mid-poll and whose agent runs."""
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "agent.py").write_text(AGENT)
    (tmp_path / "slow.py").write_text("import time; time.sleep(40); print(1)\n")
    cfg = write_config(SLOW_POLL_CONFIG.format(py=sys.executable, slow=tmp_path / "slow.py",
                                               agent=tmp_path / "agent.py"))
    daemon = start_cli("--config", str(cfg), "--log-format", "json", "run")
    assert wait_for(lambda: (home / ".reverie" / "control.sock").exists(), timeout=20)
    # the slow source's first poll starts within 5 s of the daemon's start
    assert wait_for(lambda: _running(tmp_path / "slow.py"), timeout=15)
    assert start_cli("--config", str(cfg), "wake").wait(timeout=30) == 0
    agent_pid = wait_for(lambda: _agent_pid(home), timeout=15)
    return daemon, agent_pid


def test_sigterm_stops_the_session_at_once_even_while_a_slow_poll_runs(tmp_path, write_config):
    daemon, agent_pid = _daemon_with_a_session_and_a_slow_poll(tmp_path, write_config)
    try:
        daemon.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        wait_for(lambda: not _alive(agent_pid), timeout=30, every=0.1)
        took = time.monotonic() - sent
    finally:
        daemon.kill()
        daemon.wait(timeout=10)
        if _alive(agent_pid):
            os.kill(agent_pid, signal.SIGKILL)
    assert took < 10, f"the agent was stopped {took:.1f}s after SIGTERM"


@pytest.mark.slow
def test_sigterm_exits_after_the_grace_even_when_a_job_hangs_longer(tmp_path, write_config):
    from reverie.daemon.lifecycle import SHUTDOWN_GRACE

    daemon, agent_pid = _daemon_with_a_session_and_a_slow_poll(tmp_path, write_config)
    try:
        daemon.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        daemon.wait(timeout=SHUTDOWN_GRACE + 30)
        took = time.monotonic() - sent
    finally:
        if daemon.poll() is None:
            daemon.kill()
        if _alive(agent_pid):
            os.kill(agent_pid, signal.SIGKILL)
    assert daemon.returncode == 0
    assert took < SHUTDOWN_GRACE + 8, f"the daemon exited {took:.1f}s after SIGTERM"


def test_a_second_daemon_says_who_holds_the_home_on_stderr_and_exits_1(tmp_path, write_config):
    from reverie.daemon.foreground import HomeLock
    from tests.conftest import run_cli

    home = tmp_path / "home"
    home.mkdir()
    cfg = write_config("home: ./home\ntimezone: UTC\n")
    lock = HomeLock(home / ".reverie" / "reverie.lock")
    lock.acquire()
    try:
        r = run_cli("--config", str(cfg), "run", timeout=30)
    finally:
        lock.release()
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.strip() == f"reverie: another reverie (pid {os.getpid()}) is running on {home}"


def test_a_daemon_that_does_not_answer_is_one_clear_line_with_exit_1(tmp_path, write_config):
    import socket

    from tests.conftest import run_cli

    home = tmp_path / "home"
    (home / ".reverie").mkdir(parents=True)
    cfg = write_config(f"""
        home: ./home
        timezone: UTC
        sessions:
          command: [{sys.executable}, -c, "pass"]
    """)
    # a socket that accepts and then closes without a reply (a daemon dying mid-request)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(home / ".reverie" / "control.sock"))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        conn.recv(1024)
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        r = run_cli("--config", str(cfg), "wake", timeout=30)
    finally:
        srv.close()
    assert r.returncode == 1
    assert r.stderr.strip() == "reverie: the daemon closed the connection without answering"
