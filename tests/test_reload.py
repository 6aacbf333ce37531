"""`reverie reload`: the daemon re-reads its config on its loop and says whether it took it."""

from __future__ import annotations

import signal
import socket
import time

import pytest

from tests._logtail import LogTail
from tests.conftest import polls_of, reverie_env, run_cli, start_cli, wait_for
from reverie.memory.home import Home

CONFIG = """
home: ./home
timezone: UTC
sources:
  - {name: posts, type: files, path: posts, every: 1h}
"""




def statuses(sock, seconds: float = 0.5) -> list[str]:
    """The STATUS= values received within ``seconds``."""
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data = sock.recv(4096).decode()
        except socket.timeout:
            continue
        out += [line[len("STATUS="):] for line in data.split("\n") if line.startswith("STATUS=")]
    return out


@pytest.fixture
def daemon(write_config, tmp_path, notify_socket):
    cfg = write_config(CONFIG)
    (tmp_path / "home" / "posts").mkdir(parents=True)
    sock, path = notify_socket
    p = start_cli("--config", str(cfg), "--log-format", "json", "run",
                  env=reverie_env(NOTIFY_SOCKET=str(path)))
    p.log = LogTail(p.stderr)
    assert wait_for(lambda: (Home.at(tmp_path / "home").state / "control.sock").exists(),
                    timeout=20), p.log.text(0)
    assert wait_for(lambda: any(" ok, " in s and "failing" in s for s in statuses(sock)), timeout=10)
    yield cfg, tmp_path / "home", p, sock
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except Exception:
            p.kill()
            p.wait()


def test_reload_exits_0_and_the_new_source_is_polled(daemon, httpserver):
    cfg, home, p, _sock = daemon
    httpserver.expect_request("/me").respond_with_json({"agent": {"karma": 7}})
    cfg.write_text(cfg.read_text() + "  - {name: api, type: http_json, url: "
                   f"'{httpserver.url_for('/me')}', fields: {{karma: agent.karma}}, every: 1h}}\n")
    r = run_cli("--config", str(cfg), "reload", timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the new config is live (2 sources)" in r.stdout
    assert wait_for(lambda: polls_of(Home.at(home).state / "reverie.db", "api"), timeout=20)
    assert len(httpserver.log) >= 1


def test_a_broken_config_is_refused_with_its_line_and_the_old_one_keeps_running(daemon):
    cfg, home, p, sock = daemon
    good = cfg.read_text()
    cfg.write_text(good.replace("every: 1h", "every: sometimes"))
    r = run_cli("--config", str(cfg), "reload", timeout=90)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{cfg}:4: sources[0].every: invalid duration 'sometimes'" in r.stderr
    assert "keeps running the previous config" in r.stderr
    assert "Traceback" not in r.stderr
    assert p.poll() is None
    # systemd's status line says so, with the time and the file:line
    seen = wait_for(lambda: [s for s in statuses(sock) if s.startswith("config refused at ")])
    assert seen and f"{cfg}:4: sources[0].every" in seen[0], seen
    assert "running the previous config: 1 source ok, 0 failing" in seen[0]
    cfg.write_text(good)
    r = run_cli("--config", str(cfg), "reload", timeout=90)
    assert r.returncode == 0, r.stderr
    back = wait_for(lambda: [s for s in statuses(sock) if " ok, " in s and "failing" in s])
    assert back and not back[-1].startswith("config refused"), back


def test_a_config_whose_yaml_is_broken_is_refused_by_the_daemon_too(daemon):
    cfg, home, p, sock = daemon
    cfg.write_text(cfg.read_text() + "  - {name: [unclosed\n")
    r = run_cli("--config", str(cfg), "reload", timeout=90)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "invalid YAML" in r.stderr
    assert p.poll() is None
    assert wait_for(lambda: [s for s in statuses(sock) if s.startswith("config refused at ")])


def test_sighup_still_reloads(daemon):
    cfg, home, p, _sock = daemon
    cfg.write_text(cfg.read_text().replace("every: 1h", "every: 2h"))
    p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: p.log.has('"reload.done"'), timeout=15)


def test_reload_without_a_daemon_exits_3(write_config, tmp_path):
    cfg = write_config(CONFIG)
    r = run_cli("--config", str(cfg), "reload", timeout=60)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "no daemon is running" in r.stderr
