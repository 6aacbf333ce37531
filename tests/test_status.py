"""`reverie status` through the real CLI: its JSON shape, its exit codes, its display."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from reverie.memory import clock
from reverie.memory.store import Store
from tests.conftest import make_config, run_cli, start_cli, wait_for
from reverie.memory.home import Home


@pytest.fixture
def setup(tmp_path, httpserver):
    httpserver.expect_request("/me").respond_with_json({"agent": {"karma": 1284}})

    def make(url: str | None = None):
        cfg = make_config(tmp_path, sources=[
            {"name": "moltbook", "type": "http_json", "url": url or httpserver.url_for("/me"),
             "fields": {"karma": "agent.karma"}, "every": "1m"},
            {"name": "blog", "type": "feed", "url": httpserver.url_for("/rss"), "every": "90m",
             "enabled": False}])
        return cfg, tmp_path / "home"
    return make


def status(cfg, *args):
    r = run_cli("--config", str(cfg), "status", *args)
    assert r.returncode in (0, 3), r.stderr
    return r


def start_daemon(cfg, home):
    daemon = start_cli("--config", str(cfg), "--log-format", "json", "run")
    assert wait_for(lambda: (Home.at(home).state / "control.sock").exists(), 20), "daemon did not start"
    return daemon


def stop(daemon):
    daemon.terminate()
    assert daemon.wait(timeout=20) == 0


def test_status_exits_3_and_says_not_running_without_a_daemon(setup):
    cfg, _ = setup()
    r = status(cfg)
    assert r.returncode == 3
    assert r.stdout.splitlines()[0] == "daemon: not running"
    data = json.loads(status(cfg, "--json").stdout)
    assert data["daemon"] == {"running": False, "pid": None, "heartbeat": None,
                              "heartbeat_age_seconds": None}


def test_status_json_has_the_documented_shape(setup):
    cfg, home = setup()
    r = status(cfg, "--json")
    data = json.loads(r.stdout)
    assert r.returncode == 3
    assert data["version"] == 1
    assert data["state"] == str(Home.at(home).state)
    assert set(data) == {"version", "now", "home", "state", "timezone", "config_errors",
                         "daemon", "sources", "session", "sessions_enabled", "next_wake",
                         "next_sleep", "max_duration", "last_wake", "next_dream", "last_dream"}
    assert data["config_errors"] == []
    src, blog = data["sources"]
    assert set(src) == {"name", "type", "enabled", "every", "cron", "health",
                        "consecutive_failures", "failing_since", "last_success", "last_error",
                        "next_run"}
    assert (src["name"], src["health"], src["every"], src["next_run"]) == (
        "moltbook", "never_polled", "1m", None)
    assert (blog["health"], blog["every"], blog["enabled"]) == ("disabled", "1h30m", False)
    assert data["session"] is None and data["last_dream"] is None
    assert data["next_dream"]["backend"] == "offline"
    datetime.fromisoformat(data["next_dream"]["at"])


def test_status_while_the_daemon_runs_exits_0_with_its_pid_and_the_source_ok(setup):
    cfg, home = setup()
    daemon = start_daemon(cfg, home)
    try:
        assert wait_for(lambda: json.loads(status(cfg, "--json").stdout)["sources"][0]["health"]
                        == "ok", 30), "the source was never polled"
        r = status(cfg, "--json")
        text = status(cfg)
    finally:
        stop(daemon)
    assert r.returncode == 0 and text.returncode == 0
    data = json.loads(r.stdout)
    assert data["daemon"]["running"] is True and data["daemon"]["pid"] == daemon.pid
    assert data["daemon"]["heartbeat_age_seconds"] is not None
    src = data["sources"][0]
    assert src["last_success"] is not None and src["last_error"] is None
    left = datetime.fromisoformat(src["next_run"]) - datetime.fromisoformat(data["now"])
    assert timedelta(0) <= left <= timedelta(minutes=1)
    line = next(ln for ln in text.stdout.splitlines() if ln.lstrip().startswith("moltbook"))
    assert "every 1m, next ~in " in line and "ok, last good " in line
    assert "60s" not in text.stdout
    assert text.stdout.startswith(f"daemon: running (pid {daemon.pid})")


def test_a_source_backing_off_shows_its_next_try_not_its_next_fire(setup, tmp_path):
    cfg, home = setup(url="http://127.0.0.1:9/closed")
    now = clock.now()
    with Store.open(Home.at(home).state / "reverie.db") as store:
        # three failures, the last 90s ago: at 1m it waits 8 intervals, until ~6m30s from
        # now (a whole minute ago, a status within the same second showed "in 7m")
        store.record_run("moltbook", now - timedelta(minutes=1, seconds=30), ok=False,
                         error="connection refused by 127.0.0.1:9",
                         state={"consecutive_failures": 3,
                                "failing_since": clock.to_ts(now - timedelta(minutes=10)),
                                "last_error": "connection refused by 127.0.0.1:9",
                                "last_error_ts": clock.to_ts(now - timedelta(minutes=1, seconds=30))})
    daemon = start_daemon(cfg, home)
    try:
        r = status(cfg, "--json")
        text = status(cfg)
    finally:
        stop(daemon)
    src = json.loads(r.stdout)["sources"][0]
    assert src["health"] == "backing_off" and src["consecutive_failures"] == 3
    assert src["last_error"]["message"] == "connection refused by 127.0.0.1:9"
    left = datetime.fromisoformat(src["next_run"]) - now
    assert timedelta(minutes=5, seconds=30) < left <= timedelta(minutes=6, seconds=35)
    line = next(ln for ln in text.stdout.splitlines() if ln.lstrip().startswith("moltbook"))
    assert "every 1m, next try ~in 6m" in line
    assert "BACKING OFF after 3 failures (failing since 10m ago): connection refused" in line


def test_status_json_says_when_the_last_dream_fell_back(setup):
    cfg, home = setup()
    with Store.open(Home.at(home).state / "reverie.db") as store:
        store.record_dream(date="2024-05-14", path="dreams/2024-05-14.md", backend="offline",
                           model=None, fallback_reason="model server answered HTTP 500",
                           cycle_start=clock.from_ts(0.0), cycle_end=clock.from_ts(1.0), sha256="x")
    r = status(cfg, "--json")
    assert json.loads(r.stdout)["last_dream"] == {
        "date": "2024-05-14", "path": "dreams/2024-05-14.md", "backend": "offline",
        "model": None, "written": json.loads(r.stdout)["last_dream"]["written"],
        "fell_back": True, "fallback_reason": "model server answered HTTP 500"}
    assert ("last: dreams/2024-05-14.md (fell back to offline: model server answered HTTP 500)"
            in status(cfg).stdout)


def test_while_the_file_is_invalid_the_read_only_commands_answer_from_the_daemons_config(setup):
    # a health check that runs `reverie status` must not report an outage for a typo
    # being edited: the daemon runs on, on the config it took
    cfg, home = setup()
    daemon = start_daemon(cfg, home)
    try:
        good = cfg.read_text()
        cfg.write_text(good.replace("every: 1m", "every: often").replace("every: 90m", "every: x"))
        line = (f"reverie: {cfg} has 2 problems (`reverie check-config` lists them); "
                "answering from the last good config the daemon took")
        r = run_cli("--config", str(cfg), "status", process=True)
        assert (r.returncode, r.stderr.splitlines()) == (0, [line]), r.stderr
        assert r.stdout.startswith("daemon: running (pid ")
        assert "moltbook" in r.stdout and "every 1m" in r.stdout
        r = run_cli("--config", str(cfg), "status", "--json", process=True)
        assert (r.returncode, r.stderr.splitlines()) == (0, [line])
        data = json.loads(r.stdout)
        assert data["daemon"]["running"] is True
        assert [s["name"] for s in data["sources"]] == ["moltbook", "blog"]
        assert len(data["config_errors"]) == 2
        assert data["config_errors"][0].startswith(f"{cfg}:") and "often" in data["config_errors"][0]
        assert wait_for(lambda: (home / "perception" / "state.md").exists(), 20)
        r = run_cli("--config", str(cfg), "state", process=True)
        assert (r.returncode, r.stderr.splitlines()) == (0, [line]), r.stderr
        assert r.stdout == (home / "perception" / "state.md").read_text()
        r = run_cli("--config", str(cfg), "page", process=True)
        assert (r.returncode, r.stderr.splitlines()) == (0, [line]), r.stderr
        assert r.stdout.startswith(str(home / "morning.html"))
        assert run_cli("--config", str(cfg), "check-config").returncode == 2
    finally:
        stop(daemon)
    r = run_cli("--config", str(cfg), "status", "--json", process=True)  # stopped: 3, as always
    assert (r.returncode, r.stderr.splitlines()) == (3, [line])
    assert json.loads(r.stdout)["daemon"]["running"] is False
    cfg.write_text(good)
    r = run_cli("--config", str(cfg), "status", "--json", process=True)
    assert (r.returncode, r.stderr) == (3, "") and json.loads(r.stdout)["config_errors"] == []


def test_an_invalid_file_whose_daemon_never_ran_is_still_refused_with_its_problems(setup):
    cfg, home = setup()
    cfg.write_text(cfg.read_text().replace("every: 1m", "every: often"))
    for command in ("status", "state", "page"):
        r = run_cli("--config", str(cfg), command)
        assert r.returncode == 2 and "often" in r.stderr and "last good config" not in r.stderr


def test_after_a_good_reload_an_invalid_file_answers_from_the_reloaded_config(setup):
    cfg, home = setup()
    daemon = start_daemon(cfg, home)
    try:
        cfg.write_text(cfg.read_text().replace("name: blog", "name: journal"))
        r = run_cli("--config", str(cfg), "reload", process=True)
        assert r.returncode == 0, r.stderr
        cfg.write_text(cfg.read_text().replace("every: 1m", "every: often"))
        r = run_cli("--config", str(cfg), "status", "--json", process=True)
        assert r.returncode == 0, r.stderr
        assert [s["name"] for s in json.loads(r.stdout)["sources"]] == ["moltbook", "journal"]
    finally:
        stop(daemon)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Dubai"])
def test_status_and_state_md_write_the_zone_the_same_way(tmp_path, zone):
    import re

    cfg = make_config(tmp_path, timezone=zone)
    r = run_cli("--config", str(cfg), "state")
    assert r.returncode == 0, r.stderr
    said = re.search(r"^- Now: \w{3} [-\d]{10} \d\d:\d\d (\S+) \((.+)\)$", r.stdout, re.M)
    assert said and said.group(2) == zone, r.stdout
    r = status(cfg)
    shown = re.search(r"zone: (\S+)   now: \w{3} [-\d]{10} \d\d:\d\d (\S+)$", r.stdout, re.M)
    assert shown and shown.group(1) == zone, r.stdout
    assert shown.group(2) == said.group(1)
    assert said.group(1) in (("CET", "CEST") if zone == "Europe/Berlin" else ("UTC+04:00",))
