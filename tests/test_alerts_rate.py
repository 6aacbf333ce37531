"""At most one message per event kind and subject per hour, and one per occurrence: the
store's claim (memory/store/alerts.py), which the daemon's Alerter asks before sending."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from reverie.daemon.alerts import RATE
from reverie.memory.store import AlertSent

NOW = datetime(2026, 5, 14, 7, 30, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


def test_an_alert_is_claimed_once_an_hour_per_subject_and_once_per_occurrence(store):
    assert RATE == timedelta(hours=1)
    assert store.claim_alert("source_failing", "api", NOW, gap=RATE, ref="a")
    # within the hour: not again, even about another occurrence
    assert not store.claim_alert("source_failing", "api", NOW + 59 * MIN, gap=RATE, ref="b")
    # another subject, or another kind, has its own hour
    assert store.claim_alert("source_failing", "wx", NOW + MIN, gap=RATE, ref="a")
    assert store.claim_alert("source_recovered", "api", NOW + MIN, gap=RATE, ref="a")
    # past the hour: the same occurrence is still not told twice; a new one is
    assert not store.claim_alert("source_failing", "api", NOW + 2 * RATE, gap=RATE, ref="a")
    assert store.claim_alert("source_failing", "api", NOW + RATE, gap=RATE, ref="b")
    assert store.last_alert("source_failing", "api") == AlertSent(NOW + RATE, "b")
