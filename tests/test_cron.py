"""reverie's own cron reader (perception/_cron.py) agrees with APScheduler 3.x, which runs
the jobs: on the next fire time of every expression it reads, across DST changes, and on
which expressions a config may use (with APScheduler's words for the ones it may not)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from reverie.perception import _cron
from reverie.perception.types import check_cron

UTC = timezone.utc
ZONES = [ZoneInfo(z) for z in ("Europe/Berlin", "America/New_York", "UTC",
                                "Australia/Lord_Howe", "Asia/Kolkata")]
# around the 2027 changes: Berlin's spring gap and autumn repeat (both occurrences), New
# York's; plus a fraction of a second before a minute
DST_STARTS = [datetime(2027, 3, 28, 0, 10, tzinfo=UTC), datetime(2027, 10, 31, 0, 20, tzinfo=UTC),
              datetime(2027, 10, 31, 1, 15, tzinfo=UTC), datetime(2027, 3, 14, 6, 59, 30, tzinfo=UTC),
              datetime(2027, 11, 7, 5, 30, tzinfo=UTC), datetime(2027, 11, 7, 6, 30, tzinfo=UTC)]
LIMITS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


def _term(rng: random.Random, i: int, wild: bool = False) -> str:
    lo, hi = LIMITS[i]
    if wild and rng.random() < 0.3:  # out of range, zero steps, backwards ranges, junk
        return rng.choice([str(hi + 1), f"*/{hi - lo + 1}", "*/0", f"{hi}-{lo}", "last", "x",
                           "1,,2", f"{lo}-{lo}/1", "mon-fri/2", "?", "jan-mar", "sun-mon"])
    r = rng.random()
    a = rng.randint(lo, hi)
    b = rng.randint(a, hi)
    if r < 0.3:
        return "*"
    if r < 0.4:
        return f"*/{rng.randint(1, hi - lo)}"
    if r < 0.6:
        return str(a)
    if r < 0.75:
        return f"{a}-{b}"
    if r < 0.85 and b > a:
        return f"{a}-{b}/{rng.randint(1, b - a)}"
    if r < 0.9 and i in _cron._NAMES:
        names = _cron._NAMES[i]
        x = rng.randrange(len(names))
        y = rng.randrange(x, len(names))
        return names[x].upper() if rng.random() < 0.2 else (
            names[x] if rng.random() < 0.5 else f"{names[x]}-{names[y]}")
    return f"{a},{b}"


def _expressions(seed: int, n: int, wild: bool = False) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(_term(rng, i, wild) for i in range(5)) for _ in range(n)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_next_fire_time_is_apschedulers_for_every_expression_read(seed):
    rng = random.Random(seed)
    horizon = timedelta(days=400)
    for expr in _expressions(seed, 600):
        cron = _cron.parse(expr)
        assert cron is not None, expr
        tz = rng.choice(ZONES)
        after = rng.choice(DST_STARTS) if rng.random() < 0.5 else (
            datetime(2027, 1, 1, tzinfo=UTC)
            + timedelta(seconds=rng.randint(0, 400 * 86400), microseconds=rng.choice([0, 5])))
        want = CronTrigger.from_crontab(expr, timezone=tz).get_next_fire_time(None, after)
        got = _cron.next_fire(cron, tz, after, days=horizon.days)
        if want is not None and want - after > horizon:
            want = None
        assert (got, got and got.utcoffset()) == (want, want and want.utcoffset()), (expr, tz, after)


def test_an_every_minute_cron_over_a_whole_autumn_night_fires_as_apscheduler_does():
    tz = ZoneInfo("Europe/Berlin")
    cron, trig = _cron.parse("*/7 * * * *"), CronTrigger.from_crontab("*/7 * * * *", timezone=tz)
    t = datetime(2027, 10, 30, 22, 0, tzinfo=UTC)
    for _ in range(200):
        want = trig.get_next_fire_time(None, t)
        assert _cron.next_fire(cron, tz, t) == want
        t = want + timedelta(seconds=1)


def _apscheduler_check(value: str) -> str:
    """check_cron as it was, with APScheduler alone (the reference)."""
    text = " ".join(value.split())
    try:
        trig = CronTrigger.from_crontab(text, timezone="UTC")
    except ValueError as e:
        return f"invalid cron {value!r}: {e}"
    start = datetime(2028, 1, 1, tzinfo=UTC)
    first = trig.get_next_fire_time(None, start)
    if first is None or first - start > timedelta(days=4 * 366):
        return f"invalid cron {value!r}: never fires (no such date)"
    return text


def _checked(value: str) -> str:
    try:
        return check_cron(value)
    except ValueError as e:
        return str(e)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_config_may_use_exactly_the_crons_apscheduler_accepts_with_its_words(seed):
    exprs = _expressions(seed, 1500, wild=True) + [
        "0 0 31 2 *", "0 0 30 2 *", "0 0 29 2 *", "0 0 31 4,6 *", "0 0 31 * *",
        "0 0 29 2 mon", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7",
        "0  5 *  * *"]
    for expr in exprs:
        assert _checked(expr) == _apscheduler_check(expr), expr
