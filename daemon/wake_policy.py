"""When the agent wakes: the schedule and its missed fires, active hours, skip_if_quiet, wake_on.

Decisions only: nothing here starts a process or writes a record. The session runner asks
these questions and records the answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Callable, Sequence

from reverie.daemon.conditions import Condition
from reverie.daemon.session_options import SessionsOptions, parse_hours
from reverie.memory import _log
from reverie.memory.store import Store
from reverie.perception.types import fire_times, first_occurrence
from reverie.daemon.logs import error_text


log = _log.get("reverie.sessions")



@dataclass(frozen=True)
class WakeResult:
    outcome: str                   # started | skipped | missed | failed
    session_id: str | None
    reason: str
    recorded: bool = True          # False: this fire time was already handled

    def to_dict(self) -> dict:
        return asdict(self)


WAKE_ON_MARK = "wake_on.last"  # store meta: when wake_on last woke the agent
HANDLED = WakeResult("skipped", None, "this wake time was already handled", recorded=False)


def in_active_hours(spec: str | None, when: datetime, tz: tzinfo) -> bool:
    """Whether ``when`` falls in the window, read on the local wall clock of ``tz``."""
    if not spec:
        return True
    start, end = parse_hours(spec)
    t = when.astimezone(tz)
    minute = t.hour * 60 + t.minute
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def missed_wakes(wake_crons: list[str], tz: tzinfo, since: datetime,
                 now: datetime) -> list[datetime]:
    """Fire times of ``wake_crons`` in (since, now], oldest first, in UTC."""
    out: set[datetime] = set()
    for cron in wake_crons:
        for t in fire_times(cron, tz, since + timedelta(microseconds=1), now):
            out.add(first_occurrence(t, tz))
    return sorted(out)


def refusal(opts: SessionsOptions, store: Store, *, now: datetime,
            scheduled: datetime | None, tz: tzinfo, running: bool, check_hours: bool,
            notable_since: Callable[[datetime, datetime], list[str]] | None) -> str | None:
    """Why a wake must not start a session now, or None. Active hours bind scheduled wakes
    (``check_hours``); skip_if_quiet asks ``notable_since`` when it is given."""
    if running:
        return "a session is running"
    if check_hours and not in_active_hours(opts.active_hours, scheduled or now, tz):
        return f"outside active hours {opts.active_hours}"
    if notable_since is not None and opts.skip_if_quiet:
        last = store.last_wake()
        if last is not None and is_quiet(notable_since, last, now):
            return "nothing notable since the last wake"
    if opts.webhook is None and not opts.command:
        return "sessions are not configured (no sessions.command or sessions.webhook)"
    return None


def catch_up_plan(fires: Sequence[datetime], now: datetime,
                  grace: timedelta) -> tuple[list[datetime], datetime | None]:
    """Missed fire times split into those to record as missed and the one to run now:
    the newest within ``grace`` runs, every older one was missed."""
    late = [t for t in fires if now - t <= grace]
    run = late[-1] if late else None
    return [t for t in fires if t != run], run


def is_quiet(notable_since: Callable[[datetime, datetime], list[str]], last_wake: datetime,
             now: datetime) -> bool:
    """Nothing notable since the last wake. A digest that fails counts as not quiet: a bug
    there must not cost the agent its wake."""
    try:
        return not notable_since(last_wake, now)
    except Exception as e:
        log.warning("wake.notable_failed", error=error_text(e))
        return False


def wake_on_due(conditions: Sequence[Condition], store: Store, now: datetime, *, tz: tzinfo,
                active_hours: str | None, min_interval: timedelta) -> list[str]:
    """The reasons to wake for ``wake_on`` now: none outside active hours or within
    ``min_interval`` of the last such wake; else those of the conditions that hold since
    the last wake of any kind (or over the last day)."""
    if not in_active_hours(active_hours, now, tz):
        return []
    last_on = store.meta_time(WAKE_ON_MARK)
    if last_on is not None and now - last_on < min_interval:
        return []
    marks = [t for t in (store.last_wake(), last_on) if t is not None]
    since = max(marks) if marks else now - timedelta(days=1)
    reasons = []
    for cond in conditions:
        try:
            why = cond.evaluate(store, since, now)
        except Exception as e:  # one that cannot be evaluated does not hold
            log.warning("wake_on.failed", condition=cond.text, error=error_text(e))
            continue
        if why:
            reasons.append(why)
    return reasons

