"""The daemon's keys stay with the daemon: a same-user process cannot read its environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import make_config, reverie_env, wait_for
from reverie.memory.home import Home

POSTS = {"name": "posts", "type": "files", "path": "posts", "every": "1h"}


def same_user_reader() -> list[str]:
    """A prefix that runs a command as the test's user without privileges: as root (tests
    in a container), root with every capability dropped, which is what a uid alone grants."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot drop the capabilities to test")
    return ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux")
def test_a_same_user_process_cannot_read_the_running_daemons_environment(tmp_path):
    cfg = make_config(tmp_path, sources=[POSTS])
    (tmp_path / "home" / "posts").mkdir(parents=True)
    # the daemon as the same unprivileged user too: root's capabilities would hide the point
    daemon = subprocess.Popen([*same_user_reader(), sys.executable, "-m", "reverie.daemon.cli",
                               "--config", str(cfg), "run"],
                              env=reverie_env(REVERIE_TEST_KEY="sk-secret-42"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: (Home.at(tmp_path / "home").state / "control.sock").exists(),
                        timeout=30)
        agent = subprocess.run([*same_user_reader(), "cat", f"/proc/{daemon.pid}/environ"],
                               capture_output=True, timeout=30)
        assert b"sk-secret-42" not in agent.stdout
        assert agent.returncode != 0 and b"Permission denied" in agent.stderr
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)
