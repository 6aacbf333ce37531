"""When the agent wakes: active hours, the schedule and its missed fires, skip_if_quiet, wake_on."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from reverie.daemon.session_options import SessionsOptions
from reverie.daemon.wake_policy import in_active_hours, missed_wakes
from reverie.memory import clock
from tests._runner import BERLIN, ended, file_text

UTC = clock.UTC


# -- active hours -------------------------------------------------------------------------------

def test_active_hours_hold_a_plain_daytime_window():
    at = lambda h, m=0: datetime(2026, 6, 1, h, m, tzinfo=BERLIN)  # noqa: E731
    assert in_active_hours("07:00-23:00", at(7), BERLIN)
    assert in_active_hours("07:00-23:00", at(22, 59), BERLIN)
    assert not in_active_hours("07:00-23:00", at(23), BERLIN)
    assert not in_active_hours("07:00-23:00", at(6, 59), BERLIN)


def test_active_hours_may_wrap_midnight():
    at = lambda h: datetime(2026, 6, 1, h, 0, tzinfo=BERLIN)  # noqa: E731
    assert in_active_hours("22:00-02:00", at(23), BERLIN)
    assert in_active_hours("22:00-02:00", at(1), BERLIN)
    assert not in_active_hours("22:00-02:00", at(2), BERLIN)
    assert not in_active_hours("22:00-02:00", at(12), BERLIN)


def test_active_hours_follow_the_wall_clock_on_a_dst_day():
    # 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST
    utc = lambda h, m=0: datetime(2026, 3, 29, h, m, tzinfo=UTC)  # noqa: E731
    assert in_active_hours("01:30-03:30", utc(0, 30), BERLIN)       # 01:30 CET
    assert in_active_hours("01:30-03:30", utc(1, 0), BERLIN)        # 03:00 CEST
    assert not in_active_hours("01:30-03:30", utc(1, 30), BERLIN)   # 03:30 CEST
    assert not in_active_hours("03:30-01:30", utc(1, 0), BERLIN)


def test_a_scheduled_wake_outside_active_hours_is_skipped_and_recorded(runner, store):
    r = runner("exit=0", active_hours="08:00-20:00")
    fire = datetime(2026, 6, 1, 22, 0, tzinfo=BERLIN)
    res = r.wake("scheduled 22:00", scheduled=fire)
    assert (res.outcome, res.reason) == ("skipped", "outside active hours 08:00-20:00")
    assert store.wake_recorded(fire) and store.sessions() == []


@pytest.mark.parametrize("bad", ["7-23", "07:00-07:00", "25:00-02:00", "07:00"])
def test_a_malformed_active_hours_is_a_config_error(bad):
    with pytest.raises(ValidationError, match="active_hours"):
        SessionsOptions(command=["a"], active_hours=bad)


# -- the schedule and what was missed ---------------------------------------------------------

def test_missed_wakes_are_the_fire_times_since_the_last_heartbeat():
    since = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    now = datetime(2026, 3, 29, 14, 0, tzinfo=BERLIN)
    fires = missed_wakes(["0 8 * * *", "0 14 * * *"], BERLIN, since, now)
    assert [f.astimezone(BERLIN).strftime("%d %H:%M %Z") for f in fires] == \
        ["28 14:00 CET", "29 08:00 CEST", "29 14:00 CEST"]


def test_at_start_a_wake_within_grace_runs_and_older_ones_are_recorded_missed(runner, store):
    r = runner("exit=0", wake=["0 * * * *"], missed_grace="15m")
    hour = clock.now().replace(minute=0, second=0, microsecond=0)
    results = r.catch_up(hour - timedelta(hours=2, minutes=30), hour + timedelta(minutes=5))
    assert ended(r)
    assert [x.outcome for x in results] == ["missed", "missed", "started"]
    assert store.wake_recorded(hour - timedelta(hours=1)) and store.wake_recorded(hour)


def test_a_double_fire_of_one_scheduled_time_starts_one_session(runner, store):
    r = runner("exit=0")
    fire = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(r.wake("s", scheduled=fire)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ended(r)
    again = r.wake("s", scheduled=fire)
    assert sorted(x.outcome for x in results) == ["skipped", "skipped", "skipped", "started"]
    assert again.outcome == "skipped" and not again.recorded
    assert len(store.sessions()) == 1 and len(store.wakes()) == 1


# -- skip_if_quiet --------------------------------------------------------------------------------

def test_skip_if_quiet_skips_a_scheduled_wake_when_nothing_is_notable(runner, store):
    store.record_wake("started", "earlier", ts=clock.now() - timedelta(hours=3))
    asked = []
    r = runner("exit=0", skip_if_quiet=True,
               notable_since=lambda since, now: asked.append(since) or [])
    res = r.wake("scheduled 08:00", scheduled=clock.now(), check_quiet=True)
    assert (res.outcome, res.reason) == ("skipped", "nothing notable since the last wake")
    assert store.sessions() == [] and len(asked) == 1


def test_skip_if_quiet_wakes_when_something_is_notable(runner, store):
    store.record_wake("started", "earlier", ts=clock.now() - timedelta(hours=3))
    r = runner("exit=0", skip_if_quiet=True,
               notable_since=lambda since, now: ["wallet.eth fell 12%"])
    res = r.wake("scheduled 08:00", scheduled=clock.now(), check_quiet=True)
    assert ended(r)
    assert res.outcome == "started"


def test_skip_if_quiet_wakes_when_the_digest_fails(runner, store):
    store.record_wake("started", "earlier", ts=clock.now() - timedelta(hours=3))

    def broken(since, now):
        raise RuntimeError("digest bug")

    r = runner("exit=0", skip_if_quiet=True, notable_since=broken)
    res = r.wake("scheduled 08:00", scheduled=clock.now(), check_quiet=True)
    assert ended(r)
    assert res.outcome == "started"


# -- wake_on ---------------------------------------------------------------------------------------

def test_a_signal_crossing_a_wake_on_condition_wakes_once_with_its_reason(runner, store,
                                                                          tmp_path):
    out = tmp_path / "seen.json"
    r = runner(f"report={out}", wake_on=["shop.unread > 0"], wake_on_min_interval="1h")
    now = clock.now()
    store.record_run("shop", now - timedelta(minutes=10), ok=True,
                      readings=[("shop.unread", 0, None, None)])
    assert r.check_wake_on(now) is None
    store.record_run("shop", now, ok=True, readings=[("shop.unread", 2, None, None)])
    res = r.check_wake_on(now)
    assert res.outcome == "started"
    assert json.loads(file_text(out))["env"]["REVERIE_WAKE_REASON"] == \
        "wake_on: shop.unread > 0 (shop.unread is 2)"
    assert ended(r)
    assert r.check_wake_on(now + timedelta(minutes=59)) is None
    assert len(store.sessions()) == 1


def test_wake_on_waits_for_active_hours(runner, store):
    r = runner("exit=0", wake_on=["shop.unread > 0"], active_hours="08:00-09:00")
    store.record_run("shop", clock.now(), ok=True, readings=[("shop.unread", 2, None, None)])
    night = datetime(2026, 6, 1, 3, 0, tzinfo=BERLIN)
    assert r.check_wake_on(night) is None and store.sessions() == []


def test_a_malformed_wake_on_condition_is_a_config_error_saying_what_is_wrong():
    with pytest.raises(ValidationError) as e:
        SessionsOptions(command=["a"], wake_on=["shop.unread >> 0"])
    assert "expected a number after '>'" in str(e.value)


def test_command_and_webhook_together_are_a_config_error():
    with pytest.raises(ValidationError, match="either command or webhook"):
        SessionsOptions(command=["a"], webhook={"url": "http://127.0.0.1:1/"})
