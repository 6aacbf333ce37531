"""The session runner: wake the agent, put it to sleep, consolidate what it wrote.

One session at a time. The agent runs in its own process group (``start_new_session``)
so that stopping it stops everything it started: SIGTERM to the group, ``stop_timeout``
of grace, SIGKILL to the group. Every wake decision is a row in ``wakes``; every session
a row in ``sessions``; every end is followed by consolidation (memory.consolidate).

Locking: one lock serialises wake, sleep and the end-of-session work, so a wake that
arrives while a session is being consolidated waits and then starts on a fresh
working.md instead of racing the archive.
"""

from __future__ import annotations

import os
import re
import secrets
import select
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Annotated, Callable

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, field_validator,
                      model_validator)

from reverie.daemon.conditions import Condition, parse_condition
from reverie.memory import _log, atomic, clock
from reverie.memory.consolidate import consolidate, ensure_diary
from reverie.memory.consolidate import recover as recover_consolidation
from reverie.memory.home import Home
from reverie.memory.store import Store
from reverie.perception.types import (Cron, Duration, PositiveDuration, fire_times,
                              first_occurrence)

log = _log.get("reverie.sessions")

SUBSTITUTIONS = ("home", "state", "dream", "diary", "working")
_TOKEN = re.compile(r"\{(" + "|".join(SUBSTITUTIONS) + r")\}")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_RESPONSE_CAP = 64 * 1024
_LOG_FLUSH_EVERY = 0.5  # seconds between atomic rewrites of a growing session log
_POLL = 0.05


# -- config --------------------------------------------------------------------------

def _check_condition(text: str) -> str:
    parse_condition(text)
    return text


# Checked item by item, so a bad one is reported at its own line of reverie.yaml.
ConditionText = Annotated[str, AfterValidator(_check_condition)]


class WebhookOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    headers: dict[str, str] = {}
    timeout: PositiveDuration = Field(default="10s", validate_default=True)
    retries: int = Field(default=2, ge=0, le=10)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("webhook url must start with http:// or https://")
        return v


class SessionsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: list[str] | None = None
    cwd: str | None = None
    env: dict[str, str] = {}
    wake: list[Cron] = []
    sleep: list[Cron] = []
    max_duration: PositiveDuration | None = Field(default="2h", validate_default=True)
    stop_timeout: PositiveDuration = Field(default="60s", validate_default=True)
    active_hours: str | None = None
    webhook: WebhookOptions | None = None
    skip_if_quiet: bool = False
    wake_on: list[ConditionText] = []
    wake_on_min_interval: PositiveDuration = Field(default="1h", validate_default=True)
    missed_grace: Duration = Field(default="15m", validate_default=True)
    log_max_bytes: int = Field(default=1024 * 1024, ge=1024)

    @field_validator("command")
    @classmethod
    def _command(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or not v[0].strip()):
            raise ValueError("command must be a non-empty argv list, e.g. [my-agent, --flag]")
        return v

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is not None:
            parse_hours(v)
        return v

    @model_validator(mode="after")
    def _one_way(self) -> "SessionsOptions":
        if self.command is not None and self.webhook is not None:
            raise ValueError("set either command or webhook, not both")
        if (self.wake or self.wake_on) and self.command is None and self.webhook is None:
            raise ValueError("wake and wake_on need a command (or a webhook) to start")
        return self

    @property
    def enabled(self) -> bool:
        return self.command is not None or self.webhook is not None

    def conditions(self) -> list[Condition]:
        return [parse_condition(t) for t in self.wake_on]


def parse_hours(spec: str) -> tuple[int, int]:
    """'HH:MM-HH:MM' as (start, end) minutes after local midnight; may wrap midnight."""
    m = _HOURS.match(spec)
    if not m:
        raise ValueError(f"invalid active_hours {spec!r} (use HH:MM-HH:MM, e.g. 07:00-23:00)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"invalid active_hours {spec!r}: not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end % 1440:
        raise ValueError(f"invalid active_hours {spec!r}: the window is empty")
    return start, end


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


def new_session_id(now: datetime) -> str:
    return now.astimezone(clock.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def substitute(arg: str, values: dict[str, str]) -> str:
    """Replace exactly the known ``{token}``s, in one pass: no format(), no recursion."""
    return _TOKEN.sub(lambda m: values[m.group(1)], arg)


# -- results -------------------------------------------------------------------------

@dataclass(frozen=True)
class WakeResult:
    outcome: str                   # started | skipped | missed | failed
    session_id: str | None
    reason: str
    recorded: bool = True          # False: this fire time was already handled

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Running:
    session_id: str
    pid: int
    started: datetime
    reason: str
    proc: subprocess.Popen | None = None   # None: adopted after a daemon restart
    copier: "_LogCopier | None" = None


# -- the runner ----------------------------------------------------------------------

class SessionRunner:
    def __init__(self, home: Home, store: Store, opts: SessionsOptions, *, tz: tzinfo,
                 git: bool = False, render_state: Callable[[], None] = lambda: None,
                 notable_since: Callable[[datetime, datetime], list[str]] | None = None):
        self.home = home
        self.store = store
        self.opts = opts
        self.tz = tz
        self.git = git
        self.render_state = render_state
        self.notable_since = notable_since
        self.conditions = opts.conditions()
        self._lock = threading.RLock()
        self._running: _Running | None = None

    # -- wake ---------------------------------------------------------------------

    def wake(self, reason: str, *, scheduled: datetime | None = None,
             check_quiet: bool = False) -> WakeResult:
        """Start a session. ``active_hours`` applies to scheduled wakes (and wake_on);
        a wake a person asks for (``reverie wake``) is theirs to make."""
        return self._wake(reason, scheduled=scheduled, check_quiet=check_quiet,
                          check_hours=scheduled is not None)

    def _wake(self, reason: str, *, scheduled: datetime | None, check_quiet: bool,
              check_hours: bool) -> WakeResult:
        reason = _one_line(reason) or "wake"
        with self._lock:
            now = clock.now()
            if scheduled is not None and self.store.wake_recorded(scheduled):
                return WakeResult("skipped", None, "this wake time was already handled",
                                  recorded=False)
            if self._running is not None:
                return self._decide("skipped", "a session is running", reason, scheduled)
            if check_hours and not in_active_hours(self.opts.active_hours, scheduled or now,
                                                   self.tz):
                return self._decide("skipped", f"outside active hours {self.opts.active_hours}",
                                    reason, scheduled)
            if check_quiet and self.opts.skip_if_quiet and self.notable_since is not None:
                last = self.store.last_wake()
                if last is not None:
                    try:
                        notable = self.notable_since(last, now)
                    except Exception as e:  # a digest bug must not cost the agent its wake
                        log.warning("wake.notable_failed", error=_err(e))
                        notable = ["(could not tell)"]
                    if not notable:
                        return self._decide("skipped", "nothing notable since the last wake",
                                            reason, scheduled)
            if self.opts.webhook is not None:
                return self._wake_webhook(reason, scheduled, now)
            if not self.opts.command:
                return self._decide("skipped", "sessions are not configured "
                                    "(no sessions.command or sessions.webhook)", reason, scheduled)
            return self._start(reason, scheduled, now)

    def _decide(self, outcome: str, why: str, reason: str,
                scheduled: datetime | None) -> WakeResult:
        text = why if why == reason else f"{why} ({reason})"
        if not self.store.record_wake(outcome, text, scheduled=scheduled):
            return WakeResult("skipped", None, "this wake time was already handled",
                              recorded=False)
        log.info("wake." + outcome, reason=text,
                 scheduled=scheduled.isoformat() if scheduled else None)
        return WakeResult(outcome, None, why)

    def _prepare(self, now: datetime) -> dict[str, str]:
        """Fresh state, today's diary; the paths the agent is told about."""
        try:
            self.render_state()
        except Exception as e:  # a stale state.md is better than no session
            log.warning("wake.render_failed", error=_err(e))
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
        cwd = self._cwd()
        # The config's ${VAR} secrets are reverie's, not the agent's (an agent that needs
        # one is given it by name in sessions.env); the basics of a process always pass.
        hidden = set(_secret_values())
        env = {k: v for k, v in os.environ.items()
               if v not in hidden or k in _BASIC_ENV or k.startswith(("LC_", "XDG_"))}
        env.update(self.opts.env)
        env.update({"REVERIE_HOME": paths["home"], "REVERIE_STATE": paths["state"],
                    "REVERIE_DREAM": paths["dream"], "REVERIE_DIARY": paths["diary"],
                    "REVERIE_WORKING": paths["working"], "REVERIE_SESSION_ID": sid,
                    "REVERIE_WAKE_REASON": reason})
        # Recorded before the start: a second fire of the same time finds it taken.
        if not self.store.record_wake("started", reason, scheduled=scheduled, session_id=sid):
            return WakeResult("skipped", None, "this wake time was already handled",
                              recorded=False)
        # The session is recorded before the agent starts: a crash in between leaves a
        # session without a pid (ended as lost at the next start), never an agent that
        # reverie does not know about.
        self.store.start_session(sid, now, None, reason)
        try:
            if not cwd.is_dir():
                raise _StartError(f"the session cwd {str(cwd)!r} is not a folder")
            self.home.sessions_dir.mkdir(parents=True, exist_ok=True)
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True)
        except (OSError, _StartError) as e:
            why = f"could not start the agent: {_start_error(e, argv)}"
            self.store.update_wake(sid, "failed", f"{why} ({reason})")
            self.store.forget_session(sid)  # nothing ran; the wake records the failure
            log.error("wake.failed", reason=reason, error=why)
            return WakeResult("failed", None, why)
        self.store.set_session_pid(sid, proc.pid)
        copier = _LogCopier(proc.stdout, self.home.session_log(sid), self.opts.log_max_bytes)
        copier.start()
        self._running = _Running(sid, proc.pid, now, reason, proc, copier)
        log.info("session.started", session_id=sid, pid=proc.pid, reason=reason,
                 scheduled=scheduled.isoformat() if scheduled else None)
        return WakeResult("started", sid, reason)

    def _cwd(self) -> Path:
        if not self.opts.cwd:
            return self.home.root
        p = Path(self.opts.cwd).expanduser()
        return p if p.is_absolute() else self.home.root / p

    def _wake_webhook(self, reason: str, scheduled: datetime | None, now: datetime) -> WakeResult:
        import requests

        hook = self.opts.webhook
        assert hook is not None
        sid = new_session_id(now)
        paths = self._prepare(now)
        body = {"session_id": sid, "reason": reason, "home": paths["home"],
                "state": paths["state"], "dream": paths["dream"],
                "time": now.astimezone(self.tz).isoformat()}
        t = hook.timeout.total_seconds()
        error = "no attempt"
        status = None
        for attempt in range(hook.retries + 1):
            if attempt:
                time.sleep(min(0.25 * 2 ** attempt, 5.0))
            try:
                with requests.post(hook.url, json=body, headers=hook.headers, timeout=(t, t),
                                   stream=True, allow_redirects=False) as resp:
                    resp.raw.read(_RESPONSE_CAP, decode_content=True)
                    status = resp.status_code
            except requests.RequestException as e:
                error = _request_error(e)
                continue
            if 200 <= status < 300:
                break
            error = f"HTTP {status}"
            if status < 500 and status != 429:
                break  # the hook refused this request: asking again changes nothing
        else:
            status = None
        if status is None or not 200 <= status < 300:
            why = f"webhook failed: {error}"
            self._decide("failed", why, reason, scheduled)
            return WakeResult("failed", None, why)
        if not self.store.record_wake("started", reason, scheduled=scheduled, session_id=sid):
            return WakeResult("skipped", None, "this wake time was already handled",
                              recorded=False)
        # The agent runs elsewhere: the session begins and ends with the request.
        self.store.start_session(sid, now, None, reason)
        self.store.end_session(sid, clock.now(), "exited", None)
        self.store.mark_consolidated(sid)
        log.info("session.started", session_id=sid, reason=reason, webhook=True, status=status)
        log.info("session.ended", session_id=sid, end_reason="exited", webhook=True)
        return WakeResult("started", sid, reason)

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
            if self._leader_gone(r):
                return self._stop(r, "exited")
            limit = self.opts.max_duration
            if limit is not None and (now or clock.now()) - r.started >= limit:
                return self._stop(r, "timed out")
            return None
        finally:
            self._lock.release()

    def current(self) -> dict | None:
        r = self._running
        if r is None:
            return None
        now = clock.now()
        return {"session_id": r.session_id, "pid": r.pid, "start": r.started.isoformat(),
                "elapsed": round((now - r.started).total_seconds(), 1), "reason": r.reason,
                "adopted": r.proc is None}

    def run_foreground(self, reason: str) -> WakeResult:
        """``reverie wake`` without a daemon: run the session until it ends, then consolidate."""
        result = self.wake(reason)
        if result.outcome != "started" or self._running is None:
            return result
        try:
            while self._running is not None:
                self.check()
                time.sleep(0.1)
        except KeyboardInterrupt:
            self.sleep("slept")
        return result

    def _leader_gone(self, r: _Running) -> bool:
        if r.proc is not None:
            return r.proc.poll() is not None
        return not _alive(r.pid)

    def _stop(self, r: _Running, reason: str) -> str:
        """Stop the group, record the end, consolidate. Returns the recorded end reason."""
        already = self._leader_gone(r)
        forced = _stop_group(r.pid, r.proc, self.opts.stop_timeout.total_seconds())
        code = r.proc.returncode if r.proc is not None else None
        if already:
            # It ended by itself; a death by a signal nobody here sent is a kill.
            end_reason = "killed" if code is not None and code < 0 else "exited"
        else:
            end_reason = reason
        if r.copier is not None:
            r.copier.finish()
        ended = clock.now()
        self.store.end_session(r.session_id, ended, end_reason, code)
        self._running = None
        log.info("session.ended", session_id=r.session_id, end_reason=end_reason,
                 exit_code=code, forced=forced,
                 duration=round((ended - r.started).total_seconds(), 1))
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
                    recover_consolidation(self.home, self.store, tz=self.tz, git=self.git)
                except Exception as e:  # reported; the next session end tries again
                    log.error("consolidate.recover_failed", error=_err(e))

    def _adopt_recorded(self) -> None:
        """Take over sessions recorded as running: the newest live one is watched, any
        other is ended (stopped if it somehow still runs)."""
        rows = self.store.open_sessions()
        for row in reversed(rows):  # newest first
            if self._running is not None and row["id"] == self._running.session_id:
                continue
            pid = row["pid"]
            live = bool(pid) and _is_session_leader(pid, row["started"])
            started = clock.from_ts(row["started"])
            if live and self._running is None:
                self._running = _Running(row["id"], pid, started, row["reason"])
                log.info("session.adopted", session_id=row["id"], pid=pid)
            elif live:
                _stop_group(pid, None, self.opts.stop_timeout.total_seconds())
                self.store.end_session(row["id"], clock.now(), "killed", None)
                log.warning("session.ended", session_id=row["id"], end_reason="killed",
                            why="another session was running")
            else:
                self.store.end_session(row["id"], clock.now(), "lost", None)
                log.warning("session.ended", session_id=row["id"], end_reason="lost")

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
        grace = self.opts.missed_grace
        late = [t for t in fires if now - t <= grace]
        run = late[-1] if late else None
        for t in fires:
            if t == run:
                continue
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
        if not self.conditions or not self.opts.enabled:
            return None
        now = now or clock.now()
        if self._running is not None or not in_active_hours(self.opts.active_hours, now, self.tz):
            return None
        last_on = self._last_wake_on()
        if last_on is not None and now - last_on < self.opts.wake_on_min_interval:
            return None
        marks = [t for t in (self.store.last_wake(), last_on) if t is not None]
        since = max(marks) if marks else now - timedelta(days=1)
        reasons = []
        for cond in self.conditions:
            try:
                why = cond.evaluate(self.store, since, now)
            except Exception as e:
                log.warning("wake_on.failed", condition=cond.text, error=_err(e))
                continue
            if why:
                reasons.append(why)
        if not reasons:
            return None
        # Marked before waking: a wake that fails is not retried every tick.
        self.store.set_meta("wake_on.last", str(clock.to_ts(now)))
        return self._wake("wake_on: " + "; ".join(reasons), scheduled=None, check_quiet=False,
                          check_hours=False)

    def _last_wake_on(self) -> datetime | None:
        v = self.store.get_meta("wake_on.last")
        return clock.from_ts(float(v)) if v else None

    # -- control socket -------------------------------------------------------------------

    def handle(self, request: dict) -> dict:
        """A ready handler for the control socket: wake, sleep, status."""
        cmd = request.get("cmd")
        if cmd == "wake":
            res = self.wake(str(request.get("reason") or "asked (reverie wake)"))
            return {"ok": res.outcome == "started", **res.to_dict()}
        if cmd == "sleep":
            stopped = self.sleep(str(request.get("reason") or "slept"))
            return {"ok": True, "stopped": stopped}
        if cmd == "status":
            return {"ok": True, "session": self.current()}
        return {"ok": False, "error": f"unknown command {cmd!r} (wake, sleep, status)"}

    # -- consolidation ----------------------------------------------------------------------

    def _consolidate_pending(self) -> None:
        if self._running is not None:
            return  # never archive working.md under a live agent
        # A crash after the session was marked consolidated leaves only an open intent:
        # finish those first, or they wait for the next daemon start.
        for intent in self.store.open_intents("consolidate"):
            row = self.store.session(intent["key"])
            if row is not None and row.get("consolidated"):
                try:
                    consolidate(self.home, self.store, row, tz=self.tz, git=self.git)
                except Exception as e:
                    log.error("consolidate.failed", session_id=row["id"], error=_err(e))
                    return
        for row in self.store.unconsolidated_sessions():
            try:
                consolidate(self.home, self.store, row, tz=self.tz, git=self.git)
            except Exception as e:  # the intent journal lets recover() finish it later
                log.error("consolidate.failed", session_id=row["id"], error=_err(e))
                return


# -- processes ---------------------------------------------------------------------------

class _StartError(Exception):
    pass


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process remains in the group."""
    if os.path.isdir("/proc"):
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = _proc_stat(int(name))
                if st and st[2] == str(pgid) and st[0] not in ("Z", "X"):
                    return True
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(pid: int) -> bool:
    st = _proc_stat(pid)
    if st is not None:
        return st[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not os.path.isdir("/proc")


def _is_session_leader(pid: int, started_ts: float) -> bool:
    """A live process that is still the agent we started (a reused pid is not)."""
    if not _alive(pid):
        return False
    try:
        if os.getsid(pid) != pid:
            return False
    except OSError:
        return False
    st = _proc_stat(pid)
    if st is not None:
        try:
            ticks = os.sysconf("SC_CLK_TCK")
            with open("/proc/stat") as f:
                btime = next(int(l.split()[1]) for l in f if l.startswith("btime"))
            began = btime + int(st[19]) / ticks
            return abs(began - started_ts) < 120
        except (OSError, ValueError, StopIteration, IndexError):
            return True
    return True


def _stop_group(pgid: int, proc: subprocess.Popen | None, grace: float) -> bool:
    """SIGTERM to the group, up to ``grace`` seconds, then SIGKILL. True if SIGKILL
    was needed. Waits for the leader when it is our child."""
    def settled() -> bool:
        if proc is not None:
            proc.poll()
        return not _group_alive(pgid)

    if settled():
        return False
    _killpg(pgid, signal.SIGTERM)
    deadline = clock.monotonic() + grace
    while clock.monotonic() < deadline:
        if settled():
            return False
        time.sleep(_POLL)
    _killpg(pgid, signal.SIGKILL)
    if proc is not None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    deadline = clock.monotonic() + 5
    while clock.monotonic() < deadline and _group_alive(pgid):
        time.sleep(_POLL)
    return True


class _LogCopier(threading.Thread):
    """Copy the agent's output to its log, up to a cap; drain (and drop) the rest so the
    agent never blocks on a full pipe. The log is rewritten atomically, at most every
    half second, like every file reverie writes."""

    def __init__(self, stream: IO[bytes], path: Path, cap: int):
        super().__init__(name=f"session-log-{path.stem}", daemon=True)
        self.stream = stream
        self.path = path
        self.cap = cap
        self.buf = bytearray()
        self.truncated = 0

    def run(self) -> None:
        fd = self.stream.fileno()
        dirty = True  # an empty log says the session produced no output
        last = 0.0
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], _LOG_FLUSH_EVERY)
                if ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    room = self.cap - len(self.buf)
                    if room > 0:
                        self.buf += chunk[:room]
                        dirty = True
                    self.truncated += max(0, len(chunk) - max(room, 0))
                if dirty and clock.monotonic() - last >= _LOG_FLUSH_EVERY:
                    self._flush()
                    dirty, last = False, clock.monotonic()
        except (OSError, ValueError):
            pass
        finally:
            self._flush()
            try:
                self.stream.close()
            except OSError:
                pass

    def _flush(self) -> None:
        data = bytes(self.buf)
        for s in _secret_values():  # an agent may echo a secret it was given in sessions.env
            data = data.replace(s.encode("utf-8"), b"***")
        if self.truncated:
            data += (f"\n[reverie: output truncated at {self.cap} bytes; "
                     f"{self.truncated} more bytes were discarded]\n").encode()
        try:
            atomic.write_bytes(self.path, data, mode=atomic.SECRET_MODE)
        except OSError as e:
            log.warning("session.log_failed", path=str(self.path), error=_err(e))

    def finish(self, timeout: float = 5.0) -> None:
        self.join(timeout)


# -- small helpers --------------------------------------------------------------------------

_BASIC_ENV = frozenset({"HOME", "PATH", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ",
                        "TMPDIR", "PWD", "TERM"})


def _secret_values() -> tuple[str, ...]:
    from reverie.daemon.logs import secret_values

    return secret_values()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _err(e: BaseException) -> str:
    from reverie.daemon.logs import scrub

    return scrub(_one_line(f"{e.__class__.__name__}: {e}"))


def _start_error(e: BaseException, argv: list[str]) -> str:
    if isinstance(e, FileNotFoundError) and e.filename in (argv[0], None):
        return f"command {argv[0]!r} not found"
    if isinstance(e, PermissionError):
        return f"command {argv[0]!r} is not executable"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return _one_line(str(e))


def _request_error(e: BaseException) -> str:
    import requests

    if isinstance(e, requests.Timeout):
        return "timed out"
    if isinstance(e, requests.ConnectionError):
        return "could not connect"
    return e.__class__.__name__  # never the URL: it may carry a token
