"""Five-field crontab strings read as APScheduler 3.x reads them, without importing it.

APScheduler's cron module imports asyncio (and with it ssl): most of `reverie status`'s
start. This reader covers the forms people write (numbers, names, ``*``, ranges, steps,
lists) with APScheduler's meaning, quirks included: weekday 0 is Monday, day and weekday
must both match, a wall time that does not exist (spring forward) fires at the
pre-transition offset, a repeated one (fall back) at its first occurrence unless the
search starts inside the repeat. Anything else (``last``, unusual spellings) is None from
:func:`parse`, and the caller asks APScheduler, which also words every error.
tests/test_cron.py compares both over many expressions and start times.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import datetime, timedelta, timezone
from typing import Any

UTC = timezone.utc
# (name, min, max) in from_crontab's order: minute hour day month day_of_week
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12),
           ("day_of_week", 0, 6))
_NAMES = {3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
              "dec"],
          4: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
_ALL = re.compile(r"\*(?:/(\d+))?")
_RANGE = re.compile(r"(\d+)(?:-(\d+))?(?:/(\d+))?")
_NAMED = re.compile(r"([a-z]+)(?:-([a-z]+))?", re.IGNORECASE)


class Cron:
    __slots__ = ("minute", "hour", "day", "month", "dow")

    def __init__(self, sets: list[frozenset[int]]):
        self.minute, self.hour, self.day, self.month, self.dow = (sorted(s) for s in sets)


def _values(expr: str, i: int) -> set[int] | None:
    """One comma-separated term's values, or None when APScheduler would refuse it or
    read it in a way this reader does not follow."""
    _, lo, hi = _FIELDS[i]
    m = _ALL.fullmatch(expr)
    if m:
        step = int(m.group(1)) if m.group(1) else 1
        if step == 0 or (m.group(1) and step > hi - lo):
            return None
        return set(range(lo, hi + 1, step))
    m = _RANGE.fullmatch(expr)
    if m:
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else (first if not m.group(3) else None)
        step = int(m.group(3)) if m.group(3) else None
        if step == 0 or (last is not None and first > last) or first < lo \
                or (last is not None and last > hi):
            return None
        if step and step > (last or hi) - first:  # APScheduler's own (last or max) rule
            return None
        return set(range(first, (hi if last is None else last) + 1, step or 1))
    m = _NAMED.fullmatch(expr)
    if m and i in _NAMES:
        names = _NAMES[i]
        try:
            first = names.index(m.group(1).lower()) + lo
            last = names.index(m.group(2).lower()) + lo if m.group(2) else first
        except ValueError:
            return None
        return set(range(first, last + 1)) if first <= last else None
    return None


def parse(expr: str) -> Cron | None:
    """The five fields' values, or None (not in the forms read here, or invalid)."""
    parts = expr.split()
    if len(parts) != 5:
        return None
    sets = []
    for i, part in enumerate(parts):
        values: set[int] = set()
        for term in part.split(","):
            got = _values(term, i)
            if got is None:
                return None
            values |= got
        sets.append(frozenset(values))
    return Cron(sets)


def next_fire(cron: Cron, tz: Any, after: datetime, days: int = 4 * 366 + 31
              ) -> datetime | None:
    """``CronTrigger.from_crontab(expr, tz).get_next_fire_time(None, after)``, by the same
    walk over the fields (its arithmetic across DST changes included: a step that crosses
    one can land past a fire time, and then APScheduler skips it, so this does too);
    None if nothing fires within ``days`` days."""
    limit = after.astimezone(UTC) + timedelta(days=days)
    fields = _walk_fields(cron)
    t = (_utc_add(after, timedelta(seconds=1, microseconds=-after.microsecond))
         if after.microsecond else after).astimezone(tz)
    i = 0
    while 0 <= i < len(fields):
        if t.astimezone(UTC) > limit:
            return None
        name, values, real = fields[i]
        cur = _get(t, name)
        nxt = next((v for v in values if v >= cur and v <= _max(t, name)), None)
        if nxt is None:
            t, i = _increment(t, i - 1, fields)
        elif nxt > cur:
            if real:
                t = _set(t, i, nxt, fields)
                i += 1
            else:
                t, i = _increment(t, i, fields)
        else:
            i += 1
    return t if i >= 0 and t.astimezone(UTC) <= limit else None


# APScheduler's CronTrigger fields in its order (the week field, always '*', is left out:
# it never moves the walk); (name, sorted values, whether it is a datetime attribute)
_MIN = {"year": 1970, "month": 1, "day": 1, "day_of_week": 0, "hour": 0, "minute": 0,
        "second": 0}


def _walk_fields(c: Cron) -> list[tuple[str, list[int], bool]]:
    return [("year", range(1970, 10000), True), ("month", c.month, True),
            ("day", c.day, True), ("day_of_week", c.dow, False), ("hour", c.hour, True),
            ("minute", c.minute, True), ("second", [0], True)]


def _get(t: datetime, name: str) -> int:
    return t.weekday() if name == "day_of_week" else getattr(t, name)


def _max(t: datetime, name: str) -> int:
    if name == "day":
        return monthrange(t.year, t.month)[1]
    return {"year": 9999, "month": 12, "day_of_week": 6, "hour": 23, "minute": 59,
            "second": 59}[name]


def _utc_add(t: datetime, delta: timedelta) -> datetime:
    return (t.astimezone(UTC) + delta).astimezone(t.tzinfo)


def _increment(t: datetime, i: int, fields: list) -> tuple[datetime, int]:
    values: dict[str, int] = {}
    j = 0
    while j < len(fields):
        name, _, real = fields[j]
        if not real:
            if j == i:
                i -= 1
                j -= 1
            else:
                j += 1
            continue
        if j < i:
            values[name] = _get(t, name)
            j += 1
        elif j > i:
            values[name] = _MIN[name]
            j += 1
        else:
            value = _get(t, name)
            if value == _max(t, name):
                i -= 1
                j -= 1
            else:
                values[name] = value + 1
                j += 1
    return _utc_add(t, datetime(**values) - t.replace(tzinfo=None)), i


def _set(t: datetime, i: int, value: int, fields: list) -> datetime:
    values = {}
    for j, (name, _, real) in enumerate(fields):
        if real:
            values[name] = _get(t, name) if j < i else value if j == i else _MIN[name]
    return datetime(**values, tzinfo=t.tzinfo, fold=t.fold)
