"""At most one message per event kind and subject per hour, and one per occurrence: what
the daemon's Alerter sends, through the store's claim (memory/store/alerts.py), to a local
server that Apprise's json:// target posts to."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from reverie.daemon.alerts import Alerter
from reverie.daemon.notify_options import NotifyOptions

NOW = datetime(2026, 5, 14, 7, 30, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


def test_an_alert_is_sent_once_an_hour_per_subject_and_once_per_occurrence(
        store, fake_clock, httpserver):
    httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
    opts = NotifyOptions(urls=[f"json://127.0.0.1:{httpserver.port}/notify"])
    alerts = Alerter(opts, store, name="ada", tz=timezone.utc)
    alerts.start()
    fake_clock.set(NOW)

    def told(kind: str, subject: str, ref: str) -> bool:
        return alerts.event(kind, subject, f"{kind} {subject}", f"occurrence {ref}", ref=ref)

    assert told("source_failing", "api", "a")
    fake_clock.advance(59 * MIN)  # within the hour: not again, even another occurrence
    assert not told("source_failing", "api", "b")
    # another subject, or another kind, has its own hour
    assert told("source_failing", "wx", "a")
    assert told("source_recovered", "api", "a")
    fake_clock.advance(2 * MIN)  # past the hour: the occurrence told is not told again
    assert not told("source_failing", "api", "a")
    assert told("source_failing", "api", "b")
    assert alerts.flush(10)
    titles = sorted(r.get_json()["title"] for r, _ in httpserver.log)
    assert titles == [f"reverie [ada on {alerts.host}]: {t}" for t in sorted(
        ["source_failing api", "source_failing wx", "source_recovered api", "source_failing api"])]
