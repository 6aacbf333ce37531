"""Bad sources: a local server that misbehaves in every way the internet does.

Fast: every misbehaviour polled once in-process (poll_round): each fails alone, in one
line, within its timeout, and the healthy sources in the same round are unharmed.
Slow: the real daemon (`reverie run`) with 50 sources, half of them misbehaving, for
~30 s: it stays up, healthy sources keep their schedule, bad ones show as failing in
state.md, and its resident memory stays bounded.
"""

from __future__ import annotations

import gc
import re
import sqlite3
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

from _badserver import BAD_PATHS, BadServer
from tests.conftest import start_cli
from reverie.memory.home import Home
from reverie.memory.store import Store
from reverie.perception import poll
from reverie.perception.sources import SourceSpec
from reverie.perception.sources.feed import Feed
from reverie.perception.sources.http_json import HttpJson


@pytest.fixture(scope="module")
def bad():
    with BadServer() as srv:
        yield srv


def _json_spec(name: str, url: str, timeout: float = 2.0) -> SourceSpec:
    return SourceSpec(name=name, type="http_json", every=timedelta(seconds=2),
                      timeout=timedelta(seconds=timeout),
                      options=HttpJson.Options(url=url, fields={"v": "v"}))


def _feed_spec(name: str, url: str, timeout: float = 2.0) -> SourceSpec:
    return SourceSpec(name=name, type="feed", every=timedelta(seconds=2),
                      timeout=timedelta(seconds=timeout), options=Feed.Options(url=url))


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"


# -- fast ---------------------------------------------------------------------------------

def test_every_misbehaviour_fails_alone_in_one_line_within_its_timeout(bad, tmp_path):
    home = Home.at(tmp_path / "home")
    home.ensure()
    store = Store.open(home.db)
    timeout = 2.0
    specs = [_json_spec(f"j-{_slug(p)}", bad.url(p), timeout) for p in BAD_PATHS]
    specs += [_feed_spec(f"f-{_slug(p)}", bad.url(p), timeout) for p in BAD_PATHS]
    healthy = [_json_spec(f"ok-{i}", bad.url(f"/ok/{i}.json"), timeout) for i in range(5)]
    healthy += [_feed_spec(f"okfeed-{i}", bad.url(f"/ok/{i}.xml"), timeout) for i in range(5)]

    started = time.monotonic()
    outcomes = poll.poll_round(specs + healthy, home=home, store=store)
    took = time.monotonic() - started
    by = {o.source: o for o in outcomes}

    print(f"\n{len(specs)} misbehaving + {len(healthy)} healthy sources polled in {took:.1f}s")
    for o in outcomes:
        print("  ", o.line())
    bound = timeout + poll.grace(timeout) + 1.0
    assert took < bound, f"a round took {took:.1f}s, more than {bound:.1f}s"
    for spec in healthy:
        assert by[spec.name].ok, by[spec.name].line()
    for spec in specs:
        o = by[spec.name]
        assert not o.ok, f"{spec.name} should fail: {o.line()}"
        assert o.error and "\n" not in o.error and "Traceback" not in o.error
        assert len(o.error) <= poll.MAX_ERROR_LEN
    # each failure is its own row in the store, and health says failing
    states = store.all_source_states()
    assert all(states[s.name].consecutive_failures == 1 for s in specs)
    store.close()


def test_a_gzip_bomb_is_refused_at_the_cap_not_inflated(bad, tmp_path):
    home = Home.at(tmp_path / "home")
    home.ensure()
    store = Store.open(home.db)
    o = poll.poll_source(_json_spec("bomb", bad.url("/gzip-bomb")), home=home, store=store)
    print("\n", o.line())
    assert not o.ok and "cap" in o.error
    store.close()


def test_what_a_failed_fetch_read_is_freed_when_the_poll_ends(bad, tmp_path):
    # Up to a capped body per idle fetch worker was kept alive, through the worker's last
    # job and the error's traceback: a daemon with 50 sources grew its resident memory
    # in steps of ~5 MiB. With the collector off, a reference cycle would keep it too.
    home = Home.at(tmp_path / "home")
    home.ensure()
    store = Store.open(home.db)
    specs = [_json_spec(f"big{i}", bad.url(path)) for i, path in
             enumerate(("/big", "/big-chunked", "/gzip-bomb") * 2)]
    poll.poll_round(specs, home=home, store=store)  # workers, sessions and caches exist
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            outcomes = poll.poll_round(specs, home=home, store=store)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        gc.enable()
        store.close()
    assert all("cap" in (o.error or "") for o in outcomes), [o.line() for o in outcomes]
    print(f"\nkept after 3 rounds of {len(specs)} over-cap bodies: {kept / 1024:.0f} KiB")
    assert kept < 1024 * 1024


def test_a_429_storm_sets_retry_after_and_the_source_waits(bad, tmp_path):
    home = Home.at(tmp_path / "home")
    home.ensure()
    store = Store.open(home.db)
    spec = _json_spec("storm", bad.url("/429"))
    before = bad.hits["/429"]
    o = poll.poll_source(spec, home=home, store=store)
    assert not o.ok and o.retry_after == 2.0
    go, why = poll.should_run(spec, store.source_state("storm"))
    print("\n", o.line(), "|", why)
    assert not go and "Retry-After" in why
    assert bad.hits["/429"] - before == 1
    store.close()


# -- slow: the real daemon ------------------------------------------------------------------

def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _daemon_config(bad: BadServer, home: Path, n_healthy: int, n_bad: int, every: int) -> str:
    lines = [f"home: {home}", "timezone: UTC", "perception: {render_every: 1s}",
             "dream: {at: '0 5 1 1 *'}", "sources:"]
    for i in range(n_healthy):
        lines.append(f"  - {{name: ok{i}, type: http_json, url: '{bad.url(f'/ok/h{i}.json')}',"
                     f" fields: {{v: v}}, every: {every}s, timeout: 3s}}")
    for i in range(n_bad):
        path = BAD_PATHS[i % len(BAD_PATHS)]
        kind = "http_json" if (i // len(BAD_PATHS)) % 2 == 0 else "feed"
        extra = " fields: {v: v}," if kind == "http_json" else ""
        lines.append(f"  - {{name: bad{i}, type: {kind}, url: '{bad.url(path)}',{extra}"
                     f" every: {every}s, timeout: 3s}}")
    return "\n".join(lines) + "\n"


def _state_rows(state_md: str) -> dict[str, str]:
    """Source -> status from the 'Sources failing or stale' table."""
    part = state_md.split("## Sources failing or stale", 1)[1]
    out = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("Source", "---"):
            out[cells[0]] = cells[1]
    return out


def _run_daemon_against_bad_sources(bad: BadServer, tmp_path: Path, *, n_healthy: int,
                                    n_bad: int, seconds: float, every: int = 2,
                                    min_ratio: float = 0.75, check_growth: bool = True) -> None:
    home = tmp_path / "home"
    cfg = tmp_path / "reverie.yaml"
    cfg.write_text(_daemon_config(bad, home, n_healthy, n_bad, every))
    proc = start_cli("--config", str(cfg), "--log-format", "json", "run")
    rss: list[tuple[float, int]] = []
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < seconds:
            time.sleep(1.0)
            assert proc.poll() is None, f"the daemon exited: {proc.stderr.read()[-3000:]}"
            rss.append((time.monotonic() - t0, _rss_kib(proc.pid)))
        alive_at_end = proc.poll() is None
        state_md = (home / "perception" / "state.md").read_text(encoding="utf-8")
    finally:
        proc.terminate()
        try:
            _out, err = proc.communicate(timeout=40)
        except Exception:
            proc.kill()
            _out, err = proc.communicate()
    assert alive_at_end
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[err.index("Traceback") - 200:][:3000]

    db = sqlite3.connect(Home.at(home).state / "reverie.db")
    rows = dict(db.execute("SELECT source, COUNT(*) FROM polls GROUP BY source").fetchall())
    first_last = {s: (a, b) for s, a, b in
                  db.execute("SELECT source, MIN(ts), MAX(ts) FROM polls WHERE ok=1 GROUP BY source")}
    db.close()

    healthy = [f"ok{i}" for i in range(n_healthy)]
    # the first poll comes soon after start (spread out); from then on, one every `every`
    expected = {s: (seconds - 1) / every for s in healthy}
    counts = {s: rows.get(s, 0) for s in healthy}
    worst = min(counts[s] / expected[s] for s in healthy)
    gaps = {s: (b - a) / max(1, counts[s] - 1) for s, (a, b) in first_last.items() if s in healthy}
    print(f"\n{n_healthy} healthy + {n_bad} misbehaving sources, {seconds:.0f}s, every {every}s")
    print(f"healthy polls: min {min(counts.values())} max {max(counts.values())} "
          f"expected ~{expected[healthy[0]]:.0f}; worst ratio {worst:.2f}; "
          f"mean gap {sum(gaps.values()) / len(gaps):.2f}s (max {max(gaps.values()):.2f}s)")
    statuses = _state_rows(state_md)
    bad_names = [f"bad{i}" for i in range(n_bad)]
    failing = [n for n in bad_names if statuses.get(n, "").startswith("failing")]
    print(f"state.md marks {len(failing)}/{n_bad} misbehaving sources failing; "
          f"healthy listed as problems: {[s for s in healthy if s in statuses]}")
    mid = [k for t, k in rss if t >= seconds / 2][0]
    end = rss[-1][1]
    peak = max(k for _t, k in rss)
    growth = (end - mid) / mid
    print(f"daemon RSS: mid {mid / 1024:.1f} MiB, end {end / 1024:.1f} MiB, "
          f"peak {peak / 1024:.1f} MiB, growth mid->end {growth * 100:+.1f}%")

    assert worst >= min_ratio, counts
    assert max(counts.values()) <= seconds / every + 2, counts  # not more often either
    assert failing == bad_names, {n: statuses.get(n) for n in bad_names if n not in failing}
    assert not [s for s in healthy if s in statuses]
    assert peak < 200 * 1024
    if check_growth:  # a few seconds in, memory is still warming up: only the long run can tell
        assert growth <= 0.10


@pytest.mark.waits(7)  # its daemon runs 7 s
def test_daemon_with_a_few_bad_sources_stays_up_and_keeps_the_healthy_schedule(bad, tmp_path):
    # short, so a loaded CI machine gets some slack: 2 of ~3 expected polls, no growth check
    _run_daemon_against_bad_sources(bad, tmp_path, n_healthy=4, n_bad=len(BAD_PATHS),
                                    seconds=7, every=2, min_ratio=0.6, check_growth=False)


@pytest.mark.slow
def test_daemon_with_50_sources_half_misbehaving_stays_up_bounded_and_on_schedule(bad, tmp_path):
    _run_daemon_against_bad_sources(bad, tmp_path, n_healthy=25, n_bad=25, seconds=32, every=2)
