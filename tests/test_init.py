"""`reverie init`: a working offline home, created once, never overwritten."""

from __future__ import annotations

from reverie.memory.home import Home, init_home
from tests.conftest import run_cli


def test_init_creates_the_home_layout_and_an_offline_config(tmp_path):
    r = run_cli("init", str(tmp_path / "agent"))
    assert r.returncode == 0, r.stderr
    h = Home.at(tmp_path / "agent")
    for p in (h.root / "reverie.yaml", h.working, h.memory_dir / "identity.md",
              h.root / "feeds" / "local.xml", h.db):
        assert p.exists(), p
    for d in (h.perception_dir, h.dreams_dir, h.diary_dir, h.memory_dir, h.sessions_dir):
        assert d.is_dir(), d
    assert (h.private.stat().st_mode & 0o777) == 0o700
    assert ((h.root / "reverie.yaml").stat().st_mode & 0o777) == 0o600
    assert "## Keep" in h.working.read_text() and "#remember" in h.working.read_text()


def test_the_example_config_is_valid_as_written(tmp_path):
    run_cli("init", str(tmp_path / "agent"))
    r = run_cli("--config", str(tmp_path / "agent" / "reverie.yaml"), "check-config")
    assert r.returncode == 0, r.stderr
    assert "3 sources (posts, host, inbox)" in r.stdout


def test_init_is_idempotent_and_keeps_what_exists(tmp_path):
    home = tmp_path / "agent"
    init_home(home)
    (home / "working.md").write_text("the agent's own words\n")
    report = dict((p.name, what) for p, what in init_home(home))
    assert report["working.md"] == "kept"
    assert report["reverie.yaml"] == "kept"
    assert (home / "working.md").read_text() == "the agent's own words\n"


def test_init_says_what_it_kept(tmp_path):
    run_cli("init", str(tmp_path / "agent"))
    r = run_cli("init", str(tmp_path / "agent"))
    assert r.returncode == 0
    assert "kept" in r.stdout and "created" not in r.stdout
