"""Backup and export: an online copy of the whole record, row counts, and readings
streamed in batches."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any, Generator

from reverie.memory import clock
from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import Observation, StoreError


def _row_counts(c: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                     " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: c.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}


class BackupMixin(StoreBase):
    """The whole record, copied or streamed."""

    # -- backup and export (daemon/backup.py, daemon/export.py) ---------------------------

    def backup_into(self, target: str | Path) -> dict[str, int]:
        """Copy the whole record into a new database file at ``target`` through SQLite's
        online backup API, in one step: one consistent snapshot (a commit meanwhile is in
        the copy whole or not at all, the WAL's committed pages included) while the daemon
        writes on. The copy is one file (rollback journal, no -wal beside it) and passes
        its integrity check. Returns its row count per table."""
        with self._lock, self._failing():
            dst = sqlite3.connect(target, isolation_level=None)
            try:
                self._conn.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
                if check != "ok":
                    raise StoreError(f"{target}: the copy failed its integrity check: {check}")
                return _row_counts(dst)
            finally:
                dst.close()

    def row_counts(self) -> dict[str, int]:
        """Rows per table: what a restore checks its copy against."""
        with self._lock, self._failing():
            return _row_counts(self._conn)

    def iter_observations(self, *, since: datetime | None = None, until: datetime | None = None,
                          source: str | None = None, batch: int = 2000
                          ) -> Generator[Observation, None, None]:
        """Observations with ``since <= ts < until`` (either open), of one source or all,
        oldest first, read ``batch`` rows at a time: memory stays bounded whatever the
        record holds. The one statement keeps its read snapshot until it is exhausted."""
        where: list[str] = ["1"]
        args: list[Any] = []
        if since is not None:
            where.append("ts >= ?")
            args.append(clock.to_ts(since))
        if until is not None:
            where.append("ts < ?")
            args.append(clock.to_ts(until))
        if source is not None:
            where.append("source = ?")
            args.append(source)
        with self._lock, self._failing():
            cur = self._conn.execute(
                "SELECT source, signal, ts, value, text, unit FROM observations"
                f" WHERE {' AND '.join(where)} ORDER BY ts, id", args)
        try:
            while True:
                with self._lock, self._failing():
                    rows = cur.fetchmany(batch)
                if not rows:
                    return
                for r in rows:
                    yield Observation(r[0], r[1], clock.from_ts(r[2]), r[3], r[4], r[5])
        finally:
            cur.close()
