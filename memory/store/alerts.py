"""Notifications sent: when each kind was last told about, per subject."""

from __future__ import annotations

from datetime import datetime, timedelta

from reverie.memory import clock
from reverie.memory.store._base import StoreBase
from reverie.memory.store.records import AlertSent


class AlertsMixin(StoreBase):
    """alerts_sent."""

    # -- notifications sent (daemon/alerts.py) --
    # When each kind of event was last told about, per subject, so that the rate limit
    # (and "already told about this one") survives a restart. Its own table, made on
    # first use outside the numbered schema: only the daemon sends notifications.

    _ALERTS = ("CREATE TABLE IF NOT EXISTS alerts_sent (kind TEXT NOT NULL,"
               " subject TEXT NOT NULL, sent REAL NOT NULL, ref TEXT,"
               " PRIMARY KEY (kind, subject))")

    def claim_alert(self, kind: str, subject: str, now: datetime, *, gap: timedelta,
                    ref: str | None = None) -> bool:
        """Record an alert of ``kind`` about ``subject`` as sent at ``now`` and return
        True, unless the last one went out less than ``gap`` ago or was about the
        same occurrence ``ref`` (then nothing changes and it returns False)."""
        t, gap_s = clock.to_ts(now), gap.total_seconds()  # the table's seconds
        with self._transaction() as c:
            c.execute(self._ALERTS)
            row = c.execute("SELECT sent, ref FROM alerts_sent WHERE kind = ? AND subject = ?",
                            (kind, subject)).fetchone()
            if row is not None and (t - row[0] < gap_s or (ref is not None and row[1] == ref)):
                return False
            c.execute("INSERT INTO alerts_sent(kind, subject, sent, ref) VALUES (?,?,?,?)"
                      " ON CONFLICT(kind, subject) DO UPDATE SET sent = excluded.sent,"
                      " ref = excluded.ref", (kind, subject, t, ref))
        return True

    def last_alert(self, kind: str, subject: str) -> AlertSent | None:
        """The last alert of ``kind`` about ``subject``, or None."""
        with self._transaction() as c:
            c.execute(self._ALERTS)
            row = c.execute("SELECT sent, ref FROM alerts_sent WHERE kind = ? AND subject = ?",
                            (kind, subject)).fetchone()
        return AlertSent(clock.from_ts(row[0]), row[1]) if row else None
