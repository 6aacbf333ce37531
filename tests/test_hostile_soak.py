"""Soak: weeks on a compressed clock with many sources (files, feed, command, local
http_json). Resident memory does not grow after the first day; the store keeps only
what retention allows.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests._harness import db_rows, make_world, rss_kb
from reverie.memory.home import Home

DAY = 86400.0
START = "2026-06-01T00:10:00+00:00"


class _Api(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        _Api.hits += 1
        body = json.dumps({"a": {"b": _Api.hits % 97, "c": "ok"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a) -> None:
        pass


@pytest.fixture
def api():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


def sources(n: int, url: str, every: str) -> str:
    kinds = ["files", "feed", "command", "http_json"]
    out = []
    for i in range(n):
        k = kinds[i % 4]
        name = f"s{i:02d}"
        if k == "files":
            out.append(f'- {{name: {name}, type: files, path: posts, glob: "*.md", every: {every}}}')
        elif k == "feed":
            out.append(f"- {{name: {name}, type: feed, path: feed.xml, every: {every}}}")
        elif k == "command":
            out.append(f'- {{name: {name}, type: command, argv: ["/bin/echo", "{i}"], every: {every}}}')
        else:
            out.append(f"- {{name: {name}, type: http_json, url: \"{url}\", "
                       f"fields: {{v: a.b, c: a.c}}, every: {every}}}")
    return "\n".join(out) + "\n"


def soak(tmp_path, url: str, *, days: float, n: int, speed: float, retention: str,
         every: str = "1h", env: dict | None = None) -> dict:
    _Api.hits = 0
    w = make_world(tmp_path, extra_sources=sources(n, url, every), lines=3, pause=0.0,
                   wake=["0 9 * * *"], sleep=["0 10 * * *"],
                   more=f"perception:\n  retention: {retention}\n")
    # only the generated sources: drop the two the world brings
    text = w.config.read_text()
    text = text.replace('  - {name: posts, type: files, path: posts, glob: "*.md", every: 1h}\n', "")
    text = text.replace("  - {name: blog, type: feed, path: feed.xml, every: 1h}\n", "")
    w.config.write_text(text)
    w.run("init", str(w.home), check=True)
    secs = days * DAY / speed
    log = open(tmp_path / "daemon.log", "w")
    cmd = w.launcher(START, "--log-level", "warning", "--log-format", "json", "run",
                     "--for", f"{secs:.1f}", speed=speed)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env={**w.env, **(env or {})})
    rss: dict[int, int] = {}
    try:
        for day in range(1, int(days) + 1):
            # the end of simulated day N, a little before it to read a live process
            target = t0 + day * DAY / speed - (0.3 if day == int(days) else 0)
            time.sleep(max(0.0, target - time.monotonic()))
            if p.poll() is None:
                rss[day] = rss_kb(p.pid)
        code = p.wait(timeout=secs + 90)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()
    wall = time.monotonic() - t0
    errors = (tmp_path / "daemon.log").read_text()
    assert code == 0, errors[-3000:]
    assert "Traceback" not in errors, errors[-3000:]
    (polls,) = db_rows(w.home, "SELECT COUNT(*) FROM polls")[0],
    (failed,) = db_rows(w.home, "SELECT COUNT(*) FROM polls WHERE ok = 0")[0],
    last_ts, first_ts = db_rows(w.home, "SELECT MAX(ts), MIN(ts) FROM observations")[0]
    (nobs,) = db_rows(w.home, "SELECT COUNT(*) FROM observations")[0],
    dreams = db_rows(w.home, "SELECT COUNT(*) FROM dreams")[0][0]
    sessions = db_rows(w.home, "SELECT COUNT(*) FROM sessions")[0][0]
    (last_day,) = db_rows(w.home, "SELECT COUNT(*) FROM polls WHERE ts > ?", (last_ts - DAY,))[0],
    n_http = len([i for i in range(n) if i % 4 == 3])
    per_source = _Api.hits / n_http  # every poll of an http_json source, the whole run
    oldest_days = (last_ts - first_ts) / DAY
    size_kb = sum(f.stat().st_size for f in Home.at(w.home).state.glob("reverie.db*")) // 1024
    growth = (rss[max(rss)] - rss[1]) / rss[1] * 100 if len(rss) > 1 else 0.0
    figures = {"days": days, "sources": n, "wall_s": round(wall, 1), "polls": polls[0],
               "failed_polls": failed[0], "polls_per_http_source": round(per_source),
               "polls_per_source_last_day": round(last_day[0] / n, 1),
               "observations": nobs[0], "oldest_obs_days": round(oldest_days, 2),
               "db_kb": size_kb, "dreams": dreams, "sessions": sessions,
               "rss_kb": rss, "rss_growth_pct": round(growth, 1),
               "end": datetime.fromtimestamp(last_ts, timezone.utc).isoformat(timespec="minutes")}
    print("\nsoak:", json.dumps(figures))
    return figures


@pytest.mark.slow  # a compressed day needs the CPU to itself: 48 polls a second
def test_a_day_of_soak_keeps_every_kind_of_source_polling(tmp_path, api):
    # the short soak: one compressed day, two sources of each kind
    f = soak(tmp_path, api, days=1, n=8, speed=21600, retention="1d")
    assert f["polls_per_http_source"] >= 0.8 * 24
    assert f["polls_per_source_last_day"] >= 0.8 * 24
    assert f["failed_polls"] == 0
    assert f["dreams"] >= 1


@pytest.mark.slow
def test_a_three_day_soak_keeps_polling_and_applies_retention(tmp_path, api):
    f = soak(tmp_path, api, days=3, n=20, speed=21600, retention="1d")
    assert f["polls_per_http_source"] >= 0.8 * 3 * 24
    assert f["polls_per_source_last_day"] >= 0.8 * 24
    assert f["failed_polls"] == 0
    assert f["oldest_obs_days"] <= 1 + 1
    assert f["dreams"] >= 2


@pytest.mark.slow
def test_thirty_days_with_fifty_sources_keep_memory_and_the_store_bounded(tmp_path, api):
    # glibc gives each thread that mallocs its own arena (up to 8 per core): with a
    # thread per fetch, RSS climbed ~18% over the first ~12 days before it plateaued.
    # The daemon caps the arenas at start (lifecycle.limit_malloc_arenas).
    # 7200x: 100 polls a wall second; at 14400x a loaded 2-core machine fell behind the
    # compressed clock (18.8 polls on the last day) though nothing was wrong
    f = soak(tmp_path, api, days=30, n=50, speed=7200, retention="7d")
    assert f["polls_per_http_source"] >= 0.8 * 720
    assert f["polls_per_source_last_day"] >= 0.8 * 24
    assert f["oldest_obs_days"] <= 7 + 1
    # Growth comes while the 7-day retention window fills (SQLite cache, larger result
    # sets) and is flat after it: the plateau shows there is no leak.
    rss = f["rss_kb"]
    # day-to-day RSS wobbles by ~2% (allocator, SQLite cache): compare week means, not days
    settled = sum(rss[d] for d in range(8, 15)) / 7
    last = sum(rss[d] for d in range(24, 31)) / 7
    plateau = (last - settled) / settled * 100
    print(f"rss growth day 1 -> 30: {f['rss_growth_pct']}%; week 2 -> week 4: {plateau:.1f}%")
    # The leak check is the plateau: a leak of even 1 KB per poll (50 sources, 24 polls a
    # day, 14 days between the weeks) adds ~17 MB, a third of the daemon's ~50 MB, far
    # above 5 %; the allocator's and SQLite's wobble between week means stays under 2 %.
    assert plateau <= 5.0
    # Day 1 -> 30 includes the warm-up while the retention window fills (8-10 % measured,
    # once 10.1 %): not a leak, so its bound is only a ceiling on the footprint, with room
    # for that noise; a leak that hides in the first week still shows here.
    assert f["rss_growth_pct"] < 20.0
    assert f["dreams"] >= 29
