"""Time: DST days, a clock jump forward, and a daemon down across dream and wake times.

The daemon's services and its real table of jobs run in-process on a fake clock
(tests/_days.py): a day takes a fraction of a second. Two end-to-end runs of the real
daemon at another time through tests/_launcher.py (time-machine, a compressed clock)
keep the APScheduler-on-a-moving-clock path honest; they are slow. What is asserted is
what the store and the home say afterwards.
"""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from reverie.daemon import config
from reverie.memory.home import init_home
from tests._days import Days
from tests._harness import check_home, db_rows, make_world, wait_agents_gone

BERLIN = "Europe/Berlin"


def world(tmp_path, **kw):
    w = make_world(tmp_path, timezone=BERLIN, lines=3, pause=0.01, **kw)
    init_home(w.home)
    return w


def days(w, at: str) -> Days:
    return Days(config.load(w.config, env=w.env), datetime.fromisoformat(at))


@pytest.fixture
def driven():
    made: list[Days] = []

    def make(w, at: str) -> Days:
        d = days(w, at)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def dreams(w) -> dict[str, int]:
    out: dict[str, int] = {}
    for (d,) in db_rows(w.home, "SELECT date FROM dreams"):
        out[d] = out.get(d, 0) + 1
    return out


def started_sessions(w) -> list[tuple]:
    return db_rows(w.home, "SELECT id, started FROM sessions ORDER BY started")


def wakes(w) -> list[tuple]:
    return db_rows(w.home, "SELECT outcome, scheduled, reason FROM wakes ORDER BY id")


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="minutes")


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def assert_one_dream_and_one_session(w, day: str) -> None:
    d, s, k = dreams(w), started_sessions(w), wakes(w)
    assert d.get(day) == 1, d
    assert len([x for x in k if x[0] == "started"]) == 1, k
    assert len(s) == 1, s
    assert check_home(w.home, truth=w.truth, final=True) == []


def test_spring_forward_day_has_one_dream_and_the_0230_wake_starts_one_session(tmp_path, driven):
    # 02:30 does not exist on 2026-03-29 in Berlin (02:00 CET -> 03:00 CEST)
    w = world(tmp_path, dream_at="30 2 * * *", wake=["30 2 * * *"])
    d = driven(w, "2026-03-29T01:50:00+01:00")
    d.life(at("2026-03-29T01:50:00+01:00"), 3600)
    assert [n for n, _ in d.ran if n in ("dream", "wake:0")] == ["dream", "wake:0"]
    assert_one_dream_and_one_session(w, "2026-03-29")


def test_fall_back_day_has_one_dream_and_the_twice_seen_0230_starts_one_session(tmp_path, driven):
    # 02:30 happens twice on 2026-10-25 in Berlin (03:00 CEST -> 02:00 CET)
    w = world(tmp_path, dream_at="30 2 * * *", wake=["30 2 * * *"])
    d = driven(w, "2026-10-25T02:20:00+02:00")
    d.life(at("2026-10-25T02:20:00+02:00"), 1.5 * 3600)
    fired = [utc(f.timestamp()) for n, f in d.ran if n == "wake:0"]
    # the wake job fires at both 02:30s; the first (CEST) wakes, the second is refused
    assert fired == ["2026-10-25T00:30+00:00", "2026-10-25T01:30+00:00"]
    assert_one_dream_and_one_session(w, "2026-10-25")
    assert [o for o, _, _ in wakes(w)] == ["started"]


def test_a_clock_jump_forward_runs_the_passed_dream_and_the_recent_wake_once(tmp_path, driven):
    # suspended at 04:00, resumed at 06:30: the 05:00 dream is due (catch_up 12h), the
    # 06:20 wake is within missed_grace (15m), the 05:30 wake is too old
    w = world(tmp_path, dream_at="0 5 * * *", wake=["30 5 * * *", "20 6 * * *"])
    d = driven(w, "2026-05-01T04:00:00+02:00")
    d.start()
    d.run_for(2)
    d.clock.advance(timedelta(hours=2.5))
    d.run_for(5)
    d.stop()
    assert ("wake:0", at("2026-05-01T05:30:00+02:00")) in d.missed
    assert dreams(w) == {"2026-05-01": 1}
    assert [utc(t) for o, t, _ in wakes(w) if o == "started"] == ["2026-05-01T04:20+00:00"]
    assert len(started_sessions(w)) == 1


def test_a_daemon_down_across_dream_and_wake_catches_up_once_even_restarted_twice(tmp_path,
                                                                                  driven):
    w = world(tmp_path, dream_at="0 5 * * *", wake=["0 6 * * *", "15 6 * * *"])
    d = driven(w, "2026-05-01T04:50:00+02:00")
    d.life(at("2026-05-01T04:50:00+02:00"), 2)
    assert dreams(w) == {}
    # down from 04:50 to 06:25: the dream (05:00) is written at start, the 06:15 wake
    # (10 min ago, within missed_grace 15m) runs, the 06:00 one is recorded missed
    for start in ("2026-05-01T06:25:00+02:00", "2026-05-01T06:26:00+02:00",
                  "2026-05-01T06:27:00+02:00"):
        d.life(at(start), 2)
    assert dreams(w) == {"2026-05-01": 1}
    assert len(started_sessions(w)) == 1
    assert sorted((o, utc(t)) for o, t, _ in wakes(w)) == [
        ("missed", "2026-05-01T04:00+00:00"), ("started", "2026-05-01T04:15+00:00")]
    assert check_home(w.home, truth=w.truth, final=True) == []


def test_a_session_left_running_is_ended_and_consolidated_when_the_daemon_stops(tmp_path,
                                                                               driven):
    w = make_world(tmp_path, timezone=BERLIN, lines=1000, pause=0.05, wake=["0 8 * * *"])
    init_home(w.home)
    d = driven(w, "2026-05-01T07:59:00+02:00")
    d.agent_runs_out = False
    d.life(at("2026-05-01T07:59:00+02:00"), 120)
    assert db_rows(w.home, "SELECT end_reason, consolidated FROM sessions") == [
        ("daemon stopped", 1)]
    assert check_home(w.home, truth=w.truth, final=True) == []


# -- end to end: the real daemon on a moved clock ----------------------------------------

def run_daemon(w, at: str, seconds: float, *, speed: float | None = None,
               extra: tuple[str, ...] = ()) -> str:
    """Run `reverie run` at ``at`` for ``seconds`` real seconds; its log (stderr)."""
    cmd = w.launcher(at, "--log-format", "json", "run", "--for", str(seconds), speed=speed,
                     extra=extra)
    p = subprocess.run(cmd, capture_output=True, text=True, env=w.env, timeout=seconds + 60)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    return p.stderr


@pytest.mark.slow
def test_end_to_end_spring_forward_day_on_a_compressed_clock(tmp_path):
    w = world(tmp_path, dream_at="30 2 * * *", wake=["30 2 * * *"])
    t0 = time.monotonic()
    # an hour of fake time (3 s) before the 02:30 that does not exist: a loaded machine's
    # slow start must not reach past it (15 minutes of lead read 0 dreams once)
    log = run_daemon(w, "2026-03-29T01:00:00+01:00", 8, speed=1200)
    wait_agents_gone(w.root, 10)
    print(f"\nspring forward end to end: {time.monotonic() - t0:.1f}s")
    assert dreams(w).get("2026-03-29") == 1, log[-3000:]
    assert_one_dream_and_one_session(w, "2026-03-29")


@pytest.mark.slow
def test_end_to_end_a_clock_jump_forward_runs_the_passed_dream_and_the_recent_wake_once(
        tmp_path):
    w = world(tmp_path, dream_at="0 5 * * *", wake=["30 5 * * *", "20 6 * * *"])
    run_daemon(w, "2026-05-01T04:00:00+02:00", 7, extra=("--jump-after", "2", "--jump", "2.5"))
    wait_agents_gone(w.root, 10)
    assert dreams(w) == {"2026-05-01": 1}
    assert [utc(t) for o, t, _ in wakes(w) if o == "started"] == ["2026-05-01T04:20+00:00"]
    assert len(started_sessions(w)) == 1
