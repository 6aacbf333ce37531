"""memory.working_max: the size up to which working.md is read at consolidation; a larger
one is archived whole into diary/, and the ledger says so."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from reverie.daemon import config, services
from reverie.daemon.notify import Notifier
from reverie.memory import consolidate as c
from tests.conftest import make_config, run_cli

TZ = ZoneInfo("UTC")
START = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)


def ended(store, sid="s1"):
    store.start_session(sid, START, 4242, "scheduled")
    store.end_session(sid, START + timedelta(minutes=30), "exited", 0)
    return store.session(sid)


def test_working_max_takes_a_size_with_a_binary_unit(tmp_path):
    cfg = make_config(tmp_path, memory={"working_max": "512KiB"})
    loaded = config.load(cfg, env={})
    assert loaded.config.memory.working_max == 512 * 1024
    s = services.build(loaded, notifier=Notifier(None))
    try:
        assert s.runner.working_max == 512 * 1024
    finally:
        s.close()


def test_working_max_defaults_to_16_mib(tmp_path):
    assert config.load(make_config(tmp_path), env={}).config.memory.working_max == 16 * 1024 ** 2


def test_a_working_max_that_is_not_a_size_is_one_line_with_its_line(tmp_path):
    cfg = make_config(tmp_path, memory={"working_max": "lots"})
    out = run_cli("--config", str(cfg), "check-config")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"{cfg}:4: memory.working_max: invalid size 'lots' (use e.g. 16MiB, 512KiB or a "
        "number of bytes)"]


def test_a_working_md_over_the_configured_cap_is_archived_whole_with_a_ledger_line(home, store):
    big = b"".join(b"line %06d #remember\n" % i for i in range(10_000))  # ~200 KB
    home.working.write_bytes(big)
    led = c.consolidate(home, store, ended(store), tz=TZ, working_max=128 * 1024)
    kept = home.diary_dir / "2026-11-25.session-s1.working.md"
    assert kept.read_bytes() == big
    assert led.lines_in == 0
    record = json.loads(home.ledger.read_text().splitlines()[-1])
    assert record["session"] == "s1"
    assert record["note"] == (f"working.md was {len(big)} bytes, over the 128 KiB cap; "
                              f"kept whole, unread, in diary/{kept.name}")


def test_a_working_md_under_the_cap_is_read_and_its_ledger_line_has_no_note(home, store):
    home.working.write_text("- a note #remember\n")
    c.consolidate(home, store, ended(store), tz=TZ, working_max=128 * 1024)
    record = json.loads(home.ledger.read_text().splitlines()[-1])
    assert record["promoted"] == 1 and "note" not in record
