"""home/morning.html: the agent's night and world on one self-contained page.

Inline CSS and inline SVG only: no script, no font, no image from anywhere, so the page
opens from ``file://`` and under a Content-Security-Policy that allows nothing but its
own stylesheet (pinned by its sha256 in a ``<meta>``; the server sends the same policy).

Everything a feed, a source or the agent wrote goes through Jinja2's autoescape: a
hostile title renders as text. Charts are drawn from points the store aggregates (at
most ``CHART_POINTS`` per chart), so the cost does not grow with the poll rate.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from reverie.memory import atomic, clock, safe_read
from reverie.memory.home import Home
from reverie.memory.ledger import record as ledger_record
from reverie.perception import templating
from reverie.memory.store import ChartPoint, FailureSpan, Observation, Store, StoreError
from reverie.perception.audit import split_dream
from reverie.perception import health
from reverie.perception.sources import SourceSpec
from reverie.perception.state import ITEMS_PER_SOURCE, MAX_ERROR, item_group
from reverie.perception.text import Times, age, change, clean, distinct, reading, unit_for

CHART_POINTS = 200
CHART_W, CHART_H, CHART_PAD = 300.0, 84.0, 6.0
WINDOWS = (("7 days", timedelta(days=7)), ("30 days", timedelta(days=30)))
# A signal younger than the shortest window gets one chart of its whole history: a
# week-wide chart of a home born this morning would be a dot at the right edge.
FAILURE_SPANS = 100  # per chart; a flapping source is shaded, not listed poll by poll
SESSION_DAYS = 7
LEDGER_LINES = 8
LEDGER_TAIL_BYTES = 256 * 1024
MAX_DREAM_BYTES = 512 * 1024
TEMPLATE = "page.html.j2"

_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S | re.I)


class PageError(Exception):
    """The page could not be rendered (a broken user template); one line."""


# -- the policy -------------------------------------------------------------------------

def style_hashes(html: str) -> list[str]:
    """CSP source expressions for every inline ``<style>`` of ``html``."""
    out = []
    for m in _STYLE.finditer(html):
        digest = hashlib.sha256(m.group(1).encode("utf-8")).digest()
        out.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return out


def page_csp(html: str, *, header: bool = False) -> str:
    """The page's Content-Security-Policy: its own styles, ``data:`` images, nothing else.
    ``frame-ancestors`` only works as a header, so the ``<meta>`` leaves it out."""
    styles = " ".join(style_hashes(html)) or "'none'"
    policy = (f"default-src 'none'; style-src {styles}; img-src data:; base-uri 'none'; "
              "form-action 'none'")
    return policy + ("; frame-ancestors 'none'" if header else "")


# -- charts -----------------------------------------------------------------------------

def chart(points: list[ChartPoint], fails: list[FailureSpan], start: float, end: float,
          T: Times, *, title: str) -> dict:
    """Geometry of one chart. ``points`` holds the last value, min and max per time bucket:
    the line goes through the last values, time on x, value on y (the window's min at
    the bottom); where a bucket held several readings a band shows their range; failing
    periods are shaded."""
    series = [(clock.to_ts(p.ts), p.value, p.lo, p.hi) for p in points]
    span = max(end - start, 1e-9)
    w, h, pad = CHART_W, CHART_H, CHART_PAD

    def x_of(ts: float) -> float:
        return pad + min(max((ts - start) / span, 0.0), 1.0) * (w - 2 * pad)

    lo = min((r[2] for r in series), default=0.0)
    hi = max((r[3] for r in series), default=0.0)

    def y_of(v: float) -> float:
        if hi == lo:
            return h / 2
        return h - pad - (v - lo) / (hi - lo) * (h - 2 * pad)

    xy = [(x_of(t), y_of(v)) for t, v, _, _ in series]
    band = ""
    if any(r[2] != r[3] for r in series):
        top = [f"{x_of(t):.1f},{y_of(b):.1f}" for t, _, _, b in series]
        bottom = [f"{x_of(t):.1f},{y_of(a):.1f}" for t, _, a, _ in reversed(series)]
        band = " ".join(top + bottom)
    # periods closer than a unit of width are one band: a flapping source is one shade
    merged: list[list] = []
    for f in fails:
        first, stop, n = clock.to_ts(f.first), clock.to_ts(f.stop) if f.stop else None, f.polls
        a, b = x_of(max(first, start)), x_of(stop if stop is not None else end)
        if merged and a - merged[-1][1] < 1.0:
            last = merged[-1]
            last[1], last[3], last[4] = max(b, last[1]), stop, last[4] + n
        else:
            merged.append([a, b, first, stop, n])
    bands = []
    for a, b, first, stop, n in merged:
        until = T.text(stop, "%m-%d %H:%M") if stop is not None else "now"
        bands.append({"x": f"{a:.1f}", "width": f"{max(b - a, 1.5):.1f}",
                      "title": f"failing from {T.text(first, '%m-%d %H:%M')} to {until}"
                               f" ({n} failed poll{'s' if n != 1 else ''})"})
    return {
        "title": title,
        "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in xy),
        "band": band,
        "last": {"x": f"{xy[-1][0]:.1f}", "y": f"{xy[-1][1]:.1f}"} if xy else None,
        "fails": bands,
        "count": len(series),
        "lo": lo if series else None,
        "hi": hi if series else None,
    }


# -- the context ------------------------------------------------------------------------

def build_page_context(home: Home, store: Store, specs: list[SourceSpec], *, tz: ZoneInfo,
                       now: datetime | None = None) -> dict:
    now = now or clock.now()
    t_now = clock.to_ts(now)
    T = Times(tz)
    specs = [s for s in specs if s.enabled]
    wake = store.last_wake()
    born_meta = store.get_meta("born")  # read only: the page never stamps the store
    born = clock.from_ts(float(born_meta)) if born_meta else None

    ctx: dict[str, Any] = {
        "now": {"at": T.iso(now), "text": T.moment(now),
                "date": T.text(now, "%A %-d %B %Y")},
        "timezone": str(tz),
        "day": ((now.astimezone(tz).date() - born.astimezone(tz).date()).days + 1
                if born else None),
        "wake": {"at": T.iso(wake), "text": T.text(wake, "%a %H:%M"),
                 "ago": age(t_now - clock.to_ts(wake))} if wake else None,
        "dream": _dream(home, store, T),
    }
    ctx.update(_signals(store, specs, now, wake, T))
    since = wake or now - timedelta(days=1)
    groups = store.items_by_source(since, now, per_source=ITEMS_PER_SOURCE)
    ctx["items"] = {
        "title": (f"New since the last wake ({T.text(wake, '%a %H:%M')})" if wake
                  else "New in the last 24 hours (no wake yet)"),
        "sources": [item_group(s.name, groups[s.name].count, groups[s.name].newest, T) for s in specs if s.name in groups],
    }
    ctx["health"] = _health(specs, store, ctx.pop("_latest"), now, T)
    ctx["sessions"] = _sessions(store, now, tz, T)
    ctx["ledger"] = _ledger(home, T)
    ctx["distilled"] = _distilled(home, now.astimezone(tz).date())
    return ctx


DISTILLED_BULLETS = 40
PATTERN_BULLETS = 6


def _distilled(home: Home, today) -> dict | None:
    """The latest day distilled into memory/ (up to today): its bullets, each with links
    to the diary lines it cites, and what the audit says of them now."""
    from reverie.memory.diary import Diaries
    from reverie.perception.memory_audit import audit_distilled, citations, claim_of

    days = sorted(p.name for p in home.memory_dir.glob("distilled-*.md")
                  if p.name[10:20] <= today.isoformat())
    if not days:
        return None
    rel = f"memory/{days[-1]}"
    diaries = Diaries(home.root)

    def read(path):
        try:  # never blocks on a FIFO the agent put there, never follows a link out
            return safe_read.read_text(home.inside(path), max_bytes=MAX_DREAM_BYTES,
                                       errors="replace")
        except (OSError, ValueError):
            return None

    def bullets(text: str, cap: int) -> list[dict]:
        out = []
        body = text.split("\n---\n", 1)[-1].split("\n## Receipt")[0]
        for line in body.splitlines():
            if not line.startswith("- "):
                continue
            label = re.match(r"- ((?:recurring )?[a-z]+(?: \(\d+ days?\))?): ", line)
            cites = []
            for a in citations(line)[:12]:
                found = diaries.resolve(a)
                href = found.block.href if found.block else a.split("#")[0]
                cites.append({"text": a.removeprefix("diary/"), "href": href})
            out.append({"kind": label.group(1) if label else "",
                        "text": clean(claim_of(line), 400), "cites": cites})
            if len(out) >= cap:
                break
        return out

    text = read(rel)
    if text is None:
        return {"path": rel, "missing": True, "bullets": [], "patterns": [], "audit": None}
    report = audit_distilled(rel, text, diaries)
    meta: dict = {}
    if text.startswith("---\n"):
        try:
            meta = yaml.safe_load(text.split("---\n", 2)[1]) or {}
        except yaml.YAMLError:
            meta = {}
    meta = meta if isinstance(meta, dict) else {}
    patterns = read("memory/patterns.md")
    return {
        "path": rel, "missing": False, "date": clean(meta.get("date") or days[-1][10:20], 20),
        "backend": clean(meta.get("backend") or "?", 40),
        "fallback": clean(meta.get("fallback_reason"), 300) if meta.get("fallback_reason") else None,
        "bullets": bullets(text, DISTILLED_BULLETS),
        "audit": (f"{report.lines} lines, {report.cited} cited, {report.resolved} resolved, "
                  f"{report.unchanged} unchanged, {report.supported} supported"),
        "ok": report.ok,
        "patterns": bullets(patterns, PATTERN_BULLETS) if patterns else [],
    }


def _dream(home: Home, store: Store, T: Times) -> dict | None:
    row = store.last_dream()
    if row is None:
        return None
    text = None
    for candidate in (row.path, home.latest_dream):
        if not candidate:
            continue
        try:
            p = home.inside(candidate)
            with open(p, "rb") as f:
                text = f.read(MAX_DREAM_BYTES).decode("utf-8", errors="replace")
            break
        except (OSError, ValueError):
            continue
    meta, prose, _, receipt = split_dream(text or "")
    blocks = []
    for para in re.split(r"\n\s*\n", prose.strip()):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        if not lines:
            continue
        if lines[0].startswith("#"):
            blocks.append({"heading": clean(lines[0].lstrip("#"), 200)})
            lines = lines[1:]
        if lines:
            blocks.append({"text": clean(" ".join(lines))})
    backend = row.backend or "?"
    if row.model:
        backend += f" ({row.model})"
    return {
        "date": row.date,
        "backend": backend,
        "fallback": clean(row.fallback_reason, 300) if row.fallback_reason else None,
        "cycle": (f"{T.text(row.cycle_start, '%a %H:%M')} – "
                  f"{T.text(row.cycle_end, '%a %H:%M')}"),
        "path": str(row.path or ""),
        "blocks": blocks,
        "missing": text is None,
        "receipt": receipt_items(receipt),
        "audit": clean(meta.get("audit"), 300) if isinstance(meta, dict) and meta.get("audit")
        else None,
    }


_LIST_ITEM = re.compile(r"^(\s*)[-*+]\s+(.*)$")


def receipt_items(receipt: str) -> list[dict]:
    """The receipt's Markdown list as ``[{"text", "children": [...]}]``, for an HTML
    list: its heading goes (the page has its own summary), list markers go, an
    indented item belongs to the item above it. A line that is not an item is an item."""
    out: list[dict] = []
    for line in receipt.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LIST_ITEM.match(line)
        indent, body = (len(m.group(1)), m.group(2)) if m else (0, line)
        text = clean(body, 500)
        if not text:
            continue
        if indent and out:
            out[-1]["children"].append(text)
        else:
            out.append({"text": text, "children": []})
    return out


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
                   "age": age(t_now - clock.to_ts(cur.ts)), "at": T.text(cur.ts, "%a %H:%M")}
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


def _ledger(home: Home, T: Times) -> list[dict]:
    try:
        with open(home.ledger, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - LEDGER_TAIL_BYTES))
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > LEDGER_TAIL_BYTES:
        lines = lines[1:]  # the first may be cut
    out = []
    for line in reversed([ln for ln in lines if ln.strip()][-LEDGER_LINES:]):
        rec = ledger_record(line)
        if rec is None:
            out.append({"raw": clean(line, 300)})
            continue

        def n(k: str) -> int | str:
            v = rec.get(k)
            return v if isinstance(v, int) else "?"

        targets: dict = rec["targets"] if isinstance(rec.get("targets"), dict) else {}
        where = ", ".join(f"{clean(k, 80)} {v}" for k, v in list(targets.items())[:6])
        when = rec.get("ended") or rec.get("date") or ""
        try:
            when = T.text(datetime.fromisoformat(str(when)), "%a %m-%d %H:%M")
        except ValueError:
            when = clean(when, 40)
        if rec.get("kind") == "distill":
            out.append(_ledger_distill(rec, T))
            continue
        late = f", {n('late')} late" if rec.get("late") else ""
        out.append({
            "when": when,
            "session": clean(rec.get("session", ""), 80),
            "summary": f"{n('lines_in')} lines in: {n('promoted')} promoted"
                       + (f" ({where})" if where else "")
                       + f", {n('carried')} carried, {n('dropped')} dropped{late}",
            "end_reason": clean(rec.get("end_reason") or "", 40),
        })
    return out


def _ledger_distill(rec: dict, T: Times) -> dict:
    """A distillation's ledger line: how many of its lines are cited and supported."""
    def n(k: str) -> int | str:
        v = rec.get(k)
        return v if isinstance(v, int) else "?"

    when = rec.get("created") or ""
    try:
        when = T.text(datetime.fromisoformat(str(when)), "%a %m-%d %H:%M")
    except ValueError:
        when = clean(when, 40)
    fell = " (the model's bullets were not kept)" if rec.get("fallback_reason") else ""
    return {"when": when, "session": "",
            "summary": f"distilled {clean(rec.get('file') or '', 80)} ({clean(rec.get('backend') or '?', 20)}"
                       f"{fell}): {n('bullets')} lines, {n('cited')} cited, {n('supported')} "
                       f"supported, {n('patterns')} patterns",
            "end_reason": ""}


# -- rendering ----------------------------------------------------------------------

def default_template() -> str:
    return resources.files("reverie.perception").joinpath("templates", TEMPLATE).read_text("utf-8")


def render_html(context: dict, template: Path | None = None) -> str:
    """The page's HTML, its CSP ``<meta>`` pinned to the hash of its own styles."""
    try:
        source = templating.read(template) if template else default_template()
    except OSError as e:
        raise PageError(f"{template}: cannot read the template: {e.strerror}") from None
    where = str(template) if template else TEMPLATE
    # The policy names the styles' hash, known only once they are rendered: a token
    # nobody can guess stands in for it (hostile text cannot forge it).
    token = f"@@style-hash-{secrets.token_hex(8)}@@"
    try:
        html = templating.render("page", source, {**context, "csp": token},
                                 untrusted=template is not None, where=where)
    except templating.RenderFailure as e:
        if e.bounds:  # abandoned over a bound (logged once): our page instead
            html = templating.render("page", default_template(), {**context, "csp": token},
                                     untrusted=False)
        elif e.lineno is not None:
            raise PageError(f"{where}:{e.lineno}: {e.message}") from None
        else:
            raise PageError(f"{where}: {e.type_name}: {e.message}") from None
    return html.replace(token, page_csp(html), 1)


def render_page(home: Home, store: Store, specs: list[SourceSpec], *, tz: ZoneInfo,
                now: datetime | None = None, template: Path | None = None) -> Path:
    """Write home/morning.html atomically; returns its path."""
    try:
        context = build_page_context(home, store, specs, tz=tz, now=now)
    except StoreError as e:
        raise PageError(f"cannot read the store: {clean(e, 200)}") from None
    atomic.write_text(home.page, render_html(context, template))
    return home.page
