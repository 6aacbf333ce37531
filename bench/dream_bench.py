"""P5: the dream digest over 720 k observations (500 signals x 24 h x one a minute).

The store is built once and cached (see ``bench._cache``). Goal: <= 1 s.
"""

from __future__ import annotations

import math
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import Row, median
from bench._cache import cached_db

SIGNALS = 500
HOURS = 24
FIELDS = ["temperature", "karma", "followers", "balance", "count", "words", "load", "unread"]
END = datetime(2026, 6, 10, 3, tzinfo=timezone.utc)
START = END - timedelta(hours=HOURS)
VERSION = "v1"


def build(path: Path) -> None:
    from reverie.memory import clock
    from reverie.memory.store import Store

    rng = random.Random(1)
    names = [(f"src{i // 10}", f"src{i // 10}.{FIELDS[i % len(FIELDS)]}_{i}")
             for i in range(SIGNALS)]
    t0 = clock.to_ts(START)
    with Store.open(path) as store:
        for m in range(HOURS * 60):  # one run a minute of each source (10 signals each)
            ts = clock.from_ts(t0 + 60 * (m + 1))
            readings: dict[str, list] = {}
            for k, (src, sig) in enumerate(names):
                readings.setdefault(src, []).append(
                    (sig, 100 + 20 * math.sin(m / 90 + k) + rng.random(), None, None))
            for src, rs in readings.items():
                store.record_run(src, ts, ok=True, duration=0.01, readings=rs)


def run(quick: bool) -> list[Row]:
    from reverie.memory.store import Store
    from reverie.perception.digest import build_digest

    db, fresh = cached_db("dream-720k", VERSION, build)
    if fresh:
        print(f"  built {db} (kept for the next run)", file=sys.stderr)
    times = []
    with Store.open(db, readonly=True) as store:
        assert sum(s.count for s in store.signal_stats(START, END)) == SIGNALS * HOURS * 60
        for _ in range(3 if quick else 7):
            t = time.perf_counter()
            dg = build_digest(store, START, END)
            times.append(time.perf_counter() - t)
        assert len(dg.signals) == SIGNALS, len(dg.signals)
    t = median(times)
    return [Row("P5", f"dream digest, 720 k observations ({SIGNALS} signals x {HOURS} h x 1/min)",
                f"{t:.3f} s", "-", "-", "<= 1 s", t <= 1.0)]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
