"""The cycle's digest: what the signals did between two instants, as plain data.

The digest is what a dream is made from and what its receipt records, so it is
JSON-serialisable and hashable (:meth:`Digest.sha256`). Changes are measured from the
last reading *before* the cycle began when there is one, so a drop between the last
evening poll and the first morning one counts.

A signal's kind (money, reputation, work, items, weather, health, host) and its label
come from the config's source entries (:func:`meaning_of`: ``kind:``/``label:``, else the
source type), and without them from its field name and unit (:func:`classify`). A change
is notable against the signal's own usual movement (:func:`_usual`), and each notable
event has a score: the biggest is the night's lead (:meth:`Digest.lead`).
"""

from __future__ import annotations

import hashlib
import json
import re
import dataclasses
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any


from reverie.memory import _log, clock
from reverie.perception.notable import NotableRules  # noqa: F401  (the digest's rules; its name here too)
from reverie.perception.text import figure as fmt_num  # how the digest writes every figure

# What a signal means to the agent, which decides whether the dream must speak of it and
# what imagery it becomes. Order is the order of importance when two events tie.
from reverie.perception.sources import KINDS  # noqa: E402,F401  (money, reputation, work, …)

log = _log.get("reverie.digest")

MUST_SPEAK = ("money", "reputation", "work")  # spoken of whenever they moved

# a built-in source type's kind; fields of types not here are told by name and unit
TYPE_KINDS = {"weather": "weather", "wallet": "money", "moltbook": "reputation",
              "feed": "items", "files": "work", "system": "host"}

_WEATHER = ("temperature", "temp", "condition", "precipitation", "rain", "snow", "wind",
            "humidity", "cloud", "pressure", "weather", "feels_like", "uv")
_COINS = {"ETH", "SOL", "BTC", "USDC", "USDT", "DAI", "WETH", "MATIC", "POL", "LTC", "XMR"}
_VOICES = ("karma", "follower", "unread", "likes", "upvote", "comment", "mention", "reply",
           "replies", "subscriber", "stars")
_HOST = ("load", "memory", "disk", "cpu", "uptime", "swap")
# a field whose name says nothing without its source ("wallet balance", not "balance")
_GENERIC = {"balance", "count", "value", "total_items", "new_items", "total", "amount"}

# A number as it is written in prose: 1284, 1,284, 12.5, -3 (the sign is not compared).
NUMBER_RE = re.compile(r"(?<![\d.,])[-\u2212]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")


@dataclass(frozen=True)
class Meaning:
    kind: str
    label: str


def default_label(source: str, fieldname: str, kind: str) -> str:
    """A label a person says: "karma", "wallet balance", "posts", never "name.field"."""
    src = " ".join(source.replace("_", " ").replace("-", " ").split())
    words = " ".join(fieldname.replace("_", " ").replace("-", " ").split())
    if fieldname in ("count", "total_items", "new_items", "total"):
        return src
    if fieldname in _GENERIC:
        return f"{src} {words}" if src != words else words
    if fieldname == "words":
        return f"words in {src}"
    if fieldname == "unread":  # moltbook's, a mailbox's: "the unread" is no thing
        return "unread notifications"
    return words or src


def meanings(sources=()) -> dict[str, Any]:
    """source name -> (type kind, source kind/label overrides, per-field overrides), from
    the config's ``sources:`` entries (SourceSpec); see :func:`meaning_of`."""
    out: dict[str, Any] = {}
    for spec in sources or ():
        out[spec.name] = spec
    return out


def meaning_of(signal: str, unit: str | None, specs: dict[str, Any] | None = None) -> Meaning:
    """The kind and label of a signal: the config's ``kind:``/``label:`` for its source
    or field, else its source type's kind, else its name and unit.

    Only a ``weather`` source is the dream's sky by default: a compost heap's 61 °C from a
    ``command`` source is not the night's weather unless the config says ``kind: weather``."""
    source, _, fieldname = signal.partition(".")
    spec = (specs or {}).get(source)
    kind = label = None
    if spec is not None:
        kind = _pick(getattr(spec, "kind", None), fieldname)
        label = _pick(getattr(spec, "label", None), fieldname)
        if kind is None:
            kind = TYPE_KINDS.get(getattr(spec, "type", ""))
            if kind is None and classify(signal, unit) == "weather":
                kind = "other"
    kind = kind or classify(signal, unit)
    return Meaning(kind, label or default_label(source, fieldname, kind))


def _pick(value: Any, fieldname: str) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        v = value.get(fieldname)
        return v if isinstance(v, str) else None
    return None


def classify(signal: str, unit: str | None) -> str:
    """The kind of a signal told from its field name and unit alone (no config)."""
    fieldname = signal.split(".", 1)[-1].lower()
    source = signal.split(".", 1)[0].lower()
    u = (unit or "").strip()
    if fieldname in ("new_items", "total_items"):
        return "items"
    if fieldname in ("failures", "failed", "errors") or fieldname.endswith("_failures"):
        return "health"
    counts = fieldname in ("count", "words") or fieldname.endswith(("_count", "_words"))
    if counts and not any(v in fieldname for v in _VOICES):
        return "work"
    if "balance" in fieldname or u.upper() in _COINS:
        return "money"
    if any(v in fieldname for v in _VOICES):
        return "reputation"
    if source.startswith("weather"):
        return "weather"
    if any(w in fieldname for w in _WEATHER) or u in ("°C", "°F", "mm", "km/h", "m/s"):
        # a temperature of something else (a compost heap, a CPU) is not the sky
        return "other"
    if source == "system" or any(h in fieldname for h in _HOST):
        return "host"
    return "other"


_INTERVAL_UNITS = {"°C", "°F", "C", "F", "degC", "degF", "celsius", "fahrenheit"}


def interval_unit(unit: str | None) -> bool:
    """A unit whose zero is arbitrary (°C, °F): a percent change of it means nothing."""
    return (unit or "").strip().replace(" ", "") in _INTERVAL_UNITS


def percent_unit(unit: str | None) -> bool:
    """A reading that is itself a percent (humidity, cloud cover): it moves by points."""
    return (unit or "").strip().lower() in ("%", "percent", "pct")


# physical measures that move in their own unit (mm, km/h): a percent of them is noise
# ("cloud cover rose 1900 %", "rain rose 300 %")
_MEASURES = {"mm", "cm", "in", "inch", "km/h", "kmh", "m/s", "mph", "kn", "hpa", "mbar", "w/m²"}


def no_percent(unit: str | None) -> bool:
    """No percent change is computed, told or handed to the model for this unit: an
    interval scale (°C), a percent reading (humidity moves by points), a physical measure
    of the weather (mm, km/h move in their unit)."""
    return interval_unit(unit) or percent_unit(unit) or (unit or "").strip().lower() in _MEASURES


def numbers_in(text: str) -> list[float]:
    out = []
    for m in NUMBER_RE.finditer(text or ""):
        out.append(float(m.group(1).replace(",", "") + (m.group(2) or "")))
    return out


@dataclass
class SignalDigest:
    signal: str
    source: str
    field: str
    kind: str
    unit: str | None
    n: int
    first: float | None = None
    last: float | None = None
    min: float | None = None
    max: float | None = None
    before: float | None = None  # the last reading before the cycle
    change: float | None = None  # last - (before, or first when there is no before)
    change_pct: float | None = None
    text_first: str | None = None
    text_last: str | None = None
    # distinct consecutive texts (dataclasses.field: this class has a field named "field")
    arc: list[str] = dataclasses.field(default_factory=list)
    high30: bool = False
    low30: bool = False
    label: str = ""
    usual: float | None = None  # the signal's usual daily movement (median |change|)
    score: float = 0.0  # how unusual the night was for it: |change| / usual (or severity)
    beyond_noise: bool = False  # moved more than it usually does in a day (or, new, at all)

    @property
    def numeric(self) -> bool:
        return self.last is not None

    @property
    def direction(self) -> str:
        if not self.change:
            return "flat"
        return "up" if self.change > 0 else "down"


@dataclass
class Notable:
    signal: str  # a signal name, or a source name for doors and letters
    kind: str
    what: str  # change | high | low | started_failing | stopped_failing | failing | items | storm
    text: str
    score: float = 0.0  # salience: the biggest leads the dream


@dataclass
class Door:
    source: str
    polls: int
    failed: int
    started_failing: bool
    stopped_failing: bool
    failing_now: bool


@dataclass
class Digest:
    start: str  # ISO, UTC
    end: str
    tz: str
    signals: list[SignalDigest] = field(default_factory=list)
    notable: list[Notable] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)  # {source, title, summary}, capped
    items_total: int = 0
    items_by_source: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=lambda: {"count": 0, "minutes": 0})
    files: dict[str, float] = field(default_factory=dict)
    doors: list[Door] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sha256(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def lead(self) -> Notable | None:
        """The night's biggest event."""
        return max(self.notable, key=lambda n: n.score, default=None)

    def signal(self, name: str) -> SignalDigest | None:
        for s in self.signals:
            if s.signal == name:
                return s
        return None

    @property
    def empty(self) -> bool:
        return not (self.signals or self.items_total or self.sessions["count"] or self.doors)


def _zone_name(tz: tzinfo | None) -> str:
    if tz is None:
        return "UTC"
    return getattr(tz, "key", None) or str(tz)


def _r(x: float | None, nd: int = 6) -> float | None:
    return None if x is None else round(x, nd)


def _with_unit(x: float | None, unit: str | None) -> str:
    return fmt_num(x) + (f" {unit}" if unit else "")


def build_digest(store, start: datetime, end: datetime, *, tz: tzinfo | None = None,
                 rules: NotableRules | None = None, sources=(), raw: bool = False) -> Digest:
    """The digest of the cycle (start, end] from the store; ``sources`` (the config's
    SourceSpecs) give each signal its kind and label.

    Whole hours are read from the store's hourly rollups (rolled here first, when the
    store can write), the cut hours at the cycle's edges from the readings; ``raw`` reads
    every reading instead, for the same figures."""
    rules = rules or NotableRules()
    if not raw:
        from reverie.memory.store import StoreError  # not at import: the config needs NotableRules only

        try:
            store.roll_up()
        except StoreError as e:  # a store it cannot write (or busy): the rows say the same
            log.warning("digest.roll_up_failed", error=str(e))
    specs = meanings(sources)
    tz = tz or timezone.utc
    dg = Digest(start=start.astimezone(timezone.utc).isoformat(),
                end=end.astimezone(timezone.utc).isoformat(), tz=_zone_name(tz))
    window_start = start - timedelta(days=rules.high_low_days)
    extremes = store.window_extremes(window_start, start, raw=raw)

    for st in store.signal_stats(start, end, raw=raw):
        name = st.signal
        unit = st.last.unit or st.first.unit
        meaning = meaning_of(name, unit, specs)
        sd = SignalDigest(signal=name, source=st.source, field=name.split(".", 1)[-1],
                          kind=meaning.kind, unit=unit, n=st.count, label=meaning.label)
        if st.numeric:
            sd.first, sd.last = st.first.value, st.last.value
            sd.min, sd.max = st.lo, st.hi
            if sd.first is None or sd.last is None:  # mixed text/number: use the numbers
                series = [o.value for o in store.series(name, start + timedelta(microseconds=1), end)
                          if o.value is not None]
                if series:
                    sd.first, sd.last = series[0], series[-1]
            prior = store.value_at(name, start)
            if prior is not None and prior.value is not None:
                sd.before = prior.value
            base = sd.before if sd.before is not None else sd.first
            sd.change = _r(sd.last - base)
            if base and not no_percent(unit):
                sd.change_pct = _r(sd.change / abs(base) * 100, 2)
            sd.usual = _usual(store, name, start, end, rules.usual_days)
            if sd.change and sd.usual:
                sd.score = round(abs(sd.change) / sd.usual, 2)
            sd.beyond_noise = _beyond_noise(sd, rules)
            lo30, hi30, oldest = extremes.get(name, (None, None, None))
            # a record needs a history: a week of it (or the whole window when shorter)
            history = timedelta(days=min(7, rules.high_low_days))
            if oldest is not None and oldest <= start - history:
                sd.high30 = sd.max is not None and sd.max > hi30
                sd.low30 = sd.min is not None and sd.min < lo30
        texts = store.texts_between(name, start, end) if st.numeric < st.count else []
        if texts:
            sd.text_first, sd.text_last = texts[0], texts[-1]
            for t in texts:
                if not sd.arc or sd.arc[-1] != t:
                    sd.arc.append(t)
            sd.arc = sd.arc[:8]
            if sd.kind == "weather":
                sd.score = max(_severity(t) for t in texts)
        dg.signals.append(sd)
        if sd.kind == "work" and sd.last is not None:
            dg.files[name] = sd.last
        _signal_notables(dg, sd, rules)

    by_source = store.count_items_between(start, end)
    dg.items_by_source = by_source
    dg.items_total = sum(by_source.values())
    for it in store.items_since(start, limit=rules.items_cap, until=end):
        dg.items.append({"source": it.source, "title": " ".join((it.title or "").split()),
                         "summary": " ".join((it.summary or "").split())[:280]})
    for src, n in by_source.items():
        m = meaning_of(f"{src}.new_items", None, specs)
        dg.notable.append(Notable(src, m.kind, "items",
                                  f"{m.label}: {n} new item{'s' if n != 1 else ''}",
                                  score=_WEIGHT.get(m.kind, 1.0) * min(3.0, 1 + n / 4)))

    minutes = 0.0
    sessions = store.sessions(start, end)
    for s in sessions:
        stop = min(s.ended if s.ended is not None else end, end)
        minutes += max(0.0, (stop - s.started).total_seconds()) / 60
    dg.sessions = {"count": len(sessions), "minutes": int(round(minutes))}
    if sessions:
        dg.notable.append(Notable("sessions", "work", "sessions",
                                  f"sessions: {len(sessions)}, {int(round(minutes))} minutes",
                                  score=1.0))

    for ps in store.poll_stats(start, end, raw=raw):
        src, failed, last_ok = ps.source, ps.failed, ps.last_ok
        prior = store.poll_before(src, start)
        was_ok = prior is None or prior.ok
        door = Door(src, ps.polls, failed, started_failing=was_ok and not last_ok,
                    stopped_failing=not was_ok and last_ok, failing_now=not last_ok)
        if failed or door.stopped_failing:
            dg.doors.append(door)
        if door.started_failing:
            dg.notable.append(Notable(src, "health", "started_failing",
                                      f"{src}: started failing ({failed} of {ps.polls} polls failed)",
                                      score=4.0))
        elif door.stopped_failing:
            dg.notable.append(Notable(src, "health", "stopped_failing",
                                      f"{src}: recovered ({failed} of {ps.polls} polls failed)",
                                      score=2.0))
    return dg


# how much a kind matters to the agent, as a multiplier of how unusual its night was
_WEIGHT = {"money": 1.6, "reputation": 1.4, "work": 1.2, "items": 0.8, "weather": 0.6,
           "health": 1.0, "host": 0.5, "other": 0.7}

_SEVERE = (("thunderstorm", 12.0), ("hail", 10.0), ("violent", 8.0), ("heavy", 6.0),
           ("freezing", 6.0), ("snow", 4.0))


# Without a usual movement to measure a change against, raw percents are not comparable
# (a post count +200 % is not bigger news than a wallet -40 %): the order is the kind's
# meaning, and within a kind the size of the move past its threshold, so that no move of
# a lesser kind outranks one of a greater (money 10-20, reputation 6-12, work 4-8, ...).
_FALLBACK = {"money": 10.0, "reputation": 6.0, "work": 4.0, "health": 3.0, "items": 2.5,
             "other": 2.0, "weather": 1.5, "host": 1.0}


def _fallback_score(kind: str, pct: float | None, thr: float) -> float:
    size = 1.0 if pct is None else min(abs(pct) / max(thr, 1.0), 5.0) / 5.0
    return round(_FALLBACK.get(kind, 2.0) * (1.0 + size), 2)


def _severity(text: str) -> float:
    t = (text or "").lower()
    return max((s for w, s in _SEVERE if w in t), default=0.0)


def _usual(store, signal: str, start: datetime, end: datetime, days: int) -> float | None:
    """The signal's usual movement over one cycle: the median absolute change between
    consecutive cycle-long steps over the previous ``days`` (None without enough history)."""
    step = (end - start).total_seconds() or 86400.0
    t0 = clock.to_ts(start)
    times = [t0 - k * step for k in range(days, -1, -1)]
    values = [o.value if o is not None else None
              for o in store.readings_at(signal, [clock.from_ts(t) for t in times])]
    steps = sorted(abs(b - a) for a, b in zip(values, values[1:]) if a is not None and b is not None)
    if len(steps) < 3:
        return None
    mid = len(steps) // 2
    med = steps[mid] if len(steps) % 2 else (steps[mid - 1] + steps[mid]) / 2
    # a signal that mostly does not move (rain, a count): its mean step is its usual
    mean = sum(steps) / len(steps)
    floor = max(abs(v) for v in values if v is not None) * 0.002
    # a count moves by whole steps: one more fork is the least it can do, not 15 times
    # its usual stillness
    if all(float(v).is_integer() for v in values if v is not None):
        floor = max(floor, 1.0)
    return max(med, mean / 2, floor, 1e-9)


# without a history, an interval-scale reading (°C) is notable from this many units and a
# percent reading (humidity) from this many points
_ABS_FALLBACK = {"interval": 5.0, "percent": 10.0}


def _beyond_noise(sd: SignalDigest, rules: NotableRules) -> bool:
    """Did the signal move more than its usual daily noise? Without a history: any move of
    a count, a money move of 1 % or more, an interval or percent reading past its
    fallback, anything else past its percent threshold."""
    if not sd.change:
        return False
    if sd.usual is not None and sd.signal not in rules.signals:
        return sd.score >= 1.0
    if interval_unit(sd.unit):
        return abs(sd.change) >= _ABS_FALLBACK["interval"]
    if percent_unit(sd.unit):
        return abs(sd.change) >= _ABS_FALLBACK["percent"]
    if no_percent(sd.unit):  # a measure with no history: no noise to measure it against
        return False
    if sd.kind in ("reputation", "work"):
        return abs(sd.change) >= 0.5
    if sd.kind == "money":
        return sd.change_pct is None or abs(sd.change_pct) >= 1.0
    return sd.change_pct is None or abs(sd.change_pct) >= rules.threshold(sd.signal)


def change_words(sd: SignalDigest) -> str:
    """A change as the digest tells it: "rose 25%", "fell 2.9 °C", "rose 8 points"."""
    change = sd.change
    assert change is not None  # told only of a signal that moved
    verb = "rose" if change > 0 else "fell"
    if percent_unit(sd.unit):
        return f"{verb} {fmt_num(abs(change))} points"
    if interval_unit(sd.unit) or sd.change_pct is None:
        return f"{verb} {_with_unit(abs(change), sd.unit)}" if interval_unit(sd.unit) else verb
    return f"{verb} {fmt_num(abs(sd.change_pct))}%"


def _signal_notables(dg: Digest, sd: SignalDigest, rules: NotableRules) -> None:
    # A feed's new_items is a per-poll count: its drop back to 0 after a poll with news is
    # not an event (the items notable already reports arrivals), and would defeat
    # skip_if_quiet after any poll that brought an item.
    w = _WEIGHT.get(sd.kind, 1.0)
    if not sd.numeric and sd.kind == "weather" and sd.score >= 6:
        worst = max(sd.arc or [sd.text_last or ""], key=_severity)
        dg.notable.append(Notable(sd.signal, sd.kind, "storm", f"{sd.label}: {worst}",
                                  score=sd.score))
    if sd.numeric and sd.kind != "items":
        if sd.change:
            pct = sd.change_pct
            if sd.signal in rules.signals or sd.usual is None:
                thr = rules.threshold(sd.signal)
                if no_percent(sd.unit):  # degrees and points, never a percent of them
                    key = "interval" if interval_unit(sd.unit) else \
                        "percent" if percent_unit(sd.unit) else None
                    size = abs(sd.change) / _ABS_FALLBACK[key] * thr if key else 0.0
                    notable = size >= thr
                    pct = size
                else:
                    notable = pct is None or abs(pct) >= thr
                if sd.usual is None:  # no history: its meaning first, then its size
                    sd.score = _fallback_score(sd.kind, pct, thr)
            else:
                notable = sd.score >= rules.score
            if notable:
                base = sd.before if sd.before is not None else sd.first
                dg.notable.append(Notable(
                    sd.signal, sd.kind, "change",
                    f"{sd.label} {change_words(sd)} ({_with_unit(base, sd.unit)} -> "
                    f"{_with_unit(sd.last, sd.unit)})",
                    score=sd.score if sd.usual is None else round(sd.score * w, 2)))
        if sd.high30:
            dg.notable.append(Notable(sd.signal, sd.kind, "high",
                                      f"{sd.label}: new high of {_with_unit(sd.max, sd.unit)}",
                                      score=round(1.5 * w, 2)))
        if sd.low30:
            dg.notable.append(Notable(sd.signal, sd.kind, "low",
                                      f"{sd.label}: new low of {_with_unit(sd.min, sd.unit)}",
                                      score=round(1.5 * w, 2)))


def notable_since(store, since: datetime, now: datetime, *,
                  rules: NotableRules | None = None, sources=()) -> list[str]:
    """One line per notable event between ``since`` and ``now`` (empty when quiet).
    Sessions are the agent's own doing, not news that should wake it."""
    return [n.text for n in build_digest(store, since, now, rules=rules, sources=sources).notable
            if n.what != "sessions"]
