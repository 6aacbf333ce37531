"""The ledger (memory/ledger.jsonl) records what was killed when a session's stray
descendants were stopped with it."""

from __future__ import annotations

import json
import os

import pytest

from tests._runner import alive, ended, pids, reap

linux_only = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")


def ledger(home) -> list[dict]:
    return [json.loads(line) for line in home.ledger.read_text().splitlines() if line.strip()]


@linux_only
def test_the_ledger_names_a_detached_child_stopped_with_the_session(runner, agent_home, tmp_path):
    r = runner("detached", f"pids={tmp_path / 'pids'}", "sleep=0.3", "exit=0")
    res = r.wake("w")
    agent, child = pids(tmp_path / "pids")
    try:
        assert ended(r)
        assert not alive(child)
        record = [x for x in ledger(agent_home) if x["session"] == res.session_id]
        assert len(record) == 1
        assert [k.split()[0] for k in record[0]["killed"]] == [str(child)]
    finally:
        reap(child)


def test_a_session_that_left_nothing_behind_has_no_killed_in_its_ledger_line(runner, agent_home):
    r = runner("sleep=0.1", "exit=0")
    res = r.wake("w")
    assert ended(r)
    record = [x for x in ledger(agent_home) if x["session"] == res.session_id]
    assert len(record) == 1 and "killed" not in record[0]
