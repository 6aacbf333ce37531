"""A source's health: one rule for state.md, the page, `reverie status` and the daemon."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from reverie.memory.store import Reading, SourceState
from reverie.perception import health
from reverie.perception.sources import SourceSpec
from reverie.perception.text import duration
from reverie.perception.types import parse_duration

NOW = datetime(2024, 5, 14, 7, 30, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)
DAY = timedelta(days=1)
EVERY = SourceSpec(name="src", type="system", every="1m")
CRON = SourceSpec(name="daily", type="system", cron="0 5 * * *")


def failing(n: int, last_try_ago: timedelta, **extra) -> SourceState:
    return SourceState("src", consecutive_failures=n, failing_since=NOW - 60 * MIN,
                       last_error="boom", last_error_ts=NOW - last_try_ago, **extra)


def good(ago: timedelta) -> SourceState:
    return SourceState("src", last_ok=NOW - ago)


def test_a_source_never_polled_says_so():
    assert health.source_health(EVERY, None, now=NOW).status == health.NEVER_POLLED


def test_a_good_poll_within_three_intervals_is_ok_and_older_is_stale():
    assert health.source_health(EVERY, good(3 * MIN), now=NOW).status == health.OK
    assert health.source_health(EVERY, good(3 * MIN + SEC), now=NOW).status == health.STALE


def test_a_cron_source_counts_a_day_as_its_interval():
    assert health.nominal_interval(CRON.every) == DAY
    assert health.source_health(CRON, good(2 * DAY), now=NOW).status == health.OK
    assert health.source_health(CRON, good(3 * DAY + SEC), now=NOW).status == health.STALE


def test_a_reading_implies_a_good_poll_where_no_health_was_kept():
    h = health.source_health(EVERY, None, now=NOW, last_reading=NOW - MIN)
    assert (h.status, h.last_ok) == (health.OK, NOW - MIN)


def test_a_failed_source_backs_off_until_its_next_try_then_is_failing():
    # 3 failures at 1m: the next try is 8 minutes after the last one
    h = health.source_health(EVERY, failing(3, last_try_ago=MIN), now=NOW)
    assert (h.status, h.next_try, h.failing) == (health.BACKING_OFF, NOW + 7 * MIN, True)
    h = health.source_health(EVERY, failing(3, last_try_ago=8 * MIN), now=NOW)
    assert (h.status, h.next_try, h.failing) == (health.FAILING, None, True)


def test_a_failed_cron_source_is_held_back_only_by_retry_after():
    assert health.source_health(CRON, failing(3, MIN), now=NOW).status == health.FAILING
    h = health.source_health(CRON, failing(3, MIN, retry_after=NOW + 2 * MIN), now=NOW)
    assert (h.status, h.next_try) == (health.BACKING_OFF, NOW + 2 * MIN)


def test_failing_wins_over_stale():
    st = failing(1, last_try_ago=10 * MIN, last_ok=NOW - DAY)
    assert health.source_health(EVERY, st, now=NOW).status == health.FAILING


def test_the_summary_counts_each_status_for_the_daemon_status_line(store):
    specs = [SourceSpec(name=n, type="system", every="1m") for n in ("a", "b", "c", "d")]
    store.record_run("a", NOW - 30 * SEC, ok=True, readings=[Reading("a.x", 1.0, None, None)],
                     state={"last_ok": NOW - 30 * SEC})
    store.record_run("b", NOW - 30 * SEC, ok=False, error="boom",
                     state={"consecutive_failures": 1, "failing_since": NOW - 30 * SEC,
                            "last_error": "boom", "last_error_ts": NOW - 30 * SEC})
    store.record_run("c", NOW - 60 * MIN, ok=True, readings=[Reading("c.x", 1.0, None, None)],
                     state={"last_ok": NOW - 60 * MIN})
    assert health.summary(store, specs, now=NOW) == "1 source ok, 1 failing, 1 stale, 1 never polled"


@pytest.mark.parametrize("written", ["1m", "30s", "1h30m", "2d", "0.5s", "1d2h3m4s"])
def test_a_duration_is_written_back_as_the_config_reads_it(written):
    assert duration(parse_duration(written)) == written
