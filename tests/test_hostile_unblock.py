"""Nothing the agent leaves in its home blocks the daemon: recovery at start runs after
READY=1 and the control socket, bounded; a job stuck past its timeout stops the watchdog."""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reverie.daemon import config, scheduler, services
from reverie.daemon.control import request
from reverie.daemon.lifecycle import SHUTDOWN_GRACE
from reverie.daemon.notify import Notifier
from reverie.memory import clock
from reverie.memory.home import Home
from reverie.memory.store import Store
from tests import _agent
from tests._logtail import LogTail
from tests.conftest import make_config, reverie_env, run_cli, start_cli, wait_for


def _home_with_an_unconsolidated_session(tmp_path: Path) -> tuple[Path, Home, str]:
    """A home whose last session ended (a crash) before its working.md was consolidated."""
    cfg = make_config(tmp_path, sessions={"command": _agent.command("sleep=30"),
                                          "stop_timeout": "1s"})
    home = Home(tmp_path / "home")
    home.ensure()
    store = Store.open(home.db)
    try:
        now = clock.now()
        sid = "20260101T000000Z-dead"
        store.start_session(sid, now - timedelta(minutes=5), None, "a past wake")
        store.end_session(sid, now - timedelta(minutes=1), "exited", 0)
    finally:
        store.close()
    home.working.write_text("# Working\n\na line the agent wrote #remember\n")
    return cfg, home, sid


@pytest.fixture
def wedged_daemon(tmp_path):
    """A real daemon whose recovery at start hangs for good in consolidation (the test
    seam REVERIE_HANG_AT stands in for a read the home made hang)."""
    cfg, home, sid = _home_with_an_unconsolidated_session(tmp_path)
    p = start_cli("--config", str(cfg), "--log-format", "json", "run",
                  env=reverie_env(REVERIE_HANG_AT="begin"))
    p.log = LogTail(p.stderr)
    try:
        assert wait_for(lambda: p.log.has('"daemon.started"'), timeout=30), p.log.text(0)
        yield cfg, home, sid, p
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_reverie_status_answers_while_recovery_at_start_hangs(wedged_daemon):
    cfg, home, sid, p = wedged_daemon
    t0 = time.monotonic()
    out = run_cli("--config", str(cfg), "status", timeout=30)
    took = time.monotonic() - t0
    assert out.returncode == 0, out.stdout + out.stderr
    assert "running" in out.stdout
    assert took < 5, f"`reverie status` took {took:.1f}s"


def test_the_control_socket_answers_and_says_recovery_is_under_way(wedged_daemon):
    cfg, home, sid, p = wedged_daemon
    t0 = time.monotonic()
    answer = request(home.socket, {"cmd": "status"}, timeout=5)
    assert time.monotonic() - t0 < 2
    assert answer["ok"] and answer["session"] is None and answer["recovering"] is True


def test_a_wake_asked_while_recovery_hangs_is_refused_with_its_reason(wedged_daemon):
    cfg, home, sid, p = wedged_daemon
    answer = request(home.socket, {"cmd": "wake"}, timeout=5)
    assert answer == {"ok": False, "error": "the daemon is still recovering the last run "
                      "(adopting or consolidating a session); try again shortly"}
    assert "a line the agent wrote" in home.working.read_text()  # no agent started over it


@pytest.mark.waits(20)  # SHUTDOWN_GRACE
def test_sigterm_stops_the_daemon_while_recovery_at_start_hangs(wedged_daemon):
    cfg, home, sid, p = wedged_daemon
    p.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    code = p.wait(timeout=SHUTDOWN_GRACE + 30)
    took = time.monotonic() - t0
    assert code == 0
    assert took < SHUTDOWN_GRACE + 8, f"the daemon exited {took:.1f}s after SIGTERM"
    assert '"daemon.stopped"' in p.log.text()


def test_recovery_still_consolidates_the_last_session_after_start(tmp_path):
    cfg, home, sid = _home_with_an_unconsolidated_session(tmp_path)
    p = start_cli("--config", str(cfg), "--log-format", "json", "run")
    p.log = LogTail(p.stderr)
    try:
        assert wait_for(lambda: p.log.has('"consolidated"'), timeout=30), p.log.text(0)
        assert any("a line the agent wrote" in f.read_text() for f in home.diary_dir.glob("*.md"))
        assert wait_for(lambda: request(home.socket, {"cmd": "status"}, timeout=5) ==
                        {"ok": True, "pid": p.pid, "session": None})
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)


# -- the watchdog and a stuck job (in-process, real threads and a real notify socket) ------

def _services(tmp_path: Path) -> services.Services:
    cfg = make_config(tmp_path)
    return services.build(config.load(cfg, env={}), notifier=Notifier(None))


def _run_in_background(job) -> threading.Thread:
    t = threading.Thread(target=job, daemon=True)
    t.start()
    return t


def test_a_job_stuck_past_its_timeout_and_a_grace_stops_the_liveness_with_one_line(tmp_path):
    s = _services(tmp_path)
    s.stuck_grace = 0.3
    release = threading.Event()
    try:
        s.heartbeat()
        with capture_logs() as logs:
            _run_in_background(scheduler.bounded("test:wedged-a", 0.1, release.wait))
            time.sleep(0.2)  # abandoned at its timeout, not yet past the grace
            assert s.scheduler_alive()
            assert wait_for(lambda: not s.scheduler_alive(), timeout=5)
            s.heartbeat()
            assert not s.scheduler_alive()  # fresh beats do not make up for it
        stuck = [e for e in logs if e["event"] == "job.stuck"]
        assert [e["job"] for e in stuck] == ["test:wedged-a"]
    finally:
        release.set()
        s.close()


def test_a_job_abandoned_at_its_timeout_that_then_finishes_is_not_stuck(tmp_path):
    s = _services(tmp_path)
    s.stuck_grace = 0.2
    release = threading.Event()
    try:
        s.heartbeat()
        _run_in_background(scheduler.bounded("test:wedged-b", 0.1, release.wait))
        assert wait_for(lambda: not s.scheduler_alive(), timeout=5)
        release.set()
        assert wait_for(lambda: "test:wedged-b" not in scheduler.stuck(0.2), timeout=5)
        s.heartbeat()
        assert s.scheduler_alive()
    finally:
        release.set()
        s.close()


def test_the_watchdog_is_no_longer_fed_while_a_job_is_stuck(tmp_path):
    import socket

    sock_path = Path(tempfile_dir()) / "notify"
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(str(sock_path))
    rx.settimeout(2.0)
    cfg = make_config(tmp_path)
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "200000"})
    s = services.build(config.load(cfg, env={}), notifier=notifier)
    s.stuck_grace = 0.2
    stop, release = threading.Event(), threading.Event()

    def beat() -> None:  # the heartbeat job, beating on
        while not stop.wait(0.02):
            s.heartbeat()

    _run_in_background(beat)
    thread = notifier.start_watchdog(s.scheduler_alive, stop)
    try:
        assert rx.recv(100) == b"WATCHDOG=1"
        _run_in_background(scheduler.bounded("test:wedged-c", 0.1, release.wait))
        time.sleep(0.6)  # past the timeout and the grace; a ping in flight may land
        _drain(rx, 0.0)
        rx.settimeout(0.5)
        with pytest.raises((socket.timeout, TimeoutError)):
            rx.recv(100)
    finally:
        release.set()
        stop.set()
        thread.join(1)
        rx.close()
        sock_path.unlink(missing_ok=True)
        s.close()


def tempfile_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="rvn-", dir="/tmp")  # AF_UNIX paths: 107 bytes at most


def _drain(sock, _seconds: float) -> None:
    sock.setblocking(False)
    try:
        while True:
            sock.recv(100)
    except BlockingIOError:
        pass
    finally:
        sock.setblocking(True)
