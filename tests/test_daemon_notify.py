"""The real daemon speaks sd_notify to a datagram socket the test owns (as systemd would)."""

from __future__ import annotations

import signal
import socket
import time


from tests._logtail import LogTail
from tests.conftest import make_config, reverie_env, start_cli, wait_for

POSTS = {"name": "posts", "type": "files", "path": "posts", "every": "1h"}



def collect(sock, seconds: float) -> list[tuple[float, str]]:
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        out.append((time.monotonic(), data.decode()))
    return out


_pending: list[str] = []


def wait_message(sock, pred, timeout: float = 15.0) -> str:
    """The first message matching ``pred``; later ones stay queued for the next call."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _pending.extend(m for _, m in collect(sock, 0.2))
        for i, m in enumerate(_pending):
            if pred(m):
                del _pending[: i + 1]
                return m
    raise AssertionError("message not received")


def start(cfg, path, **env):
    return start_cli("--config", str(cfg), "--log-format", "json", "run",
                     env=reverie_env(NOTIFY_SOCKET=str(path), **env))


def test_ready_watchdog_reload_and_stopping(tmp_path, notify_socket):
    sock, path = notify_socket
    cfg = make_config(tmp_path, sources=[POSTS])
    (tmp_path / "home" / "posts").mkdir(parents=True)
    p = start(cfg, path, WATCHDOG_USEC="1000000")
    try:
        _pending.clear()
        ready = wait_message(sock, lambda m: "READY=1" in m)
        assert "STATUS=" in ready and "0 sources ok, 0 failing, 1 never polled" in ready
        _pending.clear()
        msgs = collect(sock, 2.0)
        pings = [m for _, m in msgs if m == "WATCHDOG=1"]
        assert 3 <= len(pings) <= 6  # every 0.5 s for 2 s

        p.send_signal(signal.SIGHUP)
        reloading = wait_message(sock, lambda m: "RELOADING=1" in m)
        usec = int(dict(kv.split("=", 1) for kv in reloading.split("\n"))["MONOTONIC_USEC"])
        assert abs(usec / 1e6 - time.clock_gettime(time.CLOCK_MONOTONIC)) < 5
        wait_message(sock, lambda m: "READY=1" in m)

        p.send_signal(signal.SIGTERM)
        wait_message(sock, lambda m: "STOPPING=1" in m)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_no_watchdog_once_the_scheduler_is_wedged(tmp_path, notify_socket):
    """Every worker of the pool stuck in a source that never returns: the heartbeat job
    cannot run, so the watchdog must go quiet and let systemd restart us."""
    sock, path = notify_socket
    cfg = make_config(tmp_path, sources=[
        {"name": f"hung{i}", "type": "command", "argv": ["sleep", "3517"], "timeout": "1h",
         "every": "1s"} for i in range(30)])
    p = start(cfg, path, WATCHDOG_USEC="1000000")
    log = LogTail(p.stderr)
    try:
        wait_message(sock, lambda m: "READY=1" in m)
        # the pool fills up; beats go stale after 3 x 0.25 s and the watchdog says so
        assert wait_for(lambda: log.has('"watchdog.withheld"'), timeout=15), log.text(0)
        collect(sock, 0.3)  # drop what was sent before the wedge and sat in the buffer
        late = [m for _, m in collect(sock, 2.0) if m == "WATCHDOG=1"]
        assert late == []
        assert p.poll() is None  # alive but wedged: systemd's watchdog does the rest
    finally:
        p.kill()
        p.wait()
        import subprocess
        subprocess.run(["pkill", "-f", "sleep 3517"], check=False)
