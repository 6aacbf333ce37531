"""`reverie export`: the record's observations as CSV or JSON Lines, in bounded memory."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from reverie.daemon import config
from reverie.memory.store import Observation, Store
from tests.conftest import make_config, reverie_env, run_cli

UTC = timezone.utc


@pytest.fixture
def berlin(tmp_path):
    cfg = make_config(tmp_path, timezone="Europe/Berlin")
    db = config.load(cfg).home.db
    with Store.open(db) as s:
        s.add_observations([
            # 2026-03-01 22:30 UTC is 23:30 in Berlin: still March 1st there
            Observation("wallet", "wallet.balance", datetime(2026, 3, 1, 22, 30, tzinfo=UTC),
                        12.5, None, "ETH"),
            Observation("weather", "weather.condition", datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
                        None, 'light rain, "heavy" later', None),
            Observation("moltbook", "moltbook.karma", datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                        1284.0, None, None),
        ])
    return cfg


def test_export_csv_gives_each_reading_in_the_configs_zone_and_in_utc(berlin):
    r = run_cli("--config", str(berlin), "export")
    assert r.returncode == 0, r.stderr
    assert list(csv.reader(io.StringIO(r.stdout))) == [
        ["time", "time_utc", "source", "signal", "value", "text", "unit"],
        ["2026-03-01T23:30:00+01:00", "2026-03-01T22:30:00Z", "wallet", "wallet.balance",
         "12.5", "", "ETH"],
        ["2026-03-02T00:30:00+01:00", "2026-03-01T23:30:00Z", "weather", "weather.condition",
         "", 'light rain, "heavy" later', ""],
        ["2026-03-02T10:00:00+01:00", "2026-03-02T09:00:00Z", "moltbook", "moltbook.karma",
         "1284", "", ""],
    ]


def test_export_jsonl_filters_by_local_days_and_source(berlin):
    r = run_cli("--config", str(berlin), "export", "--format", "jsonl", "--until", "2026-03-01")
    assert r.returncode == 0, r.stderr
    assert [json.loads(line) for line in r.stdout.splitlines()] == [
        {"time": "2026-03-01T23:30:00+01:00", "time_utc": "2026-03-01T22:30:00Z",
         "source": "wallet", "signal": "wallet.balance", "value": 12.5, "text": None,
         "unit": "ETH"}]
    r = run_cli("--config", str(berlin), "export", "--format", "jsonl", "--since", "2026-03-02")
    assert [json.loads(x)["source"] for x in r.stdout.splitlines()] == ["weather", "moltbook"]
    r = run_cli("--config", str(berlin), "export", "--since", "2026-03-01T23:45",
                "--source", "moltbook")
    assert r.stdout.splitlines()[1:] == [
        "2026-03-02T10:00:00+01:00,2026-03-02T09:00:00Z,moltbook,moltbook.karma,1284,,"]


def test_export_says_a_bad_date_in_one_line(berlin):
    r = run_cli("--config", str(berlin), "export", "--since", "yesterday")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "reverie export: --since: invalid date 'yesterday' (use YYYY-MM-DD or an ISO date "
        "and time, like 2026-03-01T08:00 or 2026-03-01T08:00+01:00)"]


P4_PEAK_RSS = 80 * 1000 * 1000  # docs/performance.md, P4: peak RSS <= 80 MB
ROWS = 1_000_000


@pytest.mark.slow
def test_exporting_a_million_rows_stays_under_the_p4_memory_goal(tmp_path):
    cfg = make_config(tmp_path)
    db = config.load(cfg).home.db
    Store.open(db).close()
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    with sqlite3.connect(db) as c:  # a million readings, 40 signals every 5 minutes
        c.executemany("INSERT INTO observations(source, signal, ts, value, text, unit)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      ((f"s{i % 40}", f"s{i % 40}.v", t0 + (i // 40) * 300, i * 0.5,
                        None if i % 7 else "some text", "u") for i in range(ROWS)))
    out = tmp_path / "out.jsonl"
    # the export in its own process, measured by its parent: ru_maxrss of the child alone
    probe = ("import resource, subprocess, sys\n"
             "with open(sys.argv[1], 'wb') as f:\n"
             "    code = subprocess.run(sys.argv[2:], stdout=f).returncode\n"
             "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n")
    r = subprocess.run([sys.executable, "-c", probe, str(out), sys.executable, "-m",
                        "reverie.daemon.cli", "--config", str(cfg), "export", "--format",
                        "jsonl"], capture_output=True, text=True, env=reverie_env(),
                       timeout=600)
    code, peak = map(int, r.stdout.split())
    assert code == 0, r.stderr
    with open(out, "rb") as f:
        lines = sum(1 for _ in f)
    assert lines == ROWS
    last = json.loads(Path(out).read_text().splitlines()[-1])
    assert last["value"] == (ROWS - 1) * 0.5 and last["signal"] == "s39.v"
    print(f"export of {ROWS} rows: peak RSS {peak / 1e6:.1f} MB")
    assert peak < P4_PEAK_RSS, f"peak RSS {peak / 1e6:.1f} MB"
