"""The one place reverie asks what time it is.

Everything else calls :func:`now` (aware, UTC) so that tests and the test launcher
can move time with time-machine and every part of the daemon agrees on "now".
"""

from __future__ import annotations

import time
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

UTC = timezone.utc


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds on a clock that never jumps; for timeouts and rate limits."""
    return time.monotonic()


def to_ts(dt: datetime) -> float:
    """An aware datetime as POSIX seconds (what the store keeps)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.timestamp()


def from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def local(dt: datetime, tz: tzinfo) -> datetime:
    return dt.astimezone(tz)


def system_zone_name() -> str:
    """The IANA name of the machine's zone, 'UTC' when it cannot be told."""
    try:
        import tzlocal  # installed with apscheduler

        name = tzlocal.get_localzone_name()
        if name:
            ZoneInfo(name)
            return name
    except Exception:
        pass
    return "UTC"
