"""P6: the commands people type, cold, against ``python -c pass``, paired run by run.

Each run is a new process (wall time from spawn to exit); each command's runs alternate
with ``python -c pass`` runs and the figure is the median of the per-pair ratios.
Goals: ``reverie --help`` <= 3x; ``reverie status``, ``reverie state`` (the record
unchanged since state.md was written) and ``reverie check-config`` <= 6x each, on a home
with five sources (files, system, a feed, two JSON APIs) and one poll in its store.

A read-only command must import nothing heavy it does not use: the ``imports`` note of a
row lists any of HEAVY that ``-X importtime`` finds (tests/test_startup_imports.py keeps
requests, openai, feedparser and jinja2 out for good, and pydantic, YAML, APScheduler and
asyncio out of `status` and `state` on the config's snapshot). Each row also gives the
number of modules the command imports, a figure the machine's load does not move.

The `check-config` row also gives, paired the same way, the ratio of a program that only
imports click and PyYAML and builds one pydantic model (and exits as reverie does, with the
collector frozen): the part of that command no change to reverie's own modules can remove.

reverie runs as installed: with its bytecode cached (``pip install`` compiles it; the
warm-up run writes it for an editable install), so ``PYTHONDONTWRITEBYTECODE`` is dropped
from the commands' environment. Without that, every run compiles reverie's own modules
from source, which ``python -c pass`` (a precompiled standard library) never does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Row, median

HEAVY = ("requests", "feedparser", "openai", "jinja2", "structlog", "apscheduler.schedulers",
         "asyncio")

COMMANDS = (("--help", 3.0), ("status", 6.0), ("state", 6.0), ("check-config", 6.0))

CONFIG = """\
home: ./home
state_dir: ./state
timezone: Europe/Berlin
sources:
  - {name: posts, type: files, path: posts, glob: "*.md", every: 15m}
  - {name: host, type: system, every: 5m}
  - {name: inbox, type: feed, path: feeds/local.xml, every: 30m}
  - name: karma
    type: http_json
    url: http://127.0.0.1:9/api/v1/agents/me
    headers: {Authorization: "Bearer ${BENCH_API_KEY:-none}"}
    fields: {karma: agent.karma, followers: agent.follower_count}
    every: 15m
  - name: base
    type: http_json
    url: http://127.0.0.1:9/rpc
    body: {jsonrpc: "2.0", id: 1, method: eth_blockNumber, params: []}
    fields: {block: result}
    every: 1h
dream: {at: "0 5 * * *", backend: offline}
"""


# what `check-config` cannot do without: its command line, the YAML parser and pydantic
LIBRARIES = ("import gc\nimport click, yaml\nfrom pydantic import BaseModel\n\n\n"
             "class A(BaseModel):\n    x: int = 1\n\n\ngc.freeze()\n")


def _reverie() -> list[str]:
    exe = Path(sys.executable).parent / "reverie"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("reverie")
    return [found] if found else [sys.executable, "-m", "reverie.daemon.cli"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith("REVERIE_") and k != "PYTHONDONTWRITEBYTECODE"}


def _time(argv: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd,
                   env=_env())
    return time.perf_counter() - t


def _setup(root: Path) -> Path:
    """A home with the bench config, one poll round stored and state.md rendered."""
    (root / "reverie.yaml").write_text(CONFIG, encoding="utf-8")
    for folder in ("home/posts", "home/feeds"):
        (root / folder).mkdir(parents=True)
    (root / "home/posts/first.md").write_text("# first\n\nhello world\n", encoding="utf-8")
    (root / "home/feeds/local.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>one</title><guid>1</guid></item></channel></rss>", encoding="utf-8")
    rev = _reverie() + ["--config", str(root / "reverie.yaml")]
    # the two JSON sources fail (nothing listens on port 9): status has failures to show
    subprocess.run(rev + ["poll"], cwd=root, env=_env(), capture_output=True)
    subprocess.run(rev + ["state"], cwd=root, env=_env(), capture_output=True, check=True)
    return root / "reverie.yaml"


def imports(argv: list[str], cwd: Path) -> tuple[int, list[str]]:
    """How many modules a command imports, and which of HEAVY, by ``-X importtime``."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "reverie.daemon.cli",
                          *argv], capture_output=True, text=True, cwd=cwd, env=_env())
    names = {line.split("|")[-1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:")}
    return len(names), [h for h in HEAVY if h in names]


def _paired(ours: list[str], python: list[str], reps: int, cwd: Path) -> tuple[float, float, float]:
    """Median wall time of ``ours`` and of ``python``, and the median of per-pair ratios."""
    _time(ours, cwd), _time(python, cwd)  # warm the page cache for both
    a, b, pairs = [], [], []
    for i in range(reps):
        for argv_, out in ((ours, a), (python, b))[::1 if i % 2 else -1]:
            out.append(_time(argv_, cwd))
        pairs.append(a[-1] / b[-1])
    return median(a), median(b), median(pairs)


def run(quick: bool) -> list[Row]:
    reps = 10 if quick else 25
    python = [sys.executable, "-c", "pass"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = _setup(root)
        for command, goal in COMMANDS:
            argv = ["--config", str(config), command] if command != "--help" else [command]
            ours = _reverie() + argv
            a, b, ratio = _paired(ours, python, reps, root)
            count, heavy = imports(argv, root)
            note = f"; imports {', '.join(heavy)}" if heavy else ""
            what = "record unchanged, " if command == "state" else ""
            if command == "check-config":
                floor = _paired([sys.executable, "-c", LIBRARIES], python, reps, root)[2]
                note += f"; click, PyYAML and one pydantic model alone: {floor:.2f}x"
            rows.append(Row("P6", f"`reverie {command}` cold start"
                            + f" ({what}{count} modules)" + note,
                            f"{a * 1000:.1f} ms", f"{b * 1000:.1f} ms (python -c pass)",
                            f"{ratio:.2f}x", f"<= {goal:g}x", ratio <= goal))
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
