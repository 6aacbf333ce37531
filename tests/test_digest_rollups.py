"""The digest read from hourly rollups says exactly what the raw readings say.

A store holds a few days of an uneven world: sources polled at odd intervals, a
night without polls, a signal with hours-long gaps, texts, a signal that is sometimes a
number and sometimes a text, two readings at one instant, readings on hour boundaries
and on the cycle's edges, failing polls. The digest built from rollups (the default)
must equal the one built from every raw row (``raw=True``), figure by figure.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from reverie.memory.store import Observation, Store
from reverie.perception.digest import build_digest
from reverie.perception.dreams import DreamOptions
from reverie.perception.dreams.write import write_dream

UTC = timezone.utc
M = timedelta(minutes=1)
H = timedelta(hours=1)
# the cycle cuts hours at both ends: 05:17:23 to 05:04:41 the next morning
START = datetime(2026, 6, 9, 5, 17, 23, tzinfo=UTC)
END = datetime(2026, 6, 10, 5, 4, 41, tzinfo=UTC)
BEGIN = START - timedelta(days=9)  # history for the usual movement and the 30-day record


def world(store: Store) -> None:
    t = BEGIN
    k = 0
    while t < END + 2 * H:  # a little past the cycle, which must not count
        k += 1
        if START + 18 * H <= t < START + 21 * H:  # three hours without a poll at all
            t += M
            continue
        local = (t.hour + 2) % 24
        awake = 9 <= local < 24  # karma is polled from morning to late evening only
        if awake and k % 7 == 0:
            # the night drops karma: the first morning reading is lower than the evening's
            v = 1000 + 3 * (t - BEGIN).days * 10 + local - (25 if local < 11 else 0)
            store.record_run("moltbook", t, ok=True, readings=[("moltbook.karma", float(v),
                                                                 None, None)])
        if k % 13 == 0 and not (START + 6 * H <= t < START + 11 * H):  # a five-hour gap
            ok = not (START + 14 * H <= t < START + 16 * H)  # and two hours of failures
            store.record_run("wallet", t, ok=ok, error=None if ok else "HTTP 503",
                             readings=[("wallet.balance", 0.5 + math.sin(k / 50) / 10,
                                        None, "ETH")] if ok else [])
        if k % 10 == 0:
            sky = ["clear", "fog", "light rain", "thunderstorm", "light rain"][(k // 60) % 5]
            store.record_run("weather", t, ok=True, readings=[
                ("weather.temperature", 8 + 6 * math.sin(k / 230), None, "°C"),
                ("weather.condition", None, sky, None)])
        if k % 17 == 0:  # a number sometimes, a text other times
            store.record_run("box", t, ok=True, readings=[
                ("box.status", float(k % 5) if k % 3 else None, None if k % 3 else "idle",
                 None)])
        t += M
    # two readings of one signal at one instant, on an hour boundary inside the cycle
    at = datetime(2026, 6, 9, 12, 0, tzinfo=UTC)
    store.record_run("posts", at, ok=True, readings=[("posts.count", 7.0, None, None),
                                                     ("posts.count", 9.0, None, None)])
    # on the cycle's edges: the start does not belong to the cycle, the end does
    store.record_run("posts", START, ok=True, readings=[("posts.count", 3.0, None, None)])
    store.record_run("posts", END, ok=False, error="boom")  # it started failing at the end


def same(store: Store, start: datetime = START, end: datetime = END):
    fast = build_digest(store, start, end)
    slow = build_digest(store, start, end, raw=True)
    for a, b in zip(fast.signals, slow.signals):
        assert dataclasses.asdict(a) == dataclasses.asdict(b), a.signal
    assert [s.signal for s in fast.signals] == [s.signal for s in slow.signals]
    assert fast.doors == slow.doors and fast.notable == slow.notable
    assert fast == slow and fast.sha256() == slow.sha256()
    return fast


@pytest.fixture(scope="module")
def world_db(tmp_path_factory) -> Path:
    """The world recorded once per module (it costs a third of a second); tests get a copy."""
    path = tmp_path_factory.mktemp("world") / "reverie.db"
    with Store.open(path) as store:
        world(store)
    return path


@pytest.fixture
def filled(home, world_db):
    for suffix in ("", "-wal"):  # closed cleanly there is no -wal, but a copy must be whole
        if Path(f"{world_db}{suffix}").exists():
            shutil.copyfile(f"{world_db}{suffix}", f"{home.db}{suffix}")
    with Store.open(home.db) as store:
        yield store


def test_record_run_stays_an_append_and_the_digest_rolls_the_complete_hours(filled):
    assert filled.rolled_hours() is None
    build_digest(filled, START, END)
    rolled = filled.rolled_hours()
    assert rolled is not None and rolled.first <= BEGIN + H and rolled.last >= END


def test_the_digest_from_rollups_equals_the_one_from_raw_rows_figure_by_figure(filled):
    dg = same(filled)
    assert {s.signal for s in dg.signals} == {"moltbook.karma", "wallet.balance",
                                              "weather.temperature", "weather.condition",
                                              "box.status", "posts.count"}
    assert [d.source for d in dg.doors] == ["posts", "wallet"]


def test_the_overnight_drop_counts_from_the_last_evening_poll(filled):
    karma = same(filled).signal("moltbook.karma")
    evening = filled.value_at("moltbook.karma", START)
    assert evening.ts < START - 6 * H  # nothing was polled overnight
    assert karma.before == evening.value and karma.first < karma.before
    assert karma.change == karma.last - evening.value


def test_two_readings_at_one_instant_keep_their_order_and_the_start_is_not_counted(filled):
    posts = same(filled).signal("posts.count")
    assert (posts.n, posts.first, posts.last, posts.before) == (2, 7.0, 9.0, 3.0)


@pytest.mark.parametrize("start,end", [
    (START.replace(minute=0, second=0), END.replace(minute=0, second=0)),  # whole hours
    (START, START + 50 * M),  # inside one hour
    (START, START + 43 * M + H),  # one cut hour, then the next cut
    (START + 6 * H, START + 11 * H),  # the wallet's gap
    (START + 18 * H + 30 * M, START + 21 * H),  # silence
    (START - 3 * timedelta(days=1), END),  # three days and more
], ids=["whole-hours", "inside-an-hour", "two-cut-hours", "a-gap", "silence", "days"])
def test_every_cycle_gives_the_same_figures_from_rollups_and_raw_rows(filled, start, end):
    same(filled, start, end)


def test_a_reading_added_later_to_a_rolled_hour_is_counted(filled):
    before = same(filled).signal("weather.temperature")
    filled.add_observations([Observation("weather", "weather.temperature",
                                         START + 3 * H + 7 * M, 99.5, None, "°C")])
    assert filled.rolled_hours().last < START + 3 * H  # its hour on is read raw until rolled
    after = same(filled).signal("weather.temperature")  # the digest rolled them again
    assert (after.n, after.max) == (before.n + 1, 99.5)
    assert filled.rolled_hours().last >= END


def test_retention_drops_the_rollups_of_the_hours_it_empties(home, filled):
    build_digest(filled, START, END)
    cut = START - timedelta(days=2) + 25 * M
    filled.apply_retention(cut)
    assert filled.rolled_hours().first > cut
    same(filled, cut - H, END)
    same(filled)
    # nothing of an hour that lost readings is kept in the file (retention is a promise)
    with sqlite3.connect(home.db) as db:
        kept = db.execute("SELECT (SELECT COUNT(*) FROM rollups WHERE hour < ?),"
                          " (SELECT COUNT(*) FROM poll_rollups WHERE hour < ?)",
                          (cut.timestamp() + 3600,) * 2).fetchone()
    assert kept == (0, 0)


def test_a_read_only_store_uses_the_rollups_it_finds_and_raw_rows_for_the_rest(home, filled):
    filled.roll_up(START + 5 * H)
    with Store.open(home.db, readonly=True) as ro:
        assert ro.roll_up() == 0
        assert ro.rolled_hours().last == START.replace(minute=0, second=0) + 5 * H
        same(ro)


def test_the_dream_from_rollups_is_byte_identical_to_the_one_from_raw_rows(tmp_path):
    import time_machine

    from reverie.memory.home import Home

    texts = []
    for name, rolled in (("rolled", True), ("raw", False)):
        home = Home.at(tmp_path / name)
        home.ensure()
        with Store.open(home.db) as store:
            world(store)
            if rolled:
                assert store.roll_up() > 0
                out = write_dream(home, store, DreamOptions(), day=date(2026, 6, 10), tz=UTC,
                                  now=END)
            else:  # before the data began, no hour is complete: every row is read raw
                with time_machine.travel(BEGIN - timedelta(days=1), tick=False):
                    out = write_dream(home, store, DreamOptions(), day=date(2026, 6, 10),
                                      tz=UTC, now=END)
                assert store.rolled_hours() is None
        texts.append(out.path.read_bytes())
    assert texts[0] == texts[1]
