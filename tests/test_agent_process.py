"""The agent's process: what it is given, and that it ends with everything it started.

Real subprocesses: the agent is tests/_agent.py.
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from reverie.daemon import logs
from reverie.memory import clock
from tests.conftest import wait_for
from tests._runner import BERLIN, alive, ended, file_text, pids, reap

linux_only = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")


# -- what the agent is given ---------------------------------------------------------------

def test_the_agent_starts_in_the_home_with_its_files_in_its_environment(runner, agent_home,
                                                                         tmp_path):
    out = tmp_path / "seen.json"
    r = runner(f"report={out}", "--", "{working}", "--state={state}", env={"EXTRA": "yes"})
    res = r.wake("morning")
    seen = json.loads(file_text(out))
    today = clock.local(clock.now(), BERLIN).date()
    assert res.outcome == "started"
    assert seen["cwd"] == str(agent_home.root)
    assert seen["argv"][-2:] == [str(agent_home.working), f"--state={agent_home.state_md}"]
    keys = ["REVERIE_HOME", "REVERIE_STATE", "REVERIE_DREAM", "REVERIE_DIARY",
            "REVERIE_WORKING", "REVERIE_SESSION_ID", "REVERIE_WAKE_REASON", "EXTRA"]
    assert {k: seen["env"].get(k) for k in keys} == {
        "REVERIE_HOME": str(agent_home.root), "REVERIE_STATE": str(agent_home.state_md),
        "REVERIE_DREAM": str(agent_home.latest_dream),
        "REVERIE_DIARY": str(agent_home.diary(today)),
        "REVERIE_WORKING": str(agent_home.working), "REVERIE_SESSION_ID": res.session_id,
        "REVERIE_WAKE_REASON": "morning", "EXTRA": "yes"}
    assert agent_home.diary(today).exists()


def test_the_agent_is_given_todays_dream_when_there_is_one(runner, agent_home, tmp_path):
    today = clock.local(clock.now(), BERLIN).date()
    agent_home.dream(today).write_text("a dream")
    out = tmp_path / "seen.json"
    runner(f"report={out}").wake("w")
    assert json.loads(file_text(out))["env"]["REVERIE_DREAM"] == str(agent_home.dream(today))


def test_a_relative_cwd_is_taken_inside_the_home(runner, agent_home, tmp_path):
    (agent_home.root / "work").mkdir()
    out = tmp_path / "seen.json"
    runner(f"report={out}", cwd="work").wake("w")
    assert json.loads(file_text(out))["cwd"] == str(agent_home.root / "work")


def test_a_wake_renders_a_fresh_state_before_the_agent_starts(runner, agent_home, tmp_path):
    out = tmp_path / "seen.json"
    r = runner(f"report={out}", render_state=lambda: agent_home.state_md.write_text("fresh"))
    r.wake("w")
    env = json.loads(file_text(out))["env"]
    assert Path(env["REVERIE_STATE"]).read_text() == "fresh"


def test_the_daemons_secrets_never_reach_the_agents_environment(runner, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("MOLTBOOK_API_KEY", "s3cr3t-k3y-value")
    monkeypatch.setenv("RPC_URL", "https://node.example/v3/s3cr3t-k3y-value")
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/reverie.service")
    monkeypatch.setenv("PLAIN", "kept")
    logs.set_secrets(["s3cr3t-k3y-value"])
    try:
        out = tmp_path / "seen.json"
        runner(f"report={out}", env={"GIVEN_KEY": "given-by-name"}).wake("w")
        env = json.loads(file_text(out))["env"]
    finally:
        logs.set_secrets([])
    assert not [k for k, v in env.items() if "s3cr3t-k3y-value" in v]
    assert "NOTIFY_SOCKET" not in env and "CREDENTIALS_DIRECTORY" not in env
    assert "PLAIN" not in env and env["GIVEN_KEY"] == "given-by-name"  # only what it is given
    assert env["PATH"] == os.environ["PATH"]


def test_shell_metacharacters_in_reasons_and_arguments_are_never_executed(runner, agent_home,
                                                                          tmp_path):
    out = tmp_path / "seen.json"
    data = ["$(touch pwned1)", "`touch pwned2`; touch pwned3", "{0} {nope}"]
    runner(f"report={out}", "--", *data).wake("$(touch pwned4) && touch pwned5")
    seen = json.loads(file_text(out))
    assert seen["argv"][-3:] == data
    assert seen["env"]["REVERIE_WAKE_REASON"] == "$(touch pwned4) && touch pwned5"
    for where in (agent_home.root, tmp_path, Path.cwd()):
        assert not list(where.glob("pwned*"))


def test_an_agent_that_cannot_start_is_recorded_as_a_failed_wake(runner, store):
    res = runner(command=["/nonexistent/agent-binary"]).wake("w")
    assert res.outcome == "failed"
    assert res.reason == "could not start the agent: command '/nonexistent/agent-binary' not found"
    assert store.wakes()[0].outcome == "failed" and store.sessions() == []


def test_a_cwd_that_is_not_a_folder_is_a_failed_wake(runner, store):
    res = runner("exit=0", cwd="/nonexistent/folder").wake("w")
    assert (res.outcome, res.reason) == \
        ("failed", "could not start the agent: the session cwd '/nonexistent/folder' is not a folder")
    assert store.sessions() == []


# -- how it ends ---------------------------------------------------------------------------------

def test_an_agent_that_exits_by_itself_is_recorded_with_its_exit_code(runner, store):
    r = runner("exit=3")
    res = r.wake("w")
    assert ended(r)
    row = store.session(res.session_id)
    assert (row.end_reason, row.exit_code, row.consolidated) == ("exited", 3, True)


def test_sleep_lets_an_agent_that_stops_on_sigterm_go_without_a_kill(runner, store, tmp_path):
    r = runner("on-term=exit", f"pids={tmp_path / 'pids'}", "sleep=30")
    res = r.wake("w")
    pids(tmp_path / "pids")
    assert r.sleep() is True
    row = store.session(res.session_id)
    assert (row.end_reason, row.exit_code) == ("slept", 0)


def test_sleep_stops_an_agent_that_ignores_sigterm_and_its_children(runner, store, tmp_path):
    r = runner("on-term=ignore", "child", f"pids={tmp_path / 'pids'}", "sleep=60")
    res = r.wake("w")
    agent, child = pids(tmp_path / "pids")
    t0 = time.monotonic()
    assert r.sleep() is True
    row = store.session(res.session_id)
    assert time.monotonic() - t0 < 3
    assert (row.end_reason, row.exit_code) == ("slept", -9)
    assert not alive(agent) and not alive(child)


def test_max_duration_stops_the_agent_and_its_children(runner, store, tmp_path):
    r = runner("on-term=ignore", "child", f"pids={tmp_path / 'pids'}", "sleep=60",
               max_duration="1s")
    res = r.wake("w")
    agent, child = pids(tmp_path / "pids")
    assert r.check() is None
    assert r.check(now=clock.now() + timedelta(seconds=1)) == "timed out"
    row = store.session(res.session_id)
    assert (row.end_reason, row.exit_code) == ("timed out", -9)
    assert not alive(agent) and not alive(child) and r.current() is None


@linux_only
@pytest.mark.parametrize("how", ["detached", "double-fork"])
def test_a_child_that_left_the_group_is_stopped_at_sleep(runner, tmp_path, how):
    r = runner("on-term=ignore", how, f"pids={tmp_path / 'pids'}", "sleep=60")
    r.wake("w")
    agent, child = pids(tmp_path / "pids")
    try:
        assert os.getpgid(child) != agent
        r.sleep()
        assert not alive(agent) and not alive(child)
    finally:
        reap(child)


@linux_only
@pytest.mark.parametrize("how", ["detached", "double-fork"])
def test_an_agent_that_exits_leaving_a_detached_child_is_not_a_clean_exit(runner, store,
                                                                         agent_home, tmp_path,
                                                                         how):
    r = runner(how, f"pids={tmp_path / 'pids'}", "sleep=0.3", "exit=0")
    res = r.wake("w")
    agent, child = pids(tmp_path / "pids")
    try:
        assert ended(r)
        row = store.session(res.session_id)
        assert (row.end_reason, row.exit_code) == ("killed", 0)
        assert not alive(child)
        assert wait_for(lambda: not Path(f"/proc/{child}").exists(), 2), "left a zombie"
        log = agent_home.session_log(res.session_id).read_text()
        assert "the agent exited (code 0) leaving 1 process(es) running; reverie stopped: " \
               f"{child} " in log
    finally:
        reap(child)


@linux_only
def test_a_double_forked_child_without_the_sessions_environment_is_still_stopped(runner,
                                                                                tmp_path):
    r = runner("bare", "double-fork", f"pids={tmp_path / 'pids'}", "sleep=60")
    r.wake("w")
    agent, child = pids(tmp_path / "pids")
    try:
        assert os.getppid() != child and alive(child)
        r.sleep()
        assert not alive(child)
    finally:
        reap(child)


@linux_only
def test_a_child_seen_in_the_tree_is_stopped_after_it_left_it_without_a_trace(runner, store,
                                                                              tmp_path):
    # its own session, no REVERIE_SESSION_ID, its parent gone: only having been seen tells
    go = tmp_path / "go"
    r = runner("bare", "detached", f"pids={tmp_path / 'pids'}", f"wait={go}", "exit=0")
    res = r.wake("w")
    agent, child = pids(tmp_path / "pids")
    try:
        assert r.check() is None  # the daemon's periodic check, while the agent runs
        go.touch()
        assert ended(r)
        assert store.session(res.session_id).end_reason == "killed"
        assert not alive(child)
    finally:
        reap(child)


def test_status_shows_the_running_session(runner, tmp_path):
    r = runner(f"pids={tmp_path / 'pids'}", "sleep=30")
    res = r.wake("w")
    agent, = pids(tmp_path / "pids")
    cur = r.current()
    assert (cur["session_id"], cur["pid"], cur["adopted"]) == (res.session_id, agent, False)
    assert cur["elapsed"] >= 0
