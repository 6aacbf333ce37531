"""The page's days: the last week's sessions and the wakes not taken, each day a strip of
24 hours and a list of what happened when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reverie.memory import clock
from reverie.memory.store import Store
from reverie.perception.text import Times, age, clean

SESSION_DAYS = 7


@dataclass
class _Day:
    date: str
    label: str
    start: float
    sessions: list
    marks: list
    events: list


def _sessions(store: Store, now: datetime, tz: ZoneInfo, T: Times) -> list[dict]:
    local_now = now.astimezone(tz)
    first_day = (local_now - timedelta(days=SESSION_DAYS - 1)).date()
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    days: dict[str, _Day] = {}
    t_now = clock.to_ts(now)

    def day_of(ts: float) -> _Day:
        d = clock.from_ts(ts).astimezone(tz).date()
        key = d.isoformat()
        if key not in days:
            midnight = datetime.combine(d, datetime.min.time(), tzinfo=tz)
            days[key] = _Day(key, midnight.strftime("%a %-d %b"), clock.to_ts(midnight),
                             [], [], [])
        return days[key]

    def x_of(day: _Day, ts: float) -> float:
        return min(max((ts - day.start) / 86400.0, 0.0), 1.0) * 240.0

    for s in store.sessions(since, now):
        started = clock.to_ts(s.started)
        ended = clock.to_ts(s.ended) if s.ended is not None else None
        day = day_of(started)
        end = ended if ended is not None else t_now
        how = s.end_reason or ("running" if ended is None else "ended")
        span = f"{T.text(started, '%H:%M')}–" + (
            T.text(ended, "%H:%M") if ended is not None else "now")
        text = f"awake {span} ({age(end - started)}), {how}"
        if s.exit_code not in (None, 0):
            text += f", exit code {s.exit_code}"
        a = x_of(day, started)
        day.sessions.append({"x": f"{a:.1f}", "width": f"{max(x_of(day, end) - a, 1.5):.1f}",
                             "cls": "run" if ended is None else
                             "bad" if how in ("killed", "lost", "timed out") else "ok",
                             "title": text})
        if ended is None:
            short = f"still awake ({age(end - started)})"
        else:
            short = f"until {T.text(ended, '%H:%M')} ({age(end - started)}), {how}"
        if s.exit_code not in (None, 0):
            short += f", exit code {s.exit_code}"
        day.events.append({"ts": started, "time": T.text(started, "%H:%M"),
                           "kind": "woke", "text": short,
                           "reason": clean(s.reason, 200) if s.reason else ""})
    for w in store.wakes(since, limit=500):
        if w.outcome == "started":
            continue  # its session tells it
        when = clock.to_ts(w.scheduled or w.ts)
        if when > t_now:
            continue
        day = day_of(when)
        reason = clean(w.reason, 200)
        day.marks.append({"x": f"{x_of(day, when):.1f}", "cls": w.outcome,
                          "title": f"{T.text(when, '%H:%M')} {w.outcome}: {reason}"})
        day.events.append({"ts": when, "time": T.text(when, "%H:%M"), "kind": w.outcome,
                           "text": "", "reason": reason})
    out = []
    for key in sorted(days, reverse=True):
        d = days[key]
        d.events.sort(key=lambda e: e["ts"])
        out.append({"date": d.date, "label": d.label, "sessions": d.sessions,
                    "marks": d.marks, "events": d.events,
                    "title": f"{d.label}: {len(d.sessions)} session(s), "
                             f"{len(d.marks)} wake(s) not taken"})
    return out
