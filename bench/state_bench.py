"""Rendering perception/state.md with 1 M observations in the store.

The store: 40 signals of 10 sources polled every 5 minutes for ~87 days (1 M rows),
500 feed items, one failing source, a wake two hours ago. The render runs in a fresh
child process so its peak RSS is the renderer's (plus the interpreter and imports), not
the builder's. Targets: <= 50 ms, <= 80 MB peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench import Row

OBSERVATIONS = 1_000_000
SOURCES = 10
FIELDS = 4
STEP = 300.0
NOW_TS = 1_715_671_800.0  # 2024-05-14 07:30 UTC


def _specs():
    from perception.sources import SourceSpec

    return [SourceSpec(name=f"src{j}", type="http_json", every="5m") for j in range(SOURCES)] + [
        SourceSpec(name="blog", type="feed", every="1h")]


def build(path: Path) -> None:
    from memory import clock
    from memory.store import Store

    signals = SOURCES * FIELDS
    per = OBSERVATIONS // signals
    start = NOW_TS - per * STEP
    with Store.open(path) as store:
        store.set_meta("born", str(start))
        with store.transaction() as c:
            def rows():
                for k in range(per):
                    t = start + k * STEP
                    for j in range(signals):
                        src = f"src{j // FIELDS}"
                        yield (src, f"{src}.f{j % FIELDS}", t, (k * 7 + j * 13) % 101 / 3.0,
                               None, "u")
            c.executemany("INSERT INTO observations(source, signal, ts, value, text, unit)"
                          " VALUES (?,?,?,?,?,?)", rows())
        now = clock.from_ts(NOW_TS)
        store.record_poll("blog", now - timedelta(hours=1), ok=True, items=[
            {"uid": f"u{i}", "title": f"Item {i} | with a pipe", "link": f"https://b.invalid/{i}",
             "summary": "text " * 50} for i in range(500)])
        store.save_source_state("src9", consecutive_failures=4, failing_since=NOW_TS - 7200,
                                last_error="HTTP 503 from rpc", last_error_ts=NOW_TS - 300,
                                last_ok=NOW_TS - 7300)
        store.record_wake("started", "bench", ts=now - timedelta(hours=2))
        store.beat(now)


def _child(db: str, home: str) -> None:
    """Runs in the child: render cold once, then warm, and report as JSON."""
    import tracemalloc
    from zoneinfo import ZoneInfo

    from memory import clock
    from memory.home import Home
    from memory.store import Store
    from perception.state import render_state

    h = Home.at(home)
    h.ensure()
    specs = _specs()
    now = clock.from_ts(NOW_TS)
    tz = ZoneInfo("Europe/Berlin")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store = Store.open(db)
    t0 = time.perf_counter()
    render_state(h, store, specs, tz=tz, now=now)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(20):
        t0 = time.perf_counter()
        render_state(h, store, specs, tz=tz, now=now)
        warm.append(time.perf_counter() - t0)
    tracemalloc.start()
    render_state(h, store, specs, tz=tz, now=now)
    py_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({
        "cold": cold, "warm": statistics.median(warm), "warm_max": max(warm),
        "rss_before": rss_before, "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "py_peak": py_peak, "lines": len(h.state_md.read_text("utf-8").splitlines()),
    }))


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "reverie.db"
        t0 = time.monotonic()
        build(db)
        built = time.monotonic() - t0
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(
            [sys.executable, "-c",
             f"from bench.state_bench import _child; _child({str(db)!r}, {str(Path(tmp) / 'home')!r})"],
            cwd=root, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONPATH": str(root)})
        r = json.loads(out.stdout.strip().splitlines()[-1])
        size = db.stat().st_size / 2**20
    kb = 1024  # ru_maxrss is in KiB on Linux
    return [
        Row("state", "store build (1M observations)", built, "s", f"db {size:.0f} MiB"),
        Row("state", "render, first in a fresh process", r["cold"] * 1000, "ms", "target <= 50"),
        Row("state", "render, median of 20", r["warm"] * 1000, "ms", "target <= 50"),
        Row("state", "render, worst of 20", r["warm_max"] * 1000, "ms"),
        Row("state", "peak RSS of the render process", r["rss_peak"] / kb, "MiB",
            f"target <= 80; {r['rss_before'] / kb:.0f} MiB after imports"),
        Row("state", "Python allocations peak, one render", r["py_peak"] / 2**20, "MiB",
            "tracemalloc"),
        Row("state", "state.md lines", r["lines"], ""),
    ]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())
