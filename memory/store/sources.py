"""Sources: one run recorded whole (poll, readings, new items, state), the source_state
row (validators, health), polls, items and failing periods."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from reverie.memory import bounded_json, clock
from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import (
    FailureSpan, Item, ItemGroup, NewItem, Poll, Reading, SourceState, StateChange, _dt, _item,
    _poll, _state)

# source_state's time columns (POSIX seconds in the table, aware datetimes above it)
_TIMES = frozenset({"failing_since", "last_ok", "last_error_ts", "retry_after"})


class SourcesMixin(StoreBase):
    """polls, items and source_state."""

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

    # poll.py and state.py (perception) ------------------------------------------

    _STATE_COLS = ("etag", "last_modified", "consecutive_failures", "failing_since", "last_ok",
                   "last_error", "last_error_ts", "retry_after", "data")

    def record_run(self, source: str, ts: datetime, *, ok: bool, error: str | None = None,
                   duration: float | None = None, readings: Iterable[Reading] = (),
                   items: Iterable[NewItem] = (), state: StateChange | None = None
                   ) -> list[str]:
        """Store one source run, its readings, new items and an update of the source's
        state row, in one transaction: a crash never leaves readings without the health (or
        validators) they imply. Returns the uids of new items.

        ``state`` holds the source_state columns to change, times as aware datetimes.
        (Still taken until the tests that write histories move over: a reading as a plain
        4-tuple, an item as a dict with the NewItem fields, a state time as POSIX seconds.)
        """
        t = clock.to_ts(ts)
        new: list[str] = []
        upsert = self._upsert(tuple(state)) if state else None
        vals = [_stored(k, v) for k, v in state.items()] if state else []
        rows = [_item_row(it) for it in items]
        with self._lock:
            try:
                with self._transaction() as c:
                    c.execute("INSERT INTO polls(source, ts, ok, error, duration)"
                              " VALUES (?,?,?,?,?)", (source, t, int(ok), error, duration))
                    c.executemany(
                        "INSERT INTO observations(source, signal, ts, value, text, unit)"
                        " VALUES (?,?,?,?,?,?)",
                        [(source, s, t, v, tx, u) for s, v, tx, u in readings])
                    for uid, pub, title, link, summary in rows:
                        cur = c.execute(
                            "INSERT OR IGNORE INTO items(source, uid, ts, published, title,"
                            " link, summary) VALUES (?,?,?,?,?,?,?)",
                            (source, uid, t, pub, title, link, summary))
                        if cur.rowcount:
                            new.append(uid)
                    if upsert:
                        c.execute(upsert, (source, *vals))
            except BaseException:
                self._states.pop(source, None)  # committed or not: read it again
                raise
            if state:
                self._wrote_state(source, dict(state), vals)
        return new

    _STATE_TIMES = _TIMES

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
                fields[k] = bounded_json.loads(stored)
            elif k in self._STATE_TIMES:
                fields[k] = _dt(stored)
            else:
                fields[k] = v
        self._states[source] = new

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

    def poll_before(self, source: str, when: datetime) -> Poll | None:
        """The last poll of ``source`` at or before ``when``."""
        row = self._q1("SELECT * FROM polls WHERE source = ? AND ts <= ?"
                       " ORDER BY ts DESC, id DESC LIMIT 1", (source, clock.to_ts(when)))
        return _poll(row) if row else None

    def count_items_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """New feed items first seen in (start, end], per source."""
        rows = self._q("SELECT source, COUNT(*) FROM items WHERE ts > ? AND ts <= ?"
                       " GROUP BY source ORDER BY source", (clock.to_ts(start), clock.to_ts(end)))
        return {r[0]: r[1] for r in rows}

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


def _stored(column: str, value: Any) -> Any:
    """A source_state column's value as the table keeps it."""
    if column == "data":
        return json.dumps(value, sort_keys=True)
    if column in _TIMES and isinstance(value, datetime):
        return clock.to_ts(value)
    return value


def _item_row(it: NewItem | dict) -> tuple[str, float | None, str, str | None, str]:
    if isinstance(it, dict):  # the older form (tests that write histories)
        it = NewItem(it["uid"], it.get("title") or "", it.get("link"), it.get("published"),
                     it.get("summary") or "")
    pub = it.published
    return (it.uid, clock.to_ts(pub) if pub else None, it.title or "", it.link,
            it.summary or "")
