"""The signal store: one SQLite database (WAL) holding the home's whole record.

Tables: observations (readings), polls (one row per source run, ok or failed),
items (feed entries), source_state (validators, health), dreams, dream_phrases
(the offline backend's "dryness" memory), wakes, sessions, intents (the journal
that makes consolidation crash-safe), meta (heartbeat, init date), and rollups and
poll_rollups (hourly summaries of observations and polls, which the digest reads).

The database keeps times as POSIX seconds in UTC; the boundary speaks in frozen
records with timezone-aware UTC datetimes, and every database failure is a
``StoreError`` naming the file. No SQL lives outside this module, and no
connection leaves it. One connection, serialised by a lock: reverie has one
writer, and SQLite's WAL lets other processes (``reverie state``, ``reverie
status``) read meanwhile.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

from reverie.memory import clock

SCHEMA = [
    # version 1
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE observations (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        signal TEXT NOT NULL,          -- '<source>.<field>'
        ts REAL NOT NULL,
        value REAL,
        text TEXT,
        unit TEXT
    );
    CREATE INDEX observations_signal_ts ON observations(signal, ts);
    CREATE INDEX observations_ts ON observations(ts);
    CREATE TABLE polls (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        ts REAL NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT,
        duration REAL
    );
    CREATE INDEX polls_source_ts ON polls(source, ts);
    CREATE INDEX polls_ts ON polls(ts);
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        uid TEXT NOT NULL,
        ts REAL NOT NULL,              -- first seen
        published REAL,
        title TEXT NOT NULL DEFAULT '',
        link TEXT,
        summary TEXT NOT NULL DEFAULT '',
        UNIQUE (source, uid)
    );
    CREATE INDEX items_ts ON items(ts);
    CREATE TABLE source_state (
        source TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        failing_since REAL,
        last_ok REAL,
        last_error TEXT,
        last_error_ts REAL,
        retry_after REAL,              -- not before this time (Retry-After)
        data TEXT NOT NULL DEFAULT '{}' -- a source's own small JSON state
    );
    CREATE TABLE dreams (
        date TEXT PRIMARY KEY,         -- local date of the morning, YYYY-MM-DD
        path TEXT NOT NULL,
        backend TEXT NOT NULL,
        model TEXT,
        fallback_reason TEXT,
        cycle_start REAL NOT NULL,
        cycle_end REAL NOT NULL,
        digest_sha256 TEXT,
        sha256 TEXT NOT NULL,
        tokens INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL
    );
    CREATE TABLE dream_phrases (
        date TEXT NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (date, key)
    );
    CREATE TABLE token_usage (
        day TEXT NOT NULL,             -- UTC date
        purpose TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        ts REAL NOT NULL
    );
    CREATE TABLE wakes (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,              -- when the decision was taken
        scheduled REAL,                -- the fire time it belongs to, if scheduled
        outcome TEXT NOT NULL,         -- started | skipped | missed | failed
        reason TEXT NOT NULL,
        session_id TEXT
    );
    CREATE UNIQUE INDEX wakes_scheduled ON wakes(scheduled) WHERE scheduled IS NOT NULL;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        started REAL NOT NULL,
        ended REAL,
        pid INTEGER,
        reason TEXT NOT NULL DEFAULT '',
        end_reason TEXT,               -- exited | slept | timed out | killed | lost
        exit_code INTEGER,
        consolidated INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE intents (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        done REAL,
        UNIQUE (kind, key)
    );
    """,
    # version 2: what retention deleted from polls, so counters never go down (see the
    # metrics section below); keys: polls, failures, durations, duration_sum, le:<bound>
    """
    CREATE TABLE folded_polls (
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (source, key)
    );
    """,
    # version 3: hourly rollups, so a digest reads an hour of readings as one row. An
    # hour is (hour - 3600, hour], like a cycle (start, end]; meta 'rollups' says which
    # hours are rolled (see Store.roll_up).
    """
    CREATE TABLE rollups (
        signal TEXT NOT NULL,
        hour REAL NOT NULL,            -- the hour's end, POSIX seconds
        source TEXT NOT NULL,          -- MIN(source), as a grouped read gives it
        n INTEGER NOT NULL,
        nv INTEGER NOT NULL,           -- numeric readings
        lo REAL,
        hi REAL,
        first_ts REAL NOT NULL,
        first_value REAL,
        first_text TEXT,
        first_unit TEXT,
        last_ts REAL NOT NULL,
        last_value REAL,
        last_text TEXT,
        last_unit TEXT,
        first_num_ts REAL,             -- the hour's first numeric reading
        PRIMARY KEY (hour, signal)
    ) WITHOUT ROWID;
    CREATE INDEX rollups_signal ON rollups(signal, hour);
    CREATE TABLE poll_rollups (
        source TEXT NOT NULL,
        hour REAL NOT NULL,
        n INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        last_ok INTEGER NOT NULL,
        PRIMARY KEY (hour, source)
    ) WITHOUT ROWID;
    """,
]


@dataclass(frozen=True)
class Observation:
    """One reading of a signal."""

    source: str
    signal: str
    ts: datetime
    value: float | None
    text: str | None
    unit: str | None


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


class ItemGroup(NamedTuple):
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


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _keep_owner(path: Path) -> None:
    # root (`sudo reverie poll`) must not leave the store root-owned in a user's home: the
    # daemon, running as that user, could no longer write it
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    st = os.stat(path.parent)
    if st.st_uid == 0:
        return
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.chown(p, st.st_uid, st.st_gid)
        except FileNotFoundError:
            pass


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool = False):
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self.readonly = readonly
        # source states as this connection last read or wrote them, good while no other
        # connection has committed (PRAGMA data_version): see _known_states
        self._states: dict[str, SourceState] = {}
        self._states_seen: int | None = None
        self._upserts: dict[tuple[str, ...], str] = {}  # record_run's SQL, by state columns

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> "Store":
        try:
            return cls._open(Path(path), readonly)
        except sqlite3.OperationalError as e:  # locked, busy, unreadable: not a corrupt file
            raise StoreError(f"{path}: {_one_line(e)}") from None
        except sqlite3.DatabaseError as e:
            raise CorruptDatabase(
                f"{path}: not a usable reverie database ({_one_line(e)}); stop reverie, move "
                f"it aside (mv {path} {path}.broken) and start again: a new, empty store is "
                f"created and the home's files are untouched") from None

    @classmethod
    def _open(cls, path: Path, readonly: bool) -> "Store":
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10,
                                   check_same_thread=False, isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=10, check_same_thread=False,
                                   isolation_level=None)
            path.chmod(0o600)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        store = cls(conn, path, readonly)
        if not readonly:
            try:
                store._migrate()
            except BaseException:
                conn.close()
                raise
            _keep_owner(path)
        return store

    def close(self) -> None:
        with self._lock, self._failing():
            self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------

    @contextmanager
    def _failing(self) -> Iterator[None]:
        """Turn a database failure into a one-line ``StoreError`` naming the file."""
        try:
            yield
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: {_one_line(e)}") from None

    def _migrate(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(SCHEMA):
                raise StoreError(
                    f"{self.path}: store schema {version} is newer than this reverie "
                    f"understands ({len(SCHEMA)}); upgrade reverie")
            for i in range(version, len(SCHEMA)):
                self._conn.executescript(
                    "BEGIN;" + SCHEMA[i] + f"; PRAGMA user_version = {i + 1}; COMMIT;")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._failing():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def _q(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args)).fetchall()

    def _q1(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Row | None:
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args)).fetchone()

    def _x(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args))

    def data_version(self) -> int:
        """Changes when any connection commits: a cheap "is the store newer?"."""
        return self._q1("SELECT MAX(COALESCE((SELECT MAX(id) FROM observations),0),"
                        " COALESCE((SELECT MAX(id) FROM polls),0))")[0]

    # -- meta ---------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._q1("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._x("INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def beat(self, when: datetime | None = None) -> None:
        self.set_meta("heartbeat", str(clock.to_ts(when or clock.now())))

    def last_beat(self) -> datetime | None:
        v = self.get_meta("heartbeat")
        return clock.from_ts(float(v)) if v else None

    def born(self) -> datetime:
        """When the home was initialised (set on first call): day 1 of the agent."""
        v = self.get_meta("born")
        if v is None:
            now = clock.now()
            self._x("INSERT OR IGNORE INTO meta(key, value) VALUES ('born', ?)",
                    (str(clock.to_ts(now)),))
            v = self.get_meta("born")
        return clock.from_ts(float(v))

    # -- signals ------------------------------------------------------------
    # (perception writes here through poll.py)

    def source_state(self, source: str) -> SourceState:
        with self._lock, self._failing():
            known = self._known_states()
            state = known.get(source)
            if state is None:
                row = self._conn.execute("SELECT * FROM source_state WHERE source = ?",
                                         (source,)).fetchone()
                state = known[source] = _state(row) if row is not None else SourceState(source)
            return state

    def _known_states(self) -> dict[str, SourceState]:
        """The states this connection read or wrote, emptied when another connection has
        committed since. A poll reads its source's state before the run and the daemon twice
        more around it, each a query and a conversion (bench P2); record_run keeps the
        entry of the source it writes up to date."""
        seen = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if seen != self._states_seen:
            self._states.clear()
            self._states_seen = seen
        return self._states

    def all_source_states(self) -> dict[str, SourceState]:
        return {r["source"]: _state(r) for r in self._q("SELECT * FROM source_state")}

    def value_at(self, signal: str, when: datetime) -> Observation | None:
        """The last reading of ``signal`` at or before ``when``."""
        row = self._q1("SELECT * FROM observations WHERE signal = ? AND ts <= ?"
                       " ORDER BY ts DESC, id DESC LIMIT 1", (signal, clock.to_ts(when)))
        return _obs(row) if row else None

    def series(self, signal: str, start: datetime, end: datetime | None = None) -> list[Observation]:
        end_ts = clock.to_ts(end) if end else float("inf")
        rows = self._q("SELECT * FROM observations WHERE signal = ? AND ts >= ? AND ts <= ?"
                       " ORDER BY ts, id", (signal, clock.to_ts(start), end_ts))
        return [_obs(r) for r in rows]

    def polls_between(self, start: datetime, end: datetime, source: str | None = None
                      ) -> list[Poll]:
        sql = "SELECT * FROM polls WHERE ts > ? AND ts <= ?"
        args: list[Any] = [clock.to_ts(start), clock.to_ts(end)]
        if source:
            sql += " AND source = ?"
            args.append(source)
        return [_poll(r) for r in self._q(sql + " ORDER BY ts, id", args)]

    def items_since(self, since: datetime | None, limit: int = 50,
                    until: datetime | None = None) -> list[Item]:
        rows = self._q("SELECT * FROM items WHERE ts > ? AND ts <= ? ORDER BY ts DESC, id DESC"
                       " LIMIT ?",
                       (clock.to_ts(since) if since else 0.0,
                        clock.to_ts(until) if until else float("inf"), limit))
        return [_item(r) for r in rows]

    def apply_retention(self, before: datetime) -> int:
        """Delete raw observations, polls and finished intents (their payload is a whole
        working.md) older than ``before``, with the rollups of every hour that lost a row;
        then roll up the complete hours not yet rolled. Returns rows removed."""
        t = clock.to_ts(before)
        with self._transaction() as c:
            n = c.execute("DELETE FROM observations WHERE ts < ?", (t,)).rowcount
            self._fold_polls(c, t)
            n += c.execute("DELETE FROM polls WHERE ts < ?", (t,)).rowcount
            n += c.execute("DELETE FROM items WHERE ts < ?", (t,)).rowcount
            n += c.execute("DELETE FROM intents WHERE done IS NOT NULL AND done < ?",
                           (t,)).rowcount
            m = self._rollup_meta()
            if m is not None:
                # an hour (hour - 3600, hour] lost rows when it began before t
                c.execute("DELETE FROM rollups WHERE hour < ?", (t + _HOUR,))
                c.execute("DELETE FROM poll_rollups WHERE hour < ?", (t + _HOUR,))
                m["first"] = max(m["first"], _hour_of(t) + _HOUR)
                m["upto"] = max(m["upto"], m["first"] - _HOUR)
                # ids of deleted rows come back once the newest are gone: what the rolled
                # hours saw can be no more than what is left
                top = c.execute("SELECT (SELECT MAX(id) FROM observations),"
                                " (SELECT MAX(id) FROM polls)").fetchone()
                m["obs"], m["polls"] = min(m["obs"], top[0] or 0), min(m["polls"], top[1] or 0)
                self._set_rollup_meta(c, m)
        self.roll_up()
        return n

    # poll.py and state.py (perception) ------------------------------------------

    _STATE_COLS = ("etag", "last_modified", "consecutive_failures", "failing_since", "last_ok",
                   "last_error", "last_error_ts", "retry_after", "data")

    def record_run(self, source: str, ts: datetime, *, ok: bool, error: str | None = None,
                   duration: float | None = None,
                   readings: Iterable[tuple[str, float | None, str | None, str | None]] = (),
                   items: Iterable[dict] = (), state: dict | None = None) -> list[str]:
        """Store one source run, its readings, new items and an update of the source's
        state row, in one transaction: a crash never leaves readings without the health (or
        validators) they imply. Returns the uids of new items.

        ``readings`` are (signal, value, text, unit); ``items`` dicts with uid, title, link,
        published (datetime or None), summary; ``state`` holds the source_state columns to
        change (``data`` a dict, times POSIX seconds).
        """
        t = clock.to_ts(ts)
        new: list[str] = []
        upsert = self._upsert(tuple(state)) if state else None
        vals = [json.dumps(v, sort_keys=True) if k == "data" else v
                for k, v in state.items()] if state else []
        with self._lock:
            try:
                with self._transaction() as c:
                    c.execute("INSERT INTO polls(source, ts, ok, error, duration)"
                              " VALUES (?,?,?,?,?)", (source, t, int(ok), error, duration))
                    c.executemany(
                        "INSERT INTO observations(source, signal, ts, value, text, unit)"
                        " VALUES (?,?,?,?,?,?)",
                        [(source, s, t, v, tx, u) for s, v, tx, u in readings])
                    for it in items:
                        pub = it.get("published")
                        cur = c.execute(
                            "INSERT OR IGNORE INTO items(source, uid, ts, published, title,"
                            " link, summary) VALUES (?,?,?,?,?,?,?)",
                            (source, it["uid"], t, clock.to_ts(pub) if pub else None,
                             it.get("title") or "", it.get("link"), it.get("summary") or ""))
                        if cur.rowcount:
                            new.append(it["uid"])
                    if upsert:
                        c.execute(upsert, (source, *vals))
            except BaseException:
                self._states.pop(source, None)  # committed or not: read it again
                raise
            if state:
                self._wrote_state(source, state, vals)
        return new

    _STATE_TIMES = frozenset({"failing_since", "last_ok", "last_error_ts", "retry_after"})

    def _upsert(self, cols: tuple[str, ...]) -> str:
        """One upsert of these source_state columns, not an insert and an update: it runs
        on every poll (its text is built once per set of columns)."""
        sql = self._upserts.get(cols)
        if sql is None:
            unknown = set(cols) - set(self._STATE_COLS)
            if unknown:
                raise ValueError(f"unknown source_state columns: {sorted(unknown)}")
            sql = self._upserts[cols] = (
                f"INSERT INTO source_state(source, {', '.join(cols)})"
                f" VALUES (?{', ?' * len(cols)}) ON CONFLICT(source) DO UPDATE SET"
                f" {', '.join(f'{k} = excluded.{k}' for k in cols)}")
        return sql

    def _wrote_state(self, source: str, state: dict, vals: list) -> None:
        """Keep the known state of ``source`` as a read would now return it (its columns
        as written, ``data`` as decoded from what was stored); unknown stays unknown."""
        old = self._states.get(source)
        if old is None:
            return
        # a copy of the frozen record with these fields changed, filled in directly: its
        # __init__ (a checked setattr per field) cost more than the rest of this together
        new = object.__new__(SourceState)
        fields = vars(new)
        fields.update(vars(old))
        for (k, v), stored in zip(state.items(), vals):
            if k == "data":
                fields[k] = json.loads(stored)
            elif k in self._STATE_TIMES:
                fields[k] = _dt(v)
            else:
                fields[k] = v
        self._states[source] = new

    def signal_names(self) -> list[str]:
        """Every signal that has a reading, by index skip-scan (one seek per signal)."""
        rows = self._q(
            "WITH RECURSIVE s(signal) AS ("
            " SELECT MIN(signal) FROM observations"
            " UNION ALL"
            " SELECT (SELECT MIN(signal) FROM observations WHERE signal > s.signal)"
            " FROM s WHERE s.signal IS NOT NULL)"
            " SELECT signal FROM s WHERE signal IS NOT NULL")
        return [r[0] for r in rows]

    def readings_at(self, signal: str, times: Sequence[datetime]) -> list[Observation | None]:
        """For each instant, the last reading of ``signal`` at or before it.

        One statement, one index seek per time: the cost does not grow with how often
        the signal is polled.
        """
        if not times:
            return []
        values = ", ".join("(?, ?)" for _ in times)
        args: list[Any] = []
        for i, t in enumerate(times):
            args += [i, clock.to_ts(t)]
        rows = self._q(
            f"WITH p(i, t) AS (VALUES {values})"
            " SELECT p.i AS i, o.* FROM p LEFT JOIN observations o ON o.id = ("
            "  SELECT id FROM observations WHERE signal = ? AND ts <= p.t"
            "  ORDER BY ts DESC, id DESC LIMIT 1)"
            " ORDER BY p.i", (*args, signal))
        return [_obs(r) if r["id"] is not None else None for r in rows]

    def add_observations(self, observations: Iterable[Observation]) -> None:
        """Append readings in one transaction, without a poll row (imports, synthetic
        histories). Streams: a million readings need not be held at once."""
        with self._transaction() as c:
            c.executemany("INSERT INTO observations(source, signal, ts, value, text, unit)"
                          " VALUES (?,?,?,?,?,?)",
                          ((o.source, o.signal, clock.to_ts(o.ts), o.value, o.text, o.unit)
                           for o in observations))

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file, so a copy of it is one file."""
        self._x("PRAGMA wal_checkpoint(TRUNCATE)")

    def items_by_source(self, since: datetime | None, until: datetime | None = None,
                        per_source: int = 10) -> dict[str, ItemGroup]:
        """Items first seen in (since, until], per source: how many, and the newest few."""
        args = (clock.to_ts(since) if since else 0.0,
                clock.to_ts(until) if until else float("inf"))
        counts = {r[0]: r[1] for r in self._q(
            "SELECT source, COUNT(*) FROM items WHERE ts > ? AND ts <= ? GROUP BY source", args)}
        rows = self._q(
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY source"
            "  ORDER BY ts DESC, COALESCE(published, ts) DESC, id DESC) AS rn"
            " FROM items WHERE ts > ? AND ts <= ?) WHERE rn <= ?"
            " ORDER BY source, rn", (*args, per_source))
        out: dict[str, ItemGroup] = {s: ItemGroup(n, []) for s, n in counts.items()}
        for r in rows:
            out[r["source"]].newest.append(_item(r))
        return out

    # -- dreams ---------------------------------------------------------------

    def dream(self, day: str) -> Dream | None:
        row = self._q1("SELECT * FROM dreams WHERE date = ?", (day,))
        return _dream(row) if row else None

    def last_dream(self) -> Dream | None:
        row = self._q1("SELECT * FROM dreams ORDER BY date DESC LIMIT 1")
        return _dream(row) if row else None

    def record_dream(self, *, date: str, path: str, backend: str, cycle_start: datetime,
                     cycle_end: datetime, sha256: str, model: str | None = None,
                     fallback_reason: str | None = None, digest_sha256: str | None = None,
                     tokens: int = 0, created: datetime | None = None) -> None:
        """Record (or replace) the dream of the morning ``date``."""
        self._x("INSERT OR REPLACE INTO dreams(date, path, backend, model, fallback_reason,"
                " cycle_start, cycle_end, digest_sha256, sha256, tokens, created)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (date, path, backend, model, fallback_reason, clock.to_ts(cycle_start),
                 clock.to_ts(cycle_end), digest_sha256, sha256, tokens,
                 clock.to_ts(created or clock.now())))

    def recent_phrases(self, before_day: str, nights: int) -> dict[str, int]:
        """Phrase keys used in the ``nights`` dreams before ``before_day``, with counts."""
        rows = self._q(
            "SELECT key, COUNT(*) FROM dream_phrases WHERE date < ? AND date IN ("
            " SELECT DISTINCT date FROM dream_phrases WHERE date < ? ORDER BY date DESC LIMIT ?)"
            " GROUP BY key", (before_day, before_day, nights))
        return {r[0]: r[1] for r in rows}

    def record_phrases(self, day: str, keys: Iterable[str]) -> None:
        with self._transaction() as c:
            c.execute("DELETE FROM dream_phrases WHERE date = ?", (day,))
            c.executemany("INSERT OR IGNORE INTO dream_phrases(date, key) VALUES (?, ?)",
                          [(day, k) for k in keys])

    def tokens_used(self, day: str, purpose: str | None = None) -> int:
        sql, args = "SELECT COALESCE(SUM(tokens), 0) FROM token_usage WHERE day = ?", [day]
        if purpose:
            sql += " AND purpose = ?"
            args.append(purpose)
        return self._q1(sql, args)[0]

    def add_tokens(self, day: str, purpose: str, tokens: int) -> None:
        self._x("INSERT INTO token_usage(day, purpose, tokens, ts) VALUES (?,?,?,?)",
                (day, purpose, tokens, clock.to_ts(clock.now())))

    def signal_stats(self, start: datetime, end: datetime, *, raw: bool = False
                     ) -> list[SignalStats]:
        """Per signal over (start, end]: count, numeric min/max, and the first and last
        readings. Whole rolled hours come from their rollups, the rest from the readings
        (all of it with ``raw``)."""
        a, b = clock.to_ts(start), clock.to_ts(end)
        with self._snapshot():
            span = None if raw else self._rolled_span(a, b)
            if span is None:
                parts = self._raw_parts(a, b)
            else:
                lo, hi = span
                parts = _merge(self._edge_parts(a, lo - _HOUR), self._rollup_parts(lo, hi),
                               self._edge_parts(hi, b))
        return [SignalStats(sig, p.source, p.n, p.nv, p.lo, p.hi,
                            Observation(p.source, sig, clock.from_ts(p.first[0]), *p.first[1:]),
                            Observation(p.source, sig, clock.from_ts(p.last[0]), *p.last[1:]))
                for sig, p in sorted(parts.items())]

    def _edge_parts(self, a: float, b: float) -> dict[str, "_Part"]:
        # a cut hour at a cycle's edge: as an hour is rolled, in one statement
        if a >= b:
            return {}
        return {r[0]: _Part(r[1], r[2], r[3], r[4], r[5], tuple(r[6:10]), tuple(r[10:14]))
                for r in self._q(_STRETCH.format(""), (a, b, a, b, a, b))}

    def _raw_parts(self, a: float, b: float) -> dict[str, "_Part"]:
        # one grouped scan plus two index probes per signal (kept apart from _STRETCH:
        # the raw path is what the rollups are checked against)
        if a >= b:
            return {}
        groups = self._q("SELECT signal, MIN(source) AS source, COUNT(*) AS n,"
                         " COUNT(value) AS nv, MIN(value) AS lo, MAX(value) AS hi"
                         " FROM observations WHERE ts > ? AND ts <= ? GROUP BY signal",
                         (a, b))
        out = {}
        for g in groups:
            ends = []
            for order in ("ASC", "DESC"):
                r = self._q1("SELECT ts, value, text, unit FROM observations WHERE signal = ?"
                             f" AND ts > ? AND ts <= ? ORDER BY ts {order}, id {order} LIMIT 1",
                             (g["signal"], a, b))
                ends.append(tuple(r))
            out[g["signal"]] = _Part(g["source"], g["n"], g["nv"], g["lo"], g["hi"], *ends)
        return out

    def _rollup_parts(self, lo: float, hi: float) -> dict[str, "_Part"]:
        # the hours ending in [lo, hi]: sums and ranges, then the first hour's first
        # reading and the last hour's last (a bare column beside MIN/MAX comes from that row)
        args = (lo, hi)
        where = " FROM rollups WHERE hour >= ? AND hour <= ? GROUP BY signal"
        firsts = {r[0]: tuple(r)[2:] for r in self._q(
            "SELECT signal, MIN(hour), first_ts, first_value, first_text, first_unit" + where,
            args)}
        lasts = {r[0]: tuple(r)[2:] for r in self._q(
            "SELECT signal, MAX(hour), last_ts, last_value, last_text, last_unit" + where,
            args)}
        return {r[0]: _Part(r[1], r[2], r[3], r[4], r[5], firsts[r[0]], lasts[r[0]])
                for r in self._q("SELECT signal, MIN(source), SUM(n), SUM(nv), MIN(lo), MAX(hi)"
                                 + where, args)}

    def window_extremes(self, start: datetime, end: datetime, *, raw: bool = False
                        ) -> dict[str, Extremes]:
        """Per signal, (min, max, oldest reading's time) of its numeric readings in
        [start, end]; whole rolled hours come from their rollups (none with ``raw``)."""
        a, b = clock.to_ts(start), clock.to_ts(end)
        sql = ("SELECT signal, MIN(value), MAX(value), MIN(ts) FROM observations"
               " WHERE ts {} ? AND ts <= ? AND value IS NOT NULL GROUP BY signal")
        with self._snapshot():
            span = None if raw else self._rolled_span(a, b)
            if span is None:
                rows = self._q(sql.format(">="), (a, b))
            else:
                lo, hi = span
                rows = [*self._q(sql.format(">="), (a, lo - _HOUR)),
                        *self._q("SELECT signal, MIN(lo), MAX(hi), MIN(first_num_ts)"
                                 " FROM rollups WHERE hour >= ? AND hour <= ? AND nv > 0"
                                 " GROUP BY signal", (lo, hi)),
                        *self._q(sql.format(">"), (hi, b))]
        out: dict[str, tuple] = {}
        for sig, low, high, oldest in rows:
            was = out.get(sig)
            out[sig] = (low, high, oldest) if was is None else (
                min(was[0], low), max(was[1], high), min(was[2], oldest))
        return {sig: Extremes(low, high, clock.from_ts(oldest))
                for sig, (low, high, oldest) in out.items()}

    def texts_between(self, signal: str, start: datetime, end: datetime) -> list[str]:
        """The text readings of ``signal`` over (start, end], oldest first."""
        rows = self._q("SELECT text FROM observations WHERE signal = ? AND ts > ? AND ts <= ?"
                       " AND text IS NOT NULL ORDER BY ts, id",
                       (signal, clock.to_ts(start), clock.to_ts(end)))
        return [r[0] for r in rows]

    def poll_before(self, source: str, when: datetime) -> Poll | None:
        """The last poll of ``source`` at or before ``when``."""
        row = self._q1("SELECT * FROM polls WHERE source = ? AND ts <= ?"
                       " ORDER BY ts DESC, id DESC LIMIT 1", (source, clock.to_ts(when)))
        return _poll(row) if row else None

    def poll_stats(self, start: datetime, end: datetime, *, raw: bool = False
                   ) -> list[PollStats]:
        """Per source, its runs in (start, end]: how many, how many failed, and whether
        the last was good; by source name. Whole rolled hours come from their rollups."""
        a, b = clock.to_ts(start), clock.to_ts(end)
        with self._snapshot():
            span = None if raw else self._rolled_span(a, b)
            pieces = [(a, b)] if span is None else [(a, span[0] - _HOUR), span, (span[1], b)]
            out: dict[str, PollStats] = {}
            for i, (x, y) in enumerate(pieces):
                if i == 1:
                    rows = self._q(
                        "SELECT source, SUM(n), SUM(failed), MAX(hour), last_ok FROM poll_rollups"
                        " WHERE hour >= ? AND hour <= ? GROUP BY source", (x, y))
                elif x < y:
                    rows = self._q(
                        "SELECT source, COUNT(*), SUM(ok = 0), MAX(ts),"
                        " (SELECT ok FROM polls q WHERE q.source = p.source AND q.ts > ?"
                        "  AND q.ts <= ? ORDER BY q.ts DESC, q.id DESC LIMIT 1)"
                        " FROM polls p WHERE ts > ? AND ts <= ? GROUP BY source", (x, y, x, y))
                else:
                    continue
                for src, n, failed, _, last_ok in rows:
                    was = out.get(src)
                    out[src] = PollStats(src, n + (was.polls if was else 0),
                                         failed + (was.failed if was else 0), bool(last_ok))
        return sorted(out.values(), key=lambda p: p.source)

    def count_items_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """New feed items first seen in (start, end], per source."""
        rows = self._q("SELECT source, COUNT(*) FROM items WHERE ts > ? AND ts <= ?"
                       " GROUP BY source ORDER BY source", (clock.to_ts(start), clock.to_ts(end)))
        return {r[0]: r[1] for r in rows}

    # -- hourly rollups --
    # A digest reads a whole cycle of every signal; a rolled hour is one row per signal
    # (count, range, first and last reading) and one per source for its runs, whatever the
    # poll rate. Hours are rolled once complete, by roll_up(), which the digest and
    # retention call: never in record_run, which stays one append per poll. meta
    # 'rollups' names the rolled hours [first, upto] (hour ends) and the highest
    # observation and poll ids they saw; a row added later into a rolled hour (an import,
    # a clock set back) has a higher id, so from its hour on the readings are read instead,
    # until the next roll_up rolls those hours again.

    def roll_up(self, now: datetime | None = None) -> int:
        """Roll up every complete hour (ending at or before ``now``) not yet rolled, and
        roll again the hours that gained readings since; returns how many hours were
        rolled. A read-only store rolls nothing: its readers read those hours raw."""
        if self.readonly:
            return 0
        until = math.floor(clock.to_ts(now or clock.now()) / _HOUR) * _HOUR
        with self._transaction() as c:
            known = self._rollup_meta()
            m = dict(known) if known else None
            top = c.execute("SELECT (SELECT MAX(id) FROM observations),"
                            " (SELECT MAX(id) FROM polls)").fetchone()
            if m is not None:
                late = self._late(m)
                if late is not None and late <= m["upto"]:
                    cut = math.floor(late / _HOUR) * _HOUR  # the late row's hour, or the next
                    c.execute("DELETE FROM rollups WHERE hour >= ?", (cut,))
                    c.execute("DELETE FROM poll_rollups WHERE hour >= ?", (cut,))
                    m["upto"] = min(m["upto"], cut - _HOUR)
            if m is None or m["upto"] < m["first"]:
                oldest = _least(c.execute("SELECT (SELECT MIN(ts) FROM observations),"
                                          " (SELECT MIN(ts) FROM polls)").fetchone())
                if oldest is None:
                    return 0
                first = _hour_of(oldest)
                m = {"first": first, "upto": first - _HOUR}
            m["obs"], m["polls"] = top[0] or 0, top[1] or 0
            if m != known:
                self._set_rollup_meta(c, m)
        rolled = 0
        while m["upto"] < until:
            with self._transaction() as c:
                # the next hour with a reading: a quiet night is skipped, not rolled empty
                nxt = _least(c.execute("SELECT (SELECT MIN(ts) FROM observations WHERE ts > ?),"
                                       " (SELECT MIN(ts) FROM polls WHERE ts > ?)",
                                       (m["upto"], m["upto"])).fetchone())
                hour = _hour_of(nxt) if nxt is not None else math.inf
                if hour > until:
                    m["upto"] = until
                else:
                    self._roll_hour(c, hour)
                    m["upto"] = hour
                    rolled += 1
                self._set_rollup_meta(c, m)
        return rolled

    def rolled_hours(self) -> RolledHours | None:
        """The hours a digest reads from their rollups (None when none is)."""
        with self._snapshot():
            rolled = self._rolled()
        return RolledHours(*map(clock.from_ts, rolled)) if rolled else None

    @staticmethod
    def _roll_hour(c: sqlite3.Connection, hour: float) -> None:
        a = hour - _HOUR
        c.execute("INSERT INTO rollups(signal, hour, source, n, nv, lo, hi, first_ts,"
                  " first_value, first_text, first_unit, last_ts, last_value, last_text,"
                  " last_unit, first_num_ts) " + _STRETCH.format("?,"),
                  (hour, a, hour, a, hour, a, hour))
        c.execute(
            "INSERT INTO poll_rollups(source, hour, n, failed, last_ok)"
            " SELECT g.source, ?, g.n, g.failed, l.ok"
            " FROM (SELECT source, COUNT(*) AS n, SUM(ok = 0) AS failed FROM polls"
            "  WHERE ts > ? AND ts <= ? GROUP BY source) g"
            " JOIN polls l ON l.id = (SELECT id FROM polls"
            "  WHERE source = g.source AND ts > ? AND ts <= ? ORDER BY ts DESC, id DESC LIMIT 1)",
            (hour, a, hour, a, hour))

    def _rollup_meta(self) -> dict | None:
        v = self.get_meta("rollups")
        return json.loads(v) if v else None

    @staticmethod
    def _set_rollup_meta(c: sqlite3.Connection, m: dict) -> None:
        c.execute("INSERT INTO meta(key, value) VALUES ('rollups', ?)"
                  " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                  (json.dumps(m, sort_keys=True),))

    def _late(self, m: dict) -> float | None:
        """The oldest time of a row written after the last roll (None when none was)."""
        # +ts: read the new rows by id, not the whole ts index for its smallest match
        return _least(self._q1("SELECT (SELECT MIN(+ts) FROM observations WHERE id > ?),"
                               " (SELECT MIN(+ts) FROM polls WHERE id > ?)",
                               (m["obs"], m["polls"])))

    def _rolled(self) -> tuple[float, float] | None:
        """The ends (first, last) of the rolled hours that can be trusted now, or None."""
        m = self._rollup_meta()
        if m is None:
            return None
        upto = m["upto"]
        late = self._late(m)
        if late is not None:
            upto = min(upto, math.floor(late / _HOUR) * _HOUR - _HOUR)
        return (m["first"], upto) if m["first"] <= upto else None

    def _rolled_span(self, a: float, b: float) -> tuple[float, float] | None:
        """The ends (lo, hi) of the trusted rolled hours that lie wholly in (a, b]."""
        rolled = self._rolled()
        if rolled is None:
            return None
        lo = max(_hour_of(a) + _HOUR, rolled[0])
        hi = _hour_of(b)
        if hi > b:
            hi -= _HOUR
        hi = min(hi, rolled[1])
        return (lo, hi) if lo <= hi else None

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (one read transaction)."""
        with self._lock, self._failing():
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    def dreams_before(self, day: str, limit: int = 1) -> list[Dream]:
        """The newest recorded dreams dated before ``day``, newest first."""
        rows = self._q("SELECT * FROM dreams WHERE date < ? ORDER BY date DESC LIMIT ?",
                       (day, limit))
        return [_dream(r) for r in rows]

    # -- wakes and sessions ---------------------------------------------------------

    def record_wake(self, outcome: str, reason: str, *, scheduled: datetime | None = None,
                    session_id: str | None = None, ts: datetime | None = None) -> bool:
        """Record a wake decision. False when that scheduled fire time was already recorded."""
        cur = self._x(
            "INSERT OR IGNORE INTO wakes(ts, scheduled, outcome, reason, session_id)"
            " VALUES (?,?,?,?,?)",
            (clock.to_ts(ts or clock.now()), clock.to_ts(scheduled) if scheduled else None,
             outcome, reason, session_id))
        return cur.rowcount == 1

    def update_wake(self, session_id: str, outcome: str, reason: str) -> None:
        """Change the outcome of the wake that was to start ``session_id`` (a start failed)."""
        self._x("UPDATE wakes SET outcome = ?, reason = ?, session_id = NULL"
                " WHERE session_id = ?", (outcome, reason, session_id))

    def wake_recorded(self, scheduled: datetime) -> bool:
        return self._q1("SELECT 1 FROM wakes WHERE scheduled = ?",
                        (clock.to_ts(scheduled),)) is not None

    def last_wake(self) -> datetime | None:
        """The last wake that started a session (what "since the last wake" means)."""
        row = self._q1("SELECT MAX(ts) FROM wakes WHERE outcome = 'started'")
        return clock.from_ts(row[0]) if row and row[0] is not None else None

    def wakes(self, since: datetime | None = None, limit: int = 100) -> list[Wake]:
        """Wake decisions taken since ``since``, newest first."""
        rows = self._q("SELECT * FROM wakes WHERE ts >= ? ORDER BY ts DESC, id DESC LIMIT ?",
                       (clock.to_ts(since) if since else 0.0, limit))
        return [Wake(r["id"], clock.from_ts(r["ts"]), _dt(r["scheduled"]), r["outcome"],
                     r["reason"], r["session_id"]) for r in rows]

    def start_session(self, session_id: str, started: datetime, pid: int | None,
                      reason: str) -> None:
        self._x("INSERT INTO sessions(id, started, pid, reason) VALUES (?,?,?,?)",
                (session_id, clock.to_ts(started), pid, reason))

    def set_session_pid(self, session_id: str, pid: int) -> None:
        self._x("UPDATE sessions SET pid = ? WHERE id = ?", (pid, session_id))

    def end_session(self, session_id: str, ended: datetime, end_reason: str,
                    exit_code: int | None) -> None:
        self._x("UPDATE sessions SET ended = ?, end_reason = ?, exit_code = ?"
                " WHERE id = ? AND ended IS NULL",
                (clock.to_ts(ended), end_reason, exit_code, session_id))

    def forget_session(self, session_id: str) -> None:
        """Remove a session whose agent never started (its wake records the failure)."""
        self._x("DELETE FROM sessions WHERE id = ? AND consolidated = 0", (session_id,))

    def mark_consolidated(self, session_id: str) -> None:
        self._x("UPDATE sessions SET consolidated = 1 WHERE id = ?", (session_id,))

    def session(self, session_id: str) -> Session | None:
        row = self._q1("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return _session(row) if row else None

    def running_session(self) -> Session | None:
        row = self._q1("SELECT * FROM sessions WHERE ended IS NULL ORDER BY started DESC LIMIT 1")
        return _session(row) if row else None

    def open_sessions(self) -> list[Session]:
        """Sessions recorded as started and not ended, oldest first."""
        return [_session(r) for r in self._q(
            "SELECT * FROM sessions WHERE ended IS NULL ORDER BY started, id")]

    def unconsolidated_sessions(self) -> list[Session]:
        return [_session(r) for r in self._q(
            "SELECT * FROM sessions WHERE ended IS NOT NULL AND consolidated = 0 ORDER BY started")]

    def sessions(self, since: datetime | None = None, until: datetime | None = None
                 ) -> list[Session]:
        rows = self._q("SELECT * FROM sessions WHERE started >= ? AND started <= ? ORDER BY started",
                       (clock.to_ts(since) if since else 0.0,
                        clock.to_ts(until) if until else float("inf")))
        return [_session(r) for r in rows]

    # -- intents (crash-safe multi-file operations) -----------------------------------

    def begin_intent(self, kind: str, key: str, payload: dict) -> Intent:
        """Record the intent to do ``kind`` for ``key``; returns the (possibly existing) intent."""
        self._x("INSERT OR IGNORE INTO intents(kind, key, payload, created) VALUES (?,?,?,?)",
                (kind, key, json.dumps(payload, sort_keys=True), clock.to_ts(clock.now())))
        intent = self.intent(kind, key)
        assert intent is not None
        return intent

    def intent(self, kind: str, key: str) -> Intent | None:
        row = self._q1("SELECT * FROM intents WHERE kind = ? AND key = ?", (kind, key))
        return _intent(row) if row is not None else None

    def advance_intent(self, kind: str, key: str, step: int) -> None:
        self._x("UPDATE intents SET step = ? WHERE kind = ? AND key = ?", (step, kind, key))

    def finish_intent(self, kind: str, key: str) -> None:
        self._x("UPDATE intents SET done = ? WHERE kind = ? AND key = ?",
                (clock.to_ts(clock.now()), kind, key))

    def open_intents(self, kind: str) -> list[Intent]:
        return [_intent(r) for r in self._q(
            "SELECT * FROM intents WHERE kind = ? AND done IS NULL ORDER BY id", (kind,))]

    # -- charts (read-only) --
    # aggregated here, so a chart costs one grouped index range scan and a bounded number
    # of points, whatever the poll rate.

    def chart_points(self, signal: str, start: datetime, end: datetime,
                     buckets: int = 200) -> list[ChartPoint]:
        """``signal``'s numeric readings over (start, end] in at most ``buckets`` time
        buckets, oldest first: the bucket's last reading (a point is a real reading) and
        the bucket's min and max (so a spike between points is not lost)."""
        a, b = clock.to_ts(start), clock.to_ts(end)
        n = max(buckets, 1)
        width = max((b - a) / n, 1e-6)
        rows = self._q(
            "SELECT ts, value, lo, hi FROM (SELECT ts, value,"
            "  MIN(value) OVER p AS lo, MAX(value) OVER p AS hi,"
            "  ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts DESC, id DESC) AS rn"
            "  FROM (SELECT id, ts, value, MIN(CAST((ts - ?) / ? AS INTEGER), ?) AS k"
            "   FROM observations WHERE signal = ? AND ts > ? AND ts <= ?"
            "   AND value IS NOT NULL)"
            "  WINDOW p AS (PARTITION BY k))"
            " WHERE rn = 1 ORDER BY ts",
            (a, width, n - 1, signal, a, b))
        return [ChartPoint(clock.from_ts(r[0]), r[1], r[2], r[3]) for r in rows]

    def first_numeric_reading(self, signal: str) -> datetime | None:
        """When ``signal``'s first numeric reading was taken (one index seek)."""
        row = self._q1("SELECT MIN(ts) FROM observations WHERE signal = ? AND value IS NOT NULL",
                       (signal,))
        return _dt(row[0]) if row else None

    def failure_spans(self, source: str, start: datetime, end: datetime,
                      limit: int = 100) -> list[FailureSpan]:
        """Failing periods of ``source`` that overlap (start, end], oldest first, the newest
        ``limit``. A period may begin before ``start``."""
        a, b = clock.to_ts(start), clock.to_ts(end)
        rows = self._q(
            "WITH p AS (SELECT ts, ok, SUM(ok) OVER w AS g, LEAD(ts) OVER w AS nxt"
            "  FROM polls WHERE source = ? AND ts <= ? AND ts >= COALESCE("
            "   (SELECT MAX(ts) FROM polls WHERE source = ? AND ts <= ?), ?)"
            "  WINDOW w AS (ORDER BY ts, id))"
            " SELECT MIN(ts) AS first, MAX(COALESCE(nxt, 1e300)) AS stop, COUNT(*) AS n"
            " FROM p WHERE ok = 0 GROUP BY g ORDER BY first DESC LIMIT ?",
            (source, b, source, a, a, limit))
        return [FailureSpan(clock.from_ts(r[0]), clock.from_ts(r[1]) if r[1] < 1e300 else None,
                            r[2]) for r in reversed(rows)]


    # -- notifications sent (daemon/alerts.py) --
    # When each kind of event was last told about, per subject, so that the rate limit
    # (and "already told about this one") survives a restart. Its own table, made on
    # first use outside the numbered schema: only the daemon sends notifications.

    _ALERTS = ("CREATE TABLE IF NOT EXISTS alerts_sent (kind TEXT NOT NULL,"
               " subject TEXT NOT NULL, sent REAL NOT NULL, ref TEXT,"
               " PRIMARY KEY (kind, subject))")

    def claim_alert(self, kind: str, subject: str, now: datetime, *, gap: float,
                    ref: str | None = None) -> bool:
        """Record an alert of ``kind`` about ``subject`` as sent at ``now`` and return
        True, unless the last one went out less than ``gap`` seconds ago or was about the
        same occurrence ``ref`` (then nothing changes and it returns False)."""
        t = clock.to_ts(now)
        with self._transaction() as c:
            c.execute(self._ALERTS)
            row = c.execute("SELECT sent, ref FROM alerts_sent WHERE kind = ? AND subject = ?",
                            (kind, subject)).fetchone()
            if row is not None and (t - row[0] < gap or (ref is not None and row[1] == ref)):
                return False
            c.execute("INSERT INTO alerts_sent(kind, subject, sent, ref) VALUES (?,?,?,?)"
                      " ON CONFLICT(kind, subject) DO UPDATE SET sent = excluded.sent,"
                      " ref = excluded.ref", (kind, subject, t, ref))
        return True

    def last_alert(self, kind: str, subject: str) -> AlertSent | None:
        """The last alert of ``kind`` about ``subject``, or None."""
        with self._transaction() as c:
            c.execute(self._ALERTS)
            row = c.execute("SELECT sent, ref FROM alerts_sent WHERE kind = ? AND subject = ?",
                            (kind, subject)).fetchone()
        return AlertSent(clock.from_ts(row[0]), row[1]) if row else None


    # -- metrics (read at scrape time by perception/metrics.py) --------------------------
    # `reverie serve` and the daemon's own listener both read every figure here, so they
    # say the same. Poll counters never go down although retention deletes old polls:
    # retention folds what it deletes into folded_polls in the same transaction (below),
    # so a count is what was folded plus the rows still there; recording a poll
    # (record_run) does no extra work for it.

    def metrics(self, *, after_id: int, day: str, signals: int = 0) -> "MetricsSnapshot":
        """Everything /metrics shows from the store, read in one snapshot. ``day`` is the
        UTC date whose tokens count as today's. Polls: see :class:`PollTotals`. With
        ``signals`` > 0, the latest reading of up to that many signals (by name) whose
        latest reading is a number, plus one more when there are more."""
        with self._reading() as c:
            return MetricsSnapshot(polls=self._poll_totals(c, after_id),
                                   sessions=self._session_totals(c),
                                   dreams=self._dream_totals(c),
                                   tokens=self._token_totals(c, day),
                                   heartbeat=self._heartbeat(c),
                                   signals=self._latest_numbers(c, signals) if signals else [])

    @staticmethod
    def _latest_numbers(c: sqlite3.Connection, limit: int) -> list[Observation]:
        # the signals by index skip-scan (one seek each), then each one's newest row
        rows = c.execute(
            "WITH RECURSIVE s(signal) AS ("
            " SELECT MIN(signal) FROM observations"
            " UNION ALL"
            " SELECT (SELECT MIN(signal) FROM observations WHERE signal > s.signal)"
            " FROM s WHERE s.signal IS NOT NULL)"
            " SELECT o.source, o.signal, o.ts, o.value, o.text, o.unit FROM s"
            " JOIN observations o ON o.id = (SELECT id FROM observations"
            "  WHERE signal = s.signal ORDER BY ts DESC, id DESC LIMIT 1)"
            " WHERE s.signal IS NOT NULL AND o.value IS NOT NULL LIMIT ?",
            (limit + 1,)).fetchall()
        return [_obs(r) for r in rows]

    def metrics_heartbeat(self) -> "Heartbeat":
        """The daemon's last beat and how often it beats (/healthz reads only this)."""
        with self._lock, self._failing():
            return self._heartbeat(self._conn)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        # one read transaction: a retention committing meanwhile is seen whole or not at all
        with self._lock, self._failing():
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    @staticmethod
    def _poll_agg(where: str) -> str:
        return ("SELECT source, COUNT(*), COALESCE(SUM(ok = 0), 0), COUNT(duration),"
                " TOTAL(duration), "
                + ", ".join(f"COALESCE(SUM(duration <= {b!r}), 0)" for b in POLL_BUCKETS)
                + f" FROM polls WHERE {where} GROUP BY source")

    @staticmethod
    def _poll_counts(rows: Iterable[sqlite3.Row]) -> dict[str, "PollCounts"]:
        return {r[0]: PollCounts(int(r[1]), int(r[2]), int(r[3]), float(r[4]),
                                 tuple(int(x) for x in r[5:])) for r in rows}

    def _poll_totals(self, c: sqlite3.Connection, after_id: int) -> "PollTotals":
        top = c.execute("SELECT COALESCE(MAX(id), 0) FROM polls").fetchone()[0]
        row = c.execute("SELECT value FROM meta WHERE key = 'folded.polls_upto'").fetchone()
        folded_upto = int(row[0]) if row else 0
        # Retention deleted polls the caller had not counted (or its newest counted one),
        # or the table is not the one counted before: start over.
        since = after_id if folded_upto < after_id <= top else 0
        counts = self._poll_counts(c.execute(self._poll_agg("id > ? AND id <= ?"),
                                             (since, top)))
        if since == 0:
            for source, f in self._folded(c).items():
                counts[source] = counts.get(source, PollCounts()) + f
        return PollTotals(since=since, upto=top, counts=counts)

    @staticmethod
    def _folded(c: sqlite3.Connection) -> dict[str, "PollCounts"]:
        acc: dict[str, dict[str, float]] = {}
        try:
            rows = c.execute("SELECT source, key, value FROM folded_polls").fetchall()
        except sqlite3.OperationalError:  # a store not yet migrated (read-only opener)
            return {}
        for source, key, value in rows:
            acc.setdefault(source, {})[key] = value
        return {source: PollCounts(int(d.get("polls", 0)), int(d.get("failures", 0)),
                                   int(d.get("durations", 0)), float(d.get("duration_sum", 0.0)),
                                   tuple(int(d.get(f"le:{b!r}", 0)) for b in POLL_BUCKETS))
                for source, d in acc.items()}

    def _fold_polls(self, c: sqlite3.Connection, before_ts: float) -> None:
        """Inside apply_retention's transaction: add the polls about to be deleted (ts <
        ``before_ts``) to folded_polls, and remember the highest id folded."""
        rows = c.execute(self._poll_agg("ts < ?"), (before_ts,)).fetchall()
        for source, n in self._poll_counts(rows).items():
            values = {"polls": n.polls, "failures": n.failures, "durations": n.durations,
                      "duration_sum": n.duration_sum,
                      **{f"le:{b!r}": k for b, k in zip(POLL_BUCKETS, n.buckets)}}
            c.executemany("INSERT INTO folded_polls(source, key, value) VALUES (?,?,?)"
                          " ON CONFLICT(source, key) DO UPDATE SET value = value + excluded.value",
                          [(source, k, v) for k, v in values.items()])
        top = c.execute("SELECT MAX(id) FROM polls WHERE ts < ?", (before_ts,)).fetchone()[0]
        if top is not None:
            c.execute("INSERT INTO meta(key, value) VALUES ('folded.polls_upto', ?)"
                      " ON CONFLICT(key) DO UPDATE SET value ="
                      " MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                      (str(top),))

    @staticmethod
    def _session_totals(c: sqlite3.Connection) -> "SessionTotals":
        ended = {r[0]: (int(r[1]), float(r[2])) for r in c.execute(
            "SELECT COALESCE(end_reason, 'unknown'), COUNT(*), TOTAL(MAX(ended - started, 0))"
            " FROM sessions WHERE ended IS NOT NULL GROUP BY 1")}
        row = c.execute("SELECT MAX(started) FROM sessions WHERE ended IS NULL").fetchone()
        return SessionTotals(ended={k: n for k, (n, _) in ended.items()},
                             ended_seconds=sum(s for _, s in ended.values()),
                             active_since=_dt(row[0]))

    @staticmethod
    def _dream_totals(c: sqlite3.Connection) -> "DreamTotals":
        rows = c.execute("SELECT backend, COUNT(*), COUNT(fallback_reason), MAX(created)"
                         " FROM dreams GROUP BY backend").fetchall()
        last = [r[3] for r in rows if r[3] is not None]
        return DreamTotals(by_backend={r[0]: int(r[1]) for r in rows},
                           fallbacks=sum(int(r[2]) for r in rows),
                           last_written=_dt(max(last)) if last else None)

    @staticmethod
    def _token_totals(c: sqlite3.Connection, day: str) -> "TokenTotals":
        rows = c.execute("SELECT purpose, TOTAL(tokens), TOTAL(CASE WHEN day = ? THEN tokens END)"
                         " FROM token_usage GROUP BY purpose", (day,)).fetchall()
        return TokenTotals(total={r[0]: int(r[1]) for r in rows},
                           today={r[0]: int(r[2]) for r in rows})

    @staticmethod
    def _heartbeat(c: sqlite3.Connection) -> "Heartbeat":
        meta = dict(c.execute("SELECT key, value FROM meta WHERE key IN"
                              " ('heartbeat', 'heartbeat.every', 'daemon.stopped')").fetchall())

        def num(key: str) -> float | None:
            try:
                return float(meta[key])
            except (KeyError, ValueError):
                return None

        return Heartbeat(at=_dt(num("heartbeat")), every=num("heartbeat.every"),
                         stopped=_dt(num("daemon.stopped")))

    # -- backup and export (daemon/backup.py, daemon/export.py) ---------------------------

    def backup_into(self, target: str | Path) -> dict[str, int]:
        """Copy the whole record into a new database file at ``target`` through SQLite's
        online backup API, in one step: one consistent snapshot (a commit meanwhile is in
        the copy whole or not at all, the WAL's committed pages included) while the daemon
        writes on. The copy is one file (rollback journal, no -wal beside it) and passes
        its integrity check. Returns its row count per table."""
        with self._lock, self._failing():
            dst = sqlite3.connect(target, isolation_level=None)
            try:
                self._conn.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
                if check != "ok":
                    raise StoreError(f"{target}: the copy failed its integrity check: {check}")
                return _row_counts(dst)
            finally:
                dst.close()

    def row_counts(self) -> dict[str, int]:
        """Rows per table: what a restore checks its copy against."""
        with self._lock, self._failing():
            return _row_counts(self._conn)

    def iter_observations(self, *, since: datetime | None = None, until: datetime | None = None,
                          source: str | None = None, batch: int = 2000
                          ) -> Iterator[Observation]:
        """Observations with ``since <= ts < until`` (either open), of one source or all,
        oldest first, read ``batch`` rows at a time: memory stays bounded whatever the
        record holds. The one statement keeps its read snapshot until it is exhausted."""
        where, args = ["1"], []
        if since is not None:
            where.append("ts >= ?")
            args.append(clock.to_ts(since))
        if until is not None:
            where.append("ts < ?")
            args.append(clock.to_ts(until))
        if source is not None:
            where.append("source = ?")
            args.append(source)
        with self._lock, self._failing():
            cur = self._conn.execute(
                "SELECT source, signal, ts, value, text, unit FROM observations"
                f" WHERE {' AND '.join(where)} ORDER BY ts, id", args)
        try:
            while True:
                with self._lock, self._failing():
                    rows = cur.fetchmany(batch)
                if not rows:
                    return
                for r in rows:
                    yield Observation(r[0], r[1], clock.from_ts(r[2]), r[3], r[4], r[5])
        finally:
            cur.close()


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
_HOUR = 3600.0

# Each signal over a stretch (a, b] of time (an hour to roll, a cut hour at a cycle's edge):
# a grouped scan, then per signal two index probes for its first and last row, in one
# statement (window functions' sorts cost five times as much). Columns: signal, [hour,]
# source, n, nv, lo, hi, first (ts, value, text, unit), last (same), first numeric ts.
_STRETCH = (
    "SELECT g.signal, {} g.source, g.n, g.nv, g.lo, g.hi,"
    "  f.ts, f.value, f.text, f.unit, l.ts, l.value, l.text, l.unit, g.fnum"
    " FROM (SELECT signal, MIN(source) AS source, COUNT(*) AS n, COUNT(value) AS nv,"
    "  MIN(value) AS lo, MAX(value) AS hi,"
    "  MIN(CASE WHEN value IS NOT NULL THEN ts END) AS fnum"
    "  FROM observations WHERE ts > ? AND ts <= ? GROUP BY signal) g"
    " JOIN observations f ON f.id = (SELECT id FROM observations"
    "  WHERE signal = g.signal AND ts > ? AND ts <= ? ORDER BY ts, id LIMIT 1)"
    " JOIN observations l ON l.id = (SELECT id FROM observations"
    "  WHERE signal = g.signal AND ts > ? AND ts <= ? ORDER BY ts DESC, id DESC LIMIT 1)")


def _hour_of(ts: float) -> float:
    """The end of the hour (end - 3600, end] that holds ``ts``."""
    end = math.floor(ts / _HOUR) * _HOUR
    return end if end >= ts else end + _HOUR


def _least(row: Iterable[float | None]) -> float | None:
    # SQL's min(a, b) is NULL when either is: the smaller of those that are there
    return min((x for x in row if x is not None), default=None)


class _Part(NamedTuple):
    """A signal over a stretch of time: what signal_stats reports, merged stretch by
    stretch; ``first`` and ``last`` are (ts, value, text, unit)."""

    source: str
    n: int
    nv: int
    lo: float | None
    hi: float | None
    first: tuple
    last: tuple


def _merge(*parts: dict[str, _Part]) -> dict[str, _Part]:
    """Stretches of time, oldest first, as one."""
    out: dict[str, _Part] = {}
    for part in parts:
        for sig, p in part.items():
            q = out.get(sig)
            out[sig] = p if q is None else _Part(
                min(q.source, p.source), q.n + p.n, q.nv + p.nv,
                min((x for x in (q.lo, p.lo) if x is not None), default=None),
                max((x for x in (q.hi, p.hi) if x is not None), default=None),
                q.first, p.last)
    return out


def _row_counts(c: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                     " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: c.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}


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
                       _dt(row["retry_after"]), json.loads(row["data"] or "{}"))


def _dream(row: sqlite3.Row) -> Dream:
    return Dream(row["date"], row["path"], row["backend"], row["model"], row["fallback_reason"],
                 clock.from_ts(row["cycle_start"]), clock.from_ts(row["cycle_end"]),
                 row["digest_sha256"], row["sha256"], row["tokens"], clock.from_ts(row["created"]))


def _session(row: sqlite3.Row) -> Session:
    return Session(row["id"], clock.from_ts(row["started"]), _dt(row["ended"]), row["pid"],
                   row["reason"], row["end_reason"], row["exit_code"], bool(row["consolidated"]))


def _intent(row: sqlite3.Row) -> Intent:
    return Intent(row["id"], row["kind"], row["key"], json.loads(row["payload"]), row["step"],
                  clock.from_ts(row["created"]), _dt(row["done"]))
