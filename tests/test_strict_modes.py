"""The config and templates out of the agent's reach: the daemon refuses (one line) a config
or template that the agent's user could write, sshd StrictModes-style, and in same-user
mode says at start, once, what that mode cannot protect."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from reverie.memory.trust import UntrustedFile, check_trusted_file
from tests.conftest import make_config, reverie_env, run_cli

NOBODY = 65534  # nobody:nogroup, the agent's user in these tests
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make files of another user")


@pytest.fixture
def shared(tmp_path):
    """A folder other users can reach (the test's tmp_path is root's 0700): /tmp/x, 0755."""
    d = Path(tempfile.mkdtemp(prefix="reverie-strict-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@as_root
def test_a_file_the_agents_user_owns_is_refused(shared):
    f = shared / "reverie.yaml"
    f.write_text("home: x\n")
    check_trusted_file(f, agent_uid=NOBODY)  # root's own, 0644: trusted
    os.chown(f, NOBODY, NOBODY)
    with pytest.raises(UntrustedFile, match="the file is owned by the agent's user nobody"):
        check_trusted_file(f, agent_uid=NOBODY)


@as_root
def test_a_file_writable_through_the_agents_group_is_refused(shared):
    f = shared / "reverie.yaml"
    f.write_text("home: x\n")
    os.chown(f, 0, NOBODY)
    f.chmod(0o640)  # the daemon's group may read it: the shipped layout
    check_trusted_file(f, agent_uid=NOBODY)
    f.chmod(0o660)
    with pytest.raises(UntrustedFile, match="writable by the group nogroup, which the "
                                            "agent's user nobody is in"):
        check_trusted_file(f, agent_uid=NOBODY)


@as_root
def test_a_folder_on_the_path_that_the_agent_owns_is_refused(shared):
    d = shared / "etc"
    d.mkdir()
    f = d / "agent.yaml"
    f.write_text("home: x\n")
    os.chown(d, NOBODY, NOBODY)  # it could rename the file away and put its own
    with pytest.raises(UntrustedFile, match=r"folder on its path is owned by the agent's "
                                            rf"user nobody \({d}\)"):
        check_trusted_file(f, agent_uid=NOBODY)


def test_a_world_writable_file_is_refused_and_a_sticky_tmp_is_not(shared):
    f = shared / "t.j2"
    f.write_text("x")
    check_trusted_file(f)  # under /tmp (1777, root's): fine
    f.chmod(0o666)
    with pytest.raises(UntrustedFile, match=r"writable by every user \(mode 0666\)"):
        check_trusted_file(f)


def _as_nobody(shared: Path, *args: str) -> subprocess.CompletedProcess:
    for p in [shared, *shared.rglob("*")]:
        os.chown(p, NOBODY, NOBODY)
    env = reverie_env(XDG_STATE_HOME=str(shared / "state"), HOME=str(shared))
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           sys.executable, "-m", "reverie.daemon.cli", *args],
                          capture_output=True, text=True, env=env, timeout=60, cwd=shared)


@as_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to switch uid")
@pytest.mark.parametrize("command", [["check-config"], ["poll"], ["run", "--for", "1"]],
                         ids=lambda c: c[0])
def test_the_daemon_refuses_a_template_another_user_can_write(shared, command):
    (shared / "home").mkdir()
    tpl = shared / "home" / "state.j2"
    tpl.write_text("{{ now }}\n")
    cfg = make_config(shared, home=str(shared / "home"), perception={"template": "state.j2"})
    ok = _as_nobody(shared, "--config", str(cfg), "check-config")
    assert ok.returncode == 0, ok.stderr  # its own 0644 file: same-user mode takes it
    tpl.chmod(0o666)
    r = _as_nobody(shared, "--config", str(cfg), *command)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"{tpl}: refused: the file is writable by every user (mode 0666); reverie takes " \
           "instructions from it" in r.stderr
    assert "Traceback" not in r.stderr


def test_same_user_mode_says_once_what_it_cannot_protect(tmp_path):
    cfg = make_config(tmp_path)
    r = run_cli("--config", str(cfg), "run", "--for", "1", timeout=60)
    assert r.returncode == 0, r.stderr
    assert (r.stdout + r.stderr).count("mode.same_user") == 1
    assert "it can stop the daemon" in r.stderr


def test_check_config_reports_a_template_others_can_write(tmp_path):
    cfg = make_config(tmp_path)
    tpl = tmp_path / "home" / "state.j2"
    tpl.write_text("{{ now }}\n")
    tpl.chmod(0o666)
    cfg.write_text(cfg.read_text() + "perception: {template: state.j2}\n")
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 2
    assert "state.j2: refused: the file is writable by every user" in r.stderr


@as_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to switch uid")
def test_another_user_can_neither_read_nor_write_the_record(shared):
    """The record is the daemon's alone: its state folder is 0700. (Here the daemon is root
    and the agent nobody; the state folder sits under /tmp, which nobody can reach.)"""
    from reverie.memory.home import Home

    home = Home.at(shared / "home", shared / "state")
    home.root.mkdir()
    home.ensure()
    from reverie.memory.store import Store

    Store.open(home.db).close()
    probe = ("import sys\n"
             "for a in sys.argv[1:]:\n"
             "    try:\n"
             "        open(a, 'rb' if a.endswith('.db') else 'xb').close(); print('OPENED', a)\n"
             "    except PermissionError:\n"
             "        print('denied', a)\n")
    r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                        sys.executable, "-c", probe, str(home.db), str(home.state / "planted"),
                        str(home.sessions_dir / "x.log")],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout.split() == ["denied", str(home.db), "denied", str(home.state / "planted"),
                                "denied", str(home.sessions_dir / "x.log")], r.stderr


@as_root
def test_with_an_agent_user_a_template_in_its_home_is_refused_and_roots_config_is_not(shared):
    """sessions.user (set here on the loaded config directly, as the sessions code reads
    it): the daemon's check names the agent's user, and the home it owns is on the
    template's path."""
    import dataclasses
    from types import SimpleNamespace

    from reverie.daemon import config, strict

    home = shared / "home"
    home.mkdir()
    (home / "state.j2").write_text("{{ now }}\n")  # root's file, but in the agent's folder
    etc = shared / "etc"
    etc.mkdir()
    cfg = make_config(etc, "agent.yaml", home=str(home), perception={"template": "state.j2"})
    os.chown(home, NOBODY, NOBODY)
    loaded = config.load(cfg)
    [line] = strict.problems(loaded)  # same-user mode: a folder of another user, too
    assert "owned by nobody, not by root" in line and "another user must not" in line
    sessions = SimpleNamespace(**{**vars(loaded.config.sessions), "user": "nobody",
                                  "group": None})
    as_agent = dataclasses.replace(loaded, config=loaded.config.model_copy(
        update={"sessions": sessions}))
    [line] = strict.problems(as_agent)
    assert line.startswith(f"{home / 'state.j2'}: refused: the folder on its path is owned by "
                           f"the agent's user nobody ({home})")
    assert "the agent's user nobody must not be able to change it" in line
    (etc / "state.j2").write_text("{{ now }}\n")
    as_agent.config.perception.template = str(etc / "state.j2")
    assert strict.problems(as_agent) == []  # root's config and template, out of its reach


def test_every_test_the_security_modes_table_names_exists():
    """docs/security.md's table of modes names a test for each row; each one is real."""
    import re

    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "security.md").read_text(encoding="utf-8")
    table = text[text.index("## Modes"):text.index("## Reporting")]
    rows = [r for r in table.splitlines() if r.startswith("| ") and "proved by" not in r
            and not r.startswith("|---")]
    assert len(rows) >= 8
    missing = []
    for row in rows:
        proof = row.rstrip(" |").rsplit("|", 1)[1]
        names = re.findall(r"`([\w.]*)::(\w+)`", proof)
        assert names, row
        current = None
        for file, test in names:
            current = file or current
            path = root / "tests" / current
            if not path.exists():  # another branch's file (tests/test_agent_user.py)
                continue
            if not re.search(rf"^def {test}\(", path.read_text(encoding="utf-8"), re.M):
                missing.append(f"{current}::{test}")
    assert missing == []
