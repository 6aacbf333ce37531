"""reverie.daemon.control: `reverie wake|sleep|status` reach the running daemon through a unix
socket, answered by the daemon's own handler (daemon/services.py)."""

from __future__ import annotations

import os
import socket
import threading
import stat
from pathlib import Path

import pytest

from reverie.daemon import config, services
from reverie.daemon.control import ControlServer, DaemonNotRunning, request
from reverie.daemon.notify import Notifier
from reverie.memory.home import Home
from tests import _agent
from tests.conftest import make_config, run_cli, wait_for


@pytest.fixture
def server(agent_home: Home):
    servers: list[ControlServer] = []

    def start(handler) -> ControlServer:
        s = ControlServer(agent_home.socket, handler)
        s.start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def daemon_services(agent_home: Home, tmp_path: Path, *steps: str) -> services.Services:
    """The services the daemon builds for a home whose agent (tests/_agent.py) does ``steps``."""
    cfg = make_config(tmp_path, home=str(agent_home.root),
                      sessions={"command": _agent.command(*steps), "stop_timeout": "0.5s"})
    return services.build(config.load(cfg, env={}), notifier=Notifier(None))


def test_wake_status_and_sleep_round_trip_through_the_socket(agent_home, server, tmp_path):
    s = daemon_services(agent_home, tmp_path, "sleep=30")
    server(s.handle_control)
    try:
        woke = request(agent_home.socket, {"cmd": "wake", "reason": "asked"})
        status = request(agent_home.socket, {"cmd": "status"})
        slept = request(agent_home.socket, {"cmd": "sleep"})
        after = request(agent_home.socket, {"cmd": "status"})
    finally:
        s.runner.sleep()
        s.close()
    assert woke["ok"] and woke["outcome"] == "started"
    assert status["session"]["session_id"] == woke["session_id"]
    assert status["session"]["pid"] > 0
    assert status["pid"] == os.getpid()
    assert slept == {"ok": True, "stopped": True}
    assert after == {"ok": True, "pid": os.getpid(), "session": None}


def test_a_wake_over_a_running_session_is_refused_with_its_reason(agent_home, server, tmp_path):
    s = daemon_services(agent_home, tmp_path, "sleep=30")
    server(s.handle_control)
    try:
        first = request(agent_home.socket, {"cmd": "wake"})
        second = request(agent_home.socket, {"cmd": "wake"})
    finally:
        s.runner.sleep()
        s.close()
    assert first["ok"]
    assert second == {"ok": False, "outcome": "skipped", "session_id": None,
                      "reason": "a session is running"}


def test_sleep_with_no_session_says_nothing_was_stopped(agent_home, server, tmp_path):
    s = daemon_services(agent_home, tmp_path)
    server(s.handle_control)
    try:
        assert request(agent_home.socket, {"cmd": "sleep"}) == {"ok": True, "stopped": False}
    finally:
        s.close()


def test_an_unknown_command_is_an_error_reply(agent_home, server, tmp_path):
    s = daemon_services(agent_home, tmp_path)
    server(s.handle_control)
    try:
        assert request(agent_home.socket, {"cmd": "dance"}) == \
            {"ok": False, "error": "unknown command 'dance'"}
    finally:
        s.close()


def test_the_socket_is_owner_only(agent_home, server):
    server(lambda req: {"ok": True})
    mode = os.stat(agent_home.socket).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


def test_a_request_with_no_daemon_listening_says_so(agent_home):
    with pytest.raises(DaemonNotRunning, match="no reverie daemon is listening on"):
        request(agent_home.socket, {"cmd": "status"}, timeout=1)


def test_a_stale_socket_left_by_a_dead_daemon_is_replaced(agent_home, server):
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(agent_home.socket)) if len(str(agent_home.socket)) < 100 else None
    dead.close()
    if not agent_home.socket.exists():
        pytest.skip("path too long to make a stale socket by hand")
    server(lambda req: {"ok": True, "pong": req["cmd"]})
    assert request(agent_home.socket, {"cmd": "status"}) == {"ok": True, "pong": "status"}


def test_a_second_daemon_cannot_take_a_live_socket(agent_home, server):
    server(lambda req: {"ok": True})
    with pytest.raises(RuntimeError, match="another reverie daemon is listening"):
        ControlServer(agent_home.socket, lambda req: {"ok": True}).start()


def test_a_malformed_request_gets_an_error_reply_and_the_server_keeps_serving(agent_home,
                                                                          server):
    server(lambda req: {"ok": True})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(agent_home.socket)) if len(str(agent_home.socket)) < 100 else \
            pytest.skip("path too long to connect by hand")
        s.sendall(b"not json\n{\"no\": \"cmd\"}\n")
        reader = s.makefile("rb")
        first, second = reader.readline(), reader.readline()
    assert b"one JSON object per line" in first
    assert b'needs \\"cmd\\"' in second or b'needs "cmd"' in second
    assert request(agent_home.socket, {"cmd": "status"}) == {"ok": True}


def test_a_handler_that_fails_answers_one_line_error(agent_home, server):
    def boom(req):
        raise ValueError("no can do")

    server(boom)
    assert request(agent_home.socket, {"cmd": "wake"}) == \
        {"ok": False, "error": "ValueError: no can do"}


def test_stop_removes_the_socket(agent_home, server):
    s = server(lambda req: {"ok": True})
    s.stop()
    assert wait_for(lambda: not agent_home.socket.exists(), timeout=2)


def test_a_home_deeper_than_a_socket_address_allows_still_works(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = Home.at(deep).state / "control.sock"
    assert len(str(path)) > 108
    s = ControlServer(path, lambda req: {"ok": True, "cmd": req["cmd"]})
    s.start()
    try:
        assert request(path, {"cmd": "status"}) == {"ok": True, "cmd": "status"}
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        s.stop()


def test_a_daemon_that_does_not_answer_is_one_clear_line_with_exit_1(tmp_path):
    home = tmp_path / "home"
    Home.at(home).state.mkdir(parents=True)
    cfg = make_config(tmp_path, sessions={"command": _agent.command()})
    # a socket that accepts and then closes without a reply (a daemon dying mid-request)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(Home.at(home).state / "control.sock"))
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
