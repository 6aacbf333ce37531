"""The daemon's status line (STATUS=, `systemctl status`) and `reverie status --json` count
the sources by one rule, perception/health.py's: they agree on every health state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from reverie.daemon import status
from reverie.daemon.config import load
from reverie.memory.store import Reading, Store
from reverie.perception import health
from tests.conftest import make_config

NOW = datetime(2026, 5, 14, 7, 30, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
NAMES = ("fine", "broken", "waiting", "old", "new", "off")


def test_the_status_line_and_status_json_agree_on_every_health_state(tmp_path):
    sources = [{"name": n, "type": "system", "every": "1m", **({"enabled": False} if n == "off"
                                                               else {})} for n in NAMES]
    loaded = load(make_config(tmp_path, sources=sources))
    specs = loaded.config.sources
    with Store.open(loaded.home.db) as store:
        store.record_run("fine", NOW - MIN, ok=True, readings=[Reading("fine.x", 1.0, None, None)],
                         state={"last_ok": NOW - MIN})
        # failed 3 times, the last 8 minutes ago: its backoff is over, the next try is due
        store.record_run("broken", NOW - 8 * MIN, ok=False, error="boom", state={
            "consecutive_failures": 3, "failing_since": NOW - 40 * MIN, "last_error": "boom",
            "last_error_ts": NOW - 8 * MIN})
        # failed 3 times, the last a minute ago: backing off
        store.record_run("waiting", NOW - MIN, ok=False, error="boom", state={
            "consecutive_failures": 3, "failing_since": NOW - 40 * MIN, "last_error": "boom",
            "last_error_ts": NOW - MIN})
        store.record_run("old", NOW - 2 * 60 * MIN, ok=True, state={"last_ok": NOW - 120 * MIN})
        line = health.summary(store, specs, now=NOW)

    doc = status.collect(loaded, now=NOW)
    shown = {s["name"]: s["health"] for s in doc["sources"]}
    assert shown == {"fine": health.OK, "broken": health.FAILING, "waiting": health.BACKING_OFF,
                     "old": health.STALE, "new": health.NEVER_POLLED, "off": "disabled"}
    enabled = [h for h in shown.values() if h != "disabled"]
    assert line == health.summary_of(enabled) == "1 source ok, 2 failing, 1 stale, 1 never polled"


def test_a_cron_source_counts_a_day_wherever_its_interval_is_read():
    from reverie.daemon.snapshot import Source
    from reverie.perception.sources import SourceSpec

    for keys in ({"every": "5m"}, {"cron": "0 5 * * *"}):
        spec = SourceSpec(name="s", type="system", **keys)
        seen = Source(spec.name, spec.type, spec.enabled, spec.every, spec.cron)
        assert spec.interval == seen.interval == health.nominal_interval(spec.every)
    assert health.nominal_interval(None) == 86400.0
