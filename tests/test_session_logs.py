"""The agent's session logs: its output under its session id, capped, and the old ones pruned."""

from __future__ import annotations

import os

from reverie.daemon import logs
from reverie.daemon.session_log import prune_logs
from tests._runner import ended


def test_the_agents_output_is_logged_under_its_session_id(runner, agent_home):
    r = runner("out=hello out", "err=hello err")
    res = r.wake("w")
    assert ended(r)
    path = agent_home.session_log(res.session_id)
    text = path.read_text()
    assert "hello out" in text and "hello err" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_session_log_is_capped_and_says_it_was_cut(runner, agent_home):
    r = runner("spew=200000", log_max_bytes=4096)
    res = r.wake("w")
    assert ended(r)
    text = agent_home.session_log(res.session_id).read_text()
    assert text.startswith("x" * 4096) and text.count("x") == 4096
    assert "output truncated at 4096 bytes; 195904 more bytes were discarded" in text


def test_a_secret_the_agent_echoes_is_not_in_its_log(runner, agent_home):
    logs.set_secrets(["s3cr3t-k3y-value"])
    try:
        r = runner("out=my key is s3cr3t-k3y-value")
        res = r.wake("w")
        assert ended(r)
    finally:
        logs.set_secrets([])
    assert agent_home.session_log(res.session_id).read_text() == "my key is ***\n"


def test_only_the_newest_session_logs_are_kept(runner, agent_home):
    r = runner("out=hi", log_keep=2)
    ids = []
    for _ in range(3):
        ids.append(r.wake("w").session_id)
        assert ended(r)
    # ids of one second sort by their random suffix: compare as a set
    assert {p.name for p in agent_home.sessions_dir.iterdir()} == {f"{ids[1]}.log", f"{ids[2]}.log"}


def test_pruning_touches_only_session_logs_and_never_follows_a_link(tmp_path):
    folder, outside = tmp_path / "sessions", tmp_path / "precious.txt"
    folder.mkdir()
    outside.write_text("keep me")
    for name in ("20260101T080000Z-aaaa.log", "20260102T080000Z-bbbb.log",
                 "20260103T080000Z-cccc.log", "notes.txt"):
        (folder / name).write_text("x")
    os.symlink(outside, folder / "20250101T080000Z-dddd.log")
    gone = prune_logs(folder, keep=1)
    assert sorted(p.name for p in gone) == ["20250101T080000Z-dddd.log",
                                            "20260101T080000Z-aaaa.log",
                                            "20260102T080000Z-bbbb.log"]
    assert sorted(os.listdir(folder)) == ["20260103T080000Z-cccc.log", "notes.txt"]
    assert outside.read_text() == "keep me"
