"""The agent's process: started from an argv list (never through a shell) in a session and
process group of its own, and stopped with everything it started.

Stopping is SIGTERM, ``stop_timeout`` of grace, SIGKILL, sent to the agent's whole tree:
its process group, and what left the group (``setsid``, Node's ``detached: true``, a
double fork). Those are found three ways, because each alone can be dodged: the agent and
the daemon are child subreapers (Linux), so an orphan of the tree is re-parented to them
instead of init and stays a descendant; the tree is remembered at every check while the
session runs; and every process still carrying the session's ``REVERIE_SESSION_ID`` in
its environment belongs to it. An orphan re-parented to the daemon that the daemon did not
start itself (memory/children.py knows those) is the agent's too: that catches
``setsid env -i sleep 1000 &`` left behind by an agent that exited at once.

Where the daemon's cgroup is delegated (systemd, ``Delegate=yes``), the agent starts in a
cgroup of its own (daemon/_cgroup.py) and the end is ``cgroup.kill``: nothing escapes that.

With ``sessions.user:`` the agent runs as that account: the child drops the supplementary
groups, sets its gid and uid (setresgid/setresuid, which the daemon's seccomp filter allows
for that account only: daemon/harden.py) and clears its ambient capabilities before exec.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from reverie.daemon._cgroup import SessionCgroup
from reverie.daemon._proc import (alive, carries, describe, group_alive, is_session_leader,
                                  process_table)
from reverie.daemon.session_log import LogCopier
from reverie.memory import _log, children, clock
from reverie.memory.errors import one_line

log = _log.get("reverie.sessions")

SUBSTITUTIONS = ("home", "state", "dream", "diary", "working")
_TOKEN = re.compile(r"\{(" + "|".join(SUBSTITUTIONS) + r")\}")
_POLL = 0.05
_KILL_WAIT = 5.0  # seconds SIGKILL is given to take the whole tree down
_PR_SET_CHILD_SUBREAPER = 36
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_KILL_AS_TIMEOUT = 5.0  # seconds for the helper that signals as the agent's user


@dataclass(frozen=True)
class Account:
    """The user the agent runs as (``sessions.user``/``group``)."""

    name: str
    uid: int
    gid: int
    home: str


class StartError(Exception):
    """The agent could not be started; ``str(err)`` is one line."""


def substitute(arg: str, values: dict[str, str]) -> str:
    """Replace exactly the known ``{token}``s, in one pass: no format(), no recursion."""
    return _TOKEN.sub(lambda m: values[m.group(1)], arg)


def agent_env(extra: Mapping[str, str], paths: Mapping[str, str], *, session_id: str,
              reason: str, home: str | None = None) -> dict[str, str]:
    """The basics (memory/children.py: PATH, HOME, LANG, TZ, LC_ALL), then ``extra``
    (sessions.env), then the session's own variables. Nothing else of the daemon's
    environment: an agent that needs a key is given it by name in sessions.env. ``home``
    is the HOME of the agent's own account (sessions.user)."""
    env = children.child_env(extra, home=home)
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


_PRCTL: Any = None  # libc's prctl; False where there is none


def become_subreaper() -> bool:
    """Ask Linux to re-parent orphaned descendants to this process instead of init."""
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


@dataclass
class Stopped:
    forced: bool                                        # SIGKILL was needed
    strays: list[str] = field(default_factory=list)     # "pid command" beside the agent
    cgroup_killed: int | None = None                    # ended by the session cgroup's kill


@dataclass
class Ended:
    reason: str                 # exited | killed | what the caller stopped it for
    exit_code: int | None
    stopped: Stopped
    note: str | None            # what reverie adds to the session log


class Agent:
    """One running agent: our child (``proc``) or, after a daemon restart, adopted by pid."""

    def __init__(self, pid: int, session_id: str, proc: subprocess.Popen | None = None,
                 copier: LogCopier | None = None, *, cgroup: SessionCgroup | None = None,
                 account: Account | None = None):
        self.pid = pid
        self.session_id = session_id
        self.proc = proc
        self.copier = copier
        self.cgroup = cgroup
        self.account = account
        self.known: dict[int, int] = {}  # pid -> start time, of every descendant seen
        self._outside: set[int] = set()  # members seen outside the agent's process group
        self._born = 0  # the agent's start time (ticks): orphans of its tree are younger
        self.cgroup_killed: int | None = None  # processes the cgroup's kill ended

    @classmethod
    def spawn(cls, argv: list[str], *, cwd: Path, env: dict[str, str], session_id: str,
              log_path: Path, log_cap: int, account: Account | None = None,
              use_cgroup: bool = True) -> "Agent":
        if not cwd.is_dir():
            raise StartError(f"the session cwd {str(cwd)!r} is not a folder")
        become_subreaper()
        prctl = _prctl()
        if account is not None and (account.uid, account.gid) == (os.getuid(), os.getgid()):
            account = None  # already that user: nothing to switch
        cgroup = SessionCgroup.make(session_id) if use_cgroup else None
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            proc = children.spawn(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  start_new_session=True, close_fds=True,
                                  preexec_fn=_in_child(prctl, cgroup, account))
        except OSError as e:
            if cgroup is not None:
                cgroup.remove()
            raise StartError(_start_error(e, argv)) from None
        except subprocess.SubprocessError as e:  # the preexec step failed (setresuid...)
            if cgroup is not None:
                cgroup.remove()
            raise StartError(f"could not become {account.name if account else 'the agent'}: "
                             f"{one_line(e)}") from None
        if cgroup is not None:
            cgroup.started()
        assert proc.stdout is not None  # stdout=PIPE
        copier = LogCopier(proc.stdout, log_path, log_cap)
        copier.start()
        agent = cls(proc.pid, session_id, proc, copier, cgroup=cgroup, account=account)
        row = process_table().get(proc.pid)
        agent._born = row[4] if row is not None else 0
        return agent

    @classmethod
    def adopt(cls, pid: int | None, session_id: str, started: datetime) -> "Agent | None":
        """The agent of a session recorded as running (``started``: when the store says it
        began), if that process is still it."""
        if not pid or not is_session_leader(pid, clock.to_ts(started)):
            return None
        return cls(pid, session_id, cgroup=SessionCgroup.existing(session_id))

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
            self._done()
            return Stopped(False, strays)
        self._signal(live, signal.SIGTERM)
        deadline = clock.monotonic() + grace
        while clock.monotonic() < deadline:
            if not self._live(scan=False) and not self._live(scan=True):
                self._done()
                return Stopped(False, strays)
            time.sleep(_POLL)
        if self.cgroup is not None:  # the whole tree at once, whatever left the group
            self.cgroup_killed = self.cgroup.kill(_KILL_WAIT)
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
        self._done()
        return Stopped(True, strays)

    def _done(self) -> None:
        self._reap()
        if self.cgroup is not None:
            if self.cgroup.populated():  # a process the walk could not see (another uid)
                self.cgroup_killed = (self.cgroup_killed or 0) + self.cgroup.kill(_KILL_WAIT)
            self.cgroup.remove()

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
        if self.cgroup_killed:
            stopped.cgroup_killed = self.cgroup_killed
            note = (note + "; " if note else "") + \
                f"{self.cgroup_killed} process(es) ended by the session's cgroup.kill"
        if self.copier is not None:
            self.copier.finish(note)
        return Ended(end_reason, code, stopped, note)

    # -- the tree -------------------------------------------------------------------

    def _members(self, table: dict[int, tuple], scan: bool) -> set[int]:
        """The agent's tree in ``table``: its group and session, what was seen before,
        what carries its session id (``scan``), and every descendant of those."""
        me = os.getpid()
        roots = {p for p, row in table.items() if self.pid in (row[2], row[3])}
        roots |= {p for p, start in self.known.items() if p in table and table[p][4] == start}
        if scan:
            marker = f"REVERIE_SESSION_ID={self.session_id}".encode()
            roots |= {p for p in table if carries(p, marker)}
        if self.proc is not None and self._born:
            # Orphans re-parented to us (we are a subreaper) that we did not start: the
            # agent's, whatever session, group or environment they made for themselves.
            # (Not one in the session of another child we started and still hold, a command
            # source's: a session id is only ever its own leader's pid, so none can fake it.)
            ours = children.own_children()  # read after the table: a start under way is in
            theirs = ours - {self.pid}
            roots |= {p for p, row in table.items()
                      if row[1] == me and p != self.pid and p not in ours
                      and row[4] >= self._born and row[3] not in theirs}
        if self.cgroup is not None:
            roots |= {p for p in self.cgroup.procs() if p in table}
        kids: dict[int, list[int]] = {}
        for p, row in table.items():
            kids.setdefault(row[1], []).append(p)
        out: set[int] = set()
        stack = list(roots)
        while stack:
            p = stack.pop()
            if p not in out and p != me:
                out.add(p)
                stack.extend(kids.get(p, ()))
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
        live = {p for p in members if table[p][0] not in ("Z", "X")}
        if self.cgroup is not None:  # members /proc does not show us (another user's)
            hidden = self.cgroup.procs() - set(table)
            self._outside |= hidden
            live |= hidden
        return live

    def _signal(self, pids: set[int], sig: int) -> None:
        denied: list[int] = []
        try:
            os.killpg(self.pid, sig)
        except PermissionError:
            denied.append(-self.pid)
        except ProcessLookupError:
            pass
        for p in pids & self._outside:
            try:
                os.kill(p, sig)
            except PermissionError:
                denied.append(p)
            except ProcessLookupError:
                pass
        if denied and self.account is not None:
            _kill_as(self.account, denied, sig)

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

def _in_child(prctl, cgroup: SessionCgroup | None, account: Account | None):
    """What the child does between fork and exec, in this order: join the session's cgroup
    (while it still has the daemon's uid, which may write there), become the agent's user,
    shed the capabilities the daemon holds for that, and become a subreaper (it lasts
    across exec: while the agent lives, what its tree orphans stays under it)."""
    def child() -> None:
        if cgroup is not None:
            cgroup.enter()
        if account is not None:
            _become(account, prctl)
        if prctl is not None:
            prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    return child


def _become(account: Account, prctl) -> None:
    os.setgroups([])
    os.setresgid(account.gid, account.gid, account.gid)
    os.setresuid(account.uid, account.uid, account.uid)
    if prctl is not None:  # from a non-root uid the capabilities stay: shed them here
        prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def _kill_as(account: Account, targets: list[int], sig: int) -> None:
    """Signal the agent's processes as the agent's user: a daemon without CAP_KILL cannot
    signal another uid, but it may become that uid (the seccomp filter allows that one)."""
    prctl = _prctl()
    argv = ["kill", "-s", signal.Signals(sig).name.removeprefix("SIG"), "--",
            *(str(t) for t in targets)]
    try:
        proc = children.spawn(argv, env=children.child_env(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              close_fds=True, preexec_fn=lambda: _become(account, prctl))
        proc.wait(timeout=_KILL_AS_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        log.warning("session.signal_failed", signal=signal.Signals(sig).name,
                    processes=len(targets))


def _start_error(e: OSError, argv: list[str]) -> str:
    if isinstance(e, FileNotFoundError) and e.filename in (argv[0], None):
        return f"command {argv[0]!r} not found"
    if isinstance(e, PermissionError):
        return f"command {argv[0]!r} is not executable"
    if e.strerror:
        return e.strerror
    return one_line(e)

