"""Taking working.md away from an agent that may still be writing to it.

working.md is taken by an atomic rename into ``.consolidating/`` (in the home, so the
rename stays on its file system); a writer that opened it before finishes its line into
the taken file, and one that opens it after makes a new working.md, archived as written
late. What is there when reverie opens it is judged, never waited on: a FIFO or a device
link is moved aside unread, an oversized working.md is kept whole in diary/ unread, and
bytes that are not UTF-8 are kept as a raw copy.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from reverie.memory import _log, atomic, clock, safe_read
from reverie.memory._home_files import move_aside
from reverie.memory.home import Home
from reverie.memory.store import Session

log = _log.get("reverie.consolidate")

MiB = 1024 * 1024
# working.md is read into memory up to this (the default of `memory.working_max`); a
# larger one is kept whole in diary/, unread
WORKING_MAX_BYTES = 16 * MiB
# how long a writer that still holds the taken working.md open may take to finish
WRITER_GRACE = 3.0


def taken_file(home: Home, sid: str) -> Path:
    return home.taking_dir / f"{sid}.working.taken"


def snapshot(home: Home, row: Session, tz: ZoneInfo, cap: int) -> dict:
    """Take working.md and read it once: the intent's payload, which every later step
    works from."""
    sid = row.id
    taken = taken_file(home, sid)
    refused = kept_whole = None
    missing = False
    if not os.path.lexists(taken):
        try:
            why = safe_read.refusal(home.working)
            if why is None:
                os.rename(home.working, taken)
                wait_for_writers(taken)
            else:
                refused = move_aside(home, home.working, f"{sid}.working.refused", why)
        except FileNotFoundError:
            missing = True
    raw = b""
    if os.path.lexists(taken):
        # The check is the open (O_NOFOLLOW|O_NONBLOCK, then fstat of the descriptor): the
        # agent may swap a FIFO in between an lstat and the rename above, and whatever is
        # here now is what gets judged, never waited on, and moved aside if refused.
        try:
            fd = safe_read.open_regular(taken)
        except safe_read.UnsafeFile as e:
            refused = move_aside(home, taken, f"{sid}.working.refused",
                                 e.reason.removeprefix("refused: "))
        else:
            with os.fdopen(fd, "rb") as f:
                big = os.fstat(f.fileno()).st_size > cap
                if not big:
                    raw = f.read(cap + 1)
                    big = len(raw) > cap  # it grew after the fstat
            if big:
                raw = b""
                kept_whole = keep_whole(home, taken, sid, row.started.astimezone(tz), cap)
    text, raw_copy = decode(home, raw, f"{sid}.working.raw")
    return {"text": text, "sha256": sha(raw), "bytes": len(raw), "missing": missing,
            "raw_copy": raw_copy, "refused": refused, "kept_whole": kept_whole,
            "working_max": cap,
            "session": {"id": row.id, "started": clock.to_ts(row.started),
                        "ended": clock.to_ts(row.ended) if row.ended else None,
                        "end_reason": row.end_reason}}


def keep_whole(home: Home, path: Path, sid: str, start: datetime, cap: int) -> dict:
    """An oversized working.md goes into diary/ whole, by rename: never read into memory."""
    dest = home.diary_dir / f"{start.date().isoformat()}.session-{sid}.working.md"
    n = os.lstat(path).st_size
    os.replace(path, dest)
    atomic.fsync_dir(home.diary_dir)
    rel = str(dest.relative_to(home.root))
    log.warning("consolidate.oversized", session=sid, bytes=n, cap=cap, kept=rel)
    return {"path": rel, "bytes": n, "cap": cap}


def wait_for_writers(path: Path, grace: float | None = None) -> None:
    """Return once no process holds ``path`` open for writing (or after ``grace`` seconds):
    a writer that opened working.md before it was taken finishes its line into the taken
    file."""
    grace = WRITER_GRACE if grace is None else grace
    deadline = time.monotonic() + grace
    while held_open(path):
        if time.monotonic() >= deadline:
            log.warning("consolidate.writer_still_open", path=path.name, grace=grace)
            return
        time.sleep(0.02)


def held_open(path: Path) -> bool:
    try:
        st = os.lstat(path)
        pids = os.listdir("/proc")
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    for pid in pids:
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                s = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if (s.st_dev, s.st_ino) == key and writable(pid, fd):
                return True
    return False


def writable(pid: str, fd: str) -> bool:
    # a reader (`tail -f working.md`) does not hold up consolidation; a writer does
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as f:
            for line in f:
                if line.startswith("flags:"):
                    return int(line.split()[1], 8) & 0o3 != 0
    except (OSError, ValueError, IndexError):
        pass
    return True


def decode(home: Home, raw: bytes, copy_name: str) -> tuple[str, str | None]:
    """Text of ``raw``; bytes that are not UTF-8 are kept as a raw copy, never lost."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        path = home.taking_dir / copy_name
        atomic.write_bytes(path, raw)
        return raw.decode("utf-8", errors="replace"), str(path.relative_to(home.root))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
