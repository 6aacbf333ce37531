"""reverie.memory.clock: one place for now, monotonic and sleep, with a clock tests can move."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from reverie.daemon import config, services
from reverie.daemon.notify import Notifier
from reverie.memory import clock
from tests.conftest import make_config

T0 = datetime(2026, 3, 29, 0, 45, tzinfo=timezone.utc)


@pytest.fixture
def fake():
    c = clock.FakeClock(T0)
    old = clock.install(c)
    yield c
    clock.install(old)


def test_now_follows_the_installed_clock_and_returns_to_the_system_one(fake):
    assert clock.now() == T0
    clock.install(None)
    assert abs((clock.now() - datetime.now(timezone.utc)).total_seconds()) < 5


def test_a_fake_clock_stands_still_until_advanced(fake):
    time.sleep(0.01)
    assert clock.now() == T0
    fake.advance(90)
    assert clock.now() == T0 + timedelta(seconds=90)


def test_sleeping_on_a_fake_clock_moves_it_without_waiting(fake):
    started = time.monotonic()
    clock.sleep(3600)
    assert clock.now() == T0 + timedelta(hours=1)
    assert time.monotonic() - started < 1


def test_monotonic_never_goes_back_when_the_wall_clock_is_set_back(fake):
    before = clock.monotonic()
    fake.set(T0 - timedelta(hours=1))
    assert clock.now() == T0 - timedelta(hours=1)
    assert clock.monotonic() >= before
    fake.advance(60)
    assert clock.monotonic() >= before + 60


def test_now_is_always_aware_utc(fake):
    fake.set(datetime.fromisoformat("2026-10-25T02:30:00+02:00"))
    assert clock.now().tzinfo is timezone.utc
    assert clock.now() == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="naive"):
        fake.set(datetime(2026, 1, 1))


def test_the_services_builder_installs_the_clock_it_is_given(tmp_path):
    cfg = make_config(tmp_path)
    c = clock.FakeClock(T0)
    try:
        s = services.build(config.load(cfg, env={}), clock=c, notifier=Notifier(None))
        s.heartbeat()
        assert s.store.last_beat() == T0
        s.close()
    finally:
        clock.install(None)
