"""reverie.daemon.sessions: wake the agent, put it to sleep, consolidate; real subprocesses."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from reverie.daemon.sessions import (SessionRunner, SessionsOptions, in_active_hours, missed_wakes,
                             new_session_id)
from reverie.memory import clock
from reverie.memory.home import Home, init_home
from reverie.memory.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
UTC = clock.UTC


@pytest.fixture
def agent_home(tmp_path: Path) -> Home:
    init_home(tmp_path / "home")
    return Home.at(tmp_path / "home")


@pytest.fixture
def store(agent_home: Home):
    s = Store.open(agent_home.db)
    yield s
    s.close()


@pytest.fixture
def runner(agent_home: Home, store: Store, tmp_path: Path):
    made: list[SessionRunner] = []

    def make(script: str | None = None, args: tuple[str, ...] = (), **opts) -> SessionRunner:
        if script is not None:
            path = tmp_path / f"agent{len(made)}.py"
            path.write_text(textwrap.dedent(script), encoding="utf-8")
            opts.setdefault("command", [sys.executable, str(path), *args])
        opts.setdefault("stop_timeout", "0.5s")
        opts.setdefault("max_duration", "30s")
        notable = opts.pop("notable_since", None)
        r = SessionRunner(agent_home, store, SessionsOptions(**opts), tz=BERLIN,
                          notable_since=notable)
        made.append(r)
        return r

    yield make
    for r in made:  # never leave an agent behind
        if r.current():
            r.sleep()


def wait_until_ended(r: SessionRunner, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while r.current() is not None:
        assert time.monotonic() < deadline, "the session did not end"
        r.check()
        time.sleep(0.02)


def wait_for_file(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text()


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


STUBBORN = """
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    with open(sys.argv[1], "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    time.sleep(60)
"""


# -- what the agent sees ------------------------------------------------------------------

def test_the_agent_starts_in_the_home_with_its_files_in_its_environment(runner, agent_home,
                                                                         tmp_path):
    out = tmp_path / "seen.json"
    r = runner("""
        import json, os, sys
        keys = ["REVERIE_HOME", "REVERIE_STATE", "REVERIE_DREAM", "REVERIE_DIARY",
                "REVERIE_WORKING", "REVERIE_SESSION_ID", "REVERIE_WAKE_REASON", "EXTRA"]
        json.dump({"cwd": os.getcwd(), "argv": sys.argv[1:],
                   "env": {k: os.environ.get(k) for k in keys}}, open(sys.argv[1], "w"))
    """, args=(str(out), "{working}", "--state={state}"), env={"EXTRA": "yes"})
    res = r.wake("morning")
    wait_until_ended(r)
    seen = json.loads(out.read_text())
    today = clock.local(clock.now(), BERLIN).date()
    assert res.outcome == "started"
    assert seen["cwd"] == str(agent_home.root)
    assert seen["argv"][1:] == [str(agent_home.working), f"--state={agent_home.state_md}"]
    assert seen["env"] == {
        "REVERIE_HOME": str(agent_home.root), "REVERIE_STATE": str(agent_home.state_md),
        "REVERIE_DREAM": str(agent_home.latest_dream),
        "REVERIE_DIARY": str(agent_home.diary(today)),
        "REVERIE_WORKING": str(agent_home.working), "REVERIE_SESSION_ID": res.session_id,
        "REVERIE_WAKE_REASON": "morning", "EXTRA": "yes"}
    assert agent_home.diary(today).exists()


def test_the_agent_is_given_todays_dream_when_there_is_one(runner, agent_home, tmp_path):
    today = clock.local(clock.now(), BERLIN).date()
    agent_home.dream(today).write_text("a dream")
    out = tmp_path / "dream.txt"
    r = runner("import os, sys; open(sys.argv[1], 'w').write(os.environ['REVERIE_DREAM'])",
               args=(str(out),))
    r.wake("w")
    wait_until_ended(r)
    assert out.read_text() == str(agent_home.dream(today))


def test_a_relative_cwd_is_taken_inside_the_home(runner, agent_home, tmp_path):
    (agent_home.root / "work").mkdir()
    out = tmp_path / "cwd.txt"
    r = runner("import os, sys; open(sys.argv[1], 'w').write(os.getcwd())", args=(str(out),),
               cwd="work")
    r.wake("w")
    wait_until_ended(r)
    assert out.read_text() == str(agent_home.root / "work")


def test_a_wake_renders_a_fresh_state_before_the_agent_starts(agent_home, store, tmp_path):
    def render() -> None:
        agent_home.state_md.write_text("fresh")

    out = tmp_path / "state.txt"
    script = tmp_path / "a.py"
    script.write_text("import os, sys; open(sys.argv[1], 'w').write("
                      "open(os.environ['REVERIE_STATE']).read())")
    r = SessionRunner(agent_home, store, SessionsOptions(
        command=[sys.executable, str(script), str(out)], stop_timeout="0.5s"),
        tz=BERLIN, render_state=render)
    r.wake("w")
    wait_until_ended(r)
    assert out.read_text() == "fresh"


def test_the_agents_output_is_logged_under_its_session_id(runner, agent_home):
    r = runner("import sys; print('hello out'); print('hello err', file=sys.stderr)")
    res = r.wake("w")
    wait_until_ended(r)
    log = agent_home.session_log(res.session_id).read_text()
    assert "hello out" in log and "hello err" in log
    assert oct(agent_home.session_log(res.session_id).stat().st_mode & 0o777) == "0o600"


def test_the_session_log_is_capped_and_says_it_was_cut(runner, agent_home):
    r = runner("import sys; sys.stdout.write('x' * 200_000); sys.stdout.flush()",
               log_max_bytes=4096)
    res = r.wake("w")
    wait_until_ended(r)
    log = agent_home.session_log(res.session_id).read_text()
    assert log.startswith("x" * 4096)
    assert log.count("x") == 4096
    assert "output truncated at 4096 bytes; 195904 more bytes were discarded" in log


def test_session_ids_sort_by_start_time():
    a = new_session_id(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    b = new_session_id(datetime(2026, 11, 25, 14, 0, tzinfo=UTC))
    assert a.startswith("20261125T080000Z-") and a < b


# -- one at a time ---------------------------------------------------------------------------

def test_a_wake_while_a_session_runs_is_skipped_and_recorded(runner, store):
    r = runner("import time; time.sleep(30)")
    first = r.wake("first")
    second = r.wake("second")
    assert first.outcome == "started"
    assert (second.outcome, second.session_id, second.reason) == \
        ("skipped", None, "a session is running")
    assert store.wakes()[0]["outcome"] == "skipped"
    assert "a session is running" in store.wakes()[0]["reason"]
    assert len(store.sessions()) == 1


def test_a_double_fire_of_one_scheduled_time_starts_one_session(runner, store):
    r = runner("pass")
    fire = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(r.wake("s", scheduled=fire)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until_ended(r)
    again = r.wake("s", scheduled=fire)
    assert sorted(x.outcome for x in results) == ["skipped", "skipped", "skipped", "started"]
    assert again.outcome == "skipped" and not again.recorded
    assert len(store.sessions()) == 1
    assert len(store.wakes()) == 1


# -- stopping --------------------------------------------------------------------------------

def test_max_duration_stops_an_agent_that_ignores_sigterm_and_its_children(runner, store,
                                                                          tmp_path):
    pids = tmp_path / "pids"
    r = runner(STUBBORN, args=(str(pids),), max_duration="1s")
    res = r.wake("w")
    agent, child = map(int, wait_for_file(pids).split())
    assert r.check() is None
    ended = r.check(now=clock.now() + timedelta(seconds=1))
    row = store.session(res.session_id)
    assert ended == "timed out"
    assert (row["end_reason"], row["exit_code"]) == ("timed out", -9)
    assert not pid_alive(agent) and not pid_alive(child)
    assert r.current() is None


def test_sleep_stops_the_agent_and_its_children_and_consolidates(runner, store, agent_home,
                                                                 tmp_path):
    pids = tmp_path / "pids"
    r = runner(STUBBORN, args=(str(pids),))
    res = r.wake("w")
    agent, child = map(int, wait_for_file(pids).split())
    t0 = time.monotonic()
    assert r.sleep() is True
    row = store.session(res.session_id)
    assert time.monotonic() - t0 < 3
    assert (row["end_reason"], row["consolidated"]) == ("slept", 1)
    assert not pid_alive(agent) and not pid_alive(child)
    day = clock.local(clock.from_ts(row["started"]), BERLIN).date()
    assert f"## Session {res.session_id}" in agent_home.diary(day).read_text()


def test_sleep_lets_an_agent_that_stops_on_sigterm_go_without_a_kill(runner, store, tmp_path):
    ready = tmp_path / "ready"
    r = runner("""
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        open(sys.argv[1], "w").write("up")
        time.sleep(30)
    """, args=(str(ready),))
    res = r.wake("w")
    wait_for_file(ready)
    r.sleep()
    assert (store.session(res.session_id)["end_reason"],
            store.session(res.session_id)["exit_code"]) == ("slept", 0)


def test_sleep_with_no_session_running_says_so(runner):
    assert runner("pass").sleep() is False


def test_an_agent_that_exits_by_itself_is_recorded_with_its_exit_code(runner, store):
    r = runner("import sys; sys.exit(3)")
    res = r.wake("w")
    wait_until_ended(r)
    row = store.session(res.session_id)
    assert (row["end_reason"], row["exit_code"], row["consolidated"]) == ("exited", 3, 1)


def test_what_the_agent_wrote_is_consolidated_when_it_ends(runner, agent_home):
    r = runner("""
        import os
        with open(os.environ["REVERIE_WORKING"], "a") as f:
            f.write("\\n## Today\\nthe sky was green today #remember\\n")
    """)
    r.wake("w")
    wait_until_ended(r)
    assert "the sky was green today #remember" in (agent_home.memory_dir / "notes.md").read_text()
    assert "sky was green" not in agent_home.working.read_text()


def test_the_bundled_demo_agent_remembers_a_line_and_carries_one(runner, agent_home):
    from reverie.daemon import demo_agent

    r = runner(command=demo_agent.command())
    res = r.wake("demo")
    wait_until_ended(r)
    assert "#remember" in (agent_home.memory_dir / "notes.md").read_text()
    assert f"Look again at what changed since session {res.session_id}" in \
        agent_home.working.read_text()


def test_an_agent_that_cannot_start_is_recorded_as_a_failed_wake(runner, store):
    r = runner(command=["/nonexistent/agent-binary"])
    res = r.wake("w")
    assert res.outcome == "failed"
    assert res.reason == "could not start the agent: command '/nonexistent/agent-binary' not found"
    assert store.wakes()[0]["outcome"] == "failed" and store.sessions() == []


def test_run_foreground_waits_for_the_session_and_consolidates(runner, store):
    r = runner("import time; time.sleep(0.2)")
    res = r.run_foreground("asked")
    row = store.session(res.session_id)
    assert (row["end_reason"], row["consolidated"]) == ("exited", 1)


def test_run_foreground_stops_the_agent_at_max_duration(runner, store):
    r = runner("import time; time.sleep(30)", max_duration="0.5s")
    t0 = time.monotonic()
    res = r.run_foreground("asked")
    assert time.monotonic() - t0 < 4
    assert store.session(res.session_id)["end_reason"] == "timed out"


def test_status_shows_the_running_session(runner):
    r = runner("import time; time.sleep(30)")
    res = r.wake("w")
    cur = r.current()
    assert cur["session_id"] == res.session_id and cur["pid"] > 0 and cur["elapsed"] >= 0


# -- restarts --------------------------------------------------------------------------------

def test_a_session_whose_agent_vanished_while_the_daemon_was_down_is_ended_lost(runner, store):
    store.start_session("20260101T080000Z-dead", clock.now() - timedelta(hours=1), 999_999_9,
                        "w")
    runner("pass").recover()
    row = store.session("20260101T080000Z-dead")
    assert (row["end_reason"], row["consolidated"]) == ("lost", 1)


def test_a_session_still_running_after_a_daemon_restart_is_adopted_and_can_be_slept(
        runner, store, tmp_path):
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                            start_new_session=True)
    try:
        store.start_session("20260101T080000Z-live", clock.now(), proc.pid, "w")
        r = runner("pass")
        r.recover()
        assert r.current()["pid"] == proc.pid and r.current()["adopted"]
        assert r.sleep() is True
        assert store.session("20260101T080000Z-live")["end_reason"] == "slept"
        assert proc.wait(timeout=2) is not None
    finally:
        proc.kill()
        proc.wait()


# -- when to wake ------------------------------------------------------------------------------

def test_active_hours_hold_a_plain_daytime_window():
    at = lambda h, m=0: datetime(2026, 6, 1, h, m, tzinfo=BERLIN)  # noqa: E731
    assert in_active_hours("07:00-23:00", at(7), BERLIN)
    assert in_active_hours("07:00-23:00", at(22, 59), BERLIN)
    assert not in_active_hours("07:00-23:00", at(23), BERLIN)
    assert not in_active_hours("07:00-23:00", at(6, 59), BERLIN)


def test_active_hours_may_wrap_midnight():
    at = lambda h: datetime(2026, 6, 1, h, 0, tzinfo=BERLIN)  # noqa: E731
    assert in_active_hours("22:00-02:00", at(23), BERLIN)
    assert in_active_hours("22:00-02:00", at(1), BERLIN)
    assert not in_active_hours("22:00-02:00", at(2), BERLIN)
    assert not in_active_hours("22:00-02:00", at(12), BERLIN)


def test_active_hours_follow_the_wall_clock_on_a_dst_day():
    # 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST
    utc = lambda h, m=0: datetime(2026, 3, 29, h, m, tzinfo=UTC)  # noqa: E731
    assert in_active_hours("01:30-03:30", utc(0, 30), BERLIN)       # 01:30 CET
    assert in_active_hours("01:30-03:30", utc(1, 0), BERLIN)        # 03:00 CEST
    assert not in_active_hours("01:30-03:30", utc(1, 30), BERLIN)   # 03:30 CEST
    assert not in_active_hours("03:30-01:30", utc(1, 0), BERLIN)


def test_a_scheduled_wake_outside_active_hours_is_skipped_and_recorded(runner, store):
    r = runner("pass", active_hours="08:00-20:00")
    fire = datetime(2026, 6, 1, 22, 0, tzinfo=BERLIN)
    res = r.wake("scheduled 22:00", scheduled=fire)
    assert (res.outcome, res.reason) == ("skipped", "outside active hours 08:00-20:00")
    assert store.wake_recorded(fire) and store.sessions() == []


@pytest.mark.parametrize("bad", ["7-23", "07:00-07:00", "25:00-02:00", "07:00"])
def test_a_malformed_active_hours_is_a_config_error(bad):
    with pytest.raises(ValidationError, match="active_hours"):
        SessionsOptions(command=["a"], active_hours=bad)


def test_missed_wakes_are_the_fire_times_since_the_last_heartbeat():
    since = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    now = datetime(2026, 3, 29, 14, 0, tzinfo=BERLIN)
    fires = missed_wakes(["0 8 * * *", "0 14 * * *"], BERLIN, since, now)
    assert [f.astimezone(BERLIN).strftime("%d %H:%M %Z") for f in fires] == \
        ["28 14:00 CET", "29 08:00 CEST", "29 14:00 CEST"]


def test_at_start_a_wake_within_grace_runs_and_older_ones_are_recorded_missed(runner, store):
    r = runner("pass", wake=["0 * * * *"], missed_grace="15m")
    now = clock.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    results = r.catch_up(hour - timedelta(hours=2, minutes=30), hour + timedelta(minutes=5))
    wait_until_ended(r)
    assert [x.outcome for x in results] == ["missed", "missed", "started"]
    assert store.wake_recorded(hour - timedelta(hours=1)) and store.wake_recorded(hour)


def test_skip_if_quiet_skips_a_scheduled_wake_when_nothing_is_notable(runner, store):
    store.record_wake("started", "earlier", ts=clock.now() - timedelta(hours=3))
    asked = []
    r = runner("pass", skip_if_quiet=True,
               notable_since=lambda since, now: asked.append(since) or [])
    res = r.wake("scheduled 08:00", scheduled=clock.now(), check_quiet=True)
    assert (res.outcome, res.reason) == ("skipped", "nothing notable since the last wake")
    assert store.sessions() == [] and len(asked) == 1


def test_skip_if_quiet_wakes_when_something_is_notable(runner, store):
    store.record_wake("started", "earlier", ts=clock.now() - timedelta(hours=3))
    r = runner("pass", skip_if_quiet=True,
               notable_since=lambda since, now: ["wallet.eth fell 12%"])
    res = r.wake("scheduled 08:00", scheduled=clock.now(), check_quiet=True)
    wait_until_ended(r)
    assert res.outcome == "started"


# -- text is never run ------------------------------------------------------------------------

def test_shell_metacharacters_in_reasons_and_arguments_are_never_executed(runner, agent_home,
                                                                          tmp_path):
    out = tmp_path / "argv.json"
    r = runner("import json, os, sys; json.dump([sys.argv[2:], os.environ['REVERIE_WAKE_REASON']],"
               " open(sys.argv[1], 'w'))",
               args=(str(out), "$(touch pwned1)", "`touch pwned2`; touch pwned3", "{0} {nope}"))
    r.wake("$(touch pwned4) && touch pwned5")
    wait_until_ended(r)
    argv, reason = json.loads(out.read_text())
    assert argv == ["$(touch pwned1)", "`touch pwned2`; touch pwned3", "{0} {nope}"]
    assert reason == "$(touch pwned4) && touch pwned5"
    for where in (agent_home.root, tmp_path, Path.cwd()):
        assert not list(where.glob("pwned*"))


# -- webhook ----------------------------------------------------------------------------------

def test_a_webhook_wake_posts_the_wake_and_records_a_session(agent_home, store, httpserver):
    httpserver.expect_request("/hook", method="POST",
                              headers={"X-Token": "t0k3n"}).respond_with_data("ok")
    r = SessionRunner(agent_home, store, SessionsOptions(
        webhook={"url": httpserver.url_for("/hook"), "headers": {"X-Token": "t0k3n"},
                 "timeout": "2s"}), tz=BERLIN)
    res = r.wake("morning")
    body = json.loads(httpserver.log[0][0].get_data())
    row = store.session(res.session_id)
    assert res.outcome == "started"
    assert body["session_id"] == res.session_id and body["reason"] == "morning"
    assert body["home"] == str(agent_home.root) and body["state"] == str(agent_home.state_md)
    assert set(body) == {"session_id", "reason", "home", "state", "dream", "time"}
    assert row["end_reason"] == "exited" and r.current() is None


def test_a_failing_webhook_is_retried_then_recorded_as_failed(agent_home, store, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    r = SessionRunner(agent_home, store, SessionsOptions(
        webhook={"url": httpserver.url_for("/hook"), "retries": 1, "timeout": "1s"}), tz=BERLIN)
    res = r.wake("morning")
    assert (res.outcome, res.reason) == ("failed", "webhook failed: HTTP 503")
    assert len(httpserver.log) == 2
    assert store.wakes()[0]["outcome"] == "failed" and store.sessions() == []


# -- wake_on ------------------------------------------------------------------------------------

def test_a_signal_crossing_a_wake_on_condition_wakes_once_with_its_reason(runner, store,
                                                                          tmp_path):
    out = tmp_path / "reason.txt"
    r = runner("import os, sys; open(sys.argv[1], 'w').write(os.environ['REVERIE_WAKE_REASON'])",
               args=(str(out),), wake_on=["shop.unread > 0"], wake_on_min_interval="1h")
    now = clock.now()
    store.record_poll("shop", now - timedelta(minutes=10), ok=True,
                      readings=[("shop.unread", 0, None, None)])
    assert r.check_wake_on(now) is None
    store.record_poll("shop", now, ok=True, readings=[("shop.unread", 2, None, None)])
    res = r.check_wake_on(now)
    wait_until_ended(r)
    assert res.outcome == "started"
    assert out.read_text() == "wake_on: shop.unread > 0 (shop.unread is 2)"
    assert r.check_wake_on(now + timedelta(minutes=59)) is None
    assert len(store.sessions()) == 1


def test_wake_on_waits_for_active_hours(runner, store):
    r = runner("pass", wake_on=["shop.unread > 0"], active_hours="08:00-09:00")
    store.record_poll("shop", clock.now(), ok=True, readings=[("shop.unread", 2, None, None)])
    night = datetime(2026, 6, 1, 3, 0, tzinfo=BERLIN)
    assert r.check_wake_on(night) is None


def test_a_malformed_wake_on_condition_is_a_config_error_saying_what_is_wrong():
    with pytest.raises(ValidationError) as e:
        SessionsOptions(command=["a"], wake_on=["shop.unread >> 0"])
    assert "expected a number after '>'" in str(e.value)


def test_command_and_webhook_together_are_a_config_error():
    with pytest.raises(ValidationError, match="either command or webhook"):
        SessionsOptions(command=["a"], webhook={"url": "http://127.0.0.1:1/"})
