"""Benchmark: the digest over 720 k observations (500 signals x 24 h x one a minute)
and the offline dream's generation time. Prints figures; not part of the test run.

    /work/venv/bin/python bench/dream_bench.py [--signals 500] [--hours 24]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from memory.store import Store
from perception.digest import build_digest
from perception.dreams.offline import compose

FIELDS = ["temperature", "karma", "followers", "balance", "count", "words", "load", "unread"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--signals", type=int, default=500)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--nights", type=int, default=30, help="offline dreams to time")
    args = ap.parse_args()

    end = datetime(2026, 6, 10, 3, tzinfo=timezone.utc)
    start = end - timedelta(hours=args.hours)
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as d:
        store = Store.open(Path(d) / "bench.db")
        names = [(f"src{i // 10}", f"src{i // 10}.{FIELDS[i % len(FIELDS)]}_{i}")
                 for i in range(args.signals)]
        t = time.perf_counter()
        minutes = args.hours * 60
        by_source: dict[str, list[str]] = {}
        for src, sig in names:
            by_source.setdefault(src, []).append(sig)
        for m in range(minutes):
            ts = start + timedelta(minutes=m + 1)
            for src, sigs in by_source.items():
                store.record_poll(src, ts, ok=True, readings=[
                    (s, 100 + 20 * math.sin(m / 90 + k) + rng.random(), None, None)
                    for k, s in enumerate(sigs)])
        n = store.count_observations()
        print(f"store: {n} observations written in {time.perf_counter() - t:.1f}s")

        times = []
        for _ in range(3):
            t = time.perf_counter()
            dg = build_digest(store, start, end)
            times.append(time.perf_counter() - t)
        print(f"digest: {len(dg.signals)} signals, {len(dg.notable)} notable, "
              f"best {min(times):.3f}s, median {statistics.median(times):.3f}s")

        gen = []
        recent: dict[str, int] = {}
        for i in range(args.nights):
            t = time.perf_counter()
            prose, keys, _ = compose(dg, date(2026, 6, 10) + timedelta(days=i), recent=recent)
            gen.append(time.perf_counter() - t)
        gen.sort()
        print(f"offline dream ({len(dg.signals)} signals): median {statistics.median(gen) * 1000:.1f} ms, "
              f"p95 {gen[int(len(gen) * 0.95) - 1] * 1000:.1f} ms, {len(prose.split())} words")
        store.close()


if __name__ == "__main__":
    main()
