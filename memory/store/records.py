"""What the store returns: frozen records with timezone-aware UTC datetimes, the errors
it raises, and the row-to-record conversions its table modules share."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:  # the same records, made without dataclasses' per-method compiling (_record.py)
    from reverie.memory._record import dataclass, field

from reverie.memory import bounded_json, clock


@dataclass(frozen=True)
class Observation:
    """One reading of a signal."""

    source: str
    signal: str
    ts: datetime
    value: float | None
    text: str | None
    unit: str | None


class Reading(NamedTuple):
    """One reading a run recorded (``Store.record_run``): an Observation without its
    source and time, which the run gives."""

    signal: str
    value: float | None
    text: str | None
    unit: str | None


@dataclass(frozen=True)
class NewItem:
    """A feed entry as a run saw it (``Store.record_run``): an Item without its source
    and first-seen time, which the run gives."""

    uid: str
    title: str = ""
    link: str | None = None
    published: datetime | None = None
    summary: str = ""


class StateChange(TypedDict, total=False):
    """The source_state columns a run changes (``Store.record_run``); a column left out
    keeps its value. Times are aware datetimes, as SourceState returns them."""

    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    failing_since: datetime | None
    last_ok: datetime | None
    last_error: str | None
    last_error_ts: datetime | None
    retry_after: datetime | None
    data: dict


@dataclass(frozen=True)
class Poll:
    """One run of a source, good or failed."""

    source: str
    ts: datetime
    ok: bool
    error: str | None
    duration: float | None


@dataclass(frozen=True)
class Item:
    """A feed entry; ``ts`` is when it was first seen."""

    source: str
    uid: str
    ts: datetime
    published: datetime | None
    title: str
    link: str | None
    summary: str


@dataclass(frozen=True)
class ItemGroup:
    """A source's items in a window: how many, and the newest few."""

    count: int
    newest: list[Item]


@dataclass(frozen=True)
class SourceState:
    """What the store remembers about a source between runs: validators and health."""

    source: str
    etag: str | None = None
    last_modified: str | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    last_ok: datetime | None = None
    last_error: str | None = None
    last_error_ts: datetime | None = None
    retry_after: datetime | None = None  # not before this time (Retry-After)
    # a source's own small JSON state; the record may be shared (Store.source_state keeps
    # it), so copy the dict before changing it
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AlertSent:
    """When a kind of notification about a subject last went out, and for what."""

    sent: datetime
    ref: str | None  # the occurrence it was about (a failing period, a night, a session)


@dataclass(frozen=True)
class SignalStats:
    """A signal over a window: how many readings, numeric range, first and last."""

    signal: str
    source: str
    count: int
    numeric: int
    lo: float | None
    hi: float | None
    first: Observation
    last: Observation


@dataclass(frozen=True)
class PollStats:
    """A source's runs over a window: how many, how many failed, and whether the last
    one was good."""

    source: str
    polls: int
    failed: int
    last_ok: bool


@dataclass(frozen=True)
class RolledHours:
    """The hours whose readings are rolled up and current: the first one's end and the
    last one's end (an hour is the hour before its end)."""

    first: datetime
    last: datetime


class Extremes(NamedTuple):
    lo: float | None
    hi: float | None
    oldest: datetime | None


@dataclass(frozen=True)
class ChartPoint:
    """A time bucket of a chart: its last reading, and the bucket's min and max."""

    ts: datetime
    value: float
    lo: float
    hi: float


@dataclass(frozen=True)
class FailureSpan:
    """A failing period: first failed poll, the good poll that ended it (None while it
    still fails), and how many polls failed."""

    first: datetime
    stop: datetime | None
    polls: int


@dataclass(frozen=True)
class Dream:
    date: str  # local date of the morning, YYYY-MM-DD
    path: str
    backend: str
    model: str | None
    fallback_reason: str | None
    cycle_start: datetime
    cycle_end: datetime
    digest_sha256: str | None
    sha256: str
    tokens: int
    created: datetime


@dataclass(frozen=True)
class Wake:
    id: int
    ts: datetime  # when the decision was taken
    scheduled: datetime | None  # the fire time it belongs to, if scheduled
    outcome: str  # started | skipped | missed | failed
    reason: str
    session_id: str | None


@dataclass(frozen=True)
class Session:
    id: str
    started: datetime
    ended: datetime | None
    pid: int | None
    reason: str
    end_reason: str | None  # exited | slept | timed out | killed | lost
    exit_code: int | None
    consolidated: bool


@dataclass(frozen=True)
class Intent:
    id: int
    kind: str
    key: str
    payload: Any
    step: int
    created: datetime
    done: datetime | None


class StoreError(Exception):
    """A database failure; ``str()`` is one line naming the file."""


class CorruptDatabase(StoreError):
    """The store file is not a usable SQLite database; ``str()`` says which and what to do."""


def _dt(ts: float | None) -> datetime | None:
    return clock.from_ts(ts) if ts is not None else None

# -- what Store.metrics returns -------------------------------------------------------------


# Poll duration histogram bounds, seconds. Retention folds counts per bound: a bound added
# later counts from then on, one removed is ignored.
POLL_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class PollCounts:
    """Polls of one source: how many, how many failed, and their durations."""

    polls: int = 0
    failures: int = 0
    durations: int = 0  # polls with a measured duration: the histogram's count
    duration_sum: float = 0.0
    buckets: tuple[int, ...] = (0,) * len(POLL_BUCKETS)  # durations <= each POLL_BUCKETS bound

    def __add__(self, other: "PollCounts") -> "PollCounts":
        return PollCounts(self.polls + other.polls, self.failures + other.failures,
                          self.durations + other.durations,
                          self.duration_sum + other.duration_sum,
                          tuple(a + b for a, b in zip(self.buckets, other.buckets)))


@dataclass(frozen=True)
class PollTotals:
    """Per source, the polls with ``since < id <= upto``; when ``since`` is 0 the counts
    are the whole history, retention's folded totals included. A caller that keeps the
    totals up to ``upto`` asks next time with ``after_id=upto`` and adds: only new rows
    are read. The store answers ``since`` 0 when the caller must start over."""

    since: int
    upto: int
    counts: dict[str, PollCounts]


@dataclass(frozen=True)
class SessionTotals:
    ended: dict[str, int]  # sessions ended, by end reason
    ended_seconds: float  # time the ended sessions ran
    active_since: datetime | None  # when the running session started; None when none runs


@dataclass(frozen=True)
class DreamTotals:
    by_backend: dict[str, int]  # dreams recorded (one per night), by the backend that wrote them
    fallbacks: int  # of those, written offline because the model failed
    last_written: datetime | None


@dataclass(frozen=True)
class TokenTotals:
    total: dict[str, int]  # model tokens ever spent, by purpose
    today: dict[str, int]  # on the given UTC day


@dataclass(frozen=True)
class Heartbeat:
    at: datetime | None  # the daemon's last beat
    every: float | None  # seconds between the running daemon's beats (set at its start)
    stopped: datetime | None = None  # when the daemon began a clean stop (None while it runs)


@dataclass(frozen=True)
class MetricsSnapshot:
    polls: PollTotals
    sessions: SessionTotals
    dreams: DreamTotals
    tokens: TokenTotals
    heartbeat: Heartbeat
    signals: list[Observation] = field(default_factory=list)  # latest numeric readings


def _obs(row: sqlite3.Row) -> Observation:
    return Observation(row["source"], row["signal"], clock.from_ts(row["ts"]), row["value"],
                       row["text"], row["unit"])


def _poll(row: sqlite3.Row) -> Poll:
    return Poll(row["source"], clock.from_ts(row["ts"]), bool(row["ok"]), row["error"],
                row["duration"])


def _item(row: sqlite3.Row) -> Item:
    return Item(row["source"], row["uid"], clock.from_ts(row["ts"]), _dt(row["published"]),
                row["title"], row["link"], row["summary"])


def _state(row: sqlite3.Row) -> SourceState:
    return SourceState(row["source"], row["etag"], row["last_modified"],
                       row["consecutive_failures"], _dt(row["failing_since"]),
                       _dt(row["last_ok"]), row["last_error"], _dt(row["last_error_ts"]),
                       _dt(row["retry_after"]), bounded_json.loads(row["data"] or "{}"))


def _dream(row: sqlite3.Row) -> Dream:
    return Dream(row["date"], row["path"], row["backend"], row["model"], row["fallback_reason"],
                 clock.from_ts(row["cycle_start"]), clock.from_ts(row["cycle_end"]),
                 row["digest_sha256"], row["sha256"], row["tokens"], clock.from_ts(row["created"]))


def _session(row: sqlite3.Row) -> Session:
    return Session(row["id"], clock.from_ts(row["started"]), _dt(row["ended"]), row["pid"],
                   row["reason"], row["end_reason"], row["exit_code"], bool(row["consolidated"]))


def _intent(row: sqlite3.Row) -> Intent:
    return Intent(row["id"], row["kind"], row["key"], bounded_json.loads(row["payload"]),
                  row["step"], clock.from_ts(row["created"]), _dt(row["done"]))
