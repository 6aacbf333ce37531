"""Time: DST days, a clock jump forward, and a daemon down across dream and wake times.

The real daemon runs through tests/_launcher.py at another time (a compressed clock
where it helps); what is asserted is what the store and the home say afterwards.
"""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timezone

from tests._harness import check_home, db_rows, make_world, wait_agents_gone

BERLIN = "Europe/Berlin"


def run_daemon(w, at: str, seconds: float, *, speed: float | None = None,
               extra: tuple[str, ...] = ()) -> str:
    """Run `reverie run` at ``at`` for ``seconds`` real seconds; its log (stderr)."""
    cmd = w.launcher(at, "--log-format", "json", "run", "--for", str(seconds), speed=speed,
                     extra=extra)
    p = subprocess.run(cmd, capture_output=True, text=True, env=w.env, timeout=seconds + 60)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    return p.stderr


def world(tmp_path, **kw):
    w = make_world(tmp_path, timezone=BERLIN, lines=3, pause=0.01, **kw)
    w.run("init", str(w.home), check=True)
    return w


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


def _dst_day(tmp_path, at: str, seconds: float, day: str):
    w = world(tmp_path, dream_at="30 2 * * *", wake=["30 2 * * *"])
    t0 = time.monotonic()
    log = run_daemon(w, at, seconds, speed=1200)
    wait_agents_gone(w.root, 10)
    d, s, k = dreams(w), started_sessions(w), wakes(w)
    print(f"\n{day}: dreams {d}; sessions {[(i, utc(t)) for i, t in s]}; "
          f"wakes {[(o, utc(t) if t else None) for o, t, _ in k]} "
          f"({time.monotonic() - t0:.1f}s)")
    assert d.get(day) == 1, log[-3000:]
    assert len([x for x in k if x[0] == "started"]) == 1, k
    assert len(s) == 1, s
    assert check_home(w.home, truth=w.truth, final=True) == []
    return w


def test_spring_forward_day_has_one_dream_and_the_0230_wake_starts_one_session(tmp_path):
    # 02:30 does not exist on 2026-03-29 in Berlin (02:00 CET -> 03:00 CEST)
    _dst_day(tmp_path, "2026-03-29T01:45:00+01:00", 6, "2026-03-29")


def test_fall_back_day_has_one_dream_and_the_twice_seen_0230_starts_one_session(tmp_path):
    # 02:30 happens twice on 2026-10-25 in Berlin (03:00 CEST -> 02:00 CET)
    _dst_day(tmp_path, "2026-10-25T01:45:00+02:00", 9, "2026-10-25")


def test_a_clock_jump_forward_runs_the_passed_dream_and_the_recent_wake_once(tmp_path):
    # suspended at 04:00, resumed at 06:30: the 05:00 dream is due (catch_up 12h), the
    # 06:20 wake is within missed_grace (15m), the 05:30 wake is too old
    w = world(tmp_path, dream_at="0 5 * * *", wake=["30 5 * * *", "20 6 * * *"])
    run_daemon(w, "2026-05-01T04:00:00+02:00", 7, extra=("--jump-after", "2", "--jump", "2.5"))
    wait_agents_gone(w.root, 10)
    d, s, k = dreams(w), started_sessions(w), wakes(w)
    print(f"\njump: dreams {d}; sessions {len(s)}; wakes {[(o, utc(t)) for o, t, _ in k]}")
    assert d == {"2026-05-01": 1}
    assert [utc(t) for o, t, _ in k if o == "started"] == ["2026-05-01T04:20+00:00"]
    assert len(s) == 1


def test_a_daemon_down_across_dream_and_wake_catches_up_once_even_restarted_twice(tmp_path):
    w = world(tmp_path, dream_at="0 5 * * *", wake=["0 6 * * *", "15 6 * * *"])
    run_daemon(w, "2026-05-01T04:50:00+02:00", 2)
    assert dreams(w) == {}
    # down from 04:50 to 06:25: the dream (05:00) is written at start, the 06:15 wake
    # (10 min ago, within missed_grace 15m) runs, the 06:00 one is recorded missed
    for at in ("2026-05-01T06:25:00+02:00", "2026-05-01T06:26:00+02:00",
               "2026-05-01T06:27:00+02:00"):
        run_daemon(w, at, 2)
        wait_agents_gone(w.root, 10)
    d, s, k = dreams(w), started_sessions(w), wakes(w)
    print(f"\ncatch-up: dreams {d}; sessions {len(s)}; "
          f"wakes {[(o, utc(t)) for o, t, _ in k]}")
    assert d == {"2026-05-01": 1}
    assert len(s) == 1
    assert sorted((o, utc(t)) for o, t, _ in k) == [
        ("missed", "2026-05-01T04:00+00:00"), ("started", "2026-05-01T04:15+00:00")]
    assert check_home(w.home, truth=w.truth, final=True) == []
