"""`reverie export`: the record's observations out, as CSV or JSON Lines, in bounded memory.

One row per reading, oldest first (the columns are documented in the README, "Data out"):

    time       the reading's time in the config's zone, ISO 8601 with its offset
    time_utc   the same instant in UTC, ISO 8601 ending in Z
    source     the source's name
    signal     the signal's full name, <source>.<field>
    value      the number, or empty (CSV) / null (JSONL) for a text reading
    text       the text, or empty / null for a number
    unit       the unit, or empty / null

The store hands the rows over a few thousand at a time (Store.iter_observations), and each
is written as it comes: memory does not grow with the record.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime, time, timedelta, timezone
from typing import IO, Iterable
from zoneinfo import ZoneInfo

from reverie.memory.store import Observation

COLUMNS = ("time", "time_utc", "source", "signal", "value", "text", "unit")
FORMATS = ("csv", "jsonl")


def parse_when(text: str, tz: ZoneInfo, *, end: bool = False) -> datetime:
    """``2026-03-01`` (the day's start in ``tz``; with ``end``, the next day's start, so that
    --until 2026-03-01 includes that day), or an ISO datetime (naive ones are in ``tz``)."""
    text = text.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime.combine(d + timedelta(days=1 if end else 0), time(), tzinfo=tz)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid date {text!r} (use YYYY-MM-DD or an ISO date and time, "
                         "like 2026-03-01T08:00 or 2026-03-01T08:00+01:00)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def _number(v: float | None) -> str | float | None:
    if v is None:
        return None
    if math.isfinite(v) and v == int(v) and abs(v) < 2 ** 53:
        return int(v)
    return v if math.isfinite(v) else str(v)  # JSON has no inf/nan: said as a string


def write(rows: Iterable[Observation], out: IO[str], tz: ZoneInfo, fmt: str) -> int:
    """Write ``rows`` to ``out`` in ``fmt``; returns how many."""
    n = 0
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS)
        for o in rows:
            v = _number(o.value)
            w.writerow((o.ts.astimezone(tz).isoformat(), _utc(o.ts), o.source, o.signal,
                        "" if v is None else v, o.text or "", o.unit or ""))
            n += 1
    else:
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for o in rows:
            out.write(dumps({"time": o.ts.astimezone(tz).isoformat(), "time_utc": _utc(o.ts),
                             "source": o.source, "signal": o.signal, "value": _number(o.value),
                             "text": o.text, "unit": o.unit}))
            out.write("\n")
            n += 1
    return n


def _utc(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


__all__ = ["COLUMNS", "FORMATS", "parse_when", "write"]
