"""The agent as its own user (sessions.user): it runs under that uid, cannot read the record,
the config or the daemon's environment; and the daemon's power to switch users reaches
that one account only (a seccomp filter: set*id naming any other id fails with EPERM).

The suite runs as root: as the shipped `--agent-user` unit does, the real `reverie wake`
runs as its own non-root account (`daemon`) holding CAP_SETUID/CAP_SETGID only, and the
session runs as `nobody`, a third uid (root itself refuses that layout: the home is
writable through the agent's group); the agent is a script run by the system's Python
(the test's own lives where `nobody` cannot read)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from reverie.daemon import _seccomp, config
from tests.conftest import reverie_env, run_cli

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.isdir("/proc"),
                                reason="switching users needs root (the suite runs as root)")

SYSTEM_PYTHON = "/usr/bin/python3"

AGENT = textwrap.dedent('''\
    import json, os, sys
    out, db, config, credential = sys.argv[1:5]
    def attempt(path):
        try:
            with open(path, "rb") as f:
                f.read(1)
            return "read"
        except OSError as e:
            return e.strerror
    seen = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
            "groups": os.getgroups(), "env": dict(os.environ),
            "db": attempt(db), "config": attempt(config), "credential": attempt(credential),
            "daemon_environ": attempt(f"/proc/{os.getppid()}/environ")}
    try:
        os.setuid(0)
        seen["setuid0"] = "worked"
    except OSError as e:
        seen["setuid0"] = e.strerror
    with open(os.environ["REVERIE_WORKING"], "a") as f:
        f.write("the agent was here\\n")
    # left behind in a session of its own: the daemon (no CAP_KILL) must still end it
    import subprocess
    seen["left"] = subprocess.Popen(["sleep", "300"], start_new_session=True).pid
    with open(out, "w") as f:
        json.dump(seen, f)
''')


@pytest.fixture
def shared(tmp_path):
    """A folder `nobody` can traverse (tmp_path's parents are root's, mode 0700)."""
    if not Path(SYSTEM_PYTHON).exists():
        pytest.skip(f"{SYSTEM_PYTHON} is needed to run an agent as another user")
    root = Path(tempfile.mkdtemp(prefix="reverie-agent-user-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


DAEMON_CAPS = "+setuid,+setgid"  # the unit's AmbientCapabilities=CAP_SETUID CAP_SETGID


def _as_daemon(account: pwd.struct_passwd, agent_gid: int) -> list[str]:
    """The argv prefix that starts a program as the shipped `--agent-user` unit starts the
    daemon: its own non-root account, in the agent's group (`usermod --append --groups`),
    holding CAP_SETUID/CAP_SETGID only (AmbientCapabilities=, CapabilityBoundingSet=)."""
    return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
            f"--groups={agent_gid}", f"--inh-caps={DAEMON_CAPS}",
            f"--ambient-caps={DAEMON_CAPS}", f"--bounding-set=-all,{DAEMON_CAPS}"]


def _daemon_python(shared: Path, prefix: list[str]) -> str:
    """An interpreter with reverie installed that the daemon's account can run: this one,
    or (when it lives where only root can reach, as under /root) the system's Python of
    the same version over this environment's site-packages, as a venv in ``shared``."""
    probe = ["-c", "import reverie.daemon.cli"]
    if subprocess.run([*prefix, sys.executable, *probe], capture_output=True,
                      timeout=60).returncode == 0:
        return sys.executable
    import sysconfig

    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin") or SYSTEM_PYTHON
    venv = shared / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib" / version).mkdir(parents=True)
    (venv / "bin" / "python3").symlink_to(system)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(system).parent}\n"
                                     "include-system-site-packages = false\n")
    (venv / "lib" / version / "site-packages").symlink_to(sysconfig.get_paths()["purelib"])
    for p in (venv, venv / "bin", venv / "lib", venv / "lib" / version):
        p.chmod(0o755)  # never through the link: this environment's own files stay as they are
    (venv / "pyvenv.cfg").chmod(0o644)
    python = str(venv / "bin" / "python3")
    got = subprocess.run([*prefix, python, *probe], capture_output=True, text=True, timeout=60)
    if got.returncode != 0:
        pytest.skip(f"no Python with reverie that a non-root account can run: {got.stderr}")
    return python


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is needed to start the "
                    "daemon as the unit does (its own account, AmbientCapabilities=)")
def test_the_agent_runs_as_its_own_user_and_cannot_reach_the_record_config_or_keys(shared):
    # the layout of `reverie systemd install --agent-user nobody --run-as daemon`: the daemon
    # runs as its own account (not root) with CAP_SETUID/CAP_SETGID, and becomes the agent's
    # account for the session; the home is the daemon's, shared through the agent's group
    nobody = pwd.getpwnam("nobody")
    try:
        daemon = pwd.getpwnam("daemon")
    except KeyError:
        pytest.skip("a system account `daemon` is needed to run the daemon as non-root")
    home = shared / "home"
    state = shared / "state"  # as StateDirectory=: made by systemd, the daemon's
    state.mkdir(mode=0o750)
    os.chown(state, daemon.pw_uid, daemon.pw_gid)
    out = shared / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    agent = shared / "agent.py"
    agent.write_text(AGENT)
    agent.chmod(0o644)
    creds = shared / "credentials"  # as systemd's $CREDENTIALS_DIRECTORY: the daemon's only
    creds.mkdir(mode=0o700)
    (creds / "OPENAI_API_KEY").write_text("sk-credential-4242\n")
    for p in (creds, creds / "OPENAI_API_KEY"):
        os.chown(p, daemon.pw_uid, daemon.pw_gid)
    cfg = shared / "reverie.yaml"
    cfg.write_text(f"home: {home}\nstate_dir: {state}\ntimezone: UTC\n")
    prefix = _as_daemon(daemon, nobody.pw_gid)
    python = _daemon_python(shared, prefix)
    home.mkdir(mode=0o770)  # install -d -o daemon -g nobody's -m 2770
    os.chown(home, daemon.pw_uid, nobody.pw_gid)
    home.chmod(0o2770)
    made = subprocess.run([*prefix, python, "-m", "reverie.daemon.cli", "init", str(home),
                           "--state-dir", str(state)], capture_output=True, text=True,
                          timeout=60, umask=0o007)
    assert made.returncode == 0, made.stdout + made.stderr
    record = config.load(cfg, env={}).home  # where the database is (Home.db)
    cfg.write_text(f"home: {home}\nstate_dir: {state}\ntimezone: UTC\nsessions:\n"
                   f"  command: [{SYSTEM_PYTHON}, {agent}, {out / 'seen.json'}, "
                   f"{record.db}, {cfg}, {creds / 'OPENAI_API_KEY'}]\n"
                   f"  user: nobody\n  stop_timeout: 2s\n")
    cfg.chmod(0o600)
    os.chown(cfg, daemon.pw_uid, daemon.pw_gid)  # the daemon's; never the agent's group
    # the home: the daemon's, group-shared with the agent, folders setgid (the install's
    # steps); reverie's own record stays the daemon's alone
    for p in [home, *home.rglob("*")]:
        if {".reverie", ".consolidating"} & set(p.relative_to(shared).parts):
            continue
        os.chown(p, daemon.pw_uid, nobody.pw_gid)
        p.chmod((p.stat().st_mode | stat.S_IRWXG | stat.S_ISGID) & ~stat.S_IRWXO
                if p.is_dir() else (p.stat().st_mode | stat.S_IRGRP | stat.S_IWGRP)
                & ~stat.S_IRWXO)
    env = reverie_env(OPENAI_API_KEY="sk-daemon-only-4242", CREDENTIALS_DIRECTORY=str(creds),
                      HOME=daemon.pw_dir)

    # root never works in a home another account can write: the documented refusal
    as_root = run_cli("--config", str(cfg), "wake", env=env, timeout=60)
    assert as_root.returncode == 2, as_root.stdout + as_root.stderr
    [line] = as_root.stderr.strip().splitlines()
    assert line.startswith("reverie wake: refusing to run as root: ") and \
        f"sudo -u {daemon.pw_name} reverie --config {cfg} wake" in line
    assert not (out / "seen.json").exists()

    woke = subprocess.run([*prefix, python, "-m",
                           "reverie.daemon.cli", "--config", str(cfg), "wake"],
                          capture_output=True, text=True, env=env, timeout=60,
                          umask=0o007)  # the unit's UMask=
    seen = json.loads((out / "seen.json").read_text())
    try:  # gone, or a zombie nobody reaps here
        with open(f"/proc/{seen['left']}/stat") as f:
            left = f.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        left = "gone"
    if left not in ("gone", "Z"):
        os.kill(seen["left"], 9)
    assert woke.returncode == 0, woke.stdout + woke.stderr
    assert left in ("gone", "Z") and f'"{seen["left"]} sleep 300"' in woke.stderr
    assert (seen["uid"], seen["euid"], seen["gid"]) == (nobody.pw_uid, nobody.pw_uid,
                                                        nobody.pw_gid)
    assert seen["groups"] in ([], [nobody.pw_gid])  # the daemon's groups are gone
    assert seen["db"] == "Permission denied"  # the record: 0700, the daemon's
    assert seen["config"] == "Permission denied"
    assert seen["credential"] == "Permission denied" and "CREDENTIALS_DIRECTORY" not in seen["env"]
    assert seen["daemon_environ"] == "Permission denied"
    assert seen["setuid0"] == "Operation not permitted"
    assert "sk-daemon-only-4242" not in json.dumps(seen["env"])
    assert seen["env"]["HOME"] == nobody.pw_dir
    assert stat.S_IMODE(record.db.parent.stat().st_mode) == 0o700
    assert record.db.stat().st_uid == daemon.pw_uid
    # what it wrote came home: consolidated into the diary by the daemon
    assert any("the agent was here" in p.read_text() for p in (home / "diary").glob("*.md"))


@pytest.mark.skipif(_seccomp.available() is not None,
                    reason=f"libseccomp cannot load: {_seccomp.available()}")
def test_under_the_filter_setuid_names_the_agents_account_only():
    nobody = pwd.getpwnam("nobody")
    probe = textwrap.dedent(f'''\
        import json, os
        from reverie.daemon._seccomp import restrict_setid
        restrict_setid({nobody.pw_uid}, {nobody.pw_gid})
        out = {{}}
        for name, call in [("setuid(0)", lambda: os.setuid(0)),
                           ("setresuid(0,0,0)", lambda: os.setresuid(0, 0, 0)),
                           ("setgid(0)", lambda: os.setgid(0)),
                           ("setgroups([0])", lambda: os.setgroups([0])),
                           ("setreuid(1,1)", lambda: os.setreuid(1, 1))]:
            try:
                call()
                out[name] = "ok"
            except OSError as e:
                out[name] = e.strerror
        os.setgroups([])
        os.setresgid({nobody.pw_gid}, {nobody.pw_gid}, {nobody.pw_gid})
        os.setuid({nobody.pw_uid})
        out["became"] = [os.getuid(), os.geteuid(), os.getgid()]
        # inherited: a child of the filtered process is filtered too
        pid = os.fork()
        if pid == 0:
            try:
                os.setuid(0)
                os._exit(0)
            except OSError:
                os._exit(7)
        out["child"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        print(json.dumps(out))
    ''')
    got = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=30)
    assert got.returncode == 0, got.stderr
    res = json.loads(got.stdout)
    eperm = "Operation not permitted"
    assert res["setuid(0)"] == res["setresuid(0,0,0)"] == res["setgid(0)"] == eperm
    assert res["setgroups([0])"] == res["setreuid(1,1)"] == eperm
    assert res["became"] == [nobody.pw_uid, nobody.pw_uid, nobody.pw_gid]
    assert res["child"] == 7


def test_root_as_the_agents_user_is_refused_with_one_line(tmp_path):
    for user in ("root", "0"):
        cfg = tmp_path / "reverie.yaml"
        (tmp_path / "home").mkdir(exist_ok=True)
        cfg.write_text(f"home: {tmp_path / 'home'}\nsessions:\n  command: [a]\n"
                       f"  user: {user!r}\n")
        out = run_cli("--config", str(cfg), "check-config")
        assert out.returncode == 2
        [line] = out.stderr.strip().splitlines()
        assert line.startswith(f"{cfg}:4: sessions.user: ") and \
            "the agent never runs as root" in line


def test_a_daemon_whose_agent_user_does_not_exist_refuses_to_start(tmp_path):
    # the config may name it before it exists (systemd install prints how to make it)
    cfg = tmp_path / "reverie.yaml"
    (tmp_path / "home").mkdir()
    cfg.write_text(f"home: {tmp_path / 'home'}\nsessions:\n  command: [a]\n"
                   f"  user: no-such-user-x\n")
    assert run_cli("--config", str(cfg), "check-config").returncode == 0
    out = run_cli("--config", str(cfg), "run", timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        "reverie: sessions.user: no such user 'no-such-user-x' on this machine (create it "
        "first: `reverie systemd install --agent-user no-such-user-x` prints how)")


def test_the_daemon_signals_the_agents_processes_as_the_agents_user(shared):
    # a daemon without CAP_KILL cannot signal another uid: it sends the signal through a
    # helper that becomes the agent's user (which the seccomp filter allows), never as root
    from reverie.daemon.agent import Account, _kill_as

    nobody = pwd.getpwnam("nobody")
    account = Account("nobody", nobody.pw_uid, nobody.pw_gid, nobody.pw_dir)
    sleeper = subprocess.Popen(["sleep", "60"], user=nobody.pw_uid, group=nobody.pw_gid,
                               extra_groups=[])
    try:
        _kill_as(account, [sleeper.pid], 15)
        assert sleeper.wait(timeout=10) == -15
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_reload_that_names_an_agent_user_only_takes_effect_after_a_restart(runner, store):
    # a process without the filter (this one: as a daemon started before sessions.user was
    # added) never switches users: the filter is what keeps the switch from reaching root
    res = runner("exit=0", user="nobody").wake("w")
    assert res.outcome == "failed"
    assert res.reason == ("could not start the agent: sessions.user changed since the daemon "
                          "started; restart it (the set*id filter is fixed at start)")
    assert store.sessions() == []


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is needed to grant an "
                    "ambient capability as a unit's AmbientCapabilities= does")
def test_no_program_the_daemon_starts_inherits_its_capabilities():
    probe = textwrap.dedent('''\
        import subprocess
        from reverie.daemon import harden
        def child_amb():
            out = subprocess.run(["grep", "CapAmb", "/proc/self/status"], capture_output=True,
                                 text=True).stdout
            return int(out.split()[1], 16)
        before = child_amb()
        harden.shed_ambient_capabilities()
        print(before, child_amb())
    ''')
    got = subprocess.run(["setpriv", "--inh-caps", "+setuid,+setgid", "--ambient-caps",
                          "+setuid,+setgid", sys.executable, "-c", probe],
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    before, after = map(int, got.stdout.split())
    assert before == (1 << 6) | (1 << 7)  # CAP_SETGID, CAP_SETUID: a child had them
    assert after == 0
