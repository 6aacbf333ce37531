"""Dreams: one per morning, the offline backend's phrase memory, and model tokens spent."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from reverie.memory import clock
from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import Dream, _dream


class DreamsMixin(StoreBase):
    """dreams, dream_phrases and token_usage."""

    # -- dreams ---------------------------------------------------------------

    def dream(self, day: str) -> Dream | None:
        row = self._q1("SELECT * FROM dreams WHERE date = ?", (day,))
        return _dream(row) if row else None

    def last_dream(self) -> Dream | None:
        row = self._q1("SELECT * FROM dreams ORDER BY date DESC LIMIT 1")
        return _dream(row) if row else None

    def record_dream(self, *, date: str, path: str, backend: str, cycle_start: datetime,
                     cycle_end: datetime, sha256: str, model: str | None = None,
                     fallback_reason: str | None = None, digest_sha256: str | None = None,
                     tokens: int = 0, created: datetime | None = None) -> None:
        """Record (or replace) the dream of the morning ``date``."""
        self._x("INSERT OR REPLACE INTO dreams(date, path, backend, model, fallback_reason,"
                " cycle_start, cycle_end, digest_sha256, sha256, tokens, created)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (date, path, backend, model, fallback_reason, clock.to_ts(cycle_start),
                 clock.to_ts(cycle_end), digest_sha256, sha256, tokens,
                 clock.to_ts(created or clock.now())))

    def recent_phrases(self, before_day: str, nights: int) -> dict[str, int]:
        """Phrase keys used in the ``nights`` dreams before ``before_day``, with counts."""
        rows = self._q(
            "SELECT key, COUNT(*) FROM dream_phrases WHERE date < ? AND date IN ("
            " SELECT DISTINCT date FROM dream_phrases WHERE date < ? ORDER BY date DESC LIMIT ?)"
            " GROUP BY key", (before_day, before_day, nights))
        return {r[0]: r[1] for r in rows}

    def record_phrases(self, day: str, keys: Iterable[str]) -> None:
        with self._transaction() as c:
            c.execute("DELETE FROM dream_phrases WHERE date = ?", (day,))
            c.executemany("INSERT OR IGNORE INTO dream_phrases(date, key) VALUES (?, ?)",
                          [(day, k) for k in keys])

    def tokens_used(self, day: str, purpose: str | None = None) -> int:
        sql, args = "SELECT COALESCE(SUM(tokens), 0) FROM token_usage WHERE day = ?", [day]
        if purpose:
            sql += " AND purpose = ?"
            args.append(purpose)
        return self._one(sql, args)

    def add_tokens(self, day: str, purpose: str, tokens: int) -> None:
        self._x("INSERT INTO token_usage(day, purpose, tokens, ts) VALUES (?,?,?,?)",
                (day, purpose, tokens, clock.to_ts(clock.now())))

    def dreams_before(self, day: str, limit: int = 1) -> list[Dream]:
        """The newest recorded dreams dated before ``day``, newest first."""
        rows = self._q("SELECT * FROM dreams WHERE date < ? ORDER BY date DESC LIMIT ?",
                       (day, limit))
        return [_dream(r) for r in rows]
