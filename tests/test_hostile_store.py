"""The store and files reverie writes: a corrupt database, retention, and root in a user's home."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reverie.memory import consolidate as c
from tests.conftest import run_cli
from reverie.memory.home import Home

UID = 65534


@pytest.fixture
def agent(tmp_path):
    r = run_cli("init", str(tmp_path / "agent"))
    assert r.returncode == 0, r.stderr
    return tmp_path / "agent"


def test_a_corrupt_database_is_one_line_naming_the_file_and_what_to_do(agent):
    db = Home.at(agent).state / "reverie.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes(b"this is not sqlite at all" * 100)
    r = run_cli("--config", str(agent / "reverie.yaml"), "poll")
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{db}: not a usable reverie database" in lines[0]
    assert f"mv {db} {db}.broken" in lines[0]


def test_finished_working_md_snapshots_obey_retention(home, store):
    home.working.write_text("- a private note\n", encoding="utf-8")
    start = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)
    store.start_session("s1", start, 1, "scheduled")
    store.end_session("s1", start + timedelta(minutes=5), "exited", 0)
    c.consolidate(home, store, store.session("s1"), tz=ZoneInfo("UTC"))
    assert store.intent(c.KIND, "s1").payload["text"] == "- a private note\n"
    store.apply_retention(datetime.now(timezone.utc) + timedelta(seconds=1))
    assert store.intent(c.KIND, "s1") is None
    # consolidation stays idempotent without it: the ledger says it is done
    assert c.consolidate(home, store, store.session("s1"), tz=ZoneInfo("UTC")).lines_in == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_polling_a_users_home_is_refused_and_leaves_nothing_of_roots(agent):
    # (issue 21: root runs nothing in a home another user can write; before, it polled and
    # handed every file it wrote to the home's owner)
    for dirpath, dirnames, filenames in os.walk(agent):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in dirnames + filenames)]:
            os.lchown(name, UID, UID)
    before = sorted(os.walk(agent))
    r = run_cli("--config", str(agent / "reverie.yaml"), "poll")
    assert r.returncode == 2
    assert "refusing to run as root" in r.stderr and "sudo -u nobody" in r.stderr
    owned_by_root = [os.path.relpath(os.path.join(d, f), agent)
                     for d, _, fs in os.walk(agent) for f in fs
                     if os.lstat(os.path.join(d, f)).st_uid != UID]
    assert owned_by_root == []
    assert sorted(os.walk(agent)) == before
