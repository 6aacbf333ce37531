"""The session runner: wake the agent, put it to sleep, consolidate what it wrote.

One session at a time. It asks the wake policy (wake_policy) whether to wake, starts the
agent's process (agent) or posts a webhook (webhook), and at the end stops the agent's
whole tree, records the end and consolidates (memory.consolidate). Every wake decision is
a row in ``wakes``; every session a row in ``sessions``.

Locking: one lock serialises wake, sleep and the end-of-session work, so a wake that
arrives while a session is being consolidated waits and then starts on a fresh
working.md instead of racing the archive.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from reverie.daemon import harden
from reverie.daemon.agent import Agent, StartError, agent_env, substitute
from reverie.daemon.session_log import prune_logs
# Re-exported: the config models are read from here (daemon/config/).
from reverie.daemon.session_options import SessionsOptions, WebhookOptions  # noqa: F401
from reverie.daemon.wake_policy import (HANDLED, WAKE_ON_MARK, WakeResult, catch_up_plan,
                                        missed_wakes, refusal, wake_on_due)
from reverie.memory import _log, clock
from reverie.memory.consolidate import consolidate
from reverie.memory.consolidate import recover as recover_consolidation
from reverie.memory.diary import ensure_diary
from reverie.memory.home import Home
from reverie.memory.store import Store
from reverie.daemon.logs import error_text
from reverie.memory.errors import one_line

log = _log.get("reverie.sessions")


def new_session_id(now: datetime) -> str:
    return now.astimezone(clock.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


@dataclass
class _Running:
    session_id: str
    started: datetime
    reason: str
    agent: Agent


class SessionRunner:
    def __init__(self, home: Home, store: Store, opts: SessionsOptions, *, tz: ZoneInfo,
                 git: bool = False, working_max: int | None = None,
                 render_state: Callable[[], None] = lambda: None,
                 notable_since: Callable[[datetime, datetime], list[str]] | None = None,
                 on_end: Callable[..., None] = lambda *a, **kw: None,
                 on_wake_failed: Callable[[str], None] = lambda why: None):
        self.home = home
        self.store = store
        self.render_state = render_state
        self.notable_since = notable_since
        self._lock = threading.RLock()
        self.reconfigure(opts, tz=tz, git=git, working_max=working_max)
        self._running: _Running | None = None
        self._killed: dict[str, list[str]] = {}  # session id -> strays stopped, for its ledger
        # told how sessions end and wakes fail (daemon/alerts.py notifies)
        self.on_end = on_end
        self.on_wake_failed = on_wake_failed
        # Set by the daemon's SIGTERM: an agent that dies by a signal meanwhile (a stop
        # that reached the whole group) ended with the daemon, not by a failure of its own.
        self.stopping: str | None = None

    def reconfigure(self, opts: SessionsOptions, *, tz: ZoneInfo, git: bool = False,
                    working_max: int | None = None) -> None:
        """Take (re)loaded options; a session running meanwhile keeps running and is
        watched on. The wake_on conditions are parsed here, once per config."""
        with self._lock:
            self.opts = opts
            self.tz = tz
            self.git = git
            self.working_max = working_max  # memory.working_max (None: consolidate's default)
            self.conditions = opts.conditions()

    # -- wake ---------------------------------------------------------------------

    def wake(self, reason: str, *, scheduled: datetime | None = None,
             check_quiet: bool = False) -> WakeResult:
        """Start a session. ``active_hours`` applies to scheduled wakes (and wake_on);
        a wake a person asks for (``reverie wake``) is theirs to make."""
        return self._wake(reason, scheduled=scheduled, check_quiet=check_quiet,
                          check_hours=scheduled is not None)

    def _wake(self, reason: str, *, scheduled: datetime | None, check_quiet: bool,
              check_hours: bool) -> WakeResult:
        reason = one_line(reason) or "wake"
        with self._lock:
            now = clock.now()
            if scheduled is not None and self.store.wake_recorded(scheduled):
                return HANDLED
            why = refusal(self.opts, self.store, now=now, scheduled=scheduled, tz=self.tz,
                          running=self._running is not None, check_hours=check_hours,
                          notable_since=self.notable_since if check_quiet else None)
            if why is not None:
                return self._decide("skipped", why, reason, scheduled)
            if self.opts.webhook is not None:
                return self._wake_webhook(reason, scheduled, now)
            return self._start(reason, scheduled, now)

    def _decide(self, outcome: str, why: str, reason: str,
                scheduled: datetime | None) -> WakeResult:
        text = why if why == reason else f"{why} ({reason})"
        if not self.store.record_wake(outcome, text, scheduled=scheduled):
            return HANDLED
        log.info("wake." + outcome, reason=text,
                 scheduled=scheduled.isoformat() if scheduled else None)
        return WakeResult(outcome, None, why)

    def _prepare(self, now: datetime) -> dict[str, str]:
        """Fresh state, today's diary; the paths the agent is told about."""
        try:
            self.render_state()
        except Exception as e:  # a stale state.md is better than no session
            log.warning("wake.render_failed", error=error_text(e))
        today = clock.local(now, self.tz).date()
        diary = ensure_diary(self.home, today)
        dream = self.home.dream(today)
        if not dream.exists():
            dream = self.home.latest_dream
        return {"home": str(self.home.root), "state": str(self.home.state_md),
                "dream": str(dream), "diary": str(diary), "working": str(self.home.working)}

    def _start(self, reason: str, scheduled: datetime | None, now: datetime) -> WakeResult:
        sid = new_session_id(now)
        paths = self._prepare(now)
        argv = [substitute(a, paths) for a in self.opts.command or []]
        why = None
        try:
            account = self.opts.account()
        except ValueError as e:  # the user was deleted since the config was loaded
            account, why = None, f"could not start the agent: {e}"
        if account is not None and (account.uid, account.gid) != (os.getuid(), os.getgid()) \
                and harden.confined_to() != (account.uid, account.gid):
            # never switch users without the filter that keeps the switch to this account
            why = ("could not start the agent: sessions.user changed since the daemon "
                   "started; restart it (the set*id filter is fixed at start)")
        env = agent_env(self.opts.env, paths, session_id=sid, reason=reason,
                        home=account.home if account is not None else None)
        # Recorded before the start: a second fire of the same time finds it taken.
        if not self.store.record_wake("started", reason, scheduled=scheduled, session_id=sid):
            return HANDLED
        # The session is recorded before the agent starts: a crash in between leaves a
        # session without a pid (ended as lost at the next start), never an agent that
        # reverie does not know about.
        self.store.start_session(sid, now, None, reason)
        try:
            if why is not None:
                raise StartError(why.removeprefix("could not start the agent: "))
            agent = Agent.spawn(argv, cwd=self._cwd(), env=env, session_id=sid,
                                log_path=self.home.session_log(sid),
                                log_cap=self.opts.log_max_bytes, account=account)
        except (OSError, StartError) as e:
            why = f"could not start the agent: {e if isinstance(e, StartError) else error_text(e)}"
            self.store.update_wake(sid, "failed", f"{why} ({reason})")
            self.store.forget_session(sid)  # nothing ran; the wake records the failure
            log.error("wake.failed", reason=reason, error=why)
            self.on_wake_failed(why)
            return WakeResult("failed", None, why)
        self.store.set_session_pid(sid, agent.pid)
        self._running = _Running(sid, now, reason, agent)
        log.info("session.started", session_id=sid, pid=agent.pid, reason=reason,
                 scheduled=scheduled.isoformat() if scheduled else None)
        return WakeResult("started", sid, reason)

    def _cwd(self) -> Path:
        if not self.opts.cwd:
            return self.home.root
        p = Path(self.opts.cwd).expanduser()
        return p if p.is_absolute() else self.home.root / p

    def _wake_webhook(self, reason: str, scheduled: datetime | None, now: datetime) -> WakeResult:
        from reverie.daemon.webhook import wake_by_webhook

        assert self.opts.webhook is not None
        sid = new_session_id(now)
        paths = self._prepare(now)
        body = {"session_id": sid, "reason": reason, "home": paths["home"],
                "state": paths["state"], "dream": paths["dream"],
                "time": now.astimezone(self.tz).isoformat()}
        return wake_by_webhook(self.opts.webhook, self.store, body, now=now,
                               scheduled=scheduled, decide=self._decide)

    # -- sleep and watching ---------------------------------------------------------

    def sleep(self, reason: str = "slept") -> bool:
        """Stop the running session (even one another process started); consolidate.
        False when no session was running."""
        with self._lock:
            if self._running is None:
                self._adopt_recorded()
            r = self._running
            if r is None:
                self._consolidate_pending()
                return False
            self._stop(r, reason)
            return True

    def check(self, now: datetime | None = None) -> str | None:
        """Reap a session that ended by itself; enforce max_duration. Returns the end
        reason when a session ended during this call."""
        if not self._lock.acquire(blocking=False):
            return None  # a wake or a sleep is under way; next tick
        try:
            r = self._running
            if r is None:
                return None
            if r.agent.gone():
                return self._stop(r, "exited")
            limit = self.opts.max_duration
            if limit is not None and (now or clock.now()) - r.started >= limit:
                return self._stop(r, "timed out")
            r.agent.watch()  # a process that leaves the tree later is still known
            return None
        finally:
            self._lock.release()

    def current(self) -> dict | None:
        r = self._running
        if r is None:
            return None
        now = clock.now()
        return {"session_id": r.session_id, "pid": r.agent.pid, "start": r.started.isoformat(),
                "elapsed": round((now - r.started).total_seconds(), 1), "reason": r.reason,
                "adopted": r.agent.proc is None}

    def run_foreground(self, reason: str, stop: threading.Event | None = None) -> WakeResult:
        """``reverie wake`` without a daemon: run the session until it ends (or ``stop`` is
        set, by a signal handler), then consolidate. A stop asked while the agent was still
        starting is honoured once it runs: the flag waits, the agent is never left behind."""
        stop = stop or threading.Event()
        result = self.wake(reason)
        if result.outcome != "started" or self._running is None:
            return result
        try:
            while self._running is not None and not stop.is_set():
                self.check()
                stop.wait(0.1)
        except KeyboardInterrupt:
            pass
        if self._running is not None:
            self.sleep("slept")
        return result

    def _stop(self, r: _Running, reason: str) -> str:
        """Stop the tree, record the end, consolidate. Returns the recorded end reason."""
        end = r.agent.end(reason, self.opts.stop_timeout.total_seconds())
        end_reason, code = end.reason, end.exit_code
        if self.stopping and end_reason in ("exited", "killed") and code and not end.stopped.strays:
            end_reason = self.stopping
        ended = clock.now()
        self.store.end_session(r.session_id, ended, end_reason, code)
        if end.stopped.strays:
            self._killed[r.session_id] = list(end.stopped.strays)
        self._running = None
        log.info("session.ended", session_id=r.session_id, end_reason=end_reason,
                 exit_code=code, forced=end.stopped.forced, stopped=end.stopped.strays or None,
                 cgroup_killed=end.stopped.cgroup_killed,
                 duration=round((ended - r.started).total_seconds(), 1))
        self.on_end(r.session_id, end_reason, code, forced=bool(end.stopped.forced))
        prune_logs(self.home.sessions_dir, self.opts.log_keep)
        self._consolidate_pending()
        return end_reason

    # -- restart and catch-up -------------------------------------------------------

    def recover(self) -> None:
        """At daemon start: adopt a session whose agent still runs, end lost ones, and
        finish any consolidation a crash interrupted."""
        with self._lock:
            self._adopt_recorded()
            if self._running is None:
                try:
                    recover_consolidation(self.home, self.store, tz=self.tz, git=self.git,
                                          working_max=self.working_max)
                except Exception as e:  # reported; the next session end tries again
                    log.error("consolidate.recover_failed", error=error_text(e))

    def _adopt_recorded(self) -> None:
        """Take over sessions recorded as running: the newest live one is watched, any
        other is ended (stopped if it somehow still runs)."""
        rows = self.store.open_sessions()
        for row in reversed(rows):  # newest first
            if self._running is not None and row.id == self._running.session_id:
                continue
            agent = Agent.adopt(row.pid, row.id, row.started)
            if agent is not None and self._running is None:
                self._running = _Running(row.id, row.started, row.reason, agent)
                log.info("session.adopted", session_id=row.id, pid=agent.pid)
            elif agent is not None:
                agent.stop(self.opts.stop_timeout.total_seconds())
                self.store.end_session(row.id, clock.now(), "killed", None)
                log.warning("session.ended", session_id=row.id, end_reason="killed",
                            why="another session was running")
            else:
                self.store.end_session(row.id, clock.now(), "lost", None)
                log.warning("session.ended", session_id=row.id, end_reason="lost")

    def catch_up(self, since: datetime | None, now: datetime | None = None) -> list[WakeResult]:
        """At daemon start: wakes missed while it was down. The newest within
        ``missed_grace`` runs now; older ones are recorded as missed. A sleep time
        passed meanwhile puts an adopted session to sleep."""
        now = now or clock.now()
        if since is None or not self.opts.enabled:
            return []
        out: list[WakeResult] = []
        fires = [t for t in missed_wakes(self.opts.wake, self.tz, since, now)
                 if not self.store.wake_recorded(t)]
        missed, run = catch_up_plan(fires, now, self.opts.missed_grace)
        for t in missed:
            local = t.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
            if self.store.record_wake("missed", f"the daemon was not running at {local}",
                                      scheduled=t):
                out.append(WakeResult("missed", None, f"not running at {local}"))
        r = self._running
        if r is not None and any(t > r.started
                                 for t in missed_wakes(self.opts.sleep, self.tz, since, now)):
            self.sleep("slept")
        if run is not None:
            local = run.astimezone(self.tz).strftime("%H:%M")
            out.append(self.wake(f"scheduled {local} (late: the daemon was not running)",
                                 scheduled=run, check_quiet=True))
        return out

    # -- waking for a reason -----------------------------------------------------------

    def check_wake_on(self, now: datetime | None = None) -> WakeResult | None:
        """Wake when a ``wake_on`` condition holds: at most once per min interval, only
        in active hours, never over a running session."""
        if not self.conditions or not self.opts.enabled or self._running is not None:
            return None
        now = now or clock.now()
        reasons = wake_on_due(self.conditions, self.store, now, tz=self.tz,
                              active_hours=self.opts.active_hours,
                              min_interval=self.opts.wake_on_min_interval)
        if not reasons:
            return None
        # Marked before waking: a wake that fails is not retried every tick.
        self.store.set_meta_time(WAKE_ON_MARK, now)
        return self._wake("wake_on: " + "; ".join(reasons), scheduled=None, check_quiet=False,
                          check_hours=False)

    # -- consolidation ----------------------------------------------------------------------

    def _consolidate_pending(self) -> None:
        if self._running is not None:
            return  # never archive working.md under a live agent
        # A crash after the session was marked consolidated leaves only an open intent:
        # finish those first, or they wait for the next daemon start.
        intents = [self.store.session(i.key) for i in self.store.open_intents("consolidate")]
        for row in [r for r in intents if r is not None and r.consolidated] + \
                self.store.unconsolidated_sessions():
            try:
                consolidate(self.home, self.store, row, tz=self.tz, git=self.git,
                            working_max=self.working_max, killed=self._killed.pop(row.id, None))
            except Exception as e:  # the intent journal lets recover() finish it later
                log.error("consolidate.failed", session_id=row.id, error=error_text(e))
                return
