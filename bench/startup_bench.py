"""P6: ``reverie --help`` cold start against ``python -c pass``, interleaved.

Each run is a new process (wall time from spawn to exit); the figure is the median.
Goal: <= 6x. Importing openai alone costs about 25x, so the command line must import
nothing heavy (pydantic, apscheduler, requests, feedparser, openai, jinja2, yaml) before
a command needs it: the ``heavy`` column of the row lists any that slipped in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import Row, median

HEAVY = ("pydantic", "apscheduler", "requests", "feedparser", "openai", "jinja2", "yaml",
         "structlog")


def _reverie() -> list[str]:
    exe = Path(sys.executable).parent / "reverie"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("reverie")
    return [found] if found else [sys.executable, "-m", "reverie.daemon.cli"]


def _time(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def heavy_imports() -> list[str]:
    """Heavy top-level packages imported by ``reverie --help``, by ``-X importtime``."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "import sys; sys.argv = ['reverie', '--help']\n"
                          "from reverie.daemon.cli import main\n"
                          "try: main()\nexcept SystemExit: pass"],
                         capture_output=True, text=True, env={**os.environ})
    names = {line.split("|")[-1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:")}
    return [h for h in HEAVY if h in names]


def run(quick: bool) -> list[Row]:
    reverie, python = _reverie() + ["--help"], [sys.executable, "-c", "pass"]
    _time(reverie), _time(python)  # warm the page cache for both
    ours, theirs = [], []
    for _ in range(10 if quick else 30):
        ours.append(_time(reverie))
        theirs.append(_time(python))
    a, b = median(ours), median(theirs)
    heavy = heavy_imports()
    note = f"; imports {', '.join(heavy)}" if heavy else ""
    return [Row("P6", "`reverie --help` cold start" + note, f"{a * 1000:.1f} ms",
                f"{b * 1000:.1f} ms (python -c pass)", f"{a / b:.2f}x", "<= 6x", a / b <= 6)]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
