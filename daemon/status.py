"""`reverie status`: the daemon, each source's health and next run, session, wake, dream.

:func:`collect` gathers the facts once, as the JSON document `reverie status --json`
prints (its shape is documented in the README and versioned by ``"version"``); the text
view is rendered from that same document, so the two never disagree. Source health is
:mod:`reverie.perception.health`'s rule; durations and ages are written by
:mod:`reverie.perception.text`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reverie.daemon.lock import HomeLock
from reverie.memory import clock
from reverie.memory.store import SourceState, Store
from reverie.perception import _cron, health, text

SHAPE_VERSION = 1
EXIT_RUNNING, EXIT_NOT_RUNNING = 0, 3  # as `systemctl is-active`
MAX_ERROR = 300


def _next_cron(exprs: list[str], tz: Any, after: datetime) -> datetime | None:
    times = [t for t in (_next_fire(e, tz, after) for e in exprs) if t is not None]
    return min(times) if times else None


def _next_fire(expr: str, tz: Any, after: datetime) -> datetime | None:
    # the daemon's triggers read the same way (daemon/scheduler.py's Crontab)
    try:
        cron = _cron.parse(expr)
    except ValueError:  # a snapshot from a reverie that read more forms: no time to show
        return None
    return _cron.next_fire(cron, tz, after, days=366 * 40)


def _next_run(spec: Any, h: health.Health | None, st: SourceState, tz: Any, now: datetime,
              running: bool) -> datetime | None:
    """When the daemon will next poll ``spec`` (None when nothing will: the daemon is
    down, the source disabled, or an interval source has not run yet)."""
    if not running or h is None:
        return None
    held = st.retry_after
    not_before = max(now, held) if held else now
    if spec.cron:
        return _next_cron([spec.cron], tz, not_before)
    if h.status == health.BACKING_OFF:
        assert h.next_try is not None  # a source backing off always says when it tries next
        return max(now, h.next_try)
    last = max([t for t in (st.last_ok, st.last_error_ts) if t], default=None)
    return max(not_before, last + spec.every) if last else None


def collect(loaded: Any, now: datetime | None = None) -> dict:
    """The status as a JSON-ready document (times ISO 8601 in the configured zone)."""
    cfg, home, tz = loaded.config, loaded.home, loaded.tz
    now = now or clock.now()
    T = text.Times(tz)
    holder = HomeLock.holder_info(home.lock)
    running = bool(holder and holder[1] == "daemon")
    home.ensure()
    store = Store.open(home.db)
    try:
        beat = store.last_beat()
        states = store.all_source_states()
        healths = health.sources_health(store, cfg.sources, now=now)
        sources = []
        for spec in cfg.sources:
            st = states.get(spec.name) or SourceState(spec.name)
            h = healths.get(spec.name)
            err = st.last_error
            sources.append({
                "name": spec.name,
                "type": spec.type,
                "enabled": spec.enabled,
                "every": text.duration(spec.every) if spec.every and not spec.cron else None,
                "cron": spec.cron,
                "health": h.status if h else "disabled",
                "consecutive_failures": h.failures if h else 0,
                "failing_since": T.iso(h.failing_since) if h and h.failing else None,
                "last_success": T.iso(h.last_ok) if h else T.iso(st.last_ok),
                "last_error": {"at": T.iso(st.last_error_ts),
                               "message": text.clean(err, MAX_ERROR)} if err else None,
                "next_run": T.iso(_next_run(spec, h, st, tz, now, running)),
            })
        cur = store.running_session()
        s = cfg.sessions
        last_wake = store.last_wake()
        dream = store.last_dream()
    finally:
        store.close()
    next_dream = _next_cron([cfg.dream.at], tz, now)
    return {
        "version": SHAPE_VERSION,
        "now": T.iso(now),
        "home": str(home.root),
        "state": str(home.state),  # reverie's own files: the record, lock, socket, logs
        "timezone": str(cfg.timezone),
        # the problems of the config file on disk, when it is invalid: the rest is then
        # from the config the daemon runs (daemon/snapshot.py), not from the file
        "config_errors": list(getattr(loaded, "config_errors", None) or []),
        "daemon": {
            "running": running,
            "pid": holder[0] if holder and running else None,
            "heartbeat": T.iso(beat),
            "heartbeat_age_seconds": round((now - beat).total_seconds(), 1) if beat else None,
        },
        "sources": sources,
        "session": {
            "id": cur.id,
            "pid": cur.pid,
            "started": T.iso(cur.started),
            "elapsed_seconds": round((now - cur.started).total_seconds(), 1),
        } if cur else None,
        "sessions_enabled": bool(s.enabled),
        "next_wake": T.iso(_next_cron(s.wake, tz, now)) if s.enabled else None,
        "next_sleep": T.iso(_next_cron(s.sleep, tz, now)) if s.enabled else None,
        "max_duration": text.duration(s.max_duration) if s.enabled and s.max_duration else None,
        "last_wake": T.iso(last_wake),
        "next_dream": {"at": T.iso(next_dream), "backend": cfg.dream.backend},
        "last_dream": {
            "date": dream.date,
            "path": text.clean(dream.path or "", 500),
            "backend": dream.backend,
            "model": dream.model,
            "written": T.iso(dream.created),
            "fell_back": bool(dream.fallback_reason),
            "fallback_reason": text.clean(dream.fallback_reason, MAX_ERROR)
            if dream.fallback_reason else None,
        } if dream else None,
    }


def exit_code(data: dict) -> int:
    return EXIT_RUNNING if data["daemon"]["running"] else EXIT_NOT_RUNNING


# -- the text view ----------------------------------------------------------------------

def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _ago(iso: str | None, now: datetime) -> str:
    return f"{text.age(now - _at(iso))} ago" if iso else "never"


def _until(iso: str, now: datetime) -> str:
    left = (_at(iso) - now).total_seconds()
    return f"in {text.age(left)}" if left >= 1 else "now"


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _source_line(src: dict, now: datetime) -> str:
    status = src["health"]
    if src["cron"]:
        when = f"cron {src['cron']}" + (f", next {_at(src['next_run']):%H:%M}" if src["next_run"] else "")
    else:
        nxt = src["next_run"]
        when = f"every {src['every']}"
        if nxt:
            when += (", next try ~" if status == health.BACKING_OFF else ", next ~") + _until(nxt, now)
    err = src["last_error"]["message"] if src["last_error"] else ""
    n = src["consecutive_failures"]
    if status == "disabled":
        state = "disabled"
    elif status == health.BACKING_OFF:
        state = (f"BACKING OFF after {text.plural(n, 'failure')} "
                 f"(failing since {_ago(src['failing_since'], now)}): {err}")
    elif status == health.FAILING:
        state = f"FAILING since {_ago(src['failing_since'], now)} ({n}x): {err}"
    elif status == health.NEVER_POLLED:
        state = "never polled"
    else:
        state = f"{health.LABELS[status]}, last good {_ago(src['last_success'], now)}"
    return f"  {src['name']:14} {src['type']:10} {when:32} {state}".rstrip()


def render_text(data: dict) -> str:
    now = _at(data["now"])
    d = data["daemon"]
    beat = f"last heartbeat {_ago(d['heartbeat'], now)}"
    lines = [f"daemon: running (pid {d['pid']}), {beat}" if d["running"] else
             "daemon: not running" + (f" ({beat})" if d["heartbeat"] else "")]
    zone = _zone(data["timezone"])
    lines.append(f"home: {data['home']}   zone: {data['timezone']}   now: "
                 + (text.Times(zone).moment(now) if zone else f"{now:%a %Y-%m-%d %H:%M %Z}"))
    lines.append("sources:")
    if not data["sources"]:
        lines.append("  (none configured)")
    lines += [_source_line(src, now) for src in data["sources"]]
    cur = data["session"]
    if cur:
        lines.append(f"session: {cur['id']} running, pid {cur['pid']}, started "
                     f"{_at(cur['started']):%H:%M}, elapsed {text.age(cur['elapsed_seconds'])}")
    else:
        lines.append("session: none running")
    if data["sessions_enabled"]:
        nw, ns = data["next_wake"], data["next_sleep"]
        lines.append(f"next wake: {_at(nw):%a %Y-%m-%d %H:%M}" if nw else "next wake: none scheduled")
        lines.append(f"next sleep: {_at(ns):%a %Y-%m-%d %H:%M}" if ns else
                     "next sleep: none scheduled"
                     + (f" (max_duration {data['max_duration']})" if data["max_duration"] else ""))
    else:
        lines.append("sessions: not configured")
    lw = data["last_wake"]
    lines.append(f"last wake: {_at(lw):%Y-%m-%d %H:%M} ({_ago(lw, now)})" if lw else "last wake: none yet")
    nd, last = data["next_dream"], data["last_dream"]
    line = (f"next dream: {_at(nd['at']):%a %Y-%m-%d %H:%M} ({nd['backend']})" if nd["at"]
            else f"next dream: none scheduled ({nd['backend']})")
    if last:
        line += f"; last: {last['path']}"
        if last["fell_back"]:
            line += f" (fell back to offline: {last['fallback_reason']})"
    else:
        line += "; none yet"
    lines.append(line)
    return "\n".join(lines)


def render_status(loaded: Any) -> str:
    return render_text(collect(loaded))
