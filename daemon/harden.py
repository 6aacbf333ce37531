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
