"""The processes reverie starts: what they are given, and which of its children it started.

Every child (a ``command`` source, git, the agent's session) gets :func:`child_env`: the
basics a program needs to run (``PATH``, ``HOME``, ``LANG``, ``TZ`` and ``LC_ALL`` when
set) plus what its own config names (``sessions.env``, a command source's ``env``), never
the daemon's environment, which holds its keys. It lives here, at the bottom of the
dependency order (daemon -> perception -> memory), because all three layers start
processes.

:func:`spawn` records each child it starts, so the session runner can tell the daemon's own
children from the agent's orphans that Linux re-parented to the daemon (a subreaper): a
``setsid env -i sleep 1000 &`` whose agent exited has neither the agent's group, session
nor environment, only the daemon as its parent, and is not one of these.
"""

from __future__ import annotations

import os
import subprocess
import threading
import weakref
from typing import Any, Mapping

BASICS = ("PATH", "HOME", "LANG", "TZ", "LC_ALL")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

_lock = threading.Lock()
_started: "weakref.WeakSet[subprocess.Popen]" = weakref.WeakSet()


def child_env(given: Mapping[str, str] | None = None, *,
              home: str | None = None) -> dict[str, str]:
    """The environment of a process reverie starts: the basics, then ``given``.

    ``home`` replaces the daemon's ``HOME`` (the agent running as its own user gets its
    account's home)."""
    src = os.environ
    env = {k: src[k] for k in BASICS if src.get(k)}
    env.setdefault("PATH", DEFAULT_PATH)
    if home:
        env["HOME"] = home
    env.update(given or {})
    return env


def spawn(argv: list[str], **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(argv, **kwargs)``, recorded as reverie's own child. The caller
    passes ``env`` (built with :func:`child_env`); there is no default."""
    if "env" not in kwargs:
        raise TypeError("spawn() needs env= (child_env(...)): a child never inherits ours")
    with _lock:  # a scan of our children (own_children) waits for a start under way
        proc = subprocess.Popen(argv, **kwargs)
        _started.add(proc)
    return proc


def run(argv: list[str], *, timeout: float, input: str | None = None,
        **kwargs: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, capture_output=True, text=True, ...)`` through :func:`spawn`."""
    proc = spawn(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    with proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def own_children() -> set[int]:
    """The pids of the children :func:`spawn` started that nobody has waited for yet (an
    unwaited child keeps its pid, even as a zombie, so none of these is a reused pid)."""
    with _lock:
        return {p.pid for p in list(_started) if p.returncode is None}
