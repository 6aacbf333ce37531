"""memory/ledger.jsonl is read by one parser (memory/ledger.py): consolidation (is this
session done?), the memory audit (what was promoted) and /metrics (how many sessions, how
many lines) see the same records in the same hostile file."""

from __future__ import annotations

import json

from reverie.memory import ledger
from reverie.memory.ledger import Ledger
from reverie.memory.home import Home
from reverie.perception.memory_audit import _ledger as audit_ledger
from reverie.perception.metrics import _parse_ledger

REAL = Ledger(session="s1", date="2026-01-01", started="", ended="", end_reason="exited",
              lines_in=5, archived=5, promoted=2, carried=1, dropped=2, late=0,
              targets={}, sha256={}, diary="")
FORGED_LATER = json.dumps({**json.loads(REAL.to_json()), "promoted": 99})
HOSTILE = "\n".join([
    "not json", '["a list"]', REAL.to_json(), FORGED_LATER,
    json.dumps({"kind": "distill", "date": "2026-01-01"}), '{"session": 7}', "\x00\xff", ""])


def test_the_first_record_of_a_session_is_the_one_every_reader_takes(tmp_path):
    home = Home(tmp_path / "home")
    home.ledger.parent.mkdir(parents=True)
    home.ledger.write_text(HOSTILE, encoding="utf-8")

    assert list(ledger.sessions(HOSTILE)) == ["s1"]
    assert ledger.sessions(HOSTILE)["s1"]["promoted"] == 2
    assert ledger.consolidation(home, "s1") == REAL  # consolidation: done, as first recorded
    assert audit_ledger(home.root)["s1"]["promoted"] == 2  # the memory audit
    totals = _parse_ledger(HOSTILE.encode())  # /metrics
    assert totals.consolidations == 1 and totals.lines["promoted"] == 2


def test_a_line_that_is_not_a_json_object_is_no_record():
    assert [ledger.record(x) for x in ("not json", "[1]", "7", '{"a": 1}')] == [
        None, None, None, {"a": 1}]


def test_a_line_nested_past_any_record_is_skipped_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    assert ledger.record(deep) is None
    assert list(ledger.sessions("\n".join([deep, REAL.to_json()]))) == ["s1"]
