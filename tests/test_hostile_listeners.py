"""The HTTP listeners hold a bounded number of connections: a flood of idle ones costs
the daemon a few hundred descriptors at most, and polls (of a folder with a sparse 2 GiB
post in it), the control socket and /healthz go on answering. The daemon starts with its
soft descriptor limit raised to the hard one."""

from __future__ import annotations

import http.client
import resource
import socket
import struct
import textwrap
import threading
import time
from pathlib import Path

import pytest

from reverie.daemon import config, control
from reverie.perception._listener import MAX_CONNECTIONS
from tests.conftest import polls_of, reverie_env, wait_for

FLOOD = 2000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port: int, timeout: float = 5.0) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
    finally:
        conn.close()
    return status, time.monotonic() - started


def open_fds(pid: int) -> int:
    import os

    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def daemon(tmp_path):
    """Start `reverie run` with metrics on a loopback port, under ``prlimit --nofile``."""
    import subprocess
    import sys

    procs = []

    def start(nofile: str):
        home = tmp_path / "home"
        (home / "posts").mkdir(parents=True, exist_ok=True)
        (home / "posts" / "a.md").write_text("one two\n")
        with open(home / "posts" / "huge.md", "wb") as f:  # 2 GiB of holes, counted each poll
            f.truncate(2 * 1024 ** 3)
        port = free_port()
        cfg = tmp_path / "reverie.yaml"
        cfg.write_text(textwrap.dedent(f"""\
            home: {home}
            timezone: UTC
            metrics:
              listen: 127.0.0.1:{port}
            sources:
              - {{name: posts, type: files, path: posts, words: true, every: 1s}}
            """), encoding="utf-8")
        loaded = config.load(cfg, need_secrets=False)
        # prlimit: the limit the daemon starts under, as a distribution's service would
        p = subprocess.Popen(["prlimit", f"--nofile={nofile}", "--", sys.executable, "-m",
                              "reverie.daemon.cli", "--config", str(cfg), "--log-format",
                              "json", "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=reverie_env())
        procs.append(p)
        assert wait_for(lambda: _answers(port), 30), "the metrics listener did not start"
        return p, port, loaded.home

    yield start
    for p in procs:
        p.terminate()
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()


def _answers(port: int) -> bool:
    try:
        return healthz(port, 1.0)[0] in (200, 503)
    except OSError:
        return False


def _wait_connected(socks: list[socket.socket], within: float) -> int:
    """How many of ``socks`` finished connecting within ``within`` seconds."""
    import selectors

    sel = selectors.DefaultSelector()  # epoll: select() stops at 1024 descriptors
    for s in socks:
        sel.register(s, selectors.EVENT_WRITE)
    done = 0
    end = time.monotonic() + within
    while done < len(socks) and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            sel.unregister(key.fileobj)
            done += key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    sel.close()
    return done


def test_the_daemon_raises_its_soft_descriptor_limit_to_the_hard_one(daemon):
    p, _, _ = daemon("256:4096")
    limits = open(f"/proc/{p.pid}/limits").read()
    line = next(ln for ln in limits.splitlines() if ln.startswith("Max open files"))
    assert line.split()[3:5] == ["4096", "4096"], line


def test_2000_idle_connections_leave_polls_the_control_socket_and_healthz_answering(daemon):
    # the daemon may not raise past 1024: only the listener's cap can keep it alive
    p, port, home = daemon("1024:1024")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < FLOOD + 200:
        pytest.skip(f"this test opens {FLOOD} connections; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, FLOOD + 200), hard))
    idle: list[socket.socket] = []
    try:
        polled = polls_of(home.db, "posts")
        most = 0
        started = time.monotonic()
        for i in range(FLOOD):  # one after another, each held open and silent
            if time.monotonic() - started > 60:
                pytest.fail(f"{i} connections took a minute: the listener is not accepting")
            try:
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError as e:
                pytest.fail(f"connection {i + 1}: {e}: the listener stopped accepting")
            if i % 250 == 249:  # real requests are answered all through the flood
                status, took = healthz(port)
                assert status in (200, 503) and took < 5.0, (i, status, took)
                most = max(most, open_fds(p.pid))
        reply = control.request(home.socket, {"cmd": "status"}, timeout=5)
        assert reply.get("ok") is not False, reply
        # and while the daemon would hold them (its idle timeout is 10 s), and after
        end = time.monotonic() + 12
        while time.monotonic() < end:
            status, took = healthz(port)
            assert status in (200, 503) and took < 5.0, (status, took)
            most = max(most, open_fds(p.pid))
            time.sleep(0.5)
        # what the flood cost the daemon: at most the cap, not one descriptor each
        assert most < MAX_CONNECTIONS + 100, most
        assert wait_for(lambda: polls_of(home.db, "posts") >= polled + 2, 15), \
            "polls stopped under the flood"
        for _ in range(100):  # clients that abort mid-answer
            abort = socket.create_connection(("127.0.0.1", port), timeout=5)
            abort.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            abort.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            abort.close()  # a reset, not a goodbye
        assert healthz(port)[0] in (200, 503)
        assert p.poll() is None
        # and the sparse 2 GiB post was counted each second in a bounded memory
        hwm = next(int(ln.split()[1]) for ln in open(f"/proc/{p.pid}/status")
                   if ln.startswith("VmHWM:"))
        assert hwm < 250 * 1024, f"peak RSS {hwm} KiB"
    finally:
        for s in idle:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    p.terminate()
    _, err = p.communicate(timeout=30)
    # aborted and dropped connections are not a flood of non-JSON lines in the journal
    assert all(ln.startswith("{") for ln in err.splitlines() if ln.strip()), err[-2000:]


def test_clients_that_abort_mid_answer_leave_no_lines_on_stderr(home, capfd):
    """socketserver prints a traceback (about 25 lines) per aborted connection: here at
    most one debug line per minute goes to the log, and nothing to stderr."""
    from zoneinfo import ZoneInfo

    from reverie.memory.store import Store
    from reverie.perception.serve import PageServer

    Store.open(home.db).close()
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), [], ZoneInfo("UTC"),
                     host="127.0.0.1", port=0, page=False)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        for _ in range(100):
            abort = socket.create_connection(srv.server_address[:2], timeout=5)
            # a request whose answer cannot be sent: the client is gone before it is written
            abort.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            abort.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            abort.close()
            bad = socket.create_connection(srv.server_address[:2], timeout=5)
            bad.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x" +
                        b"y" * 70000 + b"\r\n\r\n")  # a header line over http.server's limit
            bad.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            bad.close()
        time.sleep(0.5)
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=5)
        conn.request("GET", "/healthz")
        assert conn.getresponse().status in (200, 503)
        conn.close()
    finally:
        srv.shutdown()
        srv.server_close()
    out, err = capfd.readouterr()
    assert err == "", err[:2000]


def test_every_unit_sets_limit_nofile_and_install_writes_it(tmp_path):
    from importlib import resources

    from reverie.daemon import systemd

    root = Path(__file__).resolve().parent.parent
    shipped = resources.files("reverie.daemon").joinpath("units")
    for name in ("reverie.service", "reverie@.service", "reverie-user.service"):
        for text in ((root / "systemd" / name).read_text(), shipped.joinpath(name).read_text()):
            service = text.split("[Service]", 1)[1].split("\n[", 1)[0]
            assert "\nLimitNOFILE=8192\n" in service, name
    for kind in systemd.SOURCE_FILES:  # what `reverie systemd install` writes
        unit = systemd.render_unit(kind, executable="/usr/bin/reverie",
                                   config=tmp_path / "r.yaml", home=tmp_path / "home",
                                   user=None if kind == "user" else "reverie",
                                   stop_timeout_s=30)
        assert "\nLimitNOFILE=8192\n" in unit, kind


def test_clients_trickling_a_byte_at_a_time_hold_a_worker_only_until_the_deadline(home):
    from zoneinfo import ZoneInfo

    from reverie.memory.store import Store
    from reverie.perception._listener import WORKERS
    from reverie.perception.serve import PageServer

    Store.open(home.db).close()
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), [], ZoneInfo("UTC"),
                     host="127.0.0.1", port=0, page=False)
    srv.request_deadline = 2.0  # 30 s in the daemon; the same mechanism, sooner
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    stop = threading.Event()
    ended: list[float] = []

    def trickle() -> None:
        s = socket.create_connection(srv.server_address[:2], timeout=5)
        started = time.monotonic()
        try:
            for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 10_000:
                if stop.is_set():
                    return
                s.sendall(bytes([byte]))
                time.sleep(0.2)  # well inside the 10 s idle timeout of each read
        except OSError:
            ended.append(time.monotonic() - started)  # the server hung up on it
        finally:
            s.close()

    slow = [threading.Thread(target=trickle, daemon=True) for _ in range(WORKERS * 2)]
    try:
        for t in slow:
            t.start()
        time.sleep(0.5)  # every worker is now held by a trickler
        status, took = healthz(srv.server_address[1], timeout=15)
        # queued behind up to two rounds of tricklers, each ended at the deadline (without
        # one, no worker ever comes free and the request times out)
        assert status in (200, 503) and took < 2 * srv.request_deadline + 3, took
        assert wait_for(lambda: len(ended) == len(slow), 10), len(ended)
        # the first WORKERS at one deadline, the rest (queued behind them) at two
        assert max(ended) < 2 * srv.request_deadline + 3, ended
    finally:
        stop.set()
        srv.shutdown()
        srv.server_close()
