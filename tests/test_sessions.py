"""The session runner: one session at a time, consolidated when it ends, carried over restarts.

What the agent is given and how it is stopped: test_agent_process.py; when it wakes:
test_wake_policy.py; its logs: test_session_logs.py; the webhook: test_webhook_wake.py.
"""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta

from reverie.daemon.sessions import new_session_id
from reverie.memory import clock
from tests import _agent
from tests._runner import BERLIN, ended, pids

UTC = clock.UTC


def test_session_ids_sort_by_start_time():
    a = new_session_id(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    b = new_session_id(datetime(2026, 11, 25, 14, 0, tzinfo=UTC))
    assert a.startswith("20261125T080000Z-") and a < b


def test_a_wake_while_a_session_runs_is_skipped_and_recorded(runner, store):
    r = runner("sleep=30")
    first = r.wake("first")
    second = r.wake("second")
    assert first.outcome == "started"
    assert (second.outcome, second.session_id, second.reason) == \
        ("skipped", None, "a session is running")
    assert store.wakes()[0].outcome == "skipped"
    assert "a session is running" in store.wakes()[0].reason
    assert len(store.sessions()) == 1


def test_sleep_with_no_session_running_says_so(runner):
    assert runner("exit=0").sleep() is False


def test_sleep_consolidates_what_the_session_wrote(runner, store, agent_home):
    r = runner("write=## Today", "write=the sky was green today #remember", "sleep=30")
    res = r.wake("w")
    assert r.sleep() is True
    row = store.session(res.session_id)
    assert (row.end_reason, row.consolidated) == ("slept", True)
    day = clock.local(row.started, BERLIN).date()
    assert f"## Session {res.session_id}" in agent_home.diary(day).read_text()


def test_what_the_agent_wrote_is_consolidated_when_it_ends(runner, agent_home):
    r = runner("write=", "write=## Today", "write=the sky was green today #remember")
    r.wake("w")
    assert ended(r)
    assert "the sky was green today #remember" in (agent_home.memory_dir / "notes.md").read_text()
    assert "sky was green" not in agent_home.working.read_text()


def test_the_bundled_demo_agent_remembers_a_line_and_carries_one(runner, agent_home):
    from reverie.daemon import demo_agent

    r = runner(command=demo_agent.command())
    res = r.wake("demo")
    assert ended(r)
    assert "#remember" in (agent_home.memory_dir / "notes.md").read_text()
    assert f"Look again at what changed since session {res.session_id}" in \
        agent_home.working.read_text()


def test_run_foreground_waits_for_the_session_and_consolidates(runner, store):
    r = runner("sleep=0.2")
    res = r.run_foreground("asked")
    row = store.session(res.session_id)
    assert (row.end_reason, row.consolidated) == ("exited", True)


def test_run_foreground_stops_the_agent_at_max_duration(runner, store):
    r = runner("sleep=30", max_duration="0.5s")
    t0 = time.monotonic()
    res = r.run_foreground("asked")
    assert time.monotonic() - t0 < 4
    assert store.session(res.session_id).end_reason == "timed out"


# -- restarts ----------------------------------------------------------------------------------

def test_a_session_whose_agent_vanished_while_the_daemon_was_down_is_ended_lost(runner, store):
    store.start_session("20260101T080000Z-dead", clock.now() - timedelta(hours=1), 999_999_9,
                        "w")
    runner("exit=0").recover()
    row = store.session("20260101T080000Z-dead")
    assert (row.end_reason, row.consolidated) == ("lost", True)


def test_a_session_still_running_after_a_daemon_restart_is_adopted_and_can_be_slept(
        runner, store, tmp_path):
    proc = subprocess.Popen(_agent.command(f"pids={tmp_path / 'pids'}", "sleep=30"),
                            start_new_session=True)
    try:
        pids(tmp_path / "pids")
        store.start_session("20260101T080000Z-live", clock.now(), proc.pid, "w")
        r = runner("exit=0")
        r.recover()
        assert r.current()["pid"] == proc.pid and r.current()["adopted"]
        assert r.sleep() is True
        assert store.session("20260101T080000Z-live").end_reason == "slept"
        assert proc.wait(timeout=2) is not None
    finally:
        proc.kill()
        proc.wait()
