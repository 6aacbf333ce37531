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

reverie runs as a user's wheel install runs it, and so does the baseline: the bench builds
the wheel of this checkout and installs it into a throwaway virtual environment whose only
other entry is a plain path line to the libraries of the bench's own environment. Both
``reverie`` and ``python -c pass`` then start on that interpreter, which runs no project
``.pth`` at start. (In an editable install the finder's ``.pth`` imports an import hook on
every start, about 10 ms here: measured against that interpreter every ratio was halved.)
The bytecode is cached (pip compiles it), so ``PYTHONDONTWRITEBYTECODE`` is dropped from the
commands' environment; the standard library is precompiled for both alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
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


REPO = Path(__file__).resolve().parent.parent


def plain_install(root: Path) -> Path:
    """A throwaway venv with this checkout's wheel installed: its python, which starts with
    no project ``.pth`` (the libraries come from the bench's environment by a path line)."""
    wheels, venv = root / "wheel", root / "venv"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(wheels), str(REPO)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    # a plain path line: site adds it to sys.path and runs no .pth found there
    (site / "_bench_libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(wheels.glob("reverie-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", "--force-reinstall", str(wheel)],
                   check=True, capture_output=True)
    return python


_PYTHON: Path | None = None  # the plain interpreter of this run, set by run()


def _reverie() -> list[str]:
    assert _PYTHON is not None, "run() installs the plain interpreter first"
    return [str(_PYTHON.parent / "reverie")]


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
    out = subprocess.run([str(_PYTHON), "-X", "importtime", "-m", "reverie.daemon.cli",
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
    global _PYTHON
    reps = 10 if quick else 25
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _PYTHON = plain_install(root / "plain")
        python = [str(_PYTHON), "-c", "pass"]
        (root / "agent").mkdir()
        config = _setup(root / "agent")
        for command, goal in COMMANDS:
            argv = ["--config", str(config), command] if command != "--help" else [command]
            ours = _reverie() + argv
            a, b, ratio = _paired(ours, python, reps, root)
            count, heavy = imports(argv, root)
            note = f"; imports {', '.join(heavy)}" if heavy else ""
            what = "record unchanged, " if command == "state" else ""
            if command == "check-config":
                # its goal is what its libraries alone cost (paired the same way) + 2.0
                floor = _paired([str(_PYTHON), "-c", LIBRARIES], python, reps, root)[2]
                note += f"; click, PyYAML and one pydantic model alone: {floor:.2f}x"
                goal = floor + 2.0
            rows.append(Row("P6", f"`reverie {command}` cold start"
                            + f" ({what}{count} modules)" + note,
                            f"{a * 1000:.1f} ms", f"{b * 1000:.1f} ms (plain python -c pass)",
                            f"{ratio:.2f}x", f"<= {goal:.2f}x".replace(".00x", "x"),
                            ratio <= goal))
        rows += memory_rows(root, quick)
    return rows


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _idle_daemon_rss(root: Path, sources: int, wait: float) -> tuple[int, int]:
    """VmRSS (KiB, the median of five samples) of `reverie run` with the demo's kinds of
    sources, `sources` of them, once every source has stored its first poll and the
    daemon is idle; and how many had polled (all of them, unless ``wait`` ran out)."""
    import sqlite3
    import statistics

    from reverie.memory.home import Home
    from reverie.memory.store import Store

    agent = root / f"rss-{sources}"
    (agent / "home" / "posts").mkdir(parents=True)
    (agent / "home" / "feeds").mkdir(parents=True)
    (agent / "home" / "posts" / "a.md").write_text("# a\n\nsome words here\n")
    (agent / "home" / "feeds" / "local.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>one</title><guid>1</guid></item></channel></rss>")
    # every minute: the first polls are spread over at most a quarter of it
    kinds = ('{{name: posts{i}, type: files, path: posts, glob: "*.md", words: true, every: 1m}}',
             "{{name: host{i}, type: system, every: 1m}}",
             "{{name: inbox{i}, type: feed, path: feeds/local.xml, every: 1m}}")
    lines = [f"  - {kinds[i % 3].format(i=i)}" for i in range(sources)]
    # no dream at start: from 05:00 to 17:00 a daily one would catch up, and be measured
    (agent / "reverie.yaml").write_text(
        "home: ./home\nstate_dir: ./state\ntimezone: Europe/Berlin\nsources:\n"
        + "\n".join(lines) + '\ndream: {at: "0 5 1 1 *", catch_up: 0s, backend: offline}\n')
    env = _env()
    db = Home.at(agent / "home", agent / "state").db
    proc = subprocess.Popen(_reverie() + ["--config", str(agent / "reverie.yaml"), "run"],
                            cwd=agent, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    polled = 0
    try:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and polled < sources:
            time.sleep(0.5)
            try:
                with Store.open(db, readonly=True) as store:
                    polled = sum(s.last_ok is not None for s in store.all_source_states().values())
            except (OSError, sqlite3.Error):  # not created yet
                continue
        time.sleep(2.0)  # the last round's garbage settles
        samples = []
        for _ in range(5):
            samples.append(_rss_kib(proc.pid))
            time.sleep(0.5)
        return int(statistics.median(samples)), polled
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def memory_rows(root: Path, quick: bool) -> list[Row]:
    """The resident memory of an idle daemon with the demo's kinds of sources (files, system,
    feed: three), and what each further source adds (103 sources against 3, reported, no
    goal): one source's growth is below the noise of one measurement, a hundred's is not."""
    few, many = 3, (33 if quick else 103)
    small, polled_few = _idle_daemon_rss(root, few, 40.0)
    big, polled_many = _idle_daemon_rss(root, many, 60.0)
    per = (big - small) / (many - few)
    note = "" if polled_many == many else f" ({polled_many} of {many} had polled)"
    return [Row("P6", f"resident memory of an idle `reverie run`, {few} sources (VmRSS, "
                f"{polled_few} polled)", f"{small / 1024:.1f} MiB", "-", "-", "reported", None),
            Row("P6", f"each further source adds ({many} sources against {few}){note}",
                f"{per:.0f} KiB", f"{big / 1024:.1f} MiB at {many}", "-", "reported", None)]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
