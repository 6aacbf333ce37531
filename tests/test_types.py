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


import pytest  # noqa: E402

from reverie.perception.types import check_cron, parse_duration  # noqa: E402


@pytest.mark.parametrize("value", ["99999999d", "3651d", 10**20, 1e308, float("inf"), float("nan")])
def test_a_duration_beyond_ten_years_or_not_finite_is_refused(value):
    with pytest.raises(ValueError, match=r"^invalid duration "):
        parse_duration(value)


def test_ten_years_is_the_longest_duration():
    assert parse_duration("3650d") == timedelta(days=3650)
    assert parse_duration("520w") == timedelta(weeks=520)


@pytest.mark.parametrize("expr", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"])
def test_a_cron_on_a_date_that_never_comes_is_refused(expr):
    with pytest.raises(ValueError, match=r"never fires \(no such date\)$"):
        check_cron(expr)


@pytest.mark.parametrize("expr", ["0 5 * * *", "0 0 29 2 *", "*/15 8-22 * * mon-fri", "0 0 31 * *"])
def test_a_cron_that_fires_is_accepted(expr):
    assert check_cron(expr) == expr
