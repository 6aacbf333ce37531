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


def _wake_scheduler_often() -> None:
    """APScheduler sleeps (in real seconds) until its next fire time: on a fast or
    jumping clock it must look again often, as it would notice a real clock change.
    The daemon's scheduler is asked to (its public ``wakeup``) every 20 ms."""
    from reverie.daemon import scheduler

    make = scheduler.make_scheduler

    def make_and_wake(tz):  # type: ignore[no-untyped-def]
        sched = make(tz)

        def poke() -> None:
            while True:
                time.sleep(0.02)
                if sched.running:
                    sched.wakeup()

        threading.Thread(target=poke, daemon=True).start()
        return sched

    scheduler.make_scheduler = make_and_wake


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--at", required=True, help="ISO datetime with offset")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--jump-after", type=float, default=None, metavar="SECONDS",
                    help="real seconds after start at which the clock jumps once")
    ap.add_argument("--jump", type=float, default=0.0, metavar="HOURS",
                    help="how far it jumps forward (a suspend and resume)")
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
    if ns.speed != 1.0 or ns.jump_after is not None:
        _wake_scheduler_often()
    if ns.jump_after is not None:
        def jump() -> None:
            time.sleep(ns.jump_after)
            clock.shift(ns.jump * 3600)

        threading.Thread(target=jump, daemon=True).start()
    from reverie.daemon.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
