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
    assert set(data) == {"version", "now", "home", "state", "timezone", "daemon", "sources",
                         "session",
                         "sessions_enabled", "next_wake", "next_sleep", "max_duration",
                         "last_wake", "next_dream", "last_dream"}
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
