"""The store's plumbing: opening (and migrating) the database, the one connection and its
lock, transactions and read snapshots, failures as one-line StoreErrors, and meta."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Self

from reverie.memory import clock
from reverie.memory.errors import one_line
from reverie.memory.store.records import CorruptDatabase, SourceState, StoreError
from reverie.memory.store.schema import SCHEMA


def _keep_owner(path: Path) -> None:
    # root (`sudo reverie poll`) must not leave the store root-owned in a user's home: the
    # daemon, running as that user, could no longer write it
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    st = os.stat(path.parent)
    if st.st_uid == 0:
        return
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.chown(p, st.st_uid, st.st_gid)
        except FileNotFoundError:
            pass


class StoreBase:
    """One connection, serialised by a lock; every table module builds on this."""

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool = False):
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self.readonly = readonly
        # source states as this connection last read or wrote them, good while no other
        # connection has committed (PRAGMA data_version): see _known_states
        self._states: dict[str, SourceState] = {}
        self._states_seen: int | None = None
        self._upserts: dict[tuple[str, ...], str] = {}  # record_run's SQL, by state columns

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> Self:
        try:
            return cls._open(Path(path), readonly)
        except sqlite3.OperationalError as e:  # locked, busy, unreadable: not a corrupt file
            raise StoreError(f"{path}: {one_line(e)}") from None
        except sqlite3.DatabaseError as e:
            raise CorruptDatabase(
                f"{path}: not a usable reverie database ({one_line(e)}); stop reverie, move "
                f"it aside (mv {path} {path}.broken) and start again: a new, empty store is "
                f"created and the home's files are untouched") from None

    @classmethod
    def _open(cls, path: Path, readonly: bool) -> Self:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10,
                                   check_same_thread=False, isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=10, check_same_thread=False,
                                   isolation_level=None)
            path.chmod(0o600)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        store = cls(conn, path, readonly)
        if not readonly:
            try:
                store._migrate()
            except BaseException:
                conn.close()
                raise
            _keep_owner(path)
        return store

    def close(self) -> None:
        with self._lock, self._failing():
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------

    @contextmanager
    def _failing(self) -> Iterator[None]:
        """Turn a database failure into a one-line ``StoreError`` naming the file."""
        try:
            yield
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: {one_line(e)}") from None

    def _migrate(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(SCHEMA):
                raise StoreError(
                    f"{self.path}: store schema {version} is newer than this reverie "
                    f"understands ({len(SCHEMA)}); upgrade reverie")
            for i in range(version, len(SCHEMA)):
                self._conn.executescript(
                    "BEGIN;" + SCHEMA[i] + f"; PRAGMA user_version = {i + 1}; COMMIT;")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._failing():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def _q(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args)).fetchall()

    def _q1(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Row | None:
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args)).fetchone()

    def _one(self, sql: str, args: Iterable[Any] = ()) -> Any:
        """The one value an aggregate query answers (it always answers one row)."""
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args)).fetchone()[0]

    def _one_row(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Row:
        """The row an aggregate query answers (it always answers one)."""
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args)).fetchone()

    def _x(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock, self._failing():
            return self._conn.execute(sql, tuple(args))

    def data_version(self) -> int:
        """Changes when any connection commits: a cheap "is the store newer?"."""
        return self._one("SELECT MAX(COALESCE((SELECT MAX(id) FROM observations),0),"
                         " COALESCE((SELECT MAX(id) FROM polls),0))")

    # -- meta ---------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._q1("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._x("INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def set_meta_time(self, key: str, when: datetime | None) -> None:
        """Keep an instant under ``key`` (None clears it); meta_time reads it back."""
        self.set_meta(key, str(clock.to_ts(when)) if when is not None else "")

    def meta_time(self, key: str) -> datetime | None:
        v = self.get_meta(key)
        return clock.from_ts(float(v)) if v else None

    def beat(self, when: datetime | None = None) -> None:
        self.set_meta("heartbeat", str(clock.to_ts(when or clock.now())))

    def last_beat(self) -> datetime | None:
        v = self.get_meta("heartbeat")
        return clock.from_ts(float(v)) if v else None

    def born(self) -> datetime:
        """When the home was initialised (set on first call): day 1 of the agent."""
        v = self.get_meta("born")
        if v is None:
            now = clock.now()
            self._x("INSERT OR IGNORE INTO meta(key, value) VALUES ('born', ?)",
                    (str(clock.to_ts(now)),))
            v = self.get_meta("born")
        assert v is not None  # inserted above, or by another connection first
        return clock.from_ts(float(v))

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file, so a copy of it is one file."""
        self._x("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (one read transaction)."""
        with self._lock, self._failing():
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        # one read transaction: a retention committing meanwhile is seen whole or not at all
        with self._lock, self._failing():
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")
