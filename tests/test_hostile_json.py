"""JSON reverie reads back (ledger lines, the config snapshot, the store's JSON, a control
request) has a depth bound: 100000 nested brackets are refused in one line, never a
RecursionError that stops consolidation or start-up."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from reverie.daemon import control, snapshot
from reverie.memory import bounded_json
from reverie.memory import consolidate as c
from reverie.perception import page
from reverie.perception.text import Times
from tests.test_hostile_memory import START

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


@pytest.mark.parametrize("text", [DEEP, DEEP_OBJECT, DEEP.encode()])
def test_100000_deep_json_is_refused_in_one_line(text):
    with pytest.raises(ValueError) as err:
        bounded_json.loads(text)
    assert isinstance(err.value, bounded_json.TooDeep)
    assert str(err.value) == f"JSON nested deeper than {bounded_json.MAX_DEPTH} levels"


def test_brackets_inside_strings_do_not_count_and_ordinary_json_parses():
    text = json.dumps({"a": ["[" * 500, '{"\\"', {"b": [1, 2]}]})
    assert bounded_json.depth(text) == 4
    assert bounded_json.loads(text) == json.loads(text)
    assert bounded_json.loads(b'"x"') == "x" and bounded_json.loads("3") == 3
    nested = "[" * bounded_json.MAX_DEPTH + "]" * bounded_json.MAX_DEPTH
    assert bounded_json.loads(nested)  # the bound itself is allowed


def test_a_100000_deep_ledger_line_does_not_stop_consolidation(home, store):
    home.ledger.parent.mkdir(parents=True, exist_ok=True)
    home.ledger.write_text(DEEP + "\n", encoding="utf-8")
    home.working.write_text("- the sea is cold #remember\n", encoding="utf-8")
    store.start_session("s1", START, 1, "scheduled")
    store.end_session("s1", START + timedelta(minutes=30), "exited", 0)
    ledger = c.consolidate(home, store, store.session("s1"), tz=ZoneInfo("UTC"))
    assert ledger.promoted == 1
    lines = home.ledger.read_text().splitlines()
    assert lines[0] == DEEP and json.loads(lines[1])["session"] == "s1"
    # the page shows the deep line as text, not a crash
    shown = page._ledger(home, Times(ZoneInfo("UTC")))
    assert any("raw" in rec for rec in shown)


def test_a_100000_deep_config_snapshot_is_ignored(tmp_path):
    bad = tmp_path / snapshot.NAME
    bad.write_text(DEEP, encoding="utf-8")
    assert snapshot._current(bad) is None


def test_a_100000_deep_control_request_is_answered_in_one_line(tmp_path):
    server = control.ControlServer(tmp_path / "c.sock", lambda req: {"ok": True})
    server.start()
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(str(tmp_path / "c.sock"))
        s.sendall(("[" * 30_000 + "]" * 30_000 + "\n").encode())
        reply = json.loads(s.makefile("rb").readline())
        s.close()
    finally:
        server.stop()
    assert reply == {"ok": False, "error": "a request nests too deeply"}
