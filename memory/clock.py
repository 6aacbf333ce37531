"""The one place reverie asks what time it is.

Everything else calls :func:`now` (aware, UTC), :func:`monotonic` and :func:`sleep`,
which consult the process's current :class:`Clock`: the system's, or one a test
installs (:class:`FakeClock`) to drive days, DST transitions and catch-up in-process.
The test launcher moves the system clock itself with time-machine.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

UTC = timezone.utc


class Clock:
    """Now (aware, UTC), a monotonic reading and a sleep: what reverie asks of time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class SystemClock(Clock):
    """The machine's clock (the default)."""


class FakeClock(Clock):
    """A wall clock that only moves when told: ``set`` and ``advance`` (``sleep`` advances).

    Its monotonic reading is the real one plus every advance, and never goes back even
    when ``set`` moves the wall time back (as a real clock change would): deadlines that
    wait for real processes still expire while the wall clock stands still."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("naive datetime")
        self._now = start.astimezone(UTC)
        self._mono = 0.0  # seconds advanced so far
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return time.monotonic() + self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float | timedelta) -> datetime:
        s = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        with self._lock:
            self._now += timedelta(seconds=s)
            self._mono += max(0.0, s)
            return self._now

    def set(self, when: datetime) -> datetime:
        """Jump the wall time to ``when`` (forward or back)."""
        if when.tzinfo is None:
            raise ValueError("naive datetime")
        with self._lock:
            step = (when - self._now).total_seconds()
            self._now = when.astimezone(UTC)
            self._mono += max(0.0, step)
            return self._now


_current: Clock = SystemClock()


def current() -> Clock:
    """The process's clock."""
    return _current


def install(c: Clock | None) -> Clock:
    """Make ``c`` the process's clock (None: the system's); returns the one it replaced."""
    global _current
    old, _current = _current, (c if c is not None else SystemClock())
    return old


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _current.now()


def monotonic() -> float:
    """Seconds on a clock that never jumps; for timeouts and rate limits."""
    return _current.monotonic()


def sleep(seconds: float) -> None:
    """Wait ``seconds`` on the current clock (a fake clock just moves on)."""
    _current.sleep(seconds)


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
