"""T1: what a user's template costs now that it renders in a bounded child.

The built-in state template renders in-process (ours, trusted); a user's renders in
``python -I -m reverie.perception._render`` under RLIMIT_AS/RLIMIT_CPU and a deadline
(perception/templating.py). Both render the same text (the built-in template, an empty
store's context), so the difference is the child: interpreter start, the Jinja2 import,
pickling the context. Goal: a child render <= 250 ms (renders come at most every few
seconds, and only a home that overrides a template pays it).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import Row, median, ms


def run(quick: bool) -> list[Row]:
    from reverie.memory.home import Home
    from reverie.memory.store import Store
    from reverie.perception import state, templating

    n = 5 if quick else 20
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.at(Path(tmp) / "home", Path(tmp) / "state")  # never the user's state folder
        home.ensure()
        store = Store.open(home.db)
        try:
            ctx = state.build_context(home, store, [], tz=ZoneInfo("UTC"))
        finally:
            store.close()
    source = state.default_template()
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(n):  # interleaved, so load on the machine falls on both alike
        for untrusted in (False, True):
            t = time.perf_counter()
            text = templating.render("state", source, ctx, untrusted=untrusted)
            times[untrusted].append(time.perf_counter() - t)
            assert text.startswith("# Perception")
    child, here = median(times[True]), median(times[False])
    return [Row("T1", "render state.md from a user's template (bounded child) vs ours "
                      "(in-process)", ms(child), ms(here), f"{child / here:.0f}x",
                "<= 250 ms", child <= 0.250)]
