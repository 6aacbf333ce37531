"""The record outside the home: reverie's own files (the database, its lock, the control
socket, session logs) live in a state folder the agent cannot write; a home from before,
with its record in ``.reverie/``, is moved there once, without losing anything and without
following a link the agent planted."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from reverie.memory.home import Home, StateError, default_state_dir
from tests import _agent
from tests.conftest import make_config, run_cli

POSTS = {"name": "posts", "type": "files", "path": "posts", "every": "1h"}
TABLES = ("observations", "polls", "dreams", "sessions", "wakes", "intents")


def _full_record(tmp_path: Path) -> tuple[Path, Path]:
    """A home with a whole record made by the real commands: polls, a dream, a session
    (consolidated, with its log). Returns (config, home)."""
    cfg = make_config(tmp_path, sources=[POSTS], sessions={
        "command": _agent.command("write=a line to keep #remember"),
        "max_duration": "1m", "stop_timeout": "2s"})
    home = tmp_path / "home"
    (home / "posts").mkdir()
    (home / "posts" / "a.md").write_text("# a\n\nsome words here\n")
    for args in (["init", str(home)], ["poll"], ["poll"], ["dream"], ["wake"]):
        r = run_cli(*(args if args[0] == "init" else ["--config", str(cfg), *args]))
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return cfg, home


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as c:
        have = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in TABLES if t in have}


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")
            and p.name not in ("home", "reverie.lock", "config.snapshot.json")}


def _to_old_layout(home: Path, new_state_home: Path, monkeypatch) -> Path:
    """Put the record back where reverie kept it before (``<home>/.reverie/``) and point
    the state folders somewhere new, as after an upgrade."""
    state = Home.at(home).state
    old = home / ".reverie"
    shutil.move(str(state), str(old))
    (old / "home").unlink()  # the old layout had no binding
    monkeypatch.setenv("XDG_STATE_HOME", str(new_state_home))
    return old


def test_the_record_lives_in_the_state_folder_not_in_the_home(tmp_path):
    cfg, home = _full_record(tmp_path)
    state = Home.at(home).state
    assert state == Path(os.environ["XDG_STATE_HOME"]) / "reverie" / "home"
    assert (state / "reverie.db").is_file()
    assert [p.name for p in (state / "sessions").glob("*.log")]
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert not (home / ".reverie").exists()
    assert not [p for p in home.rglob("*.db")] and not [p for p in home.rglob("*.log")]


def test_state_dir_in_the_config_is_where_every_command_keeps_the_record(tmp_path):
    elsewhere = tmp_path / "records" / "mine"
    cfg = make_config(tmp_path, sources=[POSTS], state_dir=str(elsewhere))
    (tmp_path / "home" / "posts").mkdir()
    assert run_cli("--config", str(cfg), "poll").returncode == 0
    assert (elsewhere / "reverie.db").is_file()
    assert not default_state_dir("home").exists()
    r = run_cli("--config", str(cfg), "status", "--json")
    assert r.returncode == 3 and '"posts"' in r.stdout
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 0, r.stderr


def test_an_old_home_is_migrated_once_with_its_whole_record(tmp_path, monkeypatch, capfd):
    cfg, home = _full_record(tmp_path)
    state = Home.at(home).state
    counts, files = _counts(state / "reverie.db"), _files(state)
    assert counts["observations"] and counts["dreams"] and counts["sessions"]
    assert any(k.startswith("sessions/") and k.endswith(".log") for k in files)
    old = _to_old_layout(home, tmp_path / "new-state", monkeypatch)

    capfd.readouterr()
    r = run_cli("--config", str(cfg), "status")
    assert r.returncode == 3, r.stderr
    new = Home.at(home).state
    assert new == tmp_path / "new-state" / "reverie" / "home"
    assert not old.exists()
    assert _counts(new / "reverie.db") == counts
    assert _files(new) == files
    logged = (r.stdout + r.stderr + "".join(capfd.readouterr())).count("state.migrated")
    assert logged == 1
    # once: a .reverie/ the agent makes afterwards is never taken for the record
    (home / ".reverie").mkdir()
    (home / ".reverie" / "reverie.db").write_bytes(b"the agent's own")
    assert run_cli("--config", str(cfg), "poll").returncode == 0
    assert _counts(new / "reverie.db")["observations"] > counts["observations"]
    assert (home / ".reverie" / "reverie.db").read_bytes() == b"the agent's own"


def test_a_migration_cut_short_by_a_crash_is_resumed_and_nothing_is_lost(tmp_path, monkeypatch):
    cfg, home = _full_record(tmp_path)
    state = Home.at(home).state
    counts, files = _counts(state / "reverie.db"), _files(state)
    old = _to_old_layout(home, tmp_path / "new-state", monkeypatch)
    # the crash: the marker is written, the database and one log already moved, the
    # rest still in the old folder
    new = Home.at(home).state
    (new / "sessions").mkdir(parents=True)
    (new / ".migrating").write_text(str(old))
    os.rename(old / "reverie.db", new / "reverie.db")
    log = next((old / "sessions").glob("*.log"))
    shutil.copy2(log, new / "sessions" / log.name)  # copied, not yet unlinked
    r = run_cli("--config", str(cfg), "status")
    assert r.returncode == 3, r.stderr
    assert not old.exists() and not (new / ".migrating").exists()
    assert _counts(new / "reverie.db") == counts
    assert _files(new) == files


def test_links_planted_in_the_old_folder_are_never_followed(tmp_path, monkeypatch):
    cfg = make_config(tmp_path, sources=[POSTS])
    home = tmp_path / "home"
    (home / "posts").mkdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    secret = victim / "secret.txt"
    secret.write_text("untouched\n")
    os.chmod(secret, 0o644)
    old = home / ".reverie"
    (old / "sessions").mkdir(parents=True)
    os.symlink(victim / "made-by-reverie.db", old / "reverie.db")  # dangling: would be created
    os.symlink(secret, old / "reverie.lock")  # would be truncated or chmodded
    os.symlink(secret, old / "sessions" / "s1.log")
    os.symlink(victim, old / "dir-link")
    r = run_cli("--config", str(cfg), "poll")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in victim.iterdir()) == ["secret.txt"]
    assert secret.read_text() == "untouched\n"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o644
    state = Home.at(home).state
    assert not any(p.is_symlink() for p in state.rglob("*"))
    assert not old.exists()


def test_a_symlinked_or_foreign_state_folder_is_refused_in_one_line(tmp_path):
    cfg = make_config(tmp_path, sources=[POSTS])
    (tmp_path / "home" / "posts").mkdir()
    state = Home.at(tmp_path / "home").state
    state.parent.mkdir(parents=True)
    target = tmp_path / "elsewhere"
    target.mkdir()
    state.symlink_to(target)
    r = run_cli("--config", str(cfg), "poll")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "refused: not a plain folder" in r.stderr and str(state) in r.stderr
    assert list(target.iterdir()) == []
    state.unlink()
    state.mkdir()
    os.chown(state, 65534, 65534)
    with pytest.raises(StateError, match="refused: owned by uid 65534, not by this user"):
        Home.at(tmp_path / "home").ensure()
    r = run_cli("--config", str(cfg), "poll")  # as root, the root rule says it first
    assert r.returncode == 2 and "sudo -u nobody" in r.stderr


def test_two_homes_never_share_one_state_folder(tmp_path):
    a = make_config(tmp_path / "a", sources=[POSTS])
    b = make_config(tmp_path / "b", sources=[POSTS])  # both homes are called "home"
    for c in (a, b):
        (c.parent / "home" / "posts").mkdir()
    assert run_cli("--config", str(a), "poll").returncode == 0
    r = run_cli("--config", str(b), "poll")
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert f"holds the record of the home {tmp_path / 'a' / 'home'}" in line
    assert "`state_dir:` or `name:`" in line
    b.write_text(b.read_text() + "name: other\n")
    assert run_cli("--config", str(b), "poll").returncode == 0


def test_a_state_folder_inside_the_home_is_refused(tmp_path):
    with pytest.raises(StateError, match="inside the home"):
        Home.at(tmp_path / "home", tmp_path / "home" / "state").ensure()


def test_init_with_a_state_dir_says_so_in_the_config_and_keeps_the_record_there(tmp_path):
    records = tmp_path / "var" / "agent"
    r = run_cli("init", str(tmp_path / "agent"), "--state-dir", str(records))
    assert r.returncode == 0, r.stderr
    assert (records / "reverie.db").is_file()
    assert f"\nstate_dir: {records}" in (tmp_path / "agent" / "reverie.yaml").read_text()
    cfg = tmp_path / "agent" / "reverie.yaml"
    assert run_cli("--config", str(cfg), "check-config").returncode == 0
    assert not default_state_dir("agent").exists()


def test_the_folder_consolidation_takes_working_md_into_is_reverie_s_alone(home):
    assert home.taking_dir.is_dir()
    assert stat.S_IMODE(home.taking_dir.stat().st_mode) == 0o700
