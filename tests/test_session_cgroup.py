"""The session's whole tree ends with it: `setsid env -i sh -c 'sleep 1000' &` left behind by
an agent that exits at once is stopped, in a delegated cgroup by ``cgroup.kill`` and
without one by the subreaper walk. Real processes, a real cgroup v2 where one is writable."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reverie.daemon import _cgroup, config
from tests.conftest import make_config, reverie_env, wait_for
from tests._runner import alive, ended, file_text, reap

linux_only = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")


def escaping_agent(pid_file: Path) -> list[str]:
    """An agent that leaves a helper in a session of its own, with an empty environment,
    deaf to SIGTERM, and exits at once."""
    inner = f"trap '' TERM; echo \\$\\$ > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}; exec sleep 1000"
    return ["sh", "-c", f"setsid env -i sh -c \"{inner}\" & "
                        f"while [ ! -e {pid_file} ]; do sleep 0.02; done; exit 0"]


@linux_only
def test_a_setsid_helper_with_an_empty_environment_ends_with_the_session(runner, store,
                                                                         tmp_path):
    # no delegated cgroup here (the test process's own): the subreaper walk stops it
    pid_file = tmp_path / "helper.pid"
    r = runner(command=escaping_agent(pid_file))
    res = r.wake("w")
    helper = int(file_text(pid_file))
    try:
        # the agent is gone before the daemon's first look: the tree was never seen whole
        assert wait_for(lambda: not alive(res_pid(r)), 10)
        assert ended(r)
        row = store.session(res.session_id)
        assert (row.end_reason, row.exit_code) == ("killed", 0)  # not a clean exit
        assert wait_for(lambda: not alive(helper), 10)
    finally:
        reap(helper)


@linux_only
def test_an_orphan_of_a_command_source_is_not_taken_for_the_agents(runner, store, tmp_path):
    # the daemon is a subreaper: a command source's orphan comes to it too, but it is in
    # the session of a child the daemon started and still holds, never the agent's
    import threading

    from _sources_fixtures import make_ctx, run
    from reverie.perception.sources.command import Command

    orphan_file = tmp_path / "orphan.pid"
    r = runner("sleep=30")
    res = r.wake("w")
    polled = threading.Thread(target=run, args=(Command, make_ctx(tmp_path, timeout=20)),
                              kwargs={"command": [
                                  "sh", "-c", f"(sleep 30 >/dev/null 2>&1 & echo $! > "
                                  f"{orphan_file}); sleep 3; echo 1"]})
    polled.start()
    orphan = int(file_text(orphan_file))
    try:
        assert wait_for(lambda: Path(f"/proc/{orphan}/stat").read_text().rsplit(")", 1)[1]
                        .split()[1] == str(os.getpid()), 5)  # re-parented to us
        r.sleep()
        assert alive(orphan)
        assert str(orphan) not in store.session(res.session_id).end_reason + \
            r.home.session_log(res.session_id).read_text()
    finally:
        polled.join(30)
        reap(orphan)


def res_pid(r) -> int:
    return r.current()["pid"]


def _cgroup2_root() -> Path | None:
    """A writable cgroup v2 mount where a test may make a cgroup, with cgroup.kill."""
    try:
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        f = line.split()
        sep = f.index("-") if "-" in f else -1
        if sep > 0 and f[sep + 1] == "cgroup2" and f[3] == "/":
            point = Path(f[4])
            if os.access(point, os.W_OK):
                return point
    return None


@pytest.fixture
def delegated_cgroup():
    """A cgroup standing in for the one systemd delegates to the unit (Delegate=yes)."""
    root = _cgroup2_root()
    if root is None:
        pytest.skip("no writable cgroup v2 with cgroup.kill here (/sys/fs/cgroup or "
                    "/sys/fs/cgroup/unified): the cgroup path cannot be tested")
    path = root / f"reverie-test-{secrets.token_hex(4)}"
    try:
        path.mkdir()
    except OSError as e:
        pytest.skip(f"cannot make a cgroup under {root}: {e.strerror}")
    if not (path / "cgroup.kill").exists():
        path.rmdir()
        pytest.skip("this kernel has no cgroup.kill (Linux < 5.14)")
    yield path
    for sub in sorted(path.iterdir(), reverse=True):
        if sub.is_dir():
            try:
                (sub / "cgroup.kill").write_text("1")
                wait_for(lambda: "populated 0" in (sub / "cgroup.events").read_text(), 5)
                sub.rmdir()
            except OSError:
                pass
    wait_for(lambda: "populated 0" in (path / "cgroup.events").read_text(), 5)
    path.rmdir()


@linux_only
def test_in_a_delegated_cgroup_the_session_ends_by_cgroup_kill_and_says_how_many(
        tmp_path, delegated_cgroup):
    pid_file = tmp_path / "helper.pid"
    cfg = make_config(tmp_path, sessions={"command": escaping_agent(pid_file),
                                          "stop_timeout": "1s"})
    procs = os.open(delegated_cgroup / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
    try:
        # `reverie wake` (a foreground session) started inside the delegated cgroup
        out = subprocess.run([sys.executable, "-m", "reverie.daemon.cli", "--config", str(cfg),
                              "wake"], capture_output=True, text=True, timeout=60,
                             env=reverie_env(), preexec_fn=lambda: os.write(procs, b"0"))
    finally:
        os.close(procs)
    helper = int(file_text(pid_file))
    try:
        assert out.returncode == 0, out.stderr
        assert not alive(helper)
        home = config.load(cfg, env={}).home
        with sqlite3.connect(home.db) as db:
            [(sid, end_reason)] = db.execute("SELECT id, end_reason FROM sessions").fetchall()
        assert end_reason == "killed"
        log = home.session_log(sid).read_text()
        assert "1 process(es) ended by the session's cgroup.kill" in log
        assert '"cgroup_killed": 1' in out.stdout + out.stderr or \
            "cgroup_killed=1" in out.stdout + out.stderr
        # the session's cgroup is gone with it
        assert not (delegated_cgroup / f"{_cgroup.PREFIX}{sid}").exists()
    finally:
        reap(helper)
