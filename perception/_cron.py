"""Five-field cron strings as crontab(5) reads them: the one reader of every cron in reverie.

The daemon's triggers (daemon/scheduler.py's :class:`Crontab`), `reverie status`,
`check-config` and the catch-up of missed wakes all ask this module, so none of them can
disagree about when a job fires. The fields are minute, hour, day of month, month and day
of week, each a list of ``*``, numbers, names (``jan``..``dec``, ``sun``..``sat``, any
case), ranges ``a-b`` and steps ``*/n``, ``a-b/n``, ``a/n``. As crontab(5) says: 0 and 7
are Sunday, and when both day fields are restricted (neither starts with ``*``) a day
matches when EITHER does; otherwise both must (``*/2`` starts with ``*``, so it is not
"restricted", as in Vixie cron and cronie).

The walk over a day's fields is APScheduler 3.x's CronTrigger walk, kept so that DST
behaves as it always has here: a wall time that does not exist (spring forward) fires at
the pre-transition offset, a repeated one (fall back) at its first occurrence unless the
search starts inside the repeat. Either-day expressions are the earlier of two such walks
(one with the weekdays open, one with the days of the month open). It imports nothing
heavy: `reverie status` starts without APScheduler (which imports asyncio).
tests/test_cron.py compares it with croniter (a crontab implementation) and APScheduler.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from collections.abc import Sequence
from typing import Any

UTC = timezone.utc
# (name people read, min, max of a number, max that `*` covers)
_FIELDS = (("minute", 0, 59, 59), ("hour", 0, 23, 23), ("day of month", 1, 31, 31),
           ("month", 1, 12, 12), ("day of week", 0, 7, 6))
DOW = 4
_NAMES = {3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
              "dec"],
          4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]}
_ALL = re.compile(r"\*(?:/(\d+))?")
_RANGE = re.compile(r"(\d+)(?:-(\d+))?(?:/(\d+))?")
_NAMED = re.compile(r"([a-z]+)(?:-([a-z]+))?", re.IGNORECASE)
FORMS = "numbers, names, *, ranges a-b and steps /n, separated by commas"


class Cron:
    """A parsed cron. ``dow`` holds Python weekdays (Monday 0 .. Sunday 6, as
    ``datetime.weekday()``); ``either_day``: both day fields restricted, a day matches when
    either does."""

    __slots__ = ("minute", "hour", "day", "month", "dow", "either_day")

    def __init__(self, sets: list[set[int]], either_day: bool = False):
        self.minute, self.hour, self.day, self.month, self.dow = (sorted(s) for s in sets)
        self.either_day = either_day

    def _with(self, day: Any = None, dow: Any = None) -> Cron:
        return Cron([set(self.minute), set(self.hour), set(day or self.day), set(self.month),
                     set(dow or self.dow)])


def _values(term: str, i: int) -> set[int]:
    """One comma-separated term's values (crontab numbering), or ValueError saying why."""
    name, lo, hi, star_hi = _FIELDS[i]
    bad = f"{name} {term!r}"
    m = _ALL.fullmatch(term)
    if m:
        every = int(m.group(1)) if m.group(1) else 1
        if every == 0 or every > star_hi - lo:
            raise ValueError(f"{bad}: the step must be 1 to {star_hi - lo}")
        return set(range(lo, star_hi + 1, every))
    m = _RANGE.fullmatch(term)
    if m:
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else (first if not m.group(3) else None)
        step = int(m.group(3)) if m.group(3) else None
        for v in (first, last):
            if v is not None and not lo <= v <= hi:
                raise ValueError(f"{bad}: {v} is out of range {lo}-{hi}")
        if last is not None and first > last:
            raise ValueError(f"{bad}: the range runs backwards")
        end = star_hi if last is None else last
        if step is not None and not 0 < step <= end - first:
            raise ValueError(f"{bad}: the step must be 1 to {end - first}" if end > first
                             else f"{bad}: a step needs a range of more than one value")
        return set(range(first, end + 1, step or 1))
    m = _NAMED.fullmatch(term)
    if m and i in _NAMES:
        names = _NAMES[i]
        try:
            first = names.index(m.group(1).lower()) + lo
            last = names.index(m.group(2).lower()) + lo if m.group(2) else first
        except ValueError:
            raise ValueError(f"{bad}: not a name (use {names[0]}..{names[-1]})") from None
        if i == DOW and last == 0 < first:
            last = 7  # "sat-sun", "mon-sun": Sunday ends the week as 7
        if first > last:
            raise ValueError(f"{bad}: the range runs backwards")
        return set(range(first, last + 1))
    raise ValueError(f"{bad}: not a crontab(5) value ({FORMS})")


def parse(expr: str) -> Cron:
    """The five fields' values; ValueError (a sentence without the expression) if the
    string is not a cron as crontab(5) reads it."""
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError("expected 5 fields (minute hour day month weekday)")
    sets = []
    for i, part in enumerate(parts):
        values: set[int] = set()
        for term in part.split(","):
            values |= _values(term, i)
        sets.append(values)
    sets[DOW] = {(d - 1) % 7 for d in sets[DOW]}  # crontab 0/7 Sunday, 1 Monday -> weekday()
    return Cron(sets, either_day=not parts[2].startswith("*") and not parts[DOW].startswith("*"))


def next_fire(cron: Cron, tz: Any, after: datetime, days: int = 4 * 366 + 31
              ) -> datetime | None:
    """The first fire time at or after ``after`` (rounded up to a whole second), aware in
    ``tz``; None if nothing fires within ``days`` days."""
    if not cron.either_day:
        return _next_fire(cron, tz, after, days)
    # crontab(5): either day field may match. Each walk alone is APScheduler's, DST included.
    times = [t for t in (_next_fire(cron._with(dow=range(7)), tz, after, days),
                         _next_fire(cron._with(day=range(1, 32)), tz, after, days))
             if t is not None]
    return min(times) if times else None


def _next_fire(cron: Cron, tz: Any, after: datetime, days: int) -> datetime | None:
    """Both day fields must match: ``CronTrigger(...).get_next_fire_time(None, after)`` by
    APScheduler's walk over the fields (its arithmetic across DST changes included: a step that crosses
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


_Fields = list[tuple[str, Sequence[int], bool]]


def _walk_fields(c: Cron) -> _Fields:
    return [("year", range(1970, 10000), True), ("month", c.month, True),
            ("day", c.day, True), ("day_of_week", c.dow, False), ("hour", c.hour, True),
            ("minute", c.minute, True), ("second", [0], True)]


def _get(t: datetime, name: str) -> int:
    return t.weekday() if name == "day_of_week" else getattr(t, name)


def _days_in_month(year: int, month: int) -> int:
    """calendar.monthrange's day count, without importing calendar (and its locale) at
    every `reverie status`."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _max(t: datetime, name: str) -> int:
    if name == "day":
        return _days_in_month(t.year, t.month)
    return {"year": 9999, "month": 12, "day_of_week": 6, "hour": 23, "minute": 59,
            "second": 59}[name]


def _utc_add(t: datetime, delta: timedelta) -> datetime:
    return (t.astimezone(UTC) + delta).astimezone(t.tzinfo)


def _increment(t: datetime, i: int, fields: _Fields) -> tuple[datetime, int]:
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
    # every datetime field (the real ones) has a value by now
    naive = datetime(values["year"], values["month"], values["day"], values["hour"],
                     values["minute"], values["second"])
    return _utc_add(t, naive - t.replace(tzinfo=None)), i


def _set(t: datetime, i: int, value: int, fields: _Fields) -> datetime:
    values: dict[str, int] = {}
    for j, (name, _, real) in enumerate(fields):
        if real:
            values[name] = _get(t, name) if j < i else value if j == i else _MIN[name]
    return datetime(values["year"], values["month"], values["day"], values["hour"],
                    values["minute"], values["second"], tzinfo=t.tzinfo, fold=t.fold)
