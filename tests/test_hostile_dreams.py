"""A dream file the agent replaced with a FIFO never blocks the night's dream."""

from __future__ import annotations

import os
import stat
import threading
from datetime import timedelta

from tests.test_dream_write import NOW, signals, write


def test_a_fifo_in_place_of_a_recorded_dream_is_moved_aside_unread(home, store):
    path = write(home, store, NOW).path
    path.unlink()
    os.mkfifo(path)
    signals(store, NOW, hours=1)
    done: list = []
    t = threading.Thread(target=lambda: done.append(
        write(home, store, NOW + timedelta(hours=2), force=True)), daemon=True)
    t.start()
    t.join(20)
    assert done and done[0].written
    assert path.is_file() and not stat.S_ISFIFO(os.lstat(path).st_mode)
    assert stat.S_ISFIFO(os.lstat(home.dreams_dir / "2026-06-10.1.md").st_mode)
