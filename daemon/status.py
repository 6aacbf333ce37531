"""`reverie status`: the daemon, each source's health and next run, session, wake, dream."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reverie.daemon.lifecycle import HomeLock
from reverie.memory import clock
from reverie.memory.store import Store


def _ago(ts: float | None, now: datetime) -> str:
    if ts is None:
        return "never"
    return _span(now - clock.from_ts(ts)) + " ago"


def _span(td: timedelta) -> str:
    s = int(td.total_seconds())
    if s < 0:
        return "in " + _span(-td)
    if s < 90:
        return f"{s}s"
    if s < 5400:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


def _next_cron(exprs: list[str], tz: Any, now: datetime) -> datetime | None:
    from apscheduler.triggers.cron import CronTrigger

    times = [CronTrigger.from_crontab(e, timezone=tz).get_next_fire_time(None, now) for e in exprs]
    times = [t for t in times if t is not None]
    return min(times) if times else None


def render_status(loaded: Any) -> str:
    cfg, home, tz = loaded.config, loaded.home, loaded.tz
    now = clock.now()
    lines = []
    pid = HomeLock.holder(home.lock)
    home.ensure()
    store = Store.open(home.db)
    beat = store.last_beat()
    if pid:
        lines.append(f"daemon: running (pid {pid}), last heartbeat "
                     f"{_ago(clock.to_ts(beat), now) if beat else 'never'}")
    else:
        lines.append("daemon: not running"
                     + (f" (last heartbeat {_ago(clock.to_ts(beat), now)})" if beat else ""))
    lines.append(f"home: {home.root}   zone: {cfg.timezone}   now: "
                 f"{now.astimezone(tz):%Y-%m-%d %H:%M %Z}")

    lines.append("sources:")
    states = store.all_source_states()
    if not cfg.sources:
        lines.append("  (none configured)")
    for spec in cfg.sources:
        st = states.get(spec.name, {})
        if not spec.enabled:
            health = "disabled"
        elif st.get("consecutive_failures"):
            health = (f"FAILING since {_ago(st.get('failing_since'), now)} "
                      f"({st.get('consecutive_failures')}x): {st.get('last_error') or ''}")
        elif st.get("last_ok"):
            age = now.timestamp() - st["last_ok"]
            health = ("stale, " if age > 3 * spec.interval else "ok, ") + f"last good {_ago(st['last_ok'], now)}"
        else:
            health = "not polled yet"
        if spec.cron:
            nxt = _next_cron([spec.cron], tz, now)
            when = f"next {nxt.astimezone(tz):%H:%M}" if nxt else ""
        else:
            last = max([t for t in (st.get("last_ok"), st.get("last_error_ts")) if t] or [0])
            when = (f"every {_span(spec.every)}" + (f", next ~{_span(clock.from_ts(last) + spec.every - now)}"
                    if last and pid else ""))
        lines.append(f"  {spec.name:14} {spec.type:10} {when:24} {health}")

    cur = store.running_session()
    s = cfg.sessions
    if cur:
        lines.append(f"session: {cur['id']} running, pid {cur['pid']}, started "
                     f"{clock.from_ts(cur['started']).astimezone(tz):%H:%M}, "
                     f"elapsed {_span(now - clock.from_ts(cur['started']))}")
    else:
        lines.append("session: none running")
    if s.enabled:
        nw, ns = _next_cron(s.wake, tz, now), _next_cron(s.sleep, tz, now)
        lines.append(f"next wake: {nw.astimezone(tz):%a %Y-%m-%d %H:%M}" if nw else "next wake: none scheduled")
        lines.append(f"next sleep: {ns.astimezone(tz):%a %Y-%m-%d %H:%M}" if ns else
                     "next sleep: none scheduled" + (f" (max_duration {_span(s.max_duration)})" if s.max_duration else ""))
    else:
        lines.append("sessions: not configured")
    lw = store.last_wake()
    lines.append(f"last wake: {lw.astimezone(tz):%Y-%m-%d %H:%M} ({_span(now - lw)} ago)" if lw else "last wake: none yet")
    nd = _next_cron([cfg.dream.at], tz, now)
    last = store.last_dream()
    lines.append(f"next dream: {nd.astimezone(tz):%a %Y-%m-%d %H:%M} ({cfg.dream.backend})"
                 + (f"; last: {last['path']}" if last else "; none yet"))
    store.close()
    return "\n".join(lines)
