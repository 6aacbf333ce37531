"""The totals /metrics shows (one read snapshot), and retention's folded poll counts."""

from __future__ import annotations

import sqlite3
from typing import Iterable

from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import (
    POLL_BUCKETS, DreamTotals, Heartbeat, MetricsSnapshot, Observation, PollCounts, PollTotals,
    SessionTotals, TokenTotals, _dt, _obs)


class TotalsMixin(StoreBase):
    """Counts over every table, for /metrics and /healthz."""

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

    @staticmethod
    def _fold_polls(c: sqlite3.Connection, before_ts: float) -> None:
        """Inside apply_retention's transaction: add the polls about to be deleted (ts <
        ``before_ts``) to folded_polls, and remember the highest id folded."""
        rows = c.execute(TotalsMixin._poll_agg("ts < ?"), (before_ts,)).fetchall()
        for source, n in TotalsMixin._poll_counts(rows).items():
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
