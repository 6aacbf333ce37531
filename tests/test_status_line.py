"""The daemon's status line (STATUS=, `systemctl status`) and `reverie status --json` count
the sources by one rule, perception/health.py's: they agree on every health state. Its
times are aware datetimes above the store, and `status` writes them as before."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from reverie.daemon import services
from reverie.daemon.config import load
from reverie.daemon.lock import HomeLock
from reverie.daemon.lifecycle import Daemon
from reverie.daemon.notify import Notifier
from reverie.memory.store import Reading, Store
from reverie.perception import health
from tests.conftest import make_config, run_cli

NOW = datetime(2026, 5, 14, 7, 30, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
NAMES = ("fine", "broken", "waiting", "held", "old", "new", "off")
TIMES = ("failing_since", "last_ok", "last_error_ts", "next_try")


@pytest.fixture
def world(tmp_path, fake_clock):
    """One source in each health state, recorded in the real store at NOW: ok, failing
    (its backoff over), backing off, held back by a Retry-After, stale, never polled,
    and one disabled."""
    sources = [{"name": n, "type": "system", "every": "1m", **({"enabled": False} if n == "off"
                                                               else {})} for n in NAMES]
    cfg = make_config(tmp_path, sources=sources)
    loaded = load(cfg)
    fake_clock.set(NOW)
    with Store.open(loaded.home.db) as store:
        store.record_run("fine", NOW - MIN, ok=True, readings=[Reading("fine.x", 1.0, None, None)],
                         state={"last_ok": NOW - MIN})
        # failed 3 times, the last 8 minutes ago: its backoff is over, the next try is due
        store.record_run("broken", NOW - 8 * MIN, ok=False, error="boom", state={
            "consecutive_failures": 3, "failing_since": NOW - 40 * MIN, "last_error": "boom",
            "last_error_ts": NOW - 8 * MIN})
        # failed 3 times, the last a minute ago: backing off until 8 minutes after it
        store.record_run("waiting", NOW - MIN, ok=False, error="boom", state={
            "consecutive_failures": 3, "failing_since": NOW - 40 * MIN, "last_error": "boom",
            "last_error_ts": NOW - MIN})
        # failed once, a minute ago, and the server asked for half an hour
        store.record_run("held", NOW - MIN, ok=False, error="HTTP 429", state={
            "consecutive_failures": 1, "failing_since": NOW - MIN, "last_error": "HTTP 429",
            "last_error_ts": NOW - MIN, "retry_after": NOW + 30 * MIN})
        store.record_run("old", NOW - 120 * MIN, ok=True, state={"last_ok": NOW - 120 * MIN})
    return cfg, loaded


def test_the_daemon_status_line_and_status_json_agree_on_every_health_state(world):
    cfg, loaded = world
    daemon = Daemon(loaded)
    daemon.services = services.build(loaded, notifier=Notifier(None))
    try:
        line = daemon._status_line()  # what the daemon sends as STATUS=
    finally:
        daemon.services.close()

    r = run_cli("--config", str(cfg), "status", "--json")
    shown = {s["name"]: s["health"] for s in json.loads(r.stdout)["sources"]}
    assert shown == {"fine": health.OK, "broken": health.FAILING, "waiting": health.BACKING_OFF,
                     "held": health.BACKING_OFF, "old": health.STALE, "new": health.NEVER_POLLED,
                     "off": "disabled"}
    enabled = [h for h in shown.values() if h != "disabled"]
    assert line == f"{health.summary_of(enabled)}; next dream ?; no session"
    assert line.startswith("1 source ok, 3 failing, 1 stale, 1 never polled; ")


def test_a_source_health_holds_aware_datetimes_and_status_writes_them_as_a_user_reads_them(world):
    cfg, loaded = world
    specs = {s.name: s for s in loaded.config.sources}
    with Store.open(loaded.home.db) as store:
        healths = health.sources_health(store, specs.values(), now=NOW)
        held = health.deferral(specs["held"], store.source_state("held"), NOW)
        waiting = health.deferral(specs["waiting"], store.source_state("waiting"), NOW)
    # no POSIX float in a health: every time is an aware datetime (or None)
    for h in healths.values():
        for name in TIMES:
            t = getattr(h, name)
            assert t is None or (type(t) is datetime and t.utcoffset() == timedelta(0)), (h, name)
    assert (healths["broken"].failing_since, healths["broken"].last_error_ts,
            healths["broken"].next_try) == (NOW - 40 * MIN, NOW - 8 * MIN, None)
    assert healths["waiting"].next_try == NOW + 7 * MIN
    assert healths["held"].next_try == NOW + 30 * MIN
    assert (healths["fine"].last_ok, healths["old"].last_ok) == (NOW - MIN, NOW - 120 * MIN)
    assert held == health.Deferral("retry_after", NOW + 30 * MIN, NOW + 30 * MIN, 1)
    # the fire is skipped until half an interval before the next try (jitter's slack)
    assert waiting == health.Deferral("backoff", NOW + 6.5 * MIN, NOW + 7 * MIN, 3)

    lock = HomeLock(loaded.home.lock)  # as the daemon holds it: next runs are shown
    lock.acquire()
    try:
        doc = json.loads(run_cli("--config", str(cfg), "status", "--json").stdout)
        text = run_cli("--config", str(cfg), "status").stdout
    finally:
        lock.release()
    got = {s["name"]: {k: s[k] for k in ("failing_since", "last_success", "last_error",
                                         "next_run")} for s in doc["sources"]}
    assert got["waiting"] == {"failing_since": "2026-05-14T06:50:00+00:00", "last_success": None,
                              "last_error": {"at": "2026-05-14T07:29:00+00:00", "message": "boom"},
                              "next_run": "2026-05-14T07:37:00+00:00"}
    assert got["held"] == {"failing_since": "2026-05-14T07:29:00+00:00", "last_success": None,
                           "last_error": {"at": "2026-05-14T07:29:00+00:00",
                                          "message": "HTTP 429"},
                           "next_run": "2026-05-14T08:00:00+00:00"}
    assert got["fine"] == {"failing_since": None, "last_success": "2026-05-14T07:29:00+00:00",
                           "last_error": None, "next_run": "2026-05-14T07:30:00+00:00"}
    assert got["old"]["last_success"] == "2026-05-14T05:30:00+00:00"
    lines = {ln.split()[0]: ln for ln in text.splitlines() if ln.startswith("  ")}
    when = f"{'every 1m, next try ~in 7m':32}"
    assert lines["waiting"] == (f"  waiting        system     {when} BACKING OFF after 3 failures "
                                "(failing since 40m ago): boom")
    when = f"{'every 1m, next try ~in 30m':32}"
    assert lines["held"] == (f"  held           system     {when} BACKING OFF after 1 failure "
                             "(failing since 1m ago): HTTP 429")
    when = f"{'every 1m, next ~now':32}"
    assert lines["broken"] == f"  broken         system     {when} FAILING since 40m ago (3x): boom"
    assert lines["fine"] == f"  fine           system     {when} ok, last good 1m ago"
    assert lines["old"] == f"  old            system     {when} stale, last good 2h ago"


def test_a_cron_source_counts_a_day_wherever_its_interval_is_read():
    from reverie.perception.sources import SourceSpec

    intervals = {s.name: s.interval for s in (
        SourceSpec(name="every", type="system", every="5m"),
        SourceSpec(name="cron", type="system", cron="0 5 * * *"))}
    assert intervals == {"every": 300.0, "cron": 86400.0}
    assert health.nominal_interval(None) == timedelta(days=1)
