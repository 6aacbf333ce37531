"""The page's world: each source's signals with their latest reading, their change since
the last wake and their charts over the windows, and each source's health."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reverie.memory import clock
from reverie.memory.store import Observation, Store
from reverie.perception import health
from reverie.perception._page_charts import CHART_POINTS, chart
from reverie.perception.sources import SourceSpec
from reverie.perception.state import MAX_ERROR
from reverie.perception.text import Times, age, change, clean, distinct, reading, unit_for

WINDOWS = (("7 days", timedelta(days=7)), ("30 days", timedelta(days=30)))
# A signal younger than the shortest window gets one chart of its whole history: a
# week-wide chart of a home born this morning would be a dot at the right edge.
FAILURE_SPANS = 100  # per chart; a flapping source is shaded, not listed poll by poll


def _signals(store: Store, specs: list[SourceSpec], now: datetime, wake: datetime | None,
             T: Times) -> dict:
    t_now = clock.to_ts(now)
    names = {s.name for s in specs}
    by_source: dict[str, list[str]] = {}
    for sig in store.signal_names():
        src = sig.split(".", 1)[0]
        if src in names:
            by_source.setdefault(src, []).append(sig)
    latest: dict[str, Observation] = {}
    charts, texts = [], []
    fail_cache: dict[tuple[str, float], list] = {}
    for spec in specs:
        for sig in by_source.get(spec.name, []):
            cur, before = store.readings_at(sig, [now, wake or now])
            if cur is None:
                continue
            latest[sig] = cur
            row: dict[str, Any] = {"signal": sig, "source": spec.name, "display": reading(cur),
                   "since_wake": change(cur, before) if wake else None,
                   "age": age(now - cur.ts), "at": T.text(cur.ts, "%a %H:%M")}
            if cur.value is None:
                texts.append(row)
                continue
            windows = []
            for label, start in _windows(store.first_numeric_reading(sig), now, T):
                pts = store.chart_points(sig, start, now, CHART_POINTS)
                key = (spec.name, clock.to_ts(start))
                if key not in fail_cache:
                    fail_cache[key] = store.failure_spans(spec.name, start, now, FAILURE_SPANS)
                c = chart(pts, fail_cache[key], clock.to_ts(start), t_now, T,
                          title=f"{sig} {label}")
                lo, hi = distinct(c["lo"], c["hi"]) if c["count"] else ("", "")
                # "1 file" only where the whole range is 1; a range reads in plural
                u = unit_for(c["hi"] if c["count"] and c["lo"] == c["hi"] else None, cur.unit)
                unit = f" {u}" if u else ""
                if c["count"]:
                    c["title"] += f": from {lo} to {hi}{unit}, now {row['display']}"
                else:
                    c["title"] += ": no readings"
                if c["fails"]:
                    c["title"] += f"; {len(c['fails'])} failing period(s) shaded"
                c["label"] = label.removeprefix("over the last ")
                c["range"] = ("no readings" if not c["count"] else
                              f"{lo}{unit}" if lo == hi else f"{lo} – {hi}{unit}")
                windows.append(c)
            row["windows"] = windows
            charts.append(row)
    return {"charts": charts, "texts": texts, "_latest": latest}


def _windows(first: datetime | None, now: datetime, T: Times) -> list[tuple[str, datetime]]:
    """(label, start) of the charts a signal gets."""
    shortest = WINDOWS[0][1]
    if first is None or first <= now - shortest:
        return [(f"over the last {label}", now - span) for label, span in WINDOWS]
    lived = now - first
    margin = max(timedelta(milliseconds=1), lived * 0.02)
    return [(f"since {T.text(first, '%a %H:%M')}", first - margin)]


def _health(specs: list[SourceSpec], store: Store, latest: dict[str, Observation],
            now: datetime, T: Times) -> list[dict]:
    states = store.all_source_states()
    out = []
    for spec in specs:
        good = [o.ts for o in latest.values() if o.source == spec.name]
        h = health.source_health(spec, states.get(spec.name), now=now,
                                 last_reading=max(good, default=None))
        since = None
        quiet = age(now - (h.last_ok or now))  # since its last good reading
        if h.failing:
            status, since = "failing", h.failing_since
            detail = f"{h.failures} failed poll{'s' if h.failures != 1 else ''} in a row"
        elif h.status == health.NEVER_POLLED:
            status, detail = "waiting", "no reading yet"
        elif h.status == health.STALE:
            status, since = "stale", h.last_ok
            detail = f"no good reading for {quiet}"
        else:  # ok: it had a good reading
            status, detail = "ok", f"last good reading {quiet} ago"
        out.append({
            "source": spec.name,
            "type": spec.type,
            "status": status,
            "detail": detail,
            "since": f"{T.text(since, '%a %m-%d %H:%M')} ({age(now - since)} ago)"
            if since else None,
            "error": clean(h.last_error, MAX_ERROR) if h.failing and h.last_error else None,
        })
    return out
