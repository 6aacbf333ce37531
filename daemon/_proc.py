"""Reading the process table (/proc) and signalling processes, for the agent's tree."""

from __future__ import annotations

import os


def proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def process_table() -> dict[int, tuple[str, int, int, int, int]]:
    """Every process now: pid -> (state, ppid, pgid, sid, start time in ticks)."""
    out: dict[int, tuple[str, int, int, int, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if name.isdigit():
            st = proc_stat(int(name))
            if st is not None and len(st) > 19:
                out[int(name)] = (st[0], int(st[1]), int(st[2]), int(st[3]), int(st[19]))
    return out


def carries(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker in f.read(1 << 20).split(b"\0")
    except OSError:
        return False


def describe(pid: int) -> str:
    """'pid command' for the log; the command line is the agent's text: one line, short."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read(4096).split(b"\0")
    except OSError:
        argv = []
    from reverie.daemon.logs import scrub

    cmd = " ".join(scrub(" ".join(a.decode("utf-8", "replace") for a in argv if a)).split())
    return f"{pid} {cmd[:80] + '…' if len(cmd) > 80 else cmd}".rstrip()


def alive(pid: int) -> bool:
    st = proc_stat(pid)
    if st is not None:
        return st[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not os.path.isdir("/proc")


def is_session_leader(pid: int, started_ts: float) -> bool:
    """A live process that is still the agent we started (a reused pid is not)."""
    if not alive(pid):
        return False
    try:
        if os.getsid(pid) != pid:
            return False
    except OSError:
        return False
    st = proc_stat(pid)
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


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
