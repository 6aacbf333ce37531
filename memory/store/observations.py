"""Readings: a signal's value at a time, its series, chart points, and appending
readings without a poll (imports, synthetic histories)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence

from reverie.memory import clock
from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import ChartPoint, Observation, _dt, _obs


class ObservationsMixin(StoreBase):
    """The observations table, read raw."""

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

    def texts_between(self, signal: str, start: datetime, end: datetime) -> list[str]:
        """The text readings of ``signal`` over (start, end], oldest first."""
        rows = self._q("SELECT text FROM observations WHERE signal = ? AND ts > ? AND ts <= ?"
                       " AND text IS NOT NULL ORDER BY ts, id",
                       (signal, clock.to_ts(start), clock.to_ts(end)))
        return [r[0] for r in rows]

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
