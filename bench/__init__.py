"""Benchmarks that print figures (``python -m bench``); not part of the test run.

Each module named ``*_bench.py`` has ``run() -> list[Row]``; ``__main__`` prints them
as one table.
"""

from __future__ import annotations

from typing import NamedTuple


class Row(NamedTuple):
    bench: str
    figure: str
    value: float
    unit: str
    note: str = ""
