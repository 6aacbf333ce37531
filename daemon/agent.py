"""The agent's process: started from an argv list (never through a shell) in a session and
process group of its own, and stopped with everything it started.

Stopping is SIGTERM, ``stop_timeout`` of grace, SIGKILL, sent to the agent's whole tree:
its process group, and what left the group (``setsid``, Node's ``detached: true``, a
double fork). Those are found three ways, because each alone can be dodged: the agent and
the daemon are child subreapers (Linux), so an orphan of the tree is re-parented to them
instead of init and stays a descendant; the tree is remembered at every check while the
session runs; and every process still carrying the session's ``REVERIE_SESSION_ID`` in
its environment belongs to it. What escapes all three (a double fork that also clears its
environment in the moment the agent exits) takes a cgroup to catch.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from reverie.daemon._proc import (alive, carries, describe, group_alive, is_session_leader,
                                  killpg, process_table)
from reverie.daemon.session_log import LogCopier
from reverie.memory import _log, clock

log = _log.get("reverie.sessions")

SUBSTITUTIONS = ("home", "state", "dream", "diary", "working")
_TOKEN = re.compile(r"\{(" + "|".join(SUBSTITUTIONS) + r")\}")
_POLL = 0.05
_KILL_WAIT = 5.0  # seconds SIGKILL is given to take the whole tree down
# The basics of a process always pass to the agent, even when a secret happens to equal one.
_BASIC_ENV = frozenset({"HOME", "PATH", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ",
                        "TMPDIR", "PWD", "TERM"})
# The daemon's own line to systemd and its credentials: the agent must not speak for it.
_DAEMON_ONLY = frozenset({"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                          "CREDENTIALS_DIRECTORY", "LISTEN_FDS", "LISTEN_PID",
                          "LISTEN_FDNAMES"})
_PR_SET_CHILD_SUBREAPER = 36


class StartError(Exception):
    """The agent could not be started; ``str(err)`` is one line."""


def substitute(arg: str, values: dict[str, str]) -> str:
    """Replace exactly the known ``{token}``s, in one pass: no format(), no recursion."""
    return _TOKEN.sub(lambda m: values[m.group(1)], arg)


def agent_env(extra: Mapping[str, str], paths: Mapping[str, str], *, session_id: str,
              reason: str) -> dict[str, str]:
    """The daemon's environment without its secrets, then ``extra`` (sessions.env), then
    the session's own variables. A variable holding a configured secret, even inside a
    longer value (a URL with a key), is reverie's, not the agent's: an agent that needs
    one is given it by name in sessions.env."""
    hidden = _secret_values()
    env = {k: v for k, v in os.environ.items()
           if k not in _DAEMON_ONLY
           and (k in _BASIC_ENV or k.startswith(("LC_", "XDG_"))
                or not any(s in v for s in hidden))}
    env.update(extra)
    env.update({f"REVERIE_{k.upper()}": paths[k] for k in SUBSTITUTIONS})
    env.update(REVERIE_SESSION_ID=session_id, REVERIE_WAKE_REASON=reason)
    return env


def _prctl():
    """libc's prctl, looked up once, here: a child between fork and exec only calls it."""
    global _PRCTL
    if _PRCTL is None:
        try:
            import ctypes

            _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):  # not Linux
            _PRCTL = False
    return _PRCTL or None


_PRCTL = None


def become_subreaper() -> bool:
    """Ask Linux to re-parent orphaned descendants to this process instead of init."""
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


@dataclass
class Stopped:
    forced: bool                                        # SIGKILL was needed
    strays: list[str] = field(default_factory=list)     # "pid command" beside the agent


@dataclass
class Ended:
    reason: str                 # exited | killed | what the caller stopped it for
    exit_code: int | None
    stopped: Stopped
    note: str | None            # what reverie adds to the session log


class Agent:
    """One running agent: our child (``proc``) or, after a daemon restart, adopted by pid."""

    def __init__(self, pid: int, session_id: str, proc: subprocess.Popen | None = None,
                 copier: LogCopier | None = None):
        self.pid = pid
        self.session_id = session_id
        self.proc = proc
        self.copier = copier
        self.known: dict[int, int] = {}  # pid -> start time, of every descendant seen
        self._outside: set[int] = set()  # members seen outside the agent's process group

    @classmethod
    def spawn(cls, argv: list[str], *, cwd: Path, env: dict[str, str], session_id: str,
              log_path: Path, log_cap: int) -> "Agent":
        if not cwd.is_dir():
            raise StartError(f"the session cwd {str(cwd)!r} is not a folder")
        become_subreaper()
        prctl = _prctl()
        # The agent is a subreaper too (it lasts across exec): while it lives, what its tree
        # orphans stays under it, so a double fork does not leave the tree.
        keep_orphans = (lambda: prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) if prctl else None
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True,
                                    preexec_fn=keep_orphans)
        except OSError as e:
            raise StartError(_start_error(e, argv)) from None
        copier = LogCopier(proc.stdout, log_path, log_cap)
        copier.start()
        return cls(proc.pid, session_id, proc, copier)

    @classmethod
    def adopt(cls, pid: int | None, session_id: str, started_ts: float) -> "Agent | None":
        """The agent of a session recorded as running, if that process is still it."""
        return cls(pid, session_id) if pid and is_session_leader(pid, started_ts) else None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc is not None else None

    def gone(self) -> bool:
        """Whether the agent itself has ended (what it started may still run)."""
        if self.proc is not None:
            return self.proc.poll() is not None
        return not alive(self.pid)

    def watch(self) -> None:
        """Remember the tree as it is now, so a process that leaves it later is still known."""
        table = process_table()
        for pid in self._members(table, scan=False):
            self.known[pid] = table[pid][4]

    def stop(self, grace: float) -> Stopped:
        """SIGTERM to the whole tree, up to ``grace`` seconds, then SIGKILL. Waits for the
        agent when it is our child and reaps the orphans that came to us."""
        live = self._live(scan=True)
        strays = [describe(p) for p in sorted(live) if p != self.pid]
        if not live:
            self._reap()
            return Stopped(False, strays)
        self._signal(live, signal.SIGTERM)
        deadline = clock.monotonic() + grace
        while clock.monotonic() < deadline:
            if not self._live(scan=False) and not self._live(scan=True):
                self._reap()
                return Stopped(False, strays)
            time.sleep(_POLL)
        deadline = clock.monotonic() + _KILL_WAIT
        while True:
            live = self._live(scan=True)
            if not live or clock.monotonic() >= deadline:
                break
            self._signal(live, signal.SIGKILL)  # again each round: a forking tree grows back
            time.sleep(_POLL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        self._reap()
        return Stopped(True, strays)

    def end(self, reason: str, grace: float) -> Ended:
        """Stop the tree, finish the log and say how the session ended: ``reason`` when it
        was stopped while the agent ran. An agent that had ended by itself "exited", or was
        "killed": by a signal nobody here sent, or because it left processes running (those
        are stopped here, and its log says which): that is not a clean exit."""
        already = self.gone()
        stopped = self.stop(grace)
        code, note = self.returncode, None
        listed = "; ".join(stopped.strays)
        if already and stopped.strays:
            end_reason = "killed"
            note = (f"the agent exited (code {code}) leaving {len(stopped.strays)} "
                    f"process(es) running; reverie stopped: {listed}")
        elif already:
            end_reason = "killed" if code is not None and code < 0 else "exited"
        else:
            end_reason = reason
            note = f"stopped with the agent: {listed}" if stopped.strays else None
        if self.copier is not None:
            self.copier.finish(note)
        return Ended(end_reason, code, stopped, note)

    # -- the tree -------------------------------------------------------------------

    def _members(self, table: dict[int, tuple], scan: bool) -> set[int]:
        """The agent's tree in ``table``: its group and session, what was seen before,
        what carries its session id (``scan``), and every descendant of those."""
        roots = {p for p, row in table.items() if self.pid in (row[2], row[3])}
        roots |= {p for p, start in self.known.items() if p in table and table[p][4] == start}
        if scan:
            marker = f"REVERIE_SESSION_ID={self.session_id}".encode()
            roots |= {p for p in table if carries(p, marker)}
        children: dict[int, list[int]] = {}
        for p, row in table.items():
            children.setdefault(row[1], []).append(p)
        me, out, stack = os.getpid(), set(), list(roots)
        while stack:
            p = stack.pop()
            if p not in out and p != me:
                out.add(p)
                stack.extend(children.get(p, ()))
        return out

    def _live(self, scan: bool) -> set[int]:
        if self.proc is not None:
            self.proc.poll()
        if not os.path.isdir("/proc"):  # no process table to read: the group is all we know
            return {self.pid} if group_alive(self.pid) else set()
        table = process_table()
        members = self._members(table, scan)
        for p in members:
            self.known[p] = table[p][4]
        # those in the agent's group are reached by the group's signal, and one signal each
        self._outside = {p for p in members if table[p][2] != self.pid}
        return {p for p in members if table[p][0] not in ("Z", "X")}

    def _signal(self, pids: set[int], sig: int) -> None:
        killpg(self.pid, sig)
        for p in pids & self._outside:
            try:
                os.kill(p, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def _reap(self) -> None:
        """Collect the exit of the orphans re-parented to us, so none stays a zombie of the
        daemon. Never one of our own children (its Popen collects it): those are in our
        session or lead their own (start_new_session); an orphan's session leader is gone."""
        me, mine, table = os.getpid(), os.getsid(0), process_table()
        for p, row in table.items():
            state, ppid, _, sid, start = row
            if ppid != me or state != "Z" or p == self.pid:
                continue
            if self.known.get(p) == start or sid not in (mine, p):
                try:
                    os.waitpid(p, os.WNOHANG)
                except ChildProcessError:
                    pass

def _start_error(e: OSError, argv: list[str]) -> str:
    if isinstance(e, FileNotFoundError) and e.filename in (argv[0], None):
        return f"command {argv[0]!r} not found"
    if isinstance(e, PermissionError):
        return f"command {argv[0]!r} is not executable"
    if e.strerror:
        return e.strerror
    return " ".join(str(e).split())


def _secret_values() -> tuple[str, ...]:
    from reverie.daemon.logs import secret_values

    return secret_values()
