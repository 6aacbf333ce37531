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
