"""Process hardening the daemon applies to itself at start.

The agent runs as the daemon's own user. Without this, it can read the daemon's
environment (the API keys kept out of the agent's own) from ``/proc/<pid>/environ``, or
attach a debugger. ``PR_SET_DUMPABLE 0`` makes the daemon's /proc files root-owned and
forbids ptrace by same-user processes. Children the daemon execs (the agent) are dumpable
again: the flag is reset by execve, which is what we want.
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def make_undumpable() -> bool:
    """Mark this process non-dumpable; False where the platform has no prctl."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def is_dumpable() -> bool:
    import ctypes

    return ctypes.CDLL(None).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1


def confine_setid(sessions) -> str | None:
    """With ``sessions.user:`` (an agent under its own account), install the seccomp filter
    that keeps the daemon's CAP_SETUID/CAP_SETGID good for that account only
    (daemon/_seccomp.py). None when done or not needed; else why the daemon must not start
    (one line): without the filter, those capabilities would reach root.

    Either way the ambient capabilities are shed first: the daemon keeps what it holds,
    but nothing it execs (a command source, git, the agent) inherits them."""
    shed_ambient_capabilities()
    try:
        account = sessions.account()
    except ValueError as e:
        return f"sessions.user: {e}"
    if account is None:
        return None
    import os

    if (account.uid, account.gid) == (os.getuid(), os.getgid()):
        return None  # the daemon already is that user: there is nothing to switch
    from reverie.daemon._seccomp import SeccompError, restrict_setid

    global _confined
    if _confined is not None:
        return None if _confined == (account.uid, account.gid) else \
            "sessions.user: the set*id filter of this process names another account"
    try:
        restrict_setid(account.uid, account.gid)
    except SeccompError as e:
        return (f"sessions.user: {account.name}: cannot confine the set*id calls to that "
                f"account ({e}); refusing to run with the power to become any user")
    _confined = (account.uid, account.gid)
    return None


_confined: tuple[int, int] | None = None  # (uid, gid) the filter of this process allows


def confined_to() -> tuple[int, int] | None:
    """The account the set*id filter installed by :func:`confine_setid` allows, if any."""
    return _confined


def shed_ambient_capabilities() -> bool:
    """Empty this process's ambient capability set (PR_CAP_AMBIENT_CLEAR_ALL): the
    capabilities a unit grants (CAP_SETUID, CAP_SETGID for --agent-user) stay the daemon's
    and pass to no program it starts. False where the platform has no prctl."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(47, 4, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def raise_nofile() -> tuple[int, int] | None:
    """Raise the soft descriptor limit to the hard one (the units set ``LimitNOFILE=``);
    the (old, new) soft limits, or None when it could not be raised. Many distributions
    start a service at a soft 1024 under a far higher hard limit: the listeners, the store
    and the sessions share that."""
    import resource

    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        # "unlimited" is not a descriptor count Linux takes: ask for a large finite one
        want = 1024 * 1024 if hard == resource.RLIM_INFINITY else hard
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            return soft, want
    except (OSError, ValueError):
        return None
    return None
