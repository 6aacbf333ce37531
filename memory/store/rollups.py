"""Hourly rollups of observations and polls, the window summaries a digest reads
through them (signal_stats, window_extremes, poll_stats), and retention."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime
from typing import Iterable, NamedTuple

from reverie.memory import bounded_json, clock
from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import Extremes, Observation, PollStats, RolledHours, SignalStats
from reverie.memory.store.totals import TotalsMixin


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


class RollupsMixin(StoreBase):
    """rollups and poll_rollups, and what reads through them."""

    def apply_retention(self, before: datetime) -> int:
        """Delete raw observations, polls and finished intents (their payload is a whole
        working.md) older than ``before``, with the rollups of every hour that lost a row;
        then roll up the complete hours not yet rolled. Returns rows removed."""
        t = clock.to_ts(before)
        with self._transaction() as c:
            n = c.execute("DELETE FROM observations WHERE ts < ?", (t,)).rowcount
            TotalsMixin._fold_polls(c, t)
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
                r = self._q("SELECT ts, value, text, unit FROM observations WHERE signal = ?"
                            f" AND ts > ? AND ts <= ? ORDER BY ts {order}, id {order} LIMIT 1",
                            (g["signal"], a, b))
                ends.append(tuple(r[0]))  # the group has a row: so has its first and last
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
        return bounded_json.loads(v) if v else None

    @staticmethod
    def _set_rollup_meta(c: sqlite3.Connection, m: dict) -> None:
        c.execute("INSERT INTO meta(key, value) VALUES ('rollups', ?)"
                  " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                  (json.dumps(m, sort_keys=True),))

    def _late(self, m: dict) -> float | None:
        """The oldest time of a row written after the last roll (None when none was)."""
        # +ts: read the new rows by id, not the whole ts index for its smallest match
        return _least(self._one_row("SELECT (SELECT MIN(+ts) FROM observations WHERE id > ?),"
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
