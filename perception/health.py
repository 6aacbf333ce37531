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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Protocol

from reverie.memory import clock

if TYPE_CHECKING:  # the store's import is the caller's cost, not this rule's
    from dataclasses import dataclass

    from reverie.memory.store import SourceState, Store
else:  # frozen records without dataclasses' compiling (`reverie status` imports this)
    from reverie.memory._record import dataclass

OK, FAILING, BACKING_OFF, STALE, NEVER_POLLED = "ok", "failing", "backing_off", "stale", "never_polled"
STATUSES = (OK, FAILING, BACKING_OFF, STALE, NEVER_POLLED)
LABELS = {OK: "ok", FAILING: "failing", BACKING_OFF: "backing off", STALE: "stale",
          NEVER_POLLED: "never polled"}

STALE_AFTER = 3  # intervals without a good reading
MAX_BACKOFF = 8  # a failing source waits at most 8 intervals between tries


CRON_INTERVAL = timedelta(days=1)  # a cron source counts a day as its interval


class Spec(Protocol):
    """What the rule reads of a source: a config ``SourceSpec``, or the status snapshot's
    ``Source`` (daemon/snapshot.py), which `reverie status` reads without the config."""

    @property
    def name(self) -> str: ...

    @property
    def every(self) -> timedelta | None: ...

    @property
    def enabled(self) -> bool: ...


def nominal_interval(every: timedelta | None) -> timedelta:
    """The time between a source's runs as staleness and backoff count it: its
    ``every``, or for a cron source (no ``every``) a day. SourceSpec.interval is this,
    in seconds (for the scheduler)."""
    return every if every else CRON_INTERVAL


def backoff_factor(consecutive_failures: int) -> int:
    """How many base intervals a source waits: 2, 4, 8, 8… after 1, 2, 3, 4… failures."""
    if consecutive_failures <= 0:
        return 1
    return min(2 ** consecutive_failures, MAX_BACKOFF)


@dataclass(frozen=True)
class Deferral:
    """Why and until when a failing source is not tried."""

    reason: str  # "retry_after" (the server asked) or "backoff" (our rule)
    until: datetime  # a fire before this instant is skipped
    next_try: datetime  # when the next try is expected
    failures: int


def deferral(spec: Spec, state: SourceState | None, now: datetime) -> Deferral | None:
    """What holds ``spec``'s next poll back at ``now``, if anything.

    The scheduler fires at the base interval (with jitter); a failing source lets all
    but every 2nd/4th/8th fire pass. Half an interval of slack absorbs the jitter, so a
    fire that lands a little early still counts. A cron schedule is the user's explicit
    choice: only Retry-After defers it.
    """
    if state is None:
        return None
    failures = state.consecutive_failures or 0
    retry_after = state.retry_after
    if retry_after and now < retry_after:
        return Deferral("retry_after", retry_after, retry_after, failures)
    last_try = state.last_error_ts
    if failures <= 0 or last_try is None or spec.every is None:
        return None
    base = nominal_interval(spec.every)
    wait = base * backoff_factor(failures)
    if now - last_try < wait - base / 2:
        return Deferral("backoff", last_try + wait - base / 2, last_try + wait, failures)
    return None


@dataclass(frozen=True)
class Health:
    source: str
    status: str  # one of STATUSES
    failures: int = 0  # consecutive failed polls
    failing_since: datetime | None = None
    last_ok: datetime | None = None  # last good poll or reading
    last_error: str | None = None
    last_error_ts: datetime | None = None
    next_try: datetime | None = None  # backing off: when the next try is expected

    @property
    def failing(self) -> bool:
        """Its last poll failed (whether or not it is backing off)."""
        return self.status in (FAILING, BACKING_OFF)

    @property
    def label(self) -> str:
        return LABELS[self.status]


def source_health(spec: Spec, state: SourceState | None, *, now: datetime,
                  last_reading: datetime | None = None) -> Health:
    """The health of ``spec`` from its stored state (``Store.source_state``) and the time
    of its newest reading."""
    stored_ok = state.last_ok if state else None
    last_ok = max([t for t in (stored_ok, last_reading) if t is not None], default=None)
    failures = (state.consecutive_failures or 0) if state else 0
    next_try = None
    if failures:
        d = deferral(spec, state, now)
        status, next_try = (BACKING_OFF, d.next_try) if d is not None else (FAILING, None)
    elif last_ok is None:
        status = NEVER_POLLED
    elif now - last_ok > STALE_AFTER * nominal_interval(spec.every):
        status = STALE
    else:
        status = OK
    return Health(spec.name, status, failures=failures,
                  failing_since=state.failing_since if state else None, last_ok=last_ok,
                  last_error=state.last_error if state else None,
                  last_error_ts=state.last_error_ts if state else None, next_try=next_try)


def last_readings(store: Store, names: Iterable[str], now: datetime) -> dict[str, datetime]:
    """Per source in ``names``, the time of its newest reading at or before ``now``
    (one indexed lookup per signal)."""
    wanted = set(names)
    out: dict[str, datetime] = {}
    for sig in store.signal_names():
        src = sig.split(".", 1)[0]
        if src not in wanted:
            continue
        [o] = store.readings_at(sig, [now])
        if o is not None and (src not in out or o.ts > out[src]):
            out[src] = o.ts
    return out


def sources_health(store: Store, specs: Iterable[Spec], *, now: datetime | None = None
                   ) -> dict[str, Health]:
    """The health of every enabled spec, by name, read from ``store``."""
    now = clock.now() if now is None else now
    specs = [s for s in specs if s.enabled]
    states = store.all_source_states()
    readings = last_readings(store, [s.name for s in specs], now)
    return {s.name: source_health(s, states.get(s.name), now=now, last_reading=readings.get(s.name))
            for s in specs}


def counts(healths: Iterable[Health]) -> Counter:
    """How many sources are in each status (every status present, 0 when none)."""
    return _tally(h.status for h in healths)


def summary(store: Store, specs: Iterable[Spec], *, now: datetime | None = None) -> str:
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
