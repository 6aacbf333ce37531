"""Wakes, sessions and intents (the journal that makes consolidation crash-safe)."""

from __future__ import annotations

import json
from datetime import datetime

from reverie.memory import clock
from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import Intent, Session, Wake, _dt, _intent, _session


class SessionsMixin(StoreBase):
    """wakes, sessions and intents."""

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
