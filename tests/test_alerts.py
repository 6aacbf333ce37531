"""Notifications through Apprise's json:// target, received by a local HTTP server."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reverie.daemon import config, logs, services
from tests._logtail import LogTail
from tests.conftest import polls_of, reverie_env, run_cli, start_cli, wait_for
from reverie.memory.home import Home

pytest.importorskip("apprise")


def notifications(httpserver) -> list[dict]:
    return [json.loads(r.get_data()) for r, _ in httpserver.log if r.path == "/notify"]



def start_daemon(cfg: Path):
    p = start_cli("--config", str(cfg), "--log-format", "json", "run", env=reverie_env())
    p.log = LogTail(p.stderr)
    return p


def stop(p) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture
def failing_source_config(write_config, tmp_path, httpserver):
    httpserver.expect_request("/api").respond_with_data("down", status=500)
    httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
    (tmp_path / "home").mkdir()
    return _failing_api_config(write_config, httpserver, httpserver.port)


def _failing_api_config(write_config, httpserver, notify_port: int, extra: str = ""):
    """A source polled every 200 ms from httpserver's /api, failing for 500 ms is told to
    json://127.0.0.1:``notify_port``/notify."""
    return write_config(f"""
        home: ./home
        timezone: UTC
        sources:
          - {{name: api, type: http_json, url: '{httpserver.url_for('/api')}',
              fields: {{karma: agent.karma}}, every: 200ms}}
        notify:
          urls: ['json://127.0.0.1:{notify_port}/notify']
          source_failing_after: 500ms
        """ + extra)


@pytest.mark.waits(5)  # the backoff, twice
def test_a_source_failing_past_its_threshold_is_told_once_and_not_again_after_a_restart(
        failing_source_config, tmp_path, httpserver):
    db = Home.at(tmp_path / "home").state / "reverie.db"
    p = start_daemon(failing_source_config)
    try:
        assert wait_for(lambda: notifications(httpserver), timeout=30), p.log.text(0)
        sent = notifications(httpserver)
        assert sent[0]["title"] == "reverie: api is failing"
        assert sent[0]["message"].startswith("api has been failing for ")
        assert "HTTP 500" in sent[0]["message"]
        # the source keeps failing (and being polled): still one message
        failed = polls_of(db, "api")
        assert wait_for(lambda: polls_of(db, "api") >= failed + 1, timeout=30)
        assert len(notifications(httpserver)) == 1
    finally:
        stop(p)
    # a restart after a clean stop sends neither the failure again nor "restarted"
    p = start_daemon(failing_source_config)
    try:
        failed = polls_of(db, "api")
        assert wait_for(lambda: polls_of(db, "api") >= failed + 1, timeout=30), p.log.text(0)
        time.sleep(1)
        assert len(notifications(httpserver)) == 1
    finally:
        stop(p)


def test_a_recovered_source_is_told_once_it_works_again(failing_source_config, tmp_path, httpserver):
    p = start_daemon(failing_source_config)
    try:
        assert wait_for(lambda: notifications(httpserver), timeout=30), p.log.text(0)
        httpserver.clear_all_handlers()
        httpserver.expect_request("/api").respond_with_json({"agent": {"karma": 5}})
        httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
        back = wait_for(lambda: [n for n in notifications(httpserver)
                                 if n["title"] == "reverie: api is back"], timeout=30)
        assert back, p.log.text(0)
        assert back[0]["message"].startswith("api works again after ")
    finally:
        stop(p)


def test_an_unclean_stop_is_told_at_the_next_start(failing_source_config, tmp_path, httpserver):
    cfg = failing_source_config
    cfg.write_text(cfg.read_text().replace("source_failing_after: 500ms",
                                           "source_failing_after: 1h"))
    p = start_daemon(cfg)
    try:
        assert wait_for(lambda: p.log.has('"daemon.started"'), timeout=30), p.log.text(0)
    finally:
        p.kill()  # no clean shutdown
        p.wait()
    assert notifications(httpserver) == []
    p = start_daemon(cfg)
    try:
        told = wait_for(lambda: notifications(httpserver), timeout=30)
        assert told, p.log.text(0)
        assert told[0]["title"] == "reverie restarted after an unclean stop"
    finally:
        stop(p)


def test_a_dream_that_falls_back_to_offline_is_told(write_config, tmp_path, httpserver):
    httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
    cfg = write_config(f"""
        home: ./home
        timezone: UTC
        dream: {{backend: openai, base_url: 'http://127.0.0.1:9/v1', api_key: sk-test-123456,
                 model: m}}
        notify: {{urls: ['json://127.0.0.1:{httpserver.port}/notify']}}
        """)
    s = services.build(config.load(cfg))
    try:
        s.alerts.start()  # as the daemon does
        out = s.dream_now()
        assert out.fallback_reason == "cannot reach the model server"
        told = wait_for(lambda: notifications(httpserver), timeout=20)
        assert told and told[0]["title"].startswith("reverie: the dream of ")
        assert "cannot reach the model server" in told[0]["message"]
    finally:
        s.close()


def test_a_hanging_notifier_does_not_delay_the_poll_that_raised_the_alert(write_config, tmp_path,
                                                                           httpserver):
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)  # connections complete in the kernel; nothing ever answers
    hang.settimeout(10)
    httpserver.expect_request("/api").respond_with_data("down", status=500)
    cfg = _failing_api_config(write_config, httpserver, hang.getsockname()[1],
                              extra="  timeout: 30s\n")
    s = services.build(config.load(cfg))
    try:
        s.alerts.start()
        spec = s.loaded.config.sources[0]
        s.poll(spec)  # the first failure
        time.sleep(0.6)  # past the threshold and the backoff (two intervals)
        t0 = time.monotonic()
        s.poll(spec)  # failing for 0.6 s: this poll raises the alert
        took = time.monotonic() - t0
        assert s.store.source_state("api").consecutive_failures == 2
        conn, _ = hang.accept()  # the message is on its way to a server that never answers
        conn.close()
        assert took < 1.0, took  # Apprise alone waits 4 s for a reply
    finally:
        s.close()
        hang.close()


def test_without_apprise_a_configured_notify_is_one_config_line(write_config):
    cfg = write_config("""
        home: ./home
        timezone: UTC
        notify:
          urls: ['json://127.0.0.1:9/notify']
        """)
    code = ("import sys; sys.modules['apprise'] = None\n"
            "from reverie.daemon.cli import main\n"
            f"sys.exit(main(['--config', {str(cfg)!r}, 'check-config']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=reverie_env(), timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.strip() == (f"{cfg}:4: notify.urls: sending notifications needs Apprise: "
                                "pip install 'reverie[notify]'")


def test_an_unknown_notify_url_is_refused_without_echoing_it(write_config):
    cfg = write_config("""
        home: ./home
        timezone: UTC
        notify: {urls: ['nosuchservice://tok-abcdef123456']}
        """)
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 2
    assert "notify.urls: urls[0] is not a URL Apprise knows" in r.stderr
    assert "tok-abcdef123456" not in r.stderr


def test_tokens_in_notify_urls_are_secrets_in_logs(write_config):
    cfg = write_config("""
        home: ./home
        timezone: UTC
        notify: {urls: ['tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321']}
        """)
    loaded = config.load(cfg)
    logs.set_secrets(loaded.secrets)
    try:
        line = logs.scrub("sending to tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321"
                          " failed; token AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
        assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in line
        assert "987654321" not in line
    finally:
        logs.set_secrets(())


def _session_services(write_config, httpserver, sessions: str):
    httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
    cfg = write_config(f"""
        home: ./home
        timezone: UTC
        sessions: {sessions}
        notify: {{urls: ['json://127.0.0.1:{httpserver.port}/notify']}}
        """)
    s = services.build(config.load(cfg))
    s.alerts.start()
    return s


def test_a_session_killed_at_max_duration_is_told(write_config, httpserver):
    s = _session_services(write_config, httpserver,
                          "{command: [sleep, '30'], max_duration: 1s, stop_timeout: 2s}")
    try:
        assert s.runner.wake("test").outcome == "started"
        assert wait_for(lambda: s.runner.check() is not None, timeout=15)
        told = wait_for(lambda: notifications(httpserver), timeout=20)
        assert told and told[0]["title"] == "reverie: a session was killed"
        assert "timed out" in told[0]["message"]
    finally:
        s.end_session()
        s.close()


def test_a_session_that_exits_non_zero_is_told_once_within_the_hour(write_config, httpserver):
    s = _session_services(write_config, httpserver, "{command: [sh, -c, 'exit 3']}")
    try:
        assert s.runner.wake("test").outcome == "started"
        assert wait_for(lambda: s.runner.check() is not None, timeout=15)
        told = wait_for(lambda: notifications(httpserver), timeout=20)
        assert told and told[0]["title"] == "reverie: a session failed"
        assert "exited with code 3" in told[0]["message"]
        # another failed session within the hour: no second message
        assert s.runner.wake("again").outcome == "started"
        assert wait_for(lambda: s.runner.check() is not None, timeout=15)
        time.sleep(1.5)
        assert len(notifications(httpserver)) == 1
    finally:
        s.close()
