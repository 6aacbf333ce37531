"""`reverie status` and `reverie state` from the config's snapshot, without click: the
same bytes on stdout and stderr and the same exit code as the commands click runs, and
every case the shortcut does not take goes to click untouched."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from reverie.daemon.cli import _shortcut
from reverie.daemon.lock import HomeLock
from reverie.memory.home import Home

from tests.conftest import reverie_env

CONFIG = """\
home: ./home
timezone: Pacific/Auckland
sources:
  - {name: posts, type: files, path: posts, every: 15m}
  - {name: nightly, type: files, path: posts, cron: "30 2 * * mon-fri"}
  - name: karma
    type: http_json
    url: http://127.0.0.1:9/api
    fields: {karma: agent.karma}
    every: 15m
  - {name: old, type: command, argv: [echo, "1"], every: 1h}
sessions: {command: [agent], wake: ["0 8 * * *"], sleep: ["0 23 * * *"]}
"""

# a child that reports what it loaded beside what the command printed, its clock held
# at one instant (both ways print ages and the time of day)
PROBE = ("import sys, time_machine\ntime_machine.travel({at}, tick=False).start()\n"
         "from reverie.daemon.cli import main{via}\ncode = {call}\n"
         "print('click' in sys.modules, file=sys.stderr)\nsys.exit(code)\n")


def _run(cwd, *args: str, click_way: bool = False, at: float | None = None
         ) -> subprocess.CompletedProcess:
    via, call = (", _app", f"_app.run({list(args)!r})") if click_way else ("", "main()")
    probe = PROBE.format(at=at or time.time(), via=via, call=call)
    return subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                          text=True, cwd=cwd, env=reverie_env(), timeout=60)


@pytest.fixture
def home(tmp_path):
    (tmp_path / "reverie.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "home" / "posts").mkdir(parents=True)
    (tmp_path / "home" / "posts" / "a.md").write_text("# a\n\nsome words\n")
    for args in (["poll"], ["state"], ["check-config"]):  # a record, state.md, the snapshot
        subprocess.run([sys.executable, "-m", "reverie.daemon.cli", "--config",
                        "reverie.yaml", *args], cwd=tmp_path, env=reverie_env(),
                       capture_output=True, timeout=60)
    assert (Home.at(tmp_path / "home").state / "config.snapshot.json").exists()
    return tmp_path


def _same(home, *args: str) -> subprocess.CompletedProcess:
    at = time.time()
    quick, slow = _run(home, *args, at=at), _run(home, *args, click_way=True, at=at)
    assert quick.stderr.splitlines()[-1] == "False", quick.stderr  # no click
    assert slow.stderr.splitlines()[-1] == "True"
    assert (quick.returncode, quick.stdout) == (slow.returncode, slow.stdout)
    assert quick.stderr.splitlines()[:-1] == slow.stderr.splitlines()[:-1]
    return quick


@pytest.mark.parametrize("args", [["status"], ["status", "--json"], ["state"]])
def test_from_the_snapshot_it_prints_what_click_prints_without_click(home, args):
    out = _same(home, "--config", "reverie.yaml", *args)
    # the config's warning (the command source's old key) is on stderr both ways
    assert out.stderr.splitlines()[0].startswith("warning: ")
    assert "argv: is deprecated" in out.stderr
    assert out.returncode == (3 if args[0] == "status" else 0)  # 3: no daemon runs
    if args == ["status"]:
        assert "  karma          http_json  every 15m" in out.stdout
        assert "BACKING OFF after 1 failure" in out.stdout


def test_while_the_daemon_holds_the_lock_status_says_running_both_ways(home):
    lock = HomeLock(Home.at(home / "home").lock)
    lock.acquire()
    try:
        out = _same(home, "--config=reverie.yaml", "status")
    finally:
        lock.release()
    assert out.returncode == 0 and out.stdout.startswith("daemon: running")


def test_a_stale_state_md_or_an_edited_config_goes_to_click(home):
    state_md = Home.at(home / "home").state_md
    state_md.unlink()  # `state` must render it now: click's way, with the whole config
    assert _run(home, "--config", "reverie.yaml", "state").stderr.splitlines()[-1] == "True"
    assert state_md.exists()
    with open(home / "reverie.yaml", "a", encoding="utf-8") as f:
        f.write("# edited\n")  # the snapshot no longer matches the file
    out = _run(home, "--config", "reverie.yaml", "status")
    assert out.stderr.splitlines()[-1] == "True" and out.returncode == 3


@pytest.mark.parametrize("args, taken", [
    (["status"], (None, "status", False)),
    (["status", "--json"], (None, "status", True)),
    (["--config", "c.yaml", "state"], ("c.yaml", "state", False)),
    (["--config=c.yaml", "status"], ("c.yaml", "status", False)),
    (["--log-level", "debug", "status"], None),
    (["status", "--help"], None),
    (["status", "extra"], None),
    (["--config", "--json", "status"], None),
    (["--config"], None),
    (["--config=", "status"], None),
    (["state", "--json"], None),
    (["poll"], None),
])
def test_only_the_plain_shapes_are_taken(args, taken):
    assert _shortcut.parse(args) == taken


def test_what_it_does_not_take_it_leaves_unwritten(tmp_path, capsys):
    (tmp_path / "reverie.yaml").write_text("home: ./home\n", encoding="utf-8")
    # no snapshot yet: nothing printed, click's way decides
    assert _shortcut.run(["--config", str(tmp_path / "reverie.yaml"), "status"]) is None
    assert capsys.readouterr() == ("", "")


def _closed_pipe(cwd, *args: str, click_way: bool = False) -> subprocess.CompletedProcess:
    via, call = (", _app", "_app.run(sys.argv[1:])") if click_way else ("", "main()")
    code = ("import os, sys\nr, w = os.pipe()\nos.close(r)\nos.dup2(w, 1)\n"
            f"from reverie.daemon.cli import main{via}\nsys.exit({call})\n")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, cwd=cwd, env=reverie_env(), timeout=60)


@pytest.mark.parametrize("args", [["status"], ["status", "--json"], ["state"]])
def test_a_reader_that_stops_early_gets_exit_1_and_no_traceback_both_ways(home, args):
    # `reverie status | head -1`: the pipe closes before the answer is written
    for click_way in (False, True):
        out = _closed_pipe(home, "--config", "reverie.yaml", *args, click_way=click_way)
        assert "Traceback" not in out.stderr and "Error" not in out.stderr, out.stderr
        assert out.returncode == 1


def test_a_stream_that_cannot_carry_the_answer_goes_to_click(home):
    # state.md holds non-ASCII (a dash, the sparklines): an ASCII-only stdout is click's
    env = {**reverie_env(), "PYTHONIOENCODING": "ascii"}
    code = ("import sys\nfrom reverie.daemon.cli import main\nc = main()\n"
            "print('click' in sys.modules, file=sys.stderr)\nsys.exit(c)\n")
    out = subprocess.run([sys.executable, "-c", code, "--config", "reverie.yaml", "state"],
                         capture_output=True, cwd=home, env=env, timeout=60)
    assert out.returncode == 0 and b"Traceback" not in out.stderr
    assert out.stderr.splitlines()[-1] == b"True"
    assert b"# " in out.stdout  # state.md, as click writes it


def test_a_log_line_while_answering_never_reaches_stdout(home):
    # the agent can leave an old `.reverie/` in its home: reading the record logs about it
    (home / "home" / ".reverie").mkdir()
    out = _same(home, "--config", "reverie.yaml", "status", "--json")
    json.loads(out.stdout)  # stdout is the JSON document alone
