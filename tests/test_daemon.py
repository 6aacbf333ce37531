"""`reverie run` as a real process: heartbeat, reload, shutdown, one daemon per home."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests._logtail import LogTail
from tests.conftest import run_cli, start_cli, wait_for

CONFIG = """
home: ./home
timezone: UTC
sources:
  - {name: posts, type: files, path: posts, every: 1h}
"""


def heartbeat(db: Path) -> float | None:
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db, timeout=5) as c:
            row = c.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
    except sqlite3.OperationalError:
        return None
    return float(row[0]) if row else None


@pytest.fixture
def daemon(write_config, tmp_path):
    cfg = write_config(CONFIG)
    (tmp_path / "home" / "posts").mkdir(parents=True)
    procs = []

    def start():
        p = start_cli("--config", str(cfg), "--log-format", "json", "run")
        p.log = LogTail(p.stderr)
        procs.append(p)
        return p

    yield cfg, tmp_path / "home", start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_the_daemon_starts_and_records_its_heartbeat(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(home / ".reverie" / "reverie.db")), p.log.text(0)
    assert p.poll() is None


def test_sigterm_exits_0_within_5_seconds(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(home / ".reverie" / "reverie.db"))
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=5) == 0
    assert time.monotonic() - t0 < 5
    assert '"daemon.stopped"' in p.log.text()


def test_sighup_with_a_broken_config_keeps_running_on_the_old_one(daemon):
    cfg, home, start = daemon
    p = start()
    db = home / ".reverie" / "reverie.db"
    assert wait_for(lambda: heartbeat(db))
    good = cfg.read_text()
    cfg.write_text(good.replace("every: 1h", "every: sometimes"))
    p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: p.log.has('"reload.refused"'))
    assert p.poll() is None
    # still alive and working: the state file of the old config's source appears
    assert wait_for(lambda: (home / "perception" / "state.md").exists(), timeout=15)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 0
    err = p.log.text()
    assert "sources[0].every: invalid duration 'sometimes'" in err
    assert '"reload.refused"' in err
    assert "Traceback" not in err


def test_sighup_with_a_good_config_reloads(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(home / ".reverie" / "reverie.db"))
    cfg.write_text(cfg.read_text().replace("every: 1h", "every: 2h"))
    p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: p.log.has('"reload.done"')), p.log.text(0)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 0


def test_a_second_daemon_on_the_same_home_is_refused_with_the_pid(daemon):
    cfg, home, start = daemon
    p = start()
    assert wait_for(lambda: heartbeat(home / ".reverie" / "reverie.db"))
    r = run_cli("--config", str(cfg), "run", timeout=20)
    assert r.returncode == 1
    assert f"another reverie (pid {p.pid}) is running on {home.resolve()}" in r.stdout + r.stderr
