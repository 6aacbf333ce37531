"""Root runs nothing in the agent's home: as root, every command that reads a home or its
record refuses (exit 2, one line naming the user to run it as) when anyone else could have
written the config, the home, the state folder or a folder above them (sshd StrictModes).

The suite runs as root with root-owned temporary homes; a home "of another user" is one
chowned to nobody (65534)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reverie.memory.home import Home
from tests.conftest import make_config, run_cli

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the root rule needs root")

NOBODY = 65534
POSTS = {"name": "posts", "type": "files", "path": "posts", "every": "1h"}

# every command that reads the home or the record, with its arguments
COMMANDS = [["status"], ["status", "--json"], ["state"], ["poll"], ["dream"], ["wake"],
            ["sleep"], ["reload"], ["check-config"], ["page"], ["audit", "x.md"],
            ["distill"], ["run", "--for", "1"], ["serve", "--port", "1"]]


def _chown_tree(root: Path, uid: int) -> None:
    for p in [root, *root.rglob("*")]:
        os.chown(p, uid, uid, follow_symlinks=False)


@pytest.fixture
def agents_home(tmp_path):
    """A home that belongs to another user (its config inside, as docs/service.md once
    had it), with a record made while it was root's."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "posts").mkdir()
    cfg = make_config(home, "reverie.yaml", home=str(home), sources=[POSTS],
                      sessions={"command": ["true"]})
    assert run_cli("--config", str(cfg), "poll").returncode == 0
    return cfg, home


def _refused(r, who: str | None = "nobody") -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    [line] = r.stderr.strip().splitlines()
    assert "refusing to run as root" in line
    assert (f"sudo -u {who} reverie --config" if who else "chmod go-w") in line
    return line


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_every_command_on_a_home_of_another_user_refuses_as_root(agents_home, args):
    cfg, home = agents_home
    _chown_tree(home, NOBODY)
    line = _refused(run_cli("--config", str(cfg), *args))
    assert line.startswith(f"reverie {args[0]}: ")
    assert "owned by nobody" in line


def test_a_root_owned_config_does_not_make_a_home_of_another_user_safe(agents_home, tmp_path):
    cfg, home = agents_home
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "agent.yaml").write_text(cfg.read_text())
    _chown_tree(home, NOBODY)
    for args in (["status"], ["poll"], ["state"]):
        line = _refused(run_cli("--config", str(etc / "agent.yaml"), *args))
        assert f"{home}: refused: the folder is owned by nobody" in line


def test_a_state_folder_of_another_user_is_refused_too(agents_home):
    cfg, home = agents_home
    os.chown(Home.at(home).state, NOBODY, NOBODY)
    line = _refused(run_cli("--config", str(cfg), "status"))
    assert str(Home.at(home).state) in line


def test_a_group_or_world_writable_folder_above_the_config_is_refused(agents_home):
    cfg, home = agents_home
    os.chmod(home, 0o777)
    line = _refused(run_cli("--config", str(cfg), "status"), who=None)
    assert "writable by every user" in line
    os.chmod(home, 0o1777)  # sticky, root's own: like /tmp, nobody can swap root's files
    assert run_cli("--config", str(cfg), "status").returncode == 3


def test_the_agents_command_source_never_runs_as_root(agents_home, tmp_path):
    cfg, home = agents_home
    proof = tmp_path / "ran-as-root"
    cfg.write_text(cfg.read_text() + (
        f"  - {{name: pwn, type: command, command: [touch, {proof}], every: 1h}}\n"))
    assert "pwn" in cfg.read_text()
    _chown_tree(home, NOBODY)  # the agent owns the file it edited
    for args in (["poll"], ["poll", "pwn"], ["run", "--for", "1"], ["wake"], ["status"]):
        _refused(run_cli("--config", str(cfg), *args))
    assert not proof.exists()


def test_sudo_status_with_links_planted_creates_nothing(agents_home, tmp_path):
    cfg, home = agents_home
    victim = tmp_path / "victim"
    victim.mkdir()
    target = victim / "important"
    target.write_text("keep\n")
    os.chmod(target, 0o644)
    state = Home.at(home).state
    old = home / ".reverie"
    old.mkdir()
    for folder in (old, state):
        for name in ("reverie.db", "reverie.lock", "control.sock"):
            p = folder / name
            if p.exists() or p.is_symlink():
                p.unlink()
            os.symlink(victim / f"made-{folder.name}-{name}", p)
        os.symlink(target, folder / "config.snapshot.json")
    _chown_tree(home, NOBODY)
    _chown_tree(state, NOBODY)
    for args in (["status"], ["sleep"], ["poll"], ["state"]):
        _refused(run_cli("--config", str(cfg), *args))
    assert sorted(p.name for p in victim.iterdir()) == ["important"]
    assert target.read_text() == "keep\n" and stat.S_IMODE(target.stat().st_mode) == 0o644


def test_init_as_root_into_a_folder_of_another_user_is_refused(tmp_path):
    parent = tmp_path / "theirs"
    parent.mkdir()
    os.chown(parent, NOBODY, NOBODY)
    line = _refused(run_cli("init", str(parent / "agent")))
    assert "reverie init" in line
    assert not (parent / "agent").exists()


@pytest.mark.parametrize("args", [["sources"], ["config", "schema"], ["--help"], ["--version"]],
                         ids=" ".join)
def test_what_reads_no_home_runs_as_root_regardless(agents_home, args):
    cfg, home = agents_home
    _chown_tree(home, NOBODY)
    r = run_cli("--config", str(cfg), *args)
    assert r.returncode == 0, r.stderr


def test_systemd_install_reads_the_config_as_root_and_never_the_home(agents_home, tmp_path):
    cfg, home = agents_home
    _chown_tree(home, NOBODY)
    r = run_cli("--config", str(cfg), "systemd", "install", "--print")
    assert r.returncode == 0, r.stderr
    assert "ExecStart=" in r.stdout


def test_roots_own_layout_runs_as_root(agents_home):
    cfg, home = agents_home  # root's files, root's folders: nothing for anyone else to plant
    assert run_cli("--config", str(cfg), "status").returncode == 3
    assert run_cli("--config", str(cfg), "poll").returncode == 0


def test_the_docs_never_run_reverie_on_a_home_as_root():
    """`sudo reverie ...` appears in README.md and docs/ only for what root may run."""
    import re

    root = Path(__file__).resolve().parent.parent
    allowed = ("systemd install", "config schema", "sources", "--help", "--version")
    found = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = re.sub(r"\\\n\s*", " ", doc.read_text(encoding="utf-8"))  # join continued lines
        for line in text.splitlines():
            for m in re.finditer(r"\bsudo\s+(?!-u\b|systemd-run|systemctl|install|useradd)"
                                 r"(?:\S*/)?reverie(?=\s)([^`|]*)", line):
                if not any(a in m.group(1) for a in allowed):
                    found.append(f"{doc.name}: {m.group(0).strip()}")
    assert found == []
