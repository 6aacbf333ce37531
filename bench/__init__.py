"""Benchmarks against baselines (``python -m bench [--quick]``); not part of the test run.

Each ``*_bench.py`` module has ``run(quick: bool) -> list[Row]``; ``__main__`` runs them
and prints one table. Baselines run in the same invocation, interleaved with reverie's
runs; figures are medians of several runs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("REVERIE_BENCH_CACHE", "/tmp/reverie-bench"))


class Row(NamedTuple):
    id: str
    measure: str
    reverie: str
    baseline: str
    ratio: str
    goal: str
    ok: bool | None  # None: could not be measured


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def ms(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.3g} ms" if seconds >= 0.001 else f"{seconds * 1e6:.3g} µs"


@contextmanager
def server() -> Iterator[str]:
    """The bench HTTP server in a child process; yields its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "bench._server"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def quiet_logs() -> None:
    """Expected failures (hanging sources) are not news in a bench."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
