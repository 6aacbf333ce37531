"""The agent's files reverie appends to (the diary, memory/ files, the ledger), read as
hostile input: one that is not a plain file within its cap is moved aside unread, with a
logged reason, and counts as missing, so a write never blocks on it and never loses what
was there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from reverie.memory import _log, atomic, safe_read
from reverie.memory.home import Home

log = _log.get("reverie.consolidate")

HOME_FILE_MAX_BYTES = atomic.APPEND_MAX_BYTES  # read whole to append to them


def move_aside(home: Home, path: Path, name: str, why: str) -> str:
    """Rename a non-file the agent put where reverie reads (a FIFO, a device link) out of
    the way, unopened: renaming never blocks. Returns the one-line reason."""
    aside = home.taking_dir / name
    os.replace(path, aside)
    rel = path.relative_to(home.root) if home.root in path.parents else path.name
    if ", not " not in why:  # "a FIFO" from an lstat; an open's refusal says it whole
        why += ", not a regular file"
    reason = f"{rel} was {why}; moved unread to {aside.relative_to(home.root)}"
    log.error("consolidate.refused", reason=reason)
    return reason


def read_home(home: Home, path: Path, max_bytes: int = HOME_FILE_MAX_BYTES) -> str:
    """A diary/memory/ledger file reverie appends to. One that is not a plain file within the
    cap (a FIFO, a device link, a flood) is moved aside with a logged reason and counts as
    missing, so consolidation never blocks on it and never loses what was there."""
    try:
        return safe_read.read_text(path, max_bytes=max_bytes, errors="replace")
    except safe_read.UnsafeFile as e:
        if os.path.lexists(path):
            move_aside(home, path, f"{path.name}.{time.time_ns()}.refused",
                       (e.strerror or "").removeprefix("refused: ").removesuffix(", not a regular file"))
        raise FileNotFoundError(str(e)) from None


def append_once(home: Home, path: Path, block: str, present: Callable[[str], bool], *,
                start: str = "") -> None:
    """Append ``block`` to ``path`` unless ``present(its text)``; a missing file begins with
    ``start`` (its heading). One read, one write."""
    try:
        old = read_home(home, path)
    except FileNotFoundError:
        old = start
    if present(old):
        return
    sep = "" if not old or old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
    atomic.write_text(path, old + sep + block)
