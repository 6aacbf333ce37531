"""perception/state.md and state.json: what the world looks like now.

One plain dict (the context) is built from the store with a few indexed queries, dumped
as state.json and rendered through a Jinja2 template (the user's, or ours) into
state.md. Every value a template prints is escaped for Markdown on the way out, so
hostile feed titles or readings cannot break a table or inject a heading.

Cost does not grow with how much is stored: per signal, one statement looks up the
reading at a handful of instants (now, the last wake, a day ago, the 16 sparkline
bucket ends) through the (signal, ts) index.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Callable, Any
from zoneinfo import ZoneInfo


from reverie.memory import _log, atomic, clock
from reverie.memory.home import Home
from reverie.perception import templating
from reverie.memory.store import Dream, Item, Observation, SourceState, Store, StoreError
from reverie.perception import health
from reverie.perception.sources import SourceSpec
from reverie.perception.text import (MAX_VALUE_TEXT, Times, age, change, clean,
                                     reading, safe_link)

log = _log.get("reverie.state")

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a sparkline bucket before the signal's first reading
SPARK_BUCKETS = 16
SPARK_SPAN = timedelta(days=7)
ITEMS_PER_SOURCE = 10
MAX_TITLE = 200
MAX_SUMMARY = 160
MAX_ERROR = 200


class StateError(Exception):
    """The state could not be rendered (a broken user template); one line."""


def sparkline(values: list[float | None]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return ""
    lo, hi = min(present), max(present)
    out = []
    for v in values:
        if v is None:
            out.append(GAP)
        elif hi == lo:
            out.append(BLOCKS[3])
        else:
            out.append(BLOCKS[round((v - lo) / (hi - lo) * (len(BLOCKS) - 1))])
    return "".join(out)


# -- the context ------------------------------------------------------------------------

def build_context(home: Home, store: Store, specs: list[SourceSpec], *, tz: ZoneInfo,
                  now: datetime | None = None) -> dict:
    """Everything state.md shows, as plain JSON-ready data (times ISO, in ``tz``)."""
    now = now or clock.now()
    T = Times(tz)
    specs = [s for s in specs if s.enabled]
    names = {s.name for s in specs}

    try:
        born: datetime | None = store.born()
    except StoreError:  # a read-only store that was never stamped
        born = None
    wake = store.last_wake()
    dream = store.last_dream()

    ctx: dict[str, Any] = {
        "now": {"at": T.iso(now), "text": T.moment(now)},
        "timezone": str(tz),
        "day": (max(1, (now.astimezone(tz).date() - born.astimezone(tz).date()).days + 1)
                if born else None),
        "born": {"at": T.iso(born), "date": born.astimezone(tz).date().isoformat()}
        if born else None,
        "wake": {"at": T.iso(wake), "text": T.text(wake), "ago": age(now - wake)}
        if wake else None,
        "dream": _dream_path(home, dream),
    }

    # signals of the configured sources, in config order
    by_source: dict[str, list[str]] = {}
    for sig in store.signal_names():
        src = sig.split(".", 1)[0]
        if src in names:
            by_source.setdefault(src, []).append(sig)
    width = SPARK_SPAN / SPARK_BUCKETS
    spark_start = now - SPARK_SPAN
    instants = [now, wake or now, now - timedelta(days=1)]
    instants += [spark_start + (k + 1) * width for k in range(SPARK_BUCKETS)]
    latest: dict[str, Observation] = {}
    signals = []
    for spec in specs:
        for sig in by_source.get(spec.name, []):
            found = store.readings_at(sig, instants)
            cur = found[0]
            if cur is None:
                continue
            latest[sig] = cur
            numeric = cur.value is not None
            signals.append({
                "signal": sig,
                "source": spec.name,
                "value": cur.value,
                "text": clean(cur.text, MAX_VALUE_TEXT) if cur.text is not None else None,
                "unit": cur.unit,
                "display": reading(cur),
                "at": T.iso(cur.ts),
                "age": age(now - cur.ts),
                "since_wake": change(cur, found[1]) if wake else "—",
                "day_change": change(cur, found[2]),
                "sparkline": sparkline([o.value if o else None for o in found[3:]])
                if numeric else "",
            })
    ctx["signals"] = signals
    ctx["files"] = [{"signal": s["signal"], "value": s["value"], "display": s["display"]}
                    for s in signals
                    if any(sp.name == s["source"] and sp.type == "files" for sp in specs)]

    # items new since the last wake (before any wake: of the last day)
    since = wake or now - timedelta(days=1)
    groups = store.items_by_source(since, now, per_source=ITEMS_PER_SOURCE)
    ctx["items"] = {
        "since": T.iso(since),
        "title": (f"New since the last wake ({T.text(wake, '%a %H:%M')})" if wake
                  else "New in the last 24 h (no wake yet)"),
        "sources": [item_group(spec.name, groups[spec.name].count, groups[spec.name].newest, T)
                    for spec in specs if spec.name in groups],
    }

    ctx["problems"] = _problems(specs, store.all_source_states(), latest, now, T)
    return ctx


def _dream_path(home: Home, dream: Dream | None) -> str | None:
    if not dream or not dream.path:
        return None
    p = Path(dream.path)
    if p.is_absolute():
        try:
            p = p.relative_to(home.root)
        except ValueError:
            pass
    return p.as_posix()


def item_group(source: str, count: int, rows: list[Item], T: Times) -> dict:
    """One source's new items, as state.md and the morning page list them."""
    items = []
    for r in rows:
        when = r.published or r.ts
        items.append({
            "at": T.iso(when),
            "seen": T.iso(r.ts),
            "when": T.text(when, "%m-%d %H:%M"),
            "title": clean(r.title, MAX_TITLE) or "(untitled)",
            "summary": clean(r.summary, MAX_SUMMARY),
            "link": safe_link(r.link),
        })
    return {"source": source, "count": count, "entries": items,
            "more": max(0, count - len(items))}


def _problems(specs: list[SourceSpec], states: dict[str, SourceState],
              latest: dict[str, Observation],
              now: datetime, T: Times) -> list[dict]:
    out = []
    for spec in specs:
        st = states.get(spec.name)
        good = [o for o in latest.values() if o.source == spec.name]
        # readings imply a good poll even where no health was kept (an imported store)
        h = health.source_health(spec, st, now=now,
                                 last_reading=max((o.ts for o in good), default=None))
        failures, last_ok = h.failures, h.last_ok
        if h.failing:
            status = f"failing ({failures} in a row)" if failures > 1 else "failing"
            since = h.failing_since
        elif h.status == health.NEVER_POLLED:
            status, since = "no reading yet", None
        elif h.status == health.STALE:
            status, since = "stale", last_ok
        else:
            continue
        good_text = ", ".join(f"{o.signal.split('.', 1)[1]} {reading(o)}" for o in good)
        out.append({
            "source": spec.name,
            "status": status,
            "failures": failures,
            "since": T.iso(since),
            "since_text": f"{T.text(since, '%m-%d %H:%M')} ({age(now - since)} ago)"
            if since else "",
            "error": clean(h.last_error, MAX_ERROR) if h.failing and h.last_error else None,
            "last_ok": T.iso(last_ok),
            "last_good": [{"signal": o.signal, "value": o.value, "display": reading(o),
                           "at": T.iso(o.ts)} for o in good],
            "last_good_text": (f"{age(now - last_ok)} ago" if last_ok else "never")
            + (f": {good_text}" if good_text and last_ok else ""),
        })
    return out


# -- rendering ----------------------------------------------------------------------

def default_template() -> str:
    return resources.files("reverie.perception").joinpath("templates", "state.md.j2").read_text("utf-8")


def render_text(context: dict, template: Path | None = None) -> str:
    try:
        source = templating.read(template) if template else default_template()
    except OSError as e:
        raise StateError(f"{template}: cannot read the template: {e.strerror}") from None
    where = str(template) if template else "state.md.j2"
    try:
        return templating.render("state", source, context, untrusted=template is not None,
                                 where=where)
    except templating.RenderFailure as e:
        if e.bounds:
            # abandoned over a bound (logged once by templating): the state still comes,
            # from our template, saying in its first line why
            note = (f"> The state template {where} was abandoned ({e.message}); "
                    "this is the built-in template.\n\n")
            return note + templating.render("state", default_template(), context,
                                            untrusted=False)
        if e.lineno is not None:
            raise StateError(f"{where}:{e.lineno}: {e.message}") from None
        raise StateError(f"{where}: {e.type_name}: {e.message}") from None


def render_state(home: Home, store: Store, specs: list[SourceSpec], *, tz: ZoneInfo,
                 template: Path | None = None, now: datetime | None = None) -> Path:
    """Write perception/state.md and state.json (atomically); returns state.md's path."""
    context = build_context(home, store, specs, tz=tz, now=now)
    text = render_text(context, template)
    atomic.write_text(home.state_json,
                      json.dumps(context, ensure_ascii=False, indent=2) + "\n")
    atomic.write_text(home.state_md, text)
    return home.state_md


class StateRenderer:
    """Renders the state after polls: at most once every ``min_interval`` seconds and only
    when the store changed. A change that arrives inside the quiet interval is rendered
    when it ends (a timer), so the last poll of a burst is never left out."""

    def __init__(self, home: Home, store: Store, specs: list[SourceSpec], tz: ZoneInfo,
                 template: Path | None = None, *, min_interval: float = 5.0,
                 on_render: Callable[[], object] | None = None):
        self.home, self.store, self.specs, self.tz, self.template = home, store, specs, tz, template
        self.min_interval = min_interval
        self.on_render = on_render  # e.g. the morning page, written with every state
        self._lock = threading.Lock()
        self._last_key: tuple | None = None
        self._last_at: float | None = None
        self._timer: threading.Timer | None = None
        self._last_error: str | None = None

    def update(self, *, specs: list[SourceSpec] | None = None, tz: ZoneInfo | None = None,
               template: Path | None | bool = False) -> None:
        """New config (a reload): the next maybe_render renders whatever the store says."""
        with self._lock:
            if specs is not None:
                self.specs = specs
            if tz is not None:
                self.tz = tz
            if not isinstance(template, bool):  # False: unchanged
                self.template = template
            self._last_key = None

    def _key(self) -> tuple:
        dream = self.store.last_dream()
        return (self.store.data_version(), self.store.last_wake(),
                dream and dream.date)

    def render(self, now: datetime | None = None) -> Path:
        with self._lock:
            return self._render(now)

    def _render(self, now: datetime | None) -> Path:
        key = self._key()
        path = render_state(self.home, self.store, self.specs, tz=self.tz,
                            template=self.template, now=now)
        self._last_key, self._last_at = key, clock.monotonic()
        self._last_error = None
        if self.on_render is not None:
            try:
                self.on_render()
            except Exception as e:  # the page is a view: never let it stop the state
                log.warning("page.render_failed", error=clean(e, 300))
        return path

    def maybe_render(self, now: datetime | None = None) -> bool:
        """Render if the store changed and the last render is old enough. Never raises:
        a failure is logged once (until it changes) and False returned."""
        with self._lock:
            try:
                if self._key() == self._last_key:
                    return False
                wait = (self._last_at + self.min_interval - clock.monotonic()
                        if self._last_at is not None else 0.0)
                if wait > 0:
                    if self._timer is None or not self._timer.is_alive():
                        self._timer = threading.Timer(wait + 0.01, self._deferred)
                        self._timer.daemon = True
                        self._timer.start()
                    return False
                self._render(now)
                return True
            except (StateError, OSError, StoreError) as e:
                msg = clean(e, 300)
                if msg != self._last_error:
                    log.warning("state.render_failed", error=msg)
                    self._last_error = msg
                return False

    def _deferred(self) -> None:
        self.maybe_render()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
