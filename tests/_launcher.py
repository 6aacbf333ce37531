"""Run the real reverie CLI at another time: time-machine first, then the CLI's main.

    python tests/_launcher.py --at 2026-03-29T00:58:00+01:00 [--speed 60] -- --config X run

libfaketime does not serve (it hangs Python's timed waits); time-machine moves
datetime.now()/time.time() while monotonic waits stay real. ``--speed N`` makes the
clock run N times faster (the shift is applied by a background thread) for
compressed days.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import datetime

import time_machine


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--at", required=True, help="ISO datetime with offset")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    ns = ap.parse_args()
    argv = ns.rest[1:] if ns.rest[:1] == ["--"] else ns.rest
    start = datetime.fromisoformat(ns.at)
    traveller = time_machine.travel(start, tick=True)
    clock = traveller.start()
    if ns.speed != 1.0:
        step = 0.05

        def accelerate() -> None:
            while True:
                time.sleep(step)  # real seconds: sleeping is not patched
                clock.shift(step * (ns.speed - 1.0))

        threading.Thread(target=accelerate, daemon=True).start()
    from daemon.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
