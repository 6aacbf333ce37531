"""A seccomp filter that lets the set*id calls name the agent's account only, never root.

With ``sessions.user:`` the daemon holds CAP_SETUID and CAP_SETGID (granted by the unit) so
that the agent's child can become the agent's user. Those capabilities would let the
daemon become any user, root too; this filter, installed once at start, leaves them good
for exactly one uid and gid: ``setuid``, ``setreuid``, ``setresuid``, ``setfsuid`` fail
with EPERM unless every id they name is the agent's uid (``-1``, "unchanged", included:
the daemon never needs it), the same for the gid calls, and ``setgroups`` may only empty
the supplementary groups. Seccomp filters are inherited across fork and exec and cannot
be removed, so the agent and everything it starts live under the same filter.

libseccomp (the distribution's libseccomp2, through ctypes: four functions, so no Python
binding to depend on) compiles the rules for this machine's architecture; a call from
another architecture's ABI (x32, i386) kills the caller, so no 32-bit twin of a call
slips past.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno

_ACT_ALLOW = 0x7FFF0000
_ACT_ERRNO = 0x00050000
_ATTR_TSYNC = 4  # SCMP_FLTATR_CTL_TSYNC: every thread of the daemon, not only the caller
_CMP_NE = 1

UID_CALLS = {"setuid": 1, "setreuid": 2, "setresuid": 3, "setfsuid": 1}
GID_CALLS = {"setgid": 1, "setregid": 2, "setresgid": 3, "setfsgid": 1}


class SeccompError(Exception):
    """The filter could not be built or loaded (one line)."""


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as e:
        raise SeccompError(f"libseccomp is not installed ({e}): apt install libseccomp2") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def available() -> str | None:
    """None when the filter can be built here, else why not (one line)."""
    try:
        _lib()
    except SeccompError as e:
        return str(e)
    return None


def restrict_setid(uid: int, gid: int) -> None:
    """Install the filter on this process (all its threads) and everything it starts."""
    if uid == 0 or gid == 0:
        raise SeccompError("the agent's uid and gid may not be 0")
    lib = _lib()
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        raise SeccompError("seccomp_init failed")
    deny = _ACT_ERRNO | errno.EPERM
    try:
        rules = [(name, i, uid) for name, n in UID_CALLS.items() for i in range(n)]
        rules += [(name, i, gid) for name, n in GID_CALLS.items() for i in range(n)]
        rules.append(("setgroups", 0, 0))  # only setgroups(0, ...): no supplementary groups
        for name, arg, allowed in rules:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                continue  # not a call on this architecture (setfsuid32 and the like)
            cmp = _ArgCmp(arg, _CMP_NE, allowed, 0)
            # one rule per argument: any argument that names another id is refused
            rc = lib.seccomp_rule_add_array(ctx, deny, nr, 1, ctypes.byref(cmp))
            if rc < 0:
                raise SeccompError(f"seccomp rule for {name}: {errno.errorcode.get(-rc, rc)}")
        rc = lib.seccomp_attr_set(ctx, _ATTR_TSYNC, 1)
        if rc < 0:
            raise SeccompError(f"seccomp thread sync: {errno.errorcode.get(-rc, rc)}")
        rc = lib.seccomp_load(ctx)
        if rc < 0:
            raise SeccompError(f"seccomp_load failed: {errno.errorcode.get(-rc, rc)}")
    finally:
        lib.seccomp_release(ctx)
