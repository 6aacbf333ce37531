"""The sd_notify protocol against real unix datagram sockets this test owns."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reverie.daemon.notify import Notifier, monotonic_usec


class Receiver:
    """A stand-in for systemd's notify socket: collects datagrams with their arrival time."""

    def __init__(self, sock: socket.socket, env_value: str):
        self.sock = sock
        self.env_value = env_value
        self.sock.settimeout(2.0)

    def env(self, **extra: str) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.env_value, **extra}

    def recv(self, timeout: float = 2.0) -> str:
        self.sock.settimeout(timeout)
        return self.sock.recv(65536).decode()

    def drain(self, seconds: float) -> list[tuple[float, str]]:
        got: list[tuple[float, str]] = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                got.append((time.monotonic(), self.sock.recv(65536).decode()))
            except (socket.timeout, TimeoutError):
                break
        return got

    def assert_silent(self, seconds: float) -> None:
        assert self.drain(seconds) == []


@pytest.fixture
def path_socket():
    # A short folder in /tmp: AF_UNIX paths are limited to 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="rvn-", dir="/tmp"))
    path = folder / "notify"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    try:
        yield Receiver(s, str(path))
    finally:
        s.close()
        path.unlink(missing_ok=True)
        folder.rmdir()


@pytest.fixture
def abstract_socket():
    name = f"reverie-test-{uuid.uuid4().hex}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    try:
        yield Receiver(s, "@" + name)
    finally:
        s.close()


def test_outside_systemd_the_notifier_does_nothing():
    n = Notifier.from_env({})
    assert not n.enabled
    assert n.ready("all good") is False
    assert n.watchdog_interval() is None
    before = threading.active_count()
    assert n.start_watchdog(lambda: True, threading.Event()) is None
    assert threading.active_count() == before


def test_ready_with_status_arrives_as_one_datagram(path_socket):
    n = Notifier.from_env(path_socket.env())
    assert n.ready("3 sources healthy, next dream 05:00")
    assert path_socket.recv() == "READY=1\nSTATUS=3 sources healthy, next dream 05:00"


def test_at_sign_means_the_abstract_namespace(abstract_socket):
    Notifier.from_env(abstract_socket.env()).ready()
    assert abstract_socket.recv() == "READY=1"


def test_status_is_one_line_so_it_cannot_inject_assignments(path_socket):
    Notifier.from_env(path_socket.env()).status("source bad\nREADY=1\r\nWATCHDOG=1")
    assert path_socket.recv() == "STATUS=source bad READY=1 WATCHDOG=1"


def test_reloading_carries_the_monotonic_time_it_was_sent(path_socket):
    n = Notifier.from_env(path_socket.env())
    before = monotonic_usec()
    n.reloading()
    after = monotonic_usec()
    lines = path_socket.recv().split("\n")
    assert lines[0] == "RELOADING=1"
    key, _, value = lines[1].partition("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_reload_is_reloading_then_ready(abstract_socket):
    n = Notifier.from_env(abstract_socket.env())
    n.reloading()
    n.ready("reloaded")
    assert abstract_socket.recv().startswith("RELOADING=1\nMONOTONIC_USEC=")
    assert abstract_socket.recv() == "READY=1\nSTATUS=reloaded"


def test_stopping_is_sent_at_shutdown(path_socket):
    Notifier.from_env(path_socket.env()).stopping()
    assert path_socket.recv() == "STOPPING=1"


def test_watchdog_interval_is_half_of_watchdog_usec(path_socket):
    assert Notifier.from_env(path_socket.env(WATCHDOG_USEC="200000")).watchdog_interval() == 0.1


def test_watchdog_meant_for_another_pid_is_not_ours(path_socket):
    other = path_socket.env(WATCHDOG_USEC="200000", WATCHDOG_PID=str(os.getppid()))
    mine = path_socket.env(WATCHDOG_USEC="200000", WATCHDOG_PID=str(os.getpid()))
    assert Notifier.from_env(other).watchdog_interval() is None
    assert Notifier.from_env(mine).watchdog_interval() == 0.1


def test_no_watchdog_usec_means_no_watchdog_thread(path_socket):
    n = Notifier.from_env(path_socket.env())
    assert n.watchdog_interval() is None
    assert n.start_watchdog(lambda: True, threading.Event()) is None


def test_watchdog_pings_every_half_interval_while_alive(path_socket):
    n = Notifier.from_env(path_socket.env(WATCHDOG_USEC="200000"))
    stop = threading.Event()
    thread = n.start_watchdog(lambda: True, stop)
    try:
        got = path_socket.drain(0.65)
    finally:
        stop.set()
        thread.join(1)
    assert all(msg == "WATCHDOG=1" for _, msg in got)
    assert 5 <= len(got) <= 8  # one at start, then every 0.1 s
    gaps = [b[0] - a[0] for a, b in zip(got, got[1:])]
    assert 0.08 <= sum(gaps) / len(gaps) <= 0.15


def test_watchdog_goes_silent_once_the_scheduler_is_wedged(path_socket):
    alive = threading.Event()
    alive.set()
    n = Notifier.from_env(path_socket.env(WATCHDOG_USEC="200000"))
    stop = threading.Event()
    thread = n.start_watchdog(alive.is_set, stop)
    try:
        assert path_socket.recv() == "WATCHDOG=1"
        alive.clear()
        path_socket.drain(0.15)  # a ping already in flight may still land
        path_socket.assert_silent(0.4)
    finally:
        stop.set()
        thread.join(1)
    assert not thread.is_alive()


def test_watchdog_resumes_when_the_scheduler_recovers(path_socket):
    alive = threading.Event()
    n = Notifier.from_env(path_socket.env(WATCHDOG_USEC="200000"))
    stop = threading.Event()
    thread = n.start_watchdog(alive.is_set, stop)
    try:
        path_socket.assert_silent(0.25)
        alive.set()
        assert path_socket.recv(1.0) == "WATCHDOG=1"
    finally:
        stop.set()
        thread.join(1)


def test_a_probe_that_raises_counts_as_wedged(path_socket):
    def probe() -> bool:
        raise RuntimeError("heartbeat table locked")

    n = Notifier.from_env(path_socket.env(WATCHDOG_USEC="200000"))
    stop = threading.Event()
    thread = n.start_watchdog(probe, stop)
    try:
        path_socket.assert_silent(0.3)
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(1)


def test_stop_event_ends_the_watchdog_thread_promptly(path_socket):
    n = Notifier.from_env(path_socket.env(WATCHDOG_USEC="2000000"))  # 1 s pings
    stop = threading.Event()
    thread = n.start_watchdog(lambda: True, stop)
    path_socket.recv()
    t0 = time.monotonic()
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert time.monotonic() - t0 < 0.5


def test_a_vanished_socket_is_logged_once_and_never_raises(tmp_path):
    n = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    with capture_logs() as logs:
        assert n.ready() is False
        assert n.status("x") is False
        assert n.stopping() is False
    assert [e["event"] for e in logs] == ["notify.failed"]


def test_unset_environment_keeps_children_out_of_the_protocol(path_socket):
    env = path_socket.env(WATCHDOG_USEC="200000", WATCHDOG_PID=str(os.getpid()), KEEP="1")
    n = Notifier.from_env(env, unset_environment=True)
    assert env == {"KEEP": "1"}
    assert n.watchdog_interval() == 0.1
    n.ready()
    assert path_socket.recv() == "READY=1"
