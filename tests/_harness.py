"""Shared helpers for the hostile-conditions tests (crash, time, soak).

A *world* is a home, a config and a tiny agent; :func:`check_home` reads what a user
would read after a crash and lists every problem found (an empty list is a healthy home).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from reverie.memory.home import Home
from tests.conftest import LAUNCHER, reverie_env

# The agent: one heading of its own (so its lines are plain notes, not the template's
# Carry section), then N lines, each opened-appended-closed so a straggler never writes
# into a replaced inode; every line is also recorded (after it is in working.md) in a
# truth file outside the home. SIGTERM only sets a flag: a line pair is never split.
AGENT = r'''
import os, signal, sys, time
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
sid = os.environ["REVERIE_SESSION_ID"]
working = os.environ["REVERIE_WORKING"]
truth = sys.argv[1]
n, pause = int(sys.argv[2]), float(sys.argv[3])
def put(line, record):
    with open(working, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush(); os.fsync(f.fileno())
    if record:
        with open(truth, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush(); os.fsync(f.fileno())
put("", False)
put(f"## Log {sid}", False)
for i in range(n):
    if stop:
        break
    tag = " #remember" if i % 5 == 4 else ""
    put(f"agent-line {sid} {i}{tag}", True)
    time.sleep(pause)
'''

FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title>
{items}
</channel></rss>
"""


@dataclass
class World:
    root: Path
    home: Path
    config: Path
    truth: Path
    agent: Path
    env: dict = field(default_factory=dict)

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "reverie.daemon.cli", "--config", str(self.config), *args]

    def launcher(self, at: str, *args: str, speed: float | None = None,
                 extra: tuple[str, ...] = ()) -> list[str]:
        cmd = [sys.executable, str(LAUNCHER), "--at", at]
        if speed:
            cmd += ["--speed", str(speed)]
        return [*cmd, *extra, "--", "--config", str(self.config), *args]

    def run(self, *args: str, timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
        """`reverie --config CONFIG ARGS` to its end, as conftest.run_cli runs it (a step
        that is to be killed is started with ``cli`` instead)."""
        from tests.conftest import run_cli

        p = run_cli("--config", str(self.config), *args, env=self.env, timeout=timeout)
        if check:
            assert p.returncode == 0, f"reverie {' '.join(args)}: {p.returncode}\n{p.stderr[-2000:]}"
        return p

    def add_feed_item(self, n: int) -> None:
        items = "\n".join(f"<item><title>item {i}</title><guid>g{i}</guid>"
                          f"<link>http://127.0.0.1/{i}</link></item>" for i in range(n))
        (self.home / "feed.xml").write_text(FEED.format(items=items), encoding="utf-8")


def make_world(root: Path, *, timezone: str = "UTC", lines: int = 6, pause: float = 0.05,
               extra_sources: str = "", dream_at: str = "0 5 * * *", wake: list[str] | None = None,
               sleep: list[str] | None = None, more: str = "") -> World:
    home = root / "home"
    (home / "posts").mkdir(parents=True, exist_ok=True)
    for i in range(3):
        (home / "posts" / f"p{i}.md").write_text(f"post {i}\n", encoding="utf-8")
    agent = root / "agent.py"
    agent.write_text(AGENT, encoding="utf-8")
    truth = root / "truth.txt"
    cmd = json.dumps([sys.executable, str(agent), str(truth), str(lines), str(pause)])
    cfg = root / "reverie.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        home: {home}
        timezone: {timezone}
        sources:
          - {{name: posts, type: files, path: posts, glob: "*.md", every: 1h}}
          - {{name: blog, type: feed, path: feed.xml, every: 1h}}
        """) + textwrap.indent(textwrap.dedent(extra_sources), "  ") + textwrap.dedent(f"""\
        dream:
          at: "{dream_at}"
        sessions:
          command: {cmd}
          wake: {json.dumps(wake or [])}
          sleep: {json.dumps(sleep or [])}
          stop_timeout: 5s
        """) + textwrap.dedent(more), encoding="utf-8")
    w = World(root, home, cfg, truth, agent, reverie_env())
    w.add_feed_item(3)
    return w


# -- checks ---------------------------------------------------------------------------

_SESSION_BLOCK = re.compile(r"<!-- session:(\S+) -->\n\n(.*?)\n\n<!-- /session:\1 -->", re.S)
_DREAM_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.md$")


def _text(path: Path, problems: list[str], *, may_be_empty: bool = False) -> str | None:
    rel = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data and not may_be_empty:
        problems.append(f"{rel}: empty file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{rel}: not UTF-8 (torn?)")
        return None


def db_rows(home: Path, sql: str, args: tuple = ()) -> list[tuple]:
    db = Home.at(home).state / "reverie.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        return c.execute(sql, args).fetchall()


def check_home(home: Path, *, truth: Path | None = None, final: bool = False) -> list[str]:
    """Every problem a user would see in ``home``. ``final``: all sessions have ended
    and been consolidated, so every line the agent wrote must be in the diary once."""
    problems: list[str] = []
    # state files: whole, and state.json valid JSON
    md = _text(home / "perception" / "state.md", problems)
    if md is not None and not md.rstrip().endswith(("|", ")", ".", "_", "*", "-")) and len(md) < 20:
        problems.append("state.md: looks truncated")
    js = _text(home / "perception" / "state.json", problems)
    if js is not None:
        try:
            json.loads(js)
        except ValueError as e:
            problems.append(f"state.json: invalid JSON ({e})")
    # stray temporary files are harmless to readers but a sign of interrupted writes
    # that were not cleaned up; they are not counted as problems (atomic.py leaves them
    # only when the process dies mid-write, and no reader ever opens them).

    # dreams: whole, front matter + receipt; exactly one per date
    dreams = home / "dreams"
    per_date: dict[str, list[str]] = {}
    if dreams.is_dir():
        for p in sorted(dreams.iterdir()):
            m = _DREAM_NAME.match(p.name)
            if not m:
                continue
            per_date.setdefault(m.group(1), []).append(p.name)
            t = _text(p, problems)
            if t is not None and not (t.startswith("---\n") and "## " in t and t.endswith("\n")):
                problems.append(f"dreams/{p.name}: torn (no front matter or receipt)")
        for day, names in per_date.items():
            if len(names) != 1:
                problems.append(f"dreams: {len(names)} files for {day}: {names}")
        latest = dreams / "latest.md"
        if latest.is_symlink() and not latest.exists():
            problems.append("dreams/latest.md: dangling")
    if (Home.at(home).state / "reverie.db").exists():
        ok = db_rows(home, "PRAGMA integrity_check")
        if ok != [("ok",)]:
            problems.append(f"integrity_check: {ok}")
        recorded = {r[0] for r in db_rows(home, "SELECT date FROM dreams")}
        for day in per_date:
            if day not in recorded:
                problems.append(f"dreams/{day}.md: file without a record")
        for day in recorded:
            if day not in per_date:
                problems.append(f"dream {day}: recorded without a file")

    # diary, memory, ledger
    diary_text = ""
    for p in sorted((home / "diary").glob("*.md")) if (home / "diary").is_dir() else []:
        t = _text(p, problems)
        diary_text += (t or "") + "\n"
    memory_text = ""
    for p in sorted((home / "memory").glob("*.md")) if (home / "memory").is_dir() else []:
        memory_text += (_text(p, problems) or "") + "\n"
    ledger: list[dict] = []
    lt = _text(home / "memory" / "ledger.jsonl", problems, may_be_empty=True)
    for i, line in enumerate((lt or "").splitlines(), 1):
        try:
            ledger.append(json.loads(line))
        except ValueError:
            problems.append(f"ledger.jsonl:{i}: not JSON: {line[:80]!r}")
    seen = [r.get("session") for r in ledger]
    for sid in {s for s in seen if seen.count(s) > 1}:
        problems.append(f"ledger: session {sid} recorded {seen.count(sid)} times")
    blocks = {sid: body for sid, body in _SESSION_BLOCK.findall(diary_text)}
    for sid in set(re.findall(r"<!-- session:(\S+) -->", diary_text)):
        n = diary_text.count(f"<!-- session:{sid} -->")
        if n != 1:
            problems.append(f"diary: session {sid} archived {n} times")
    for rec in ledger:
        body = blocks.get(rec["session"])
        if body is None:
            problems.append(f"ledger: session {rec['session']} has no diary block")
            continue
        lines = [] if body == "_(working.md was empty)_" else body.split("\n")
        if len(lines) < rec["lines_in"]:
            problems.append(f"ledger: session {rec['session']}: {rec['lines_in']} lines in, "
                            f"{len(lines)} in the diary")

    # every agent line: in the diary exactly once (and in memory once if tagged)
    if truth is not None and truth.exists():
        written = truth.read_text(encoding="utf-8").splitlines()
        diary_lines = diary_text.splitlines()
        counts: dict[str, int] = {}
        for ln in diary_lines:
            if ln.startswith("agent-line "):
                counts[ln] = counts.get(ln, 0) + 1
        for ln in written:
            n = counts.get(ln, 0)
            if n > 1:
                problems.append(f"duplicated in the diary ({n}x): {ln}")
            elif n == 0 and final:
                problems.append(f"lost (not in the diary): {ln}")
            if ln.endswith("#remember") and final:
                m = memory_text.count(ln + "\n")
                if m != 1:
                    problems.append(f"promoted {m} times (want 1): {ln}")
        if final:
            extra = set(counts) - set(written)
            # a line in the diary but not in the truth file: the agent died between the
            # two writes (only possible if it was SIGKILLed, which nothing here does)
            for ln in sorted(extra):
                problems.append(f"in the diary but never recorded as written: {ln}")
    if final and (Home.at(home).state / "reverie.db").exists():
        open_ = db_rows(home, "SELECT id FROM sessions WHERE ended IS NULL OR consolidated = 0")
        if open_:
            problems.append(f"sessions not ended/consolidated: {open_}")
        intents = db_rows(home, "SELECT key, step FROM intents WHERE done IS NULL")
        if intents:
            problems.append(f"open intents: {intents}")
    return problems


# -- processes ------------------------------------------------------------------------

def agent_pids(truth_root: Path) -> list[int]:
    """Live agent processes of this world (found by their script path)."""
    me = str(truth_root / "agent.py")
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
            st = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        if len(cmd) > 1 and cmd[1].decode(errors="replace") == me and ") Z" not in st:
            out.append(int(name))
    return out


def wait_agents_gone(root: Path, timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not agent_pids(root):
            return True
        time.sleep(0.05)
    return False


def kill_agents(root: Path) -> None:
    for pid in agent_pids(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def daemon_pid(p: subprocess.Popen) -> int:
    """The launcher runs the CLI in-process, so the daemon is the launcher itself."""
    return p.pid


