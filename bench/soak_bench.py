"""P7: 30 simulated days with 50 sources, the real code in process.

A fake clock (time-machine) advances; every simulated hour (every 4 h in ``--quick``)
the 50 sources (45 http_json, 5 feeds, against the local bench server) are polled on a
thread pool as the daemon's scheduler would, the state is re-rendered when the store
changed, retention runs every night at 03:30 (keeping 7 days, so it has work to do), and
the nightly dream is written at 05:00. Resident memory (/proc/self/statm, after a gc) at
the end of day 1 against the end of day 30: growth < 10%. The store must hold no row
older than the retention window, and no more rows than the window holds.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import Row, quiet_logs, server

DAYS = 30
SOURCES = 50
FEEDS = 5
KEEP = timedelta(days=7)
START = datetime(2026, 3, 1, 0, 30, tzinfo=timezone.utc)
TZ = ZoneInfo("Europe/Berlin")


def _rss_mib() -> float:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(quick: bool) -> list[Row]:
    import time_machine

    from reverie.memory.home import Home
    from reverie.memory.store import Store
    from reverie.perception import poll
    from reverie.perception.dreams import DreamOptions
    from reverie.perception.dreams.write import write_dream
    from reverie.perception.sources import SourceSpec
    from reverie.perception.state import StateRenderer

    quiet_logs()
    every = 4 if quick else 1  # simulated hours between polls
    rss: dict[int, float] = {}
    with server() as base, tempfile.TemporaryDirectory() as tmp, \
            time_machine.travel(START, tick=False) as traveller:
        specs = [SourceSpec(name=f"json{i:02d}", type="http_json", every=f"{every}h",
                            timeout="10s",
                            options={"url": f"{base}/ok?i={i}",
                                     "fields": {"x": "x", "y": "y", "karma": "agent.karma"}})
                 for i in range(SOURCES - FEEDS)]
        specs += [SourceSpec(name=f"feed{i}", type="feed", every=f"{every}h", timeout="10s",
                             options={"url": f"{base}/feed{'200' if i % 2 else ''}?i={i}"})
                  for i in range(FEEDS)]
        home = Home.at(Path(tmp) / "home", Path(tmp) / "state")
        home.ensure()
        store = Store.open(home.db)
        store.born()
        renderer = StateRenderer(home, store, specs, TZ, min_interval=0)
        opts = DreamOptions()
        polled = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            for day in range(1, DAYS + 1):
                for hour in range(0, 24):
                    now = START + timedelta(days=day - 1, hours=hour)
                    traveller.move_to(now)
                    local = now.astimezone(TZ)
                    if local.hour == 3:
                        store.apply_retention(now - KEEP)
                    if local.hour == 5:
                        write_dream(home, store, opts, day=local.date(), tz=TZ, now=now)
                    if hour % every == 0:
                        outs = list(pool.map(lambda s: poll.poll_source(
                            s, home=home, store=store, now=now), specs))
                        bad = [o.line() for o in outs if not o.ok]
                        assert not bad, bad[:3]
                        polled += len(outs)
                        renderer.maybe_render(now)
                rss[day] = _rss_mib()
        end = START + timedelta(days=DAYS)
        held_stats = store.signal_stats(START - timedelta(days=1), end)
        first_ts = min((s.first.ts.timestamp() for s in held_stats), default=None)
        held = sum(s.count for s in held_stats)
        window_rows = (SOURCES - FEEDS) * 3 * (24 // every) * (KEEP.days + 1) \
            + FEEDS * 2 * (24 // every) * (KEEP.days + 1)
        dreams = len(list(home.root.glob("dreams/2026-*.md")))
        db_mib = sum(p.stat().st_size for p in home.db.parent.glob(home.db.name + "*")) / 2**20
        store.close()
    print("  resident MiB by day: " + " ".join(f"{d}:{m:.1f}" for d, m in rss.items()),
          file=sys.stderr)
    growth = rss[DAYS] / rss[1] - 1
    within = first_ts is not None and first_ts >= (end - KEEP - timedelta(days=1)).timestamp() \
        and held <= window_rows
    cadence = "every 4 h (--quick)" if quick else "hourly"
    return [
        Row("P7", f"30 simulated days, 50 sources polled {cadence}: resident memory",
            f"{rss[DAYS]:.1f} MiB (day 30)", f"{rss[1]:.1f} MiB (day 1)",
            f"{rss[DAYS] / rss[1]:.3f}x", "growth < 10%", growth < 0.10),
        Row("P7", f"the store after 30 days ({polled} polls, {dreams} dreams, 7-day retention)",
            f"{held} observations, oldest {(end.timestamp() - first_ts) / 86400:.1f} d,"
            f" db {db_mib:.1f} MiB" if first_ts else "empty",
            f"<= {window_rows} (8 days' worth)", "-", "within retention", within),
    ]


if __name__ == "__main__":
    from bench.__main__ import print_table

    t = time.monotonic()
    print_table(run("--quick" in sys.argv))
    print(f"{time.monotonic() - t:.0f} s", file=sys.stderr)
