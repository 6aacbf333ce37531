"""system: load, memory, disk and uptime of this machine."""

from __future__ import annotations

import pytest

from _sources_fixtures import make_ctx, run, units, values
import reverie.perception.sources.system as system_mod
from reverie.perception.sources.system import System


def test_reads_load_memory_disk_and_uptime(tmp_path):
    result = run(System, make_ctx(tmp_path))
    got = values(result)
    assert set(got) == {"load1", "load5", "load15", "memory_available", "disk_free", "uptime"}
    assert got["memory_available"] > 0 and got["disk_free"] > 0 and got["uptime"] > 0
    assert units(result)["memory_available"] == "MiB" and units(result)["disk_free"] == "GiB"
    assert units(result)["uptime"] == "h"


def test_values_come_from_proc(tmp_path, monkeypatch):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "meminfo").write_text("MemTotal:       16384000 kB\nMemAvailable:    2097152 kB\n")
    (proc / "uptime").write_text("7200.50 14000.00\n")
    monkeypatch.setattr(system_mod, "PROC", proc)
    got = values(run(System, make_ctx(tmp_path)))
    assert got["memory_available"] == 2048 and got["uptime"] == pytest.approx(2.0, abs=0.001)


def test_a_missing_disk_path_fails_that_signal_only(tmp_path):
    result = run(System, make_ctx(tmp_path), path="no/such/dir")
    assert "disk_free" not in values(result) and "load1" in values(result)
    assert result.field_errors["disk_free"].startswith("cannot read no/such/dir")


def test_figures_are_rounded_to_what_a_reader_can_use(tmp_path, monkeypatch):
    proc = tmp_path / "proc"
    proc.mkdir()
    # 23615.477 MiB and 1.379 h as read
    (proc / "meminfo").write_text("MemAvailable:   24182249 kB\n")
    (proc / "uptime").write_text("4964.4 9000.00\n")
    monkeypatch.setattr(system_mod, "PROC", proc)
    got = values(run(System, make_ctx(tmp_path)))
    assert got["memory_available"] == 23615.5
    assert got["uptime"] == 1.38
    assert got["disk_free"] == round(got["disk_free"], 2)
