"""P1-P3: polling, against real local HTTP (the bench server runs in its own process).

P1  a round of 200 http_json sources, 20 of them hanging: time until every healthy one
    is stored, against the same round with none hanging.
P2  CPU per poll of a JSON source (reverie's poll_source, in process) against the shortest
    Python a person could write for the job (one ``requests.Session``, ``jmespath.search``,
    one SQLite insert in WAL mode per poll), and against what a cron job does: one
    ``curl -s URL | jq .field`` per poll (the children's CPU).
P3  CPU of re-polling an unchanged 500-entry feed against its first poll: the server
    answers 304 to the conditional GET, or ignores validators and sends the same bytes.
"""

from __future__ import annotations

import resource
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from bench import Row, median, ms, quiet_logs, server
from reverie.memory import clock
from reverie.memory.home import Home
from reverie.memory.store import Store
from reverie.perception import poll
from reverie.perception.sources import SourceSpec

SOURCES = 200
HANGING = 20
TIMEOUT = "2s"


class _TimedStore(Store):
    """Notes when each successful poll is committed."""

    def record_run(self, source, ts, *, ok, **kw):  # type: ignore[override]
        out = super().record_run(source, ts, ok=ok, **kw)
        if ok:
            self.__dict__.setdefault("ok_at", []).append(time.monotonic())
        return out


def _home(root: Path, label: str) -> Home:
    home = Home.at(root / label, root / f"{label}.state")
    home.ensure()
    return home


def _json_spec(name: str, url: str, timeout: str = "5s") -> SourceSpec:
    return SourceSpec(name=name, type="http_json", every="1m", timeout=timeout,
                      options={"url": url, "fields": {"x": "x", "karma": "agent.karma"}})


# -- P1 -------------------------------------------------------------------------------

def _round(base: str, root: Path, label: str, hanging: int) -> float:
    hung = set(range(0, SOURCES, SOURCES // hanging)) if hanging else set()
    specs = [_json_spec(f"{label}{i:03d}", f"{base}{'/hang' if i in hung else '/ok'}?i={i}",
                        TIMEOUT) for i in range(SOURCES)]
    home = _home(root, label)
    with _TimedStore.open(home.db) as store:
        started = time.monotonic()
        outs = poll.poll_round(specs, home=home, store=store)
        healthy = len(getattr(store, "ok_at", []))
        assert healthy == SOURCES - hanging, f"{healthy} healthy of {SOURCES - hanging}"
        assert sum(not o.ok for o in outs) == hanging
        return max(store.ok_at) - started


def p1(base: str, root: Path, reps: int) -> Row:
    calm, hung = [], []
    for r in range(reps):
        calm.append(_round(base, root, f"calm{r}-", 0))
        hung.append(_round(base, root, f"hung{r}-", HANGING))
    a, b = median(hung), median(calm)
    return Row("P1", f"poll round, 200 sources, {HANGING} hanging: all healthy stored",
               ms(a), f"{ms(b)} (none hanging)", f"{a / b:.2f}x", "<= 1.2x", a / b <= 1.2)


# -- P2 -------------------------------------------------------------------------------

def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _curl_jq(url: str, curl: str, jq: str) -> None:
    c = subprocess.Popen([curl, "-s", url], stdout=subprocess.PIPE)
    j = subprocess.run([jq, ".agent.karma"], stdin=c.stdout, stdout=subprocess.DEVNULL)
    assert c.stdout is not None
    c.stdout.close()
    if c.wait() or j.returncode:
        raise RuntimeError("curl | jq failed")


class _Bare:
    """The bare loop: what a person writes for "poll this JSON, keep two fields"."""

    def __init__(self, url: str, db: Path):
        import jmespath
        import requests

        self.url, self.search = url, jmespath.search
        self.session = requests.Session()
        self.db = sqlite3.connect(db, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS obs(ts REAL, name TEXT, value REAL)")

    def poll(self) -> None:
        doc = self.session.get(self.url, timeout=5).json()
        now = time.time()
        self.db.executemany("INSERT INTO obs VALUES (?,?,?)",
                            [(now, "x", self.search("x", doc)),
                             (now, "karma", self.search("agent.karma", doc))])

    def close(self) -> None:
        self.session.close()
        self.db.close()


_TURN = 10  # polls in a row before the other side's turn


def p2(base: str, root: Path, reps: int, n: int) -> list[Row]:
    curl, jq = shutil.which("curl"), shutil.which("jq")
    home = _home(root, "p2")
    spec = _json_spec("p2", f"{base}/ok")
    bare = _Bare(f"{base}/ok", root / "bare.db")
    ours, loop, pairs, theirs = [], [], [], []
    with Store.open(home.db) as store:
        poll.poll_source(spec, home=home, store=store)  # warm: imports, first connection
        bare.poll()
        def reverie() -> None:
            assert poll.poll_source(spec, home=home, store=store).ok

        for rep in range(reps):
            # short turns, each side first in turn, compared turn by turn: a burst of load
            # from elsewhere on a shared machine lands on both sides of a pair alike
            for turn in range(n // _TURN):
                spent = {}
                for poll_once in (reverie, bare.poll)[::1 if (rep + turn) % 2 else -1]:
                    t = time.process_time()
                    for _ in range(_TURN):
                        poll_once()
                    spent[poll_once] = (time.process_time() - t) / _TURN
                ours.append(spent[reverie])
                loop.append(spent[bare.poll])
                pairs.append(spent[reverie] / spent[bare.poll])
            if curl and jq:
                t = _children_cpu()
                for _ in range(max(1, n // 5)):
                    _curl_jq(f"{base}/ok", curl, jq)
                theirs.append((_children_cpu() - t) / max(1, n // 5))
    bare.close()
    a, b = median(ours), median(loop)
    r = median(pairs)
    measure = "CPU per poll of a local JSON source"
    rows = [Row("P2", measure, ms(a), f"{ms(b)} (bare loop: requests.Session, jmespath, "
                "one SQLite insert)", f"{r:.2f}x", "<= 1.10x", r <= 1.10)]
    if not theirs:
        missing = " and ".join(x for x, p in (("curl", curl), ("jq", jq)) if not p)
        rows.append(Row("P2", measure, ms(a), f"n/a: {missing} not found on PATH", "-",
                        "<= 0.1x", None))
        return rows
    c = median(theirs)
    rows.append(Row("P2", measure, ms(a), f"{ms(c)} (curl piped to jq, per poll)",
                    f"{a / c:.3f}x", "<= 0.1x", a / c <= 0.1))
    return rows


def p2_phases(base: str, root: Path, turns: int = 60, per: int = 10) -> dict[str, float]:
    """Median CPU (seconds) of each step of a P2 poll and of the bare loop, in interleaved
    turns: ``python -m bench.poll_bench --phases`` (what docs/performance.md cites)."""
    from reverie.perception.sources import Context

    home = _home(root, "phases")
    spec = _json_spec("phases", f"{base}/ok")
    bare = _Bare(f"{base}/ok", root / "phases-bare.db")
    with Store.open(home.db) as store:
        poll.poll_source(spec, home=home, store=store)
        bare.poll()
        source = poll._source(spec)
        ctx = Context(home=home.root, timeout=5.0, now=clock.now(), state={}, secrets=())
        now = clock.now()
        readings = [("phases.x", 1.0, None, None), ("phases.karma", 2.0, None, None)]
        health = {"consecutive_failures": 0, "failing_since": None, "last_ok": now.timestamp(),
                  "retry_after": None}
        give = poll._Worker.__dict__["give"]  # the classmethod itself, to put back

        def on_this_thread(name, job, done):  # the hand-off left out, for its cost only
            try:
                job()
            finally:
                done.release()

        def inline() -> None:
            poll._Worker.give = on_this_thread  # type: ignore[method-assign]
            try:
                poll.poll_source(spec, home=home, store=store)
            finally:
                poll._Worker.give = give  # type: ignore[method-assign]

        steps = {
            "poll_source (a P2 poll)": lambda: poll.poll_source(spec, home=home, store=store),
            "poll_source, fetch on the calling thread": inline,
            "bare loop poll": bare.poll,
            "source fetch (http.fetch, JSON, JMESPath)": lambda: source.fetch(ctx),
            "bare Session.get + .json()": lambda: bare.session.get(bare.url, timeout=5).json(),
            "Store.source_state": lambda: store.source_state("phases"),
            "Store.record_run (2 readings)": lambda: store.record_run(
                "phases", now, ok=True, duration=0.001, readings=readings, state=health),
            "bare insert (2 rows)": lambda: bare.db.executemany(
                "INSERT INTO obs VALUES (?,?,?)", [(1.0, "x", 1.0), (1.0, "karma", 2.0)]),
        }
        spent: dict[str, list[float]] = {k: [] for k in steps}
        names = list(steps)
        for turn in range(turns):
            k = turn % len(names)
            for name in (names[k:] + names[:k])[::1 if turn % 2 else -1]:
                t = time.process_time()
                for _ in range(per):
                    steps[name]()
                spent[name].append((time.process_time() - t) / per)
    bare.close()
    return {k: median(v) for k, v in spent.items()}


# -- P3 -------------------------------------------------------------------------------

def _feed_spec(name: str, url: str) -> SourceSpec:
    return SourceSpec(name=name, type="feed", every="1h", timeout="10s", options={"url": url})


def p3(base: str, root: Path, reps: int, repolls: int) -> list[Row]:
    home = _home(root, "p3")
    rows = []
    with Store.open(home.db) as store:
        poll.poll_source(_feed_spec("warm", f"{base}/feed"), home=home, store=store)
        for route, how in (("/feed", "server answers 304"),
                           ("/feed200", "server ignores validators, same bytes")):
            first, again = [], []
            for r in range(reps):
                spec = _feed_spec(f"{route.strip('/')}{r}", base + route)
                t = time.process_time()
                out = poll.poll_source(spec, home=home, store=store)
                first.append(time.process_time() - t)
                assert out.ok and out.new_items == 20, out.line()
                t = time.process_time()
                for _ in range(repolls):
                    out = poll.poll_source(spec, home=home, store=store)
                    assert out.ok and out.new_items == 0, out.line()
                again.append((time.process_time() - t) / repolls)
            a, b = median(again), median(first)
            rows.append(Row("P3", f"CPU of re-polling an unchanged 500-entry feed ({how})",
                            ms(a), f"{ms(b)} (first poll)", f"{a / b:.3f}x", "<= 0.05x",
                            a / b <= 0.05))
    return rows


def run(quick: bool) -> list[Row]:
    quiet_logs()
    clock.now()
    with server() as base, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [p1(base, root, 3 if quick else 5)]
        rows += p2(base, root, 5 if quick else 9, 50 if quick else 200)
        rows += p3(base, root, 3 if quick else 7, 5 if quick else 10)
    return rows


if __name__ == "__main__":
    import sys

    from bench.__main__ import print_table

    if "--phases" in sys.argv:
        quiet_logs()
        clock.now()
        with server() as base, tempfile.TemporaryDirectory() as tmp:
            for step, cpu in p2_phases(base, Path(tmp)).items():
                print(f"{step:45} {ms(cpu):>8}")
    else:
        print_table(run("--quick" in sys.argv))
