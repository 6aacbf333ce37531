"""A source's health: the one rule behind state.md, the morning page, `reverie status`,
the daemon's status line and the poller's backoff.

A source is, in this order of precedence:

- ``failing`` / ``backing_off``: its last poll failed. It is backing off while the
  backoff (2, 4, 8, 8… intervals after 1, 2, 3, 4… failures) or a Retry-After the
  server sent still holds its next try back; failing once its next fire will try.
- ``never_polled``: no good poll and no reading yet.
- ``stale``: its last good poll (or reading: an imported store kept no health) is more
  than ``STALE_AFTER`` intervals old (for a cron source, a day is its interval).
- ``ok``: otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from reverie.memory import clock

OK, FAILING, BACKING_OFF, STALE, NEVER_POLLED = "ok", "failing", "backing_off", "stale", "never_polled"
STATUSES = (OK, FAILING, BACKING_OFF, STALE, NEVER_POLLED)
LABELS = {OK: "ok", FAILING: "failing", BACKING_OFF: "backing off", STALE: "stale",
          NEVER_POLLED: "never polled"}

STALE_AFTER = 3  # intervals without a good reading
MAX_BACKOFF = 8  # a failing source waits at most 8 intervals between tries


CRON_INTERVAL = 86400.0  # seconds: a cron source counts a day as its interval


def nominal_interval(every: timedelta | None) -> float:
    """Seconds between a source's runs as staleness and backoff count them: its
    ``every``, or for a cron source (no ``every``) a day. SourceSpec.interval and the
    status snapshot's Source.interval are this."""
    return every.total_seconds() if every else CRON_INTERVAL


def backoff_factor(consecutive_failures: int) -> int:
    """How many base intervals a source waits: 2, 4, 8, 8… after 1, 2, 3, 4… failures."""
    if consecutive_failures <= 0:
        return 1
    return min(2 ** consecutive_failures, MAX_BACKOFF)


@dataclass(frozen=True)
class Deferral:
    """Why and until when a failing source is not tried."""

    reason: str  # "retry_after" (the server asked) or "backoff" (our rule)
    until: float  # a fire before this instant is skipped
    next_try: float  # when the next try is expected
    failures: int


def _seconds(state: Any) -> Mapping[str, Any]:
    """A stored ``SourceState`` (or a mapping of its fields) with its times as POSIX
    seconds, the unit this module's rules count in."""
    if state is None:
        return {}
    fields = state if isinstance(state, Mapping) else vars(state)
    return {k: clock.to_ts(v) if isinstance(v, datetime) else v for k, v in fields.items()}


def deferral(spec: Any, state: Any, now: float) -> Deferral | None:
    """What holds ``spec``'s next poll back at ``now`` (a POSIX timestamp), if anything.

    The scheduler fires at the base interval (with jitter); a failing source lets all
    but every 2nd/4th/8th fire pass. Half an interval of slack absorbs the jitter, so a
    fire that lands a little early still counts. A cron schedule is the user's explicit
    choice: only Retry-After defers it.
    """
    state = _seconds(state)
    failures = state.get("consecutive_failures") or 0
    retry_after = state.get("retry_after")
    if retry_after and now < retry_after:
        return Deferral("retry_after", retry_after, retry_after, failures)
    last_try = state.get("last_error_ts")
    if failures <= 0 or last_try is None or spec.every is None:
        return None
    base = spec.interval
    wait = base * backoff_factor(failures)
    if now - last_try < wait - base / 2:
        return Deferral("backoff", last_try + wait - base / 2, last_try + wait, failures)
    return None


@dataclass(frozen=True)
class Health:
    source: str
    status: str  # one of STATUSES
    failures: int = 0  # consecutive failed polls
    failing_since: float | None = None
    last_ok: float | None = None  # last good poll or reading
    last_error: str | None = None
    last_error_ts: float | None = None
    next_try: float | None = None  # backing off: when the next try is expected

    @property
    def failing(self) -> bool:
        """Its last poll failed (whether or not it is backing off)."""
        return self.status in (FAILING, BACKING_OFF)

    @property
    def label(self) -> str:
        return LABELS[self.status]


def source_health(spec: Any, state: Any, *, now: float | datetime,
                  last_reading: float | None = None) -> Health:
    """The health of ``spec`` from its stored state (``Store.source_state``) and the time
    of its newest reading."""
    t = clock.to_ts(now) if isinstance(now, datetime) else now
    st = _seconds(state)
    failures = st.get("consecutive_failures") or 0
    last_ok = max([x for x in (st.get("last_ok"), last_reading) if x is not None], default=None)
    common = dict(source=spec.name, failures=failures, failing_since=st.get("failing_since"),
                  last_ok=last_ok, last_error=st.get("last_error"),
                  last_error_ts=st.get("last_error_ts"))
    if failures:
        d = deferral(spec, st, t)
        if d is not None:
            return Health(status=BACKING_OFF, next_try=d.next_try, **common)
        return Health(status=FAILING, **common)
    if last_ok is None:
        return Health(status=NEVER_POLLED, **common)
    if t - last_ok > STALE_AFTER * spec.interval:
        return Health(status=STALE, **common)
    return Health(status=OK, **common)


def last_readings(store: Any, names: Iterable[str], now: float) -> dict[str, float]:
    """Per source in ``names``, the time of its newest reading at or before ``now``
    (one indexed lookup per signal)."""
    wanted = set(names)
    out: dict[str, float] = {}
    for sig in store.signal_names():
        src = sig.split(".", 1)[0]
        if src not in wanted:
            continue
        [o] = store.readings_at(sig, [clock.from_ts(now)])
        if o is not None and clock.to_ts(o.ts) > out.get(src, float("-inf")):
            out[src] = clock.to_ts(o.ts)
    return out


def sources_health(store: Any, specs: Iterable[Any], *, now: float | datetime | None = None
                   ) -> dict[str, Health]:
    """The health of every enabled spec, by name, read from ``store``."""
    now = clock.now() if now is None else now
    t = clock.to_ts(now) if isinstance(now, datetime) else float(now)
    specs = [s for s in specs if s.enabled]
    states = store.all_source_states()
    readings = last_readings(store, [s.name for s in specs], t)
    return {s.name: source_health(s, states.get(s.name), now=t, last_reading=readings.get(s.name))
            for s in specs}


def counts(healths: Iterable[Health]) -> Counter:
    """How many sources are in each status (every status present, 0 when none)."""
    return _tally(h.status for h in healths)


def summary(store: Any, specs: Iterable[Any], *, now: float | datetime | None = None) -> str:
    """One phrase for the daemon's status line: "3 sources ok, 1 failing, 1 stale"
    (failing counts the sources backing off; statuses with none are left out, but for
    ok and failing)."""
    return summary_of(h.status for h in sources_health(store, specs, now=now).values())


def summary_of(statuses: Iterable[str]) -> str:
    """:func:`summary` of the enabled sources' statuses (as `reverie status --json` gives
    them in ``health``): the one phrase, however the statuses were come by."""
    c = _tally(statuses)
    parts = [f"{c[OK]} source{'s' if c[OK] != 1 else ''} ok", f"{c[FAILING] + c[BACKING_OFF]} failing"]
    if c[STALE]:
        parts.append(f"{c[STALE]} stale")
    if c[NEVER_POLLED]:
        parts.append(f"{c[NEVER_POLLED]} never polled")
    return ", ".join(parts)


def _tally(statuses: Iterable[str]) -> Counter:
    c: Counter = Counter({s: 0 for s in STATUSES})
    c.update(statuses)
    return c
