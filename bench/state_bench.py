"""P4: rendering perception/state.md with 1 M observations in the store.

The store: 40 signals of 10 sources polled every 5 minutes for ~87 days (1 M rows),
500 feed items, one failing source, a wake two hours ago. The render runs in a fresh
child process so its peak RSS (ru_maxrss) is the renderer's, imports included, not the
builder's. Goals: <= 50 ms, <= 80 MB peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench import ROOT, Row, median
from bench._cache import cached_db

OBSERVATIONS = 1_000_000
SOURCES = 10
FIELDS = 4
STEP = 300.0
NOW_TS = 1_715_671_800.0  # 2024-05-14 07:30 UTC
VERSION = "v1"


def _specs():
    from reverie.perception.sources import SourceSpec

    return [SourceSpec(name=f"src{j}", type="http_json", every="5m") for j in range(SOURCES)] + [
        SourceSpec(name="blog", type="feed", every="1h")]


def build(path: Path) -> None:
    from reverie.memory import clock
    from reverie.memory.store import Observation, Store

    signals = SOURCES * FIELDS
    per = OBSERVATIONS // signals
    start = NOW_TS - per * STEP
    with Store.open(path) as store:
        store.set_meta("born", str(start))

        def rows():
            for k in range(per):
                t = clock.from_ts(start + k * STEP)
                for j in range(signals):
                    src = f"src{j // FIELDS}"
                    yield Observation(src, f"{src}.f{j % FIELDS}", t, (k * 7 + j * 13) % 101 / 3.0,
                                      None, "u")
        store.add_observations(rows())
        now = clock.from_ts(NOW_TS)
        store.record_run("blog", now - timedelta(hours=1), ok=True, items=[
            {"uid": f"u{i}", "title": f"Item {i} | with a pipe", "link": f"https://b.invalid/{i}",
             "summary": "text " * 50} for i in range(500)])
        store.record_run("src9", now - timedelta(minutes=5), ok=False, error="HTTP 503 from rpc",
                         state={"consecutive_failures": 4, "failing_since": NOW_TS - 7200,
                                "last_error": "HTTP 503 from rpc", "last_error_ts": NOW_TS - 300,
                                "last_ok": NOW_TS - 7300})
        store.record_wake("started", "bench", ts=now - timedelta(hours=2))
        store.beat(now)


def _child(db: str, home: str, renders: int) -> None:
    """Runs in the child: render once cold, then ``renders`` more; report as JSON."""
    from zoneinfo import ZoneInfo

    from reverie.memory import clock
    from reverie.memory.home import Home
    from reverie.memory.store import Store
    from reverie.perception.state import render_state

    h = Home.at(home, Path(f"{home}.state"))
    h.ensure()
    specs = _specs()
    now = clock.from_ts(NOW_TS)
    tz = ZoneInfo("Europe/Berlin")
    store = Store.open(db, readonly=True)
    times = []
    for _ in range(1 + renders):
        t0 = time.perf_counter()
        render_state(h, store, specs, tz=tz, now=now)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"cold": times[0], "warm": statistics.median(times[1:]),
                      "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "lines": len(h.state_md.read_text("utf-8").splitlines())}))


def run(quick: bool) -> list[Row]:
    db, fresh = cached_db("state-1M", VERSION, build)
    if fresh:
        print(f"  built {db} (kept for the next run)", file=sys.stderr)
    cold, warm, rss = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(2 if quick else 5):
            home = Path(tmp) / f"home{i}"
            out = subprocess.run(
                [sys.executable, "-c",
                 f"from bench.state_bench import _child; _child({str(db)!r}, {str(home)!r}, "
                 f"{5 if quick else 20})"],
                cwd=ROOT, capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
            r = json.loads(out.stdout.strip().splitlines()[-1])
            cold.append(r["cold"])
            warm.append(r["warm"])
            rss.append(r["rss_peak"] / 1024)  # ru_maxrss is KiB on Linux
            shutil.rmtree(home)
    t, c, m = median(warm), median(cold), median(rss)
    return [
        Row("P4", "render state.md + state.json, 1 M observations stored",
            f"{t * 1000:.1f} ms", "-", "-", "<= 50 ms",
            t <= 0.050),
        Row("P4", "render, the first in a fresh process",
            f"{c * 1000:.1f} ms", "-", "-", "<= 50 ms", c <= 0.050),
        Row("P4", "peak RSS of the rendering process (ru_maxrss)", f"{m:.0f} MiB", "-", "-",
            "<= 80 MB", m <= 80),
    ]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
