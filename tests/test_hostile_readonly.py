"""A home reverie cannot write to: the daemon says so once, not on every poll."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sqlite3
import sys

import pytest

from tests._harness import db_rows
from tests.conftest import make_config, reverie_env, wait_for
from reverie.memory.home import Home

POSTS = {"name": "posts", "type": "files", "path": "posts", "every": "0.3s"}


def polls(home) -> int:
    """The polls the daemon has recorded so far."""
    try:
        return db_rows(home, "SELECT COUNT(*) FROM polls")[0][0]
    except sqlite3.Error:  # not created yet
        return 0


def unprivileged() -> list[str]:
    """As root, drop every capability so file modes bind (CAP_DAC_OVERRIDE would ignore them)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: a read-only folder would not bind")
    return ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"]


def test_a_read_only_perception_folder_is_logged_once_not_on_every_poll(tmp_path):
    cfg = make_config(tmp_path, sources=[POSTS])
    home = tmp_path / "home"
    (home / "posts").mkdir(parents=True)
    (home / "perception").mkdir()
    (home / "perception").chmod(0o555)
    p = subprocess.Popen([*unprivileged(), sys.executable, "-m", "reverie.daemon.cli",
                          "--config", str(cfg), "--log-format", "json", "run"],
                         env=reverie_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    try:
        assert wait_for(lambda: (Home.at(home).state / "control.sock").exists(), timeout=30)
        # several polls, each with new data to render
        (home / "posts" / "a.md").write_text("one\n")
        seen = polls(home)
        assert wait_for(lambda: polls(home) >= seen + 3, timeout=30)
        (home / "posts" / "b.md").write_text("two\n")
        seen = polls(home)
        assert wait_for(lambda: polls(home) >= seen + 2, timeout=30)
    finally:
        p.terminate()
        err = p.communicate(timeout=20)[1]
        (home / "perception").chmod(0o755)
    failures = [json.loads(ln) for ln in err.splitlines()
                if ln.startswith("{") and "render_failed" in ln]
    assert failures, err
    assert len(failures) == 1, failures  # the same failure: said once
    assert "perception/state." in failures[0]["error"] and ".tmp" not in failures[0]["error"]
