"""The store's boundary (memory/store.py): what goes in and what comes out.

Out come frozen records with timezone-aware UTC datetimes, never a dict, an
sqlite3.Row, a float timestamp or a connection; every database failure is one
``StoreError`` line that names the database file; SQL and sqlite3 stay inside.
"""

from __future__ import annotations

import dataclasses
import inspect
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import reverie.daemon
import reverie.memory
import reverie.perception
from reverie.memory import clock
from reverie.memory.store import (CorruptDatabase, Intent, Item, NewItem, Observation, Reading,
                                  SourceState, Store, StoreError)

T = datetime(2026, 6, 10, 6, 30, tzinfo=timezone.utc)
H = timedelta(hours=1)


def fill(store: Store) -> None:
    """One of everything the store keeps."""
    store.record_run("wx", T - 2 * H, ok=True, duration=0.2,
                     readings=[("wx.temp", 11.0, None, "°C"), ("wx.sky", None, "rain", None)],
                     items=[{"uid": "a", "title": "A", "link": "https://a.invalid/",
                             "published": T - 3 * H, "summary": "s"}],
                     state={"last_ok": clock.to_ts(T - 2 * H), "data": {"runs": 1}})
    store.record_run("wx", T - H, ok=False, error="HTTP 503",
                     state={"consecutive_failures": 1, "failing_since": clock.to_ts(T - H),
                            "last_error": "HTTP 503", "last_error_ts": clock.to_ts(T - H),
                            "retry_after": clock.to_ts(T + H)})
    store.record_run("wx", T, ok=True, readings=[("wx.temp", 12.5, None, "°C")])
    store.record_wake("started", "scheduled", scheduled=T - 2 * H, session_id="s1", ts=T - 2 * H)
    store.start_session("s1", T - 2 * H, 4242, "scheduled")
    store.end_session("s1", T - H, "exited", 0)
    store.begin_intent("consolidate", "s1", {"text": "- a note\n"})
    store.record_dream(date="2026-06-10", path="dreams/2026-06-10.md", backend="offline",
                       cycle_start=T - 24 * H, cycle_end=T - H, sha256="0", tokens=3)
    store.record_phrases("2026-06-10", ["tide"])
    store.add_tokens("2026-06-10", "dream", 3)
    store.beat(T)
    store.born()


# Every public method, as a read (called here, its answer checked) or a write. A new
# method must be placed in one of them, so nothing reaches the boundary unchecked.
READS = {
    "get_meta": lambda s: s.get_meta("heartbeat"),
    "meta_time": lambda s: s.meta_time("daemon.stopped"),
    "last_beat": lambda s: s.last_beat(),
    "born": lambda s: s.born(),
    "data_version": lambda s: s.data_version(),
    "source_state": lambda s: s.source_state("wx"),
    "all_source_states": lambda s: s.all_source_states(),
    "value_at": lambda s: s.value_at("wx.temp", T),
    "series": lambda s: s.series("wx.temp", T - 3 * H, T),
    "polls_between": lambda s: s.polls_between(T - 3 * H, T),
    "poll_before": lambda s: s.poll_before("wx", T),
    "items_since": lambda s: s.items_since(None),
    "items_by_source": lambda s: s.items_by_source(None),
    "count_items_between": lambda s: s.count_items_between(T - 3 * H, T),
    "signal_names": lambda s: s.signal_names(),
    "readings_at": lambda s: s.readings_at("wx.temp", [T - 90 * timedelta(minutes=1), T]),
    "signal_stats": lambda s: s.signal_stats(T - 3 * H, T),
    "window_extremes": lambda s: s.window_extremes(T - 3 * H, T),
    "texts_between": lambda s: s.texts_between("wx.sky", T - 3 * H, T),
    "poll_stats": lambda s: s.poll_stats(T - 3 * H, T),
    "rolled_hours": lambda s: (s.roll_up(T + H), s.rolled_hours())[1],
    "chart_points": lambda s: s.chart_points("wx.temp", T - 3 * H, T),
    "first_numeric_reading": lambda s: s.first_numeric_reading("wx.temp"),
    "failure_spans": lambda s: s.failure_spans("wx", T - 3 * H, T),
    "dream": lambda s: s.dream("2026-06-10"),
    "last_dream": lambda s: s.last_dream(),
    "dreams_before": lambda s: s.dreams_before("2026-06-11"),
    "recent_phrases": lambda s: s.recent_phrases("2026-06-11", 3),
    "tokens_used": lambda s: s.tokens_used("2026-06-10"),
    "wake_recorded": lambda s: s.wake_recorded(T - 2 * H),
    "last_wake": lambda s: s.last_wake(),
    "wakes": lambda s: s.wakes(),
    "session": lambda s: s.session("s1"),
    "running_session": lambda s: s.running_session(),
    "open_sessions": lambda s: s.open_sessions(),
    "unconsolidated_sessions": lambda s: s.unconsolidated_sessions(),
    "sessions": lambda s: s.sessions(),
    "intent": lambda s: s.intent("consolidate", "s1"),
    "open_intents": lambda s: s.open_intents("consolidate"),
    "last_alert": lambda s: s.last_alert("source_failing", "wx"),
    "metrics": lambda s: s.metrics(after_id=0, day="2026-06-10"),
    "metrics_heartbeat": lambda s: s.metrics_heartbeat(),
    "row_counts": lambda s: s.row_counts(),
    "iter_observations": lambda s: list(s.iter_observations(since=T - 3 * H, batch=2)),
}
WRITES = {"open", "close", "set_meta", "set_meta_time", "beat", "record_run", "add_observations",
          "checkpoint", "apply_retention", "record_dream", "record_phrases", "add_tokens", "record_wake",
          "update_wake", "start_session", "set_session_pid", "end_session", "forget_session",
          "mark_consolidated", "begin_intent", "advance_intent", "finish_intent",
          "claim_alert", "roll_up",
          "backup_into"}  # writes a copy of the record into a new file
# a source's own JSON state and an intent's payload are JSON documents, not records
JSON_FIELDS = {(SourceState, "data"), (Intent, "payload")}


def walk(value, where="result"):
    """Every leaf of a result, with where it was found."""
    if dataclasses.is_dataclass(value):
        yield where, value
        for f in dataclasses.fields(value):
            if (type(value), f.name) in JSON_FIELDS:
                continue
            yield from walk(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, dict):
        yield where, value
        for k, v in value.items():
            yield from walk(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        yield where, value
        for i, v in enumerate(value):
            yield from walk(v, f"{where}[{i}]")
    else:
        yield where, value


def public_methods() -> set[str]:
    return {n for n, _ in inspect.getmembers(Store, callable) if not n.startswith("_")}


def test_every_public_method_is_listed_as_a_read_or_a_write():
    assert public_methods() == set(READS) | WRITES


@pytest.mark.parametrize("name", sorted(READS))
def test_reads_answer_in_frozen_records_with_aware_utc_times_never_rows_or_float_times(
        store, name):
    fill(store)
    for where, leaf in walk(READS[name](store)):
        assert not isinstance(leaf, sqlite3.Row), where
        if isinstance(leaf, dict):  # an index by name, never a record's fields by name
            assert len({type(v) for v in leaf.values()}) <= 1, f"{where} is a record: {leaf}"
        if dataclasses.is_dataclass(leaf):
            assert type(leaf).__dataclass_params__.frozen, f"{where}: {type(leaf).__name__}"
        if isinstance(leaf, datetime):
            assert leaf.utcoffset() == timedelta(0) and leaf.tzinfo is not None, where
        if isinstance(leaf, float):
            assert not 1e9 < leaf < 1e10, f"{where} looks like a POSIX timestamp: {leaf}"


def test_times_come_back_as_the_instants_that_went_in(store):
    fill(store)
    state = store.source_state("wx")
    assert (state.failing_since, state.last_error_ts, state.retry_after) == (T - H, T - H, T + H)
    [item] = store.items_since(None)
    assert (item.ts, item.published) == (T - 2 * H, T - 3 * H)
    session = store.session("s1")
    assert (session.started, session.ended, session.consolidated) == (T - 2 * H, T - H, False)
    dream = store.last_dream()
    assert (dream.cycle_start, dream.cycle_end) == (T - 24 * H, T - H)
    [wake] = store.wakes()
    assert wake.ts == wake.scheduled == T - 2 * H
    [span] = store.failure_spans("wx", T - 3 * H, T)
    assert (span.first, span.stop, span.polls) == (T - H, T, 1)


def test_a_record_cannot_be_changed_by_its_reader(store):
    fill(store)
    with pytest.raises(dataclasses.FrozenInstanceError):
        store.session("s1").ended = None  # type: ignore[misc]


def test_a_source_never_polled_has_an_empty_state_not_none(store):
    assert store.source_state("new") == SourceState("new")


def test_a_source_state_read_between_runs_is_the_one_stored(home, store):
    # read before each run, as the poller does, so any state it keeps is the stored one
    for source in ("wx", "new"):
        store.source_state(source)
    fill(store)
    store.record_run("new", T, ok=True, state={"etag": '"v1"', "data": {"seen": (1, 2)}})
    with Store.open(home.db, readonly=True) as other:
        for source in ("wx", "new"):
            assert store.source_state(source) == other.source_state(source)
    assert store.source_state("new").data == {"seen": [1, 2]}  # as JSON gives it back


def test_a_run_goes_in_as_the_records_it_comes_back_as(home, store):
    store.source_state("wx")  # known to this connection: its cached copy must agree too
    since = T - 2 * H
    new = store.record_run(
        "wx", T, ok=False, error="HTTP 503", readings=[Reading("wx.temp", 12.5, None, "°C")],
        items=[NewItem("u1", "Storm", "https://example.org/1", T - H, "wind")],
        state={"consecutive_failures": 2, "failing_since": since, "last_error": "HTTP 503",
               "last_error_ts": T, "retry_after": T + H})
    assert new == ["u1"]
    with Store.open(home.db, readonly=True) as other:
        for s in (store, other):
            assert s.source_state("wx") == SourceState(
                "wx", consecutive_failures=2, failing_since=since, last_error="HTTP 503",
                last_error_ts=T, retry_after=T + H)
            assert s.items_since(None) == [
                Item("wx", "u1", T, T - H, "Storm", "https://example.org/1", "wind")]
            assert s.value_at("wx.temp", T) == Observation("wx", "wx.temp", T, 12.5, None, "°C")


def test_an_instant_kept_in_meta_is_read_back_as_that_instant(store):
    assert store.meta_time("daemon.stopped") is None
    store.set_meta_time("daemon.stopped", T)
    assert store.meta_time("daemon.stopped") == T
    store.set_meta_time("daemon.stopped", None)
    assert store.meta_time("daemon.stopped") is None


def test_a_source_state_another_process_wrote_is_read(home, store):
    store.record_run("wx", T, ok=True, state={"last_ok": clock.to_ts(T)})
    assert store.source_state("wx").last_ok == T
    with Store.open(home.db) as other:
        other.record_run("wx", T + H, ok=True, state={"last_ok": clock.to_ts(T + H)})
    assert store.source_state("wx").last_ok == T + H


def test_bulk_observations_are_read_back_like_polled_ones(store):
    store.add_observations(Observation("x", "x.n", T - timedelta(minutes=k), float(k), None, None)
                           for k in range(3))
    assert [o.value for o in store.series("x.n", T - H, T)] == [2.0, 1.0, 0.0]
    assert store.polls_between(T - H, T) == []


def test_a_run_that_fails_halfway_leaves_nothing_behind(store):
    with pytest.raises(ValueError, match="unknown source_state columns"):
        store.record_run("wx", T, ok=True, readings=[("wx.temp", 1.0, None, None)],
                         state={"no_such_column": 1})
    assert store.signal_names() == [] and store.polls_between(T - H, T) == []


def test_a_corrupt_file_is_one_store_error_line_naming_the_file(tmp_path):
    db = tmp_path / "reverie.db"
    db.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError) as e:
        Store.open(db)
    assert isinstance(e.value, CorruptDatabase)
    assert str(e.value).startswith(f"{db}: not a usable reverie database")
    assert "\n" not in str(e.value)


def test_a_newer_schema_is_one_store_error_line_naming_the_file(tmp_path):
    db = tmp_path / "reverie.db"
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match=f"^{db}: store schema 999 is newer"):
        Store.open(db)


def test_a_missing_read_only_store_is_one_store_error_line_naming_the_file(tmp_path):
    db = tmp_path / "nowhere" / "reverie.db"
    with pytest.raises(StoreError, match=f"^{db}: unable to open database file$"):
        Store.open(db, readonly=True)


def test_a_write_to_a_read_only_store_is_a_store_error_naming_the_file(home, store):
    fill(store)
    with Store.open(home.db, readonly=True) as ro:
        with pytest.raises(StoreError, match=f"^{home.db}: attempt to write a readonly database"):
            ro.record_wake("skipped", "read only")
        with pytest.raises(StoreError, match=f"^{home.db}: "):
            ro.record_run("wx", T, ok=True, readings=[("wx.temp", 1.0, None, None)])


def test_a_closed_store_fails_with_a_store_error_naming_the_file(home, store):
    store.close()
    with pytest.raises(StoreError, match=f"^{home.db}: Cannot operate on a closed database"):
        store.last_wake()


def test_no_method_hands_out_a_connection_or_a_cursor(store):
    for name in public_methods():
        sig = str(inspect.signature(getattr(Store, name)))
        assert "sqlite3" not in sig and "Connection" not in sig and "Cursor" not in sig, name
    assert not [n for n in vars(store) if not n.startswith("_")
                and isinstance(getattr(store, n), (sqlite3.Connection, sqlite3.Cursor))]


def test_methods_are_named_for_what_they_return_not_for_who_calls_them():
    callers = ("page_", "state_", "digest_", "poll_source", "status_", "cli_", "bench_")
    assert [n for n in public_methods() if n.startswith(callers)] == []


def test_sqlite3_is_imported_by_the_store_alone():
    store_dir = Path(reverie.memory.__file__).resolve().parent / "store"
    for pkg in (reverie.daemon, reverie.perception, reverie.memory):
        for path in Path(pkg.__file__).resolve().parent.rglob("*.py"):
            if store_dir in path.parents:
                continue
            text = path.read_text(encoding="utf-8")
            assert "import sqlite3" not in text and "sqlite3." not in text, path
