"""Cron walks across DST: every fire time once, and the walk always ends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from reverie.perception.types import fire_times, first_occurrence, last_fire_time

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def test_the_fall_back_day_has_two_0230s_and_the_walk_ends():
    start = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    times = fire_times("30 2 * * *", BERLIN, start, start + timedelta(days=2))
    # 00:30 UTC is the first 02:30 (CEST), 01:30 UTC the repeat (CET); then the next day
    assert times == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                     datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
                     datetime(2026, 10, 26, 1, 30, tzinfo=UTC)]


def test_the_repeat_of_a_fall_back_hour_counts_as_its_first_occurrence():
    repeat = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert first_occurrence(repeat, BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    normal = datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    assert first_occurrence(normal, BERLIN) == normal


def test_the_spring_forward_day_fires_a_missing_0230_once():
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    times = fire_times("30 2 * * *", BERLIN, start, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert len(times) == 1


def test_last_fire_time_is_the_latest_at_or_before_now():
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert last_fire_time("0 9 * * *", BERLIN, now) == now
    assert last_fire_time("0 9 * * *", BERLIN, now - timedelta(seconds=1)) == now - timedelta(days=1)
    assert last_fire_time("0 9 * * *", BERLIN, now, window=timedelta(hours=1)) == now
    assert last_fire_time("0 9 1 1 *", BERLIN, now) is None
