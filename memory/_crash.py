"""Where the crash tests stop a consolidation: a named point after a write, before its
step is recorded (memory/consolidate.py lists them in ``CRASH_POINTS``)."""

from __future__ import annotations

import os
import signal
import time


def crash_point(name: str) -> None:
    # test-only: the crash tests kill a real subprocess at each step; the unblock tests
    # wedge one there for good, as a read the home made hang would
    if os.environ.get("REVERIE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("REVERIE_HANG_AT") == name:
        while True:
            time.sleep(3600)
