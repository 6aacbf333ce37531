"""Big bench databases, built once and kept under ``$REVERIE_BENCH_CACHE`` (default
/tmp/reverie-bench), keyed by a version: bump it when the data's shape changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from bench import CACHE


def cached_db(name: str, version: str, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """(path, built now). A half-built file never counts: it is built aside, then renamed."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-{version}.db"
    if path.exists():
        return path, False
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    build(tmp)
    from reverie.memory.store import Store

    with Store.open(tmp) as store:  # fold the WAL in, so the cache is one file
        store.checkpoint()
    os.replace(tmp, path)
    return path, True
