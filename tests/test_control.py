"""reverie.daemon.control: `reverie wake|sleep|status` reach the running daemon through a unix socket."""

from __future__ import annotations

import os
import socket
import stat
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reverie.daemon.control import ControlServer, DaemonNotRunning, request
from reverie.daemon.sessions import SessionRunner, SessionsOptions
from reverie.memory.home import Home, init_home
from reverie.memory.store import Store


@pytest.fixture
def agent_home(tmp_path: Path) -> Home:
    init_home(tmp_path / "home")
    return Home.at(tmp_path / "home")


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


def test_wake_status_and_sleep_round_trip_through_the_socket(agent_home, server, tmp_path):
    script = tmp_path / "agent.py"
    script.write_text("import time; time.sleep(30)")
    store = Store.open(agent_home.db)
    runner = SessionRunner(agent_home, store, SessionsOptions(
        command=[sys.executable, str(script)], stop_timeout="0.5s"), tz=ZoneInfo("UTC"))
    server(runner.handle)
    try:
        woke = request(agent_home.socket, {"cmd": "wake", "reason": "asked"})
        status = request(agent_home.socket, {"cmd": "status"})
        slept = request(agent_home.socket, {"cmd": "sleep"})
        after = request(agent_home.socket, {"cmd": "status"})
    finally:
        runner.sleep()
        store.close()
    assert woke["ok"] and woke["outcome"] == "started"
    assert status["session"]["session_id"] == woke["session_id"]
    assert status["session"]["pid"] > 0
    assert slept == {"ok": True, "stopped": True}
    assert after == {"ok": True, "session": None}


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
    time.sleep(0.05)
    assert not agent_home.socket.exists()


def test_a_home_deeper_than_a_socket_address_allows_still_works(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = deep / ".reverie" / "control.sock"
    assert len(str(path)) > 108
    s = ControlServer(path, lambda req: {"ok": True, "cmd": req["cmd"]})
    s.start()
    try:
        assert request(path, {"cmd": "status"}) == {"ok": True, "cmd": "status"}
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        s.stop()
