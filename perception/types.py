"""Config value types shared by every options model: durations, cron strings, names."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from reverie.perception import _cron, names
from reverie.perception.text import duration as format_duration

UTC = timezone.utc
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Longer spans overflow datetime arithmetic in the scheduler (99999999d did at start) and
# mean nothing for a daemon: ten years is past any interval, timeout or retention a user means.
MAX_DURATION = timedelta(days=3650)
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*)+$"


def parse_duration(value: Any) -> timedelta:
    """'30s', '15m', '1h30m', '2d' (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"invalid duration {value!r}: "
                             + ("negative" if value < 0 else "not a number of seconds"))
        return _bounded(value, value)
    text = str(value).strip().replace(" ", "") if isinstance(value, str) else None
    if not text or not re.fullmatch(rf"(?:{_DURATION.pattern})+", text):
        raise ValueError(f"invalid duration {value!r} (use e.g. 30s, 15m, 1h30m, 2d)")
    return _bounded(sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text)), value)


def _bounded(seconds: float, value: Any) -> timedelta:
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"invalid duration {value!r}: more than {format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


def _positive(td: timedelta) -> timedelta:
    if td.total_seconds() <= 0:
        raise ValueError("must be more than 0s")
    return td


_DURATION_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": DURATION_PATTERN},
              {"type": "number", "minimum": 0, "description": "seconds"}],
    "description": "a duration: a number and a unit (ms, s, m, h, d, w), units may be "
                   "combined (1h30m); at most 3650d",
    "examples": ["30s", "15m", "1h", "1h30m", "2d"],
}
Duration = Annotated[timedelta, BeforeValidator(parse_duration),
                     PlainSerializer(format_duration, return_type=str),
                     WithJsonSchema(_DURATION_SCHEMA)]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]


def check_cron(value: Any) -> str:
    """A five-field crontab string (minute hour day month weekday), validated now."""
    if not isinstance(value, str):
        raise ValueError(f"invalid cron {value!r}: expected a string like '0 5 * * *'")
    text = " ".join(value.split())
    try:
        cron = _cron.parse(text)
    except ValueError as e:
        raise ValueError(f"invalid cron {value!r}: {e}") from None
    start = datetime(2028, 1, 1, tzinfo=UTC)
    first = _cron.next_fire(cron, UTC, start, days=_CRON_HORIZON.days)
    # A date that never comes (31 February) passes the field checks but never fires: the
    # schedule would silently do nothing. From a leap year's start, so 29 February counts.
    if first is None or first - start > _CRON_HORIZON:
        raise ValueError(f"invalid cron {value!r}: never fires (no such date)")
    return text


_CRON_HORIZON = timedelta(days=4 * 366)
# a field: a comma list of *, numbers or names, ranges and steps (perception/_cron.py reads it)
_CRON_FIELD = r"[0-9A-Za-z*]+(-[0-9A-Za-z]+)?(/[0-9]+)?(,[0-9A-Za-z*]+(-[0-9A-Za-z]+)?(/[0-9]+)?)*"
_CRON_PATTERN = rf"^\s*{_CRON_FIELD}(\s+{_CRON_FIELD}){{4}}\s*$"
_CRON_SCHEMA = {
    "type": "string",
    "pattern": _CRON_PATTERN,
    "description": "a five-field cron (minute hour day month weekday) in `timezone`, as "
                   "crontab(5) reads it: 0 or 7 is Sunday, and when both day fields are "
                   "restricted either may match",
    "examples": ["0 5 * * *", "*/15 8-22 * * mon-fri", "0 5 * * 7"],
}
Cron = Annotated[str, BeforeValidator(check_cron), WithJsonSchema(_CRON_SCHEMA)]


def fire_times(expr: str, tz: Any, start: datetime, end: datetime,
               limit: int = 10_000) -> list[datetime]:
    """Fire times of the cron string ``expr`` (in zone ``tz``) with start <= t <= end,
    oldest first, as aware UTC datetimes; at most ``limit`` of them.

    Each step searches from a microsecond past the last fire time, in UTC: local
    arithmetic drops ``fold``, and on a fall-back day the walk went back to the first 02:30
    and looped forever. The same reader as the daemon's triggers (daemon/scheduler.py).
    """
    cron = _cron.parse(expr)
    out: list[datetime] = []
    t = _cron.next_fire(cron, tz, start)
    while t is not None and t <= end and len(out) < limit:
        out.append(t.astimezone(UTC))
        t = _cron.next_fire(cron, tz, t.astimezone(UTC) + timedelta(microseconds=1))
    return out


def last_fire_time(expr: str, tz: Any, now: datetime,
                   window: timedelta = timedelta(days=2)) -> datetime | None:
    """The latest fire time of ``expr`` at or before ``now``, looking back ``window``."""
    times = fire_times(expr, tz, now - window, now)
    return times[-1] if times else None

def _name(value: Any) -> str:
    if not names.is_name(value):
        raise ValueError(f"invalid name {value!r}: {names.RULE}")
    return value


Name = Annotated[str, BeforeValidator(_name)]


def first_occurrence(t: datetime, tz: Any) -> datetime:
    """The first instant showing ``t``'s local wall time: ``t`` itself, except for the
    repeat of a fall-back hour, whose wall time already came an hour earlier (cron's rule:
    a wall time seen twice fires once)."""
    return t.astimezone(tz).replace(fold=0).astimezone(UTC)
