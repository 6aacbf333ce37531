"""Notifications through Apprise's json:// target, received by a local HTTP server."""

from __future__ import annotations

import json
import os
import re
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


def title(what: str, name: str = "home") -> str:
    """A message's title: the agent (here the home folder's name) and the host name it."""
    return f"reverie [{name} on {socket.gethostname()}]: {what}"


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
        assert sent[0]["title"] == title("api is failing")
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
                                 if n["title"] == title("api is back")], timeout=30)
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
        assert told[0]["title"] == title("restarted after an unclean stop")
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
        assert told and told[0]["title"].startswith(title("the dream of "))
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
                                "pip install '.[notify]' in reverie's checkout (or pip install apprise)")


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
        assert told and told[0]["title"] == title("a session was killed")
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
        assert told and told[0]["title"] == title("a session failed")
        assert "exited with code 3" in told[0]["message"]
        # another failed session within the hour: no second message
        assert s.runner.wake("again").outcome == "started"
        assert wait_for(lambda: s.runner.check() is not None, timeout=15)
        time.sleep(1.5)
        assert len(notifications(httpserver)) == 1
    finally:
        s.close()


def _record(cfg: Path) -> Path:
    """The record of the agent ``cfg`` describes (its name: decides the state folder)."""
    from reverie.daemon import config

    return config.load(cfg, need_secrets=False).home.db


def _signed_failing_config(tmp_path, write_config, httpserver, *, every: str) -> Path:
    """The signed config with one source, `api`, answering 500 every ``every``."""
    httpserver.expect_request("/api").respond_with_data("down", status=500)
    (tmp_path / "home").mkdir()
    return _signed_config(write_config, httpserver, f"""
        sources:
          - {{name: api, type: http_json, url: '{httpserver.url_for('/api')}',
              fields: {{karma: agent.karma}}, every: {every}}}
        """)


def _signed_config(write_config, httpserver, extra: str = ""):
    httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
    return write_config(f"""
        name: scout
        home: ./home
        timezone: Europe/Berlin
        notify:
          urls: ['json://127.0.0.1:{httpserver.port}/notify']
          source_failing_after: 2s
        """ + extra)


def test_a_failing_source_on_a_long_interval_is_told_on_the_alert_timer_not_at_its_next_poll(
        write_config, tmp_path, httpserver):
    # polled once an hour: the first poll fails at the start and the next is an hour
    # away; the message comes within the timer's tick past the 2 s threshold
    cfg = _signed_failing_config(tmp_path, write_config, httpserver, every="1h")
    p = start_daemon(cfg)
    try:
        told = wait_for(lambda: notifications(httpserver), timeout=20)
        assert told, p.log.text(0)
        assert polls_of(_record(cfg), "api") == 1
        assert told[0]["title"] == title("api is failing", name="scout")
        assert told[0]["type"] == "failure"
        assert told[0]["message"].endswith(f"— reverie, agent scout on {socket.gethostname()}")
        assert " CET, 1 polls): HTTP 500" in told[0]["message"] or \
               " CEST, 1 polls): HTTP 500" in told[0]["message"], told[0]["message"]
    finally:
        stop(p)


def test_the_timer_tells_an_hourly_source_30_minutes_after_it_failed_not_2_hours(
        write_config, tmp_path, httpserver, fake_clock):
    # the case, on the clock seam: the default threshold (30m) on a 1h source
    # whose backoff puts the next try 2 h after the failure
    httpserver.expect_request("/api").respond_with_data("down", status=500)
    httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
    cfg = write_config(f"""
        home: ./home
        timezone: UTC
        sources:
          - {{name: api, type: http_json, url: '{httpserver.url_for('/api')}',
              fields: {{karma: agent.karma}}, every: 1h}}
        notify: {{urls: ['json://127.0.0.1:{httpserver.port}/notify']}}
        """)
    s = services.build(config.load(cfg))
    try:
        s.alerts.start()
        assert s.alerts.check_every() == 30.0  # a minute late at most, as the jobs run it
        assert "alerts" in [j.name for j in s.jobs()]
        spec = s.loaded.config.sources[0]
        s.poll(spec)
        for _ in range(59):  # 29.5 minutes of the timer: not yet
            fake_clock.advance(30)
            s.check_failing()
        time.sleep(0.5)
        assert notifications(httpserver) == []
        fake_clock.advance(30)
        s.check_failing()
        told = wait_for(lambda: notifications(httpserver), timeout=20)
        assert told and told[0]["title"] == title("api is failing")
        assert told[0]["message"].startswith("api has been failing for 30m (since ")
        s.poll(spec)  # the backoff holds the next try back: nothing polled, nothing sent
        fake_clock.advance(30)
        s.check_failing()
        time.sleep(0.5)
        assert len(notifications(httpserver)) == 1
    finally:
        s.close()


def test_a_recovery_goes_out_as_success_signed_with_the_agent(write_config, tmp_path, httpserver):
    cfg = _signed_failing_config(tmp_path, write_config, httpserver, every="500ms")
    p = start_daemon(cfg)
    try:
        assert wait_for(lambda: notifications(httpserver), timeout=20), p.log.text(0)
        httpserver.clear_all_handlers()
        httpserver.expect_request("/api").respond_with_json({"agent": {"karma": 5}})
        httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
        back = wait_for(lambda: [n for n in notifications(httpserver)
                                 if n["title"] == title("api is back", name="scout")], timeout=30)
        assert back, p.log.text(0)
        assert back[0]["type"] == "success"
        assert back[0]["message"].endswith(f"— reverie, agent scout on {socket.gethostname()}")
    finally:
        stop(p)


def test_the_restart_message_tells_the_last_beat_in_the_configs_zone(write_config, tmp_path,
                                                                     httpserver):
    (tmp_path / "home").mkdir()
    cfg = _signed_config(write_config, httpserver)
    p = start_daemon(cfg)
    try:
        assert wait_for(lambda: p.log.has('"daemon.started"'), timeout=30), p.log.text(0)
    finally:
        p.kill()
        p.wait()
    p = start_daemon(cfg)
    try:
        told = wait_for(lambda: notifications(httpserver), timeout=30)
        assert told, p.log.text(0)
        assert told[0]["title"] == title("restarted after an unclean stop", name="scout")
        assert told[0]["type"] == "warning"
        msg = told[0]["message"]
        assert re.search(r"\(last alive \w{3} 20\d\d-\d\d-\d\d \d\d:\d\d CES?T\)", msg), msg
        assert "UTC" not in msg and "+00:00" not in msg
    finally:
        stop(p)


def test_a_planned_stop_during_a_session_is_recorded_and_told_as_stopped_not_failed(
        write_config, tmp_path, httpserver):
    (tmp_path / "home").mkdir()
    cfg = _signed_config(write_config, httpserver, f"""
        sessions:
          command: ['{sys.executable}', -c, 'import time; time.sleep(120)']
          stop_timeout: 5s
        """)
    p = start_daemon(cfg)
    try:
        assert wait_for(lambda: p.log.has('"daemon.started"'), timeout=60), p.log.text(0)
        r = run_cli("--config", str(cfg), "wake", timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        p.send_signal(signal.SIGTERM)  # what `systemctl stop` sends (KillMode=mixed)
        assert p.wait(timeout=30) == 0
    finally:
        stop(p)
    told = notifications(httpserver)
    assert [n["title"] for n in told] == [title("a session was stopped with the daemon",
                                                name="scout")], told
    assert told[0]["type"] == "info"
    from reverie.memory.store import Store

    with Store.open(_record(cfg), readonly=True) as store:
        (row,) = store.sessions()
    assert row.end_reason == "daemon stopped"


def test_an_agent_killed_by_the_stop_signal_during_the_daemons_stop_is_stopped_not_killed(
        write_config, httpserver):
    # a stop that reached the agent's group too (KillMode=control-group, a container's
    # stop): the agent dies of SIGTERM before the daemon ends the session itself
    s = _session_services(write_config, httpserver,
                          f"{{command: ['{sys.executable}', -c, 'import time; time.sleep(60)'], "
                          "stop_timeout: 2s}")
    try:
        assert s.runner.wake("test").outcome == "started"
        pid = s.runner.current()["pid"]
        s.runner.stopping = "daemon stopped"  # what the daemon's SIGTERM handler sets
        os.kill(pid, signal.SIGTERM)
        assert wait_for(lambda: s.runner.check() is not None, timeout=15)
        told = wait_for(lambda: notifications(httpserver), timeout=20)
        assert [n["title"] for n in told] == [title("a session was stopped with the daemon")]
        (row,) = s.store.sessions()
        assert (row.end_reason, row.exit_code) == ("daemon stopped", -signal.SIGTERM)
    finally:
        s.close()
