"""P5: the dream digest over 720 k observations (500 signals x 24 h x one a minute).

The readings are stored once and cached (see ``bench._cache``); each run rolls the day's
hours up in a copy of that store, as the nightly retention (or the night's first digest)
does, and then times the digest from the rollups against the same digest from the raw
rows, in turns. Goal: <= 0.25 s, the same figures.
"""

from __future__ import annotations

import math
import os
import random
import shutil
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
MIN = timedelta(minutes=1)
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
    # the cache holds the readings alone (and is shared): the rollups go into a copy
    work = db.with_name(f"{db.stem}.rollups.{os.getpid()}.db")
    shutil.copyfile(db, work)
    try:
        with Store.open(work) as store:
            assert sum(s.count for s in store.signal_stats(START, END, raw=True)) \
                == SIGNALS * HOURS * 60
            t = time.perf_counter()
            rolled = store.roll_up(END)
            roll = time.perf_counter() - t
            assert rolled == HOURS, rolled
            # a night's real cycle ends when the dream job runs: it cuts hours at both ends
            cycles = {"whole": (START, END), "cut": (START + 23 * MIN, END - 17 * MIN)}
            times: dict[tuple[str, bool], list[float]] = {}
            for i in range(3 if quick else 7):
                for cycle, (a, b) in cycles.items():
                    digests = {}
                    for raw in ((False, True) if i % 2 else (True, False)):
                        t = time.perf_counter()
                        digests[raw] = build_digest(store, a, b, raw=raw)
                        times.setdefault((cycle, raw), []).append(time.perf_counter() - t)
                    assert digests[False] == digests[True], \
                        f"the digest from rollups differs from the raw one ({cycle} hours)"
                    assert len(digests[False].signals) == SIGNALS
    finally:
        for p in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            p.unlink(missing_ok=True)
    rows = []
    for cycle, what in (("whole", f"dream digest, 720 k observations ({SIGNALS} signals x "
                                  f"{HOURS} h x 1/min)"),
                        ("cut", "the same, a cycle cutting hours at both ends (+23 min, "
                                "-17 min)")):
        t, base = median(times[cycle, False]), median(times[cycle, True])
        rows.append(Row("P5", what, f"{t:.3f} s", f"{base:.3f} s (the same digest from raw rows)",
                        f"{t / base:.2f}x", "<= 0.25 s, same figures", t <= 0.25))
    rows.append(Row("P5", f"rolling up those {HOURS} hours, once a day (retention, or the "
                    "night's first digest)", f"{roll:.3f} s", "-", "-", "reported", True))
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
