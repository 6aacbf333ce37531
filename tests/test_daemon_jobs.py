"""The daemon's table of jobs (daemon/services.py), driven in-process on a fake clock."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from reverie.daemon import config, services
from reverie.daemon import scheduler as sched_mod
from reverie.daemon.notify import Notifier
from reverie.memory import clock
from tests import _agent
from tests._days import Days
from tests._harness import db_rows, make_world
from tests.conftest import make_config, wait_for

START = datetime.fromisoformat("2026-05-01T07:00:00+02:00")


@pytest.fixture
def driven():
    made: list[Days] = []

    def make(loaded, at: datetime = START) -> Days:
        d = Days(loaded, at)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def load(tmp_path, **kw):
    w = make_world(tmp_path, timezone="Europe/Berlin", **kw)
    return w, config.load(w.config, env=w.env)


def _first_polls(tmp_path, n: int) -> list[float]:
    """Seconds from the start to the first poll of each of ``n`` hourly sources."""
    cfg = make_config(tmp_path, sources=[{"name": f"s{i}", "type": "system", "every": "1h"}
                                         for i in range(n)])
    c = clock.FakeClock(START)
    try:
        s = services.build(config.load(cfg, env={}), clock=c, notifier=Notifier(None))
        firsts = [(j.first - START).total_seconds() for j in s.jobs()
                  if j.name.startswith("source:")]
        s.close()
    finally:
        clock.install(None)
    return firsts


def test_a_small_home_polls_its_sources_within_a_fraction_of_a_second_of_the_start(tmp_path):
    assert max(_first_polls(tmp_path, 2)) <= 0.2


def test_fifty_sources_start_spread_over_five_seconds_at_most(tmp_path):
    firsts = _first_polls(tmp_path, 50)
    assert len(firsts) == 50 and min(firsts) >= 0 and max(firsts) <= 5.0
    assert max(firsts) - min(firsts) > 2.5  # spread, not one instant (p of failing ~ 1e-15)


def test_each_job_keeps_its_trigger_timeout_and_late_run_rule(tmp_path):
    cfg = make_config(
        tmp_path, timezone="Europe/Berlin",
        sources=[{"name": "posts", "type": "files", "path": "posts", "every": "1h"}],
        dream={"at": "0 5 * * *", "catch_up": "6h", "timeout": "60s"},
        memory={"distill": "openai"},
        sessions={"command": _agent.command(), "wake": ["0 8 * * *"],
                  "sleep": ["0 23 * * *"], "wake_on": ["posts.count > 3"],
                  "missed_grace": "10m", "stop_timeout": "5s"})
    c = clock.FakeClock(START)
    try:
        s = services.build(config.load(cfg, env={}), clock=c, notifier=Notifier(None))
        table = {j.name: j for j in s.jobs()}
        s.close()
    finally:
        clock.install(None)
    assert sorted(table) == ["distill", "dream", "heartbeat", "retention", "sessions",
                             "sleep:0", "source:posts", "wake:0", "wake_on"]
    rules = {n: (j.misfire_grace_time, j.timeout) for n, j in table.items()}
    assert rules["dream"] == (6 * 3600, 180)
    assert rules["wake:0"] == (600, 120)
    assert rules["sleep:0"] == (3600, 305)
    assert rules["sessions"] == (2, 305)
    assert rules["heartbeat"] == (10, 30)
    assert rules["retention"] == (6 * 3600, 600)
    assert all(j.coalesce and j.max_instances == 1 for j in table.values())
    assert table["heartbeat"].first == START
    assert START <= table["source:posts"].first <= START + timedelta(seconds=5)


def test_a_driven_day_polls_a_source_on_its_interval_and_beats(tmp_path, driven):
    w, loaded = load(tmp_path)
    d = driven(loaded)
    d.life(START, 3.5 * 3600)
    polls = [f for n, f in d.ran if n == "source:posts"]
    assert len(polls) == 4
    assert db_rows(w.home, "SELECT COUNT(*) FROM observations WHERE source = 'posts'")[0][0] >= 4
    beat = float(db_rows(w.home, "SELECT value FROM meta WHERE key = 'heartbeat'")[0][0])
    assert beat == (START + timedelta(hours=3.5)).timestamp()


def test_the_sleep_time_ends_the_running_session_and_consolidates_it(tmp_path, driven):
    # a minute between wake and sleep: every 2 s of fake time the sessions job checks the
    # agent, and each check takes real time
    w, loaded = load(tmp_path, lines=1000, pause=0.05, wake=["0 8 * * *"], sleep=["1 8 * * *"])
    d = driven(loaded)
    d.agent_runs_out = False
    d.life(START, 1.1 * 3600)
    assert db_rows(w.home, "SELECT end_reason, consolidated FROM sessions") == [("slept", 1)]
    assert [n for n, _ in d.ran if n.startswith(("wake", "sleep"))] == ["wake:0", "sleep:0"]


def test_a_hung_job_is_not_started_again_while_its_abandoned_run_still_hangs():
    running, peak, lock, release = [], [0], threading.Lock(), threading.Event()

    def work():
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        release.wait(5)
        with lock:
            running.pop()

    job = sched_mod.bounded("review:hung", 0.1, work)
    try:
        job(), job(), job()
        assert peak[0] == 1
    finally:
        release.set()


def test_a_job_runs_again_once_its_hung_run_has_ended():
    calls, release = [], threading.Event()

    def work():
        calls.append(1)
        if len(calls) == 1:
            release.wait(5)

    job = sched_mod.bounded("review:recovers", 0.1, work)
    job()
    release.set()
    assert wait_for(lambda: not any(t.name == "job:review:recovers" and t.is_alive()
                                    for t in threading.enumerate()), timeout=5)
    job()
    assert len(calls) == 2
