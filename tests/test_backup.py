"""`reverie backup` and `reverie restore`: one archive taken while the daemon writes, and a
restore that writes only into an empty home no daemon holds, never outside it."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from reverie.daemon import config
from tests._logtail import LogTail
from tests.conftest import make_config, run_cli, start_cli, wait_for

# system polls /proc (no network); at 1 s the daemon writes polls and readings all along
FAST = [{"name": "host", "type": "system", "every": "1s"},
        {"name": "posts", "type": "files", "path": "posts", "every": "1s"}]
APPEND_ONLY = ("observations", "polls")  # rows never change once written (ids grow)


def rows(db: Path, table: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        return c.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()


def count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        return c.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


def record(cfg: Path) -> Path:
    """The record of the agent ``cfg`` configures (wherever its state directory is)."""
    return config.load(cfg, need_secrets=False).home.db


def state_dir_args(tmp_path: Path, name: str) -> list[str]:
    """--state-dir for a restore, where this reverie keeps the record out of the home."""
    if "state_dir" in config.Config.model_fields:
        return ["--state-dir", str(tmp_path / f"{name}-state")]
    return []


def manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as t:
        return json.load(t.extractfile("manifest.json"))


@pytest.fixture
def agent(tmp_path):
    cfg = make_config(tmp_path, sources=FAST)
    cfg.write_text(cfg.read_text() + "name: ada\n")
    home = tmp_path / "home"
    (home / "posts").mkdir(parents=True)
    (home / "posts" / "a.md").write_text("one two three\n")
    assert run_cli("--config", str(cfg), "dream").returncode == 0  # a dream to audit later
    return cfg, home


def test_a_backup_taken_while_the_daemon_writes_restores_the_record_row_by_row(agent, tmp_path):
    cfg, home = agent
    db = record(cfg)
    p = start_cli("--config", str(cfg), "--log-format", "json", "run")
    log = LogTail(p.stderr)
    try:
        assert wait_for(lambda: db.exists() and count(db, "polls") >= 6, timeout=30), log.text(0)
        before = count(db, "polls")
        archive = tmp_path / "out" / "ada.tar.gz"
        archive.parent.mkdir()
        r = run_cli("--config", str(cfg), "backup", str(archive))
        assert r.returncode == 0, r.stderr
        assert "backup written" in r.stdout
        # the daemon went on writing after the snapshot
        assert wait_for(lambda: count(db, "polls") >= before + 4, timeout=30), log.text(0)
        assert p.poll() is None
    finally:
        p.terminate()
        p.wait(timeout=30)
    assert [x.name for x in archive.parent.iterdir()] == ["ada.tar.gz"]  # no temporary left
    assert archive.stat().st_mode & 0o777 == 0o600
    m = manifest(archive)
    assert m["format"] == "reverie-backup/1" and m["agent"] == "ada"
    assert m["reverie"] == run_cli("--version").stdout.split()[-1]
    assert m["layout"] == {"home": "home/", "state": "state/", "record": "state/reverie.db",
                           "config": "config/reverie.yaml"}
    with tarfile.open(archive, "r:gz") as t:
        names = t.getnames()
    assert not [n for n in names if n.endswith(("-wal", "-shm", ".lock", ".sock"))], names
    assert "home/posts/a.md" in names and "config/reverie.yaml" in names

    new = tmp_path / "restored"
    r = run_cli("restore", str(archive), "--home", str(new))
    assert r.returncode == 2 and "--config-to" in r.stderr  # the config was outside the home
    assert not new.exists()
    new_cfg = tmp_path / "restored.yaml"
    r = run_cli("restore", str(archive), "--home", str(new), "--config-to", str(new_cfg),
                *state_dir_args(tmp_path, "restored"))
    assert r.returncode == 0, r.stderr
    restored = record(new_cfg)
    assert restored != db
    assert (new / "posts" / "a.md").read_text() == "one two three\n"

    # row by row: the copy is a prefix of the live record (append-only tables), taken
    # between the polls seen before the backup and those after it
    for table in APPEND_ONLY:
        got, live = rows(restored, table), rows(db, table)
        assert got, table
        assert got == live[:len(got)], table
    assert before <= len(rows(restored, "polls")) < len(rows(db, "polls"))
    # and every other table matches the manifest's count
    for table, n in m["record"].items():
        assert count(restored, table) == n, table
    assert rows(restored, "dreams") == rows(db, "dreams")

    # the restored home is a working one
    r = run_cli("--config", str(new_cfg), "check-config")
    assert r.returncode == 0 and f"home {new}" in r.stdout, r.stderr
    r = run_cli("--config", str(new_cfg), "status")
    assert r.returncode == 3 and "daemon: not running" in r.stdout and str(new) in r.stdout
    dream = next((new / "dreams").glob("2*.md"))
    r = run_cli("--config", str(new_cfg), "audit", str(dream))
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_restore_refuses_a_home_whose_daemon_runs(agent, tmp_path):
    cfg, home = agent
    archive = tmp_path / "a.tar.gz"
    assert run_cli("--config", str(cfg), "backup", str(archive)).returncode == 0
    db = record(cfg)
    p = start_cli("--config", str(cfg), "run")
    try:
        assert wait_for(lambda: count(db, "polls") > 0, timeout=30)
        mtime = db.stat().st_mtime_ns
        r = run_cli("restore", str(archive), "--home", str(home), "--config-to",
                    str(tmp_path / "x.yaml"))
        assert r.returncode == 2
        assert "a reverie daemon (pid" in r.stderr and "runs on this home" in r.stderr
        assert not (tmp_path / "x.yaml").exists()
        assert db.stat().st_mtime_ns >= mtime and p.poll() is None
    finally:
        p.terminate()
        p.wait(timeout=30)


def test_a_restore_refuses_a_home_that_is_not_empty(agent, tmp_path):
    cfg, _ = agent
    archive = tmp_path / "a.tar.gz"
    assert run_cli("--config", str(cfg), "backup", str(archive)).returncode == 0
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.md").write_text("mine\n")
    r = run_cli("restore", str(archive), "--home", str(target), "--config-to",
                str(tmp_path / "x.yaml"), *state_dir_args(tmp_path, "busy"))
    assert r.returncode == 2 and "is not empty" in r.stderr
    assert [x.name for x in target.iterdir()] == ["notes.md"]


def test_the_backup_leaves_out_what_is_not_a_file_and_keeps_links_as_links(agent, tmp_path):
    import os

    cfg, home = agent
    os.mkfifo(home / "pipe")  # opening it would block the backup
    (home / "out").symlink_to("/etc/passwd")  # never followed
    (home / "posts" / "latest").symlink_to("a.md")
    archive = tmp_path / "a.tar.gz"
    r = run_cli("--config", str(cfg), "backup", str(archive), timeout=30)
    assert r.returncode == 1  # written, but something was left out: said
    assert "left out: home/pipe: a FIFO" in r.stderr
    with tarfile.open(archive, "r:gz") as t:
        out = t.getmember("home/out")
        assert out.issym() and out.linkname == "/etc/passwd" and out.size == 0
        assert "home/pipe" not in t.getnames()
    assert manifest(archive)["left_out"] == [{"path": "home/pipe",
                                              "why": "a FIFO, not a regular file"}]
    # a link out of the home is refused at restore, before anything is written
    r = run_cli("restore", str(archive), "--home", str(tmp_path / "n"), "--config-to",
                str(tmp_path / "n.yaml"))
    assert r.returncode == 2 and "'home/out': a link out of the home" in r.stderr
    assert not (tmp_path / "n").exists() and not (tmp_path / "n.yaml").exists()
    (home / "out").unlink()
    (home / "pipe").unlink()
    assert run_cli("--config", str(cfg), "backup", str(archive)).returncode == 0
    r = run_cli("restore", str(archive), "--home", str(tmp_path / "n"), "--config-to",
                str(tmp_path / "n.yaml"), *state_dir_args(tmp_path, "n"))
    assert r.returncode == 0, r.stderr
    assert os.readlink(tmp_path / "n" / "posts" / "latest") == "a.md"


def _hostile(tmp_path: Path, good: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    """``good`` with one member added."""
    out = tmp_path / "hostile.tar.gz"
    with tarfile.open(good, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m) if m.isreg() else None)
        member.size = len(data)
        dst.addfile(member, io.BytesIO(data))
    return out


@pytest.mark.parametrize("name,kind,link,said", [
    ("home/../../escaped", tarfile.REGTYPE, "", "a '..'"),
    ("/tmp/escaped", tarfile.REGTYPE, "", "an absolute or odd path"),
    ("elsewhere/x", tarfile.REGTYPE, "", "outside home/, state/, config/ and defaults/"),
    ("defaults/a/b", tarfile.REGTYPE, "", "not a config file"),
    ("home/l", tarfile.SYMTYPE, "../../x", "a link out of the home"),
    ("home/l", tarfile.SYMTYPE, "/etc", "a link out of the home"),
    ("state/l", tarfile.SYMTYPE, "x", "a link out of the home"),
    ("home/h", tarfile.LNKTYPE, "home/posts/a.md", "not a file, folder or symlink"),
    ("home/dev", tarfile.CHRTYPE, "", "not a file, folder or symlink"),
])
def test_a_restore_refuses_members_that_would_land_outside(agent, tmp_path, name, kind, link,
                                                            said):
    cfg, _ = agent
    good = tmp_path / "good.tar.gz"
    assert run_cli("--config", str(cfg), "backup", str(good)).returncode == 0
    m = tarfile.TarInfo(name)
    m.type, m.linkname = kind, link
    bad = _hostile(tmp_path, good, m, b"x" if kind == tarfile.REGTYPE else b"")
    target = tmp_path / "t"
    r = run_cli("restore", str(bad), "--home", str(target), "--config-to",
                str(tmp_path / "t.yaml"), *state_dir_args(tmp_path, "t"))
    assert r.returncode == 2, r.stdout + r.stderr
    assert said in r.stderr and "nothing was written" in r.stderr
    assert not target.exists() and not (tmp_path / "t.yaml").exists()
    assert not (tmp_path.parent / "escaped").exists()


def test_a_backup_written_into_the_home_leaves_itself_out(agent, tmp_path):
    cfg, home = agent
    archive = home / "backups" / "me.tar.gz"
    archive.parent.mkdir()
    assert run_cli("--config", str(cfg), "backup", str(archive)).returncode == 0
    assert run_cli("--config", str(cfg), "backup", str(archive)).returncode == 0  # again
    with tarfile.open(archive, "r:gz") as t:
        names = t.getnames()
    assert "home/backups" in names and "home/posts/a.md" in names
    assert not [n for n in names if n.startswith("home/backups/")], names
    assert [p.name for p in archive.parent.iterdir()] == ["me.tar.gz"]


def test_a_restore_refuses_a_member_that_declares_more_than_the_archive_holds(agent,
                                                                            tmp_path):
    cfg, _ = agent
    good = tmp_path / "good.tar.gz"
    assert run_cli("--config", str(cfg), "backup", str(good)).returncode == 0
    m = tarfile.TarInfo("home/huge")
    bad = tmp_path / "huge.tar.gz"
    with tarfile.open(good, "r:gz") as src, tarfile.open(bad, "w:gz") as dst:
        for x in src.getmembers():
            dst.addfile(x, src.extractfile(x) if x.isreg() else None)
        m.size = 2 ** 50  # a header that promises a petabyte
        dst.addfile(m)
    r = run_cli("restore", str(bad), "--home", str(tmp_path / "t"), "--config-to",
                str(tmp_path / "t.yaml"), *state_dir_args(tmp_path, "t"))
    assert r.returncode == 2 and "damaged archive" in r.stderr, r.stderr
    assert not (tmp_path / "t").exists()


def test_a_restore_that_would_not_fit_on_the_disk_is_refused_before_writing(tmp_path):
    import shutil

    from reverie.daemon.backup import Refused, _check_room

    free = shutil.disk_usage(tmp_path).free
    m = tarfile.TarInfo("home/big")
    m.size = free * 2 + 2 ** 30  # other processes write and delete meanwhile: far over
    with pytest.raises(Refused, match=r"bytes to restore, \d+ free under"):
        _check_room([m], tmp_path / "a.tar.gz", tmp_path / "new" / "home")
    m.size = 1
    _check_room([m], tmp_path / "a.tar.gz", tmp_path / "new" / "home")


def test_a_config_with_shared_defaults_restores_pointing_at_the_same_defaults(tmp_path):
    shared = tmp_path / "etc" / "defaults.yaml"
    shared.parent.mkdir()
    shared.write_text("timezone: Europe/Berlin\nsources:\n"
                      "  - {name: host, type: system, every: 1h}\n")
    cfg = tmp_path / "etc" / "ada.yaml"
    (tmp_path / "home").mkdir()
    cfg.write_text(f"defaults: defaults.yaml   # relative to this file\n"
                   f"home: {tmp_path}/home\nname: ada\n")
    assert run_cli("--config", str(cfg), "poll").returncode == 0
    archive = tmp_path / "a.tar.gz"
    assert run_cli("--config", str(cfg), "backup", str(archive)).returncode == 0
    with tarfile.open(archive, "r:gz") as t:
        assert t.extractfile("defaults/defaults.yaml").read() == shared.read_bytes()
    new_cfg = tmp_path / "restored" / "ada.yaml"
    new_cfg.parent.mkdir()
    r = run_cli("restore", str(archive), "--home", str(tmp_path / "new"), "--config-to",
                str(new_cfg), *state_dir_args(tmp_path, "new"))
    assert r.returncode == 0, r.stderr
    assert new_cfg.read_text().splitlines()[0] == (
        f'defaults: "{shared}"   # relative to this file')
    r = run_cli("--config", str(new_cfg), "check-config")
    assert r.returncode == 0 and "zone Europe/Berlin" in r.stdout, r.stderr
    # without the shared file in place, the restore says where a copy is
    shared.rename(shared.with_suffix(".gone"))
    r = run_cli("restore", str(archive), "--home", str(tmp_path / "new2"), "--config-to",
                str(tmp_path / "restored" / "ada2.yaml"), *state_dir_args(tmp_path, "new2"))
    assert r.returncode == 2
    assert "the archive as defaults/defaults.yaml: put it back first" in r.stderr
