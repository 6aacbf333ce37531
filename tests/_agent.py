"""The one fake agent of the session tests: a script that does what its arguments say.

    python tests/_agent.py STEP... [-- DATA...]

Steps run in order; what follows ``--`` is only data (reported by ``report``):

    report=FILE     write {"cwd", "argv" (every argument), "env"} as JSON to FILE
    write=TEXT      append the line TEXT (its $VARS expanded) to $REVERIE_WORKING
    out=TEXT        print TEXT on stdout; err=TEXT on stderr; spew=N: N bytes of 'x'
    on-term=ignore  SIGTERM is ignored; on-term=exit: SIGTERM exits 0
    child           start a child in the agent's group that ignores SIGTERM
    detached        start a child in a session of its own (setsid; Node's detached: true)
    double-fork     fork, setsid, fork: a grandchild whose parent exits at once
    bare            the processes started after this step get an empty environment
    pids=FILE       write "agent-pid child-pid..." to FILE (whole, by rename)
    wait=FILE       wait (up to a minute) until FILE exists
    sleep=S         sleep S seconds;  exit=N: exit with code N

Every process it starts ignores SIGTERM and sleeps a minute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PATH = str(Path(__file__).resolve())
_SLEEPER = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def command(*steps: str) -> list[str]:
    """The argv that runs this agent with ``steps``."""
    return [sys.executable, PATH, *steps]


def _write_whole(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _double_fork(env: dict | None) -> int:
    r, w = os.pipe()
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            os.execve(sys.executable, [sys.executable, "-c", _SLEEPER],
                      env if env is not None else os.environ)
        os._exit(0)
    os.close(w)
    pid = int(os.read(r, 32))
    os.waitpid(first, 0)
    return pid


def main(args: list[str]) -> None:
    steps = args[:args.index("--")] if "--" in args else args
    started: list[int] = []
    env: dict | None = None
    for step in steps:
        name, _, arg = step.partition("=")
        if name == "report":
            _write_whole(arg, json.dumps({"cwd": os.getcwd(), "argv": args,
                                          "env": dict(os.environ)}))
        elif name == "write":
            with open(os.environ["REVERIE_WORKING"], "a", encoding="utf-8") as f:
                f.write(os.path.expandvars(arg) + "\n")
        elif name in ("out", "err"):
            print(arg, file=sys.stdout if name == "out" else sys.stderr, flush=True)
        elif name == "spew":
            sys.stdout.write("x" * int(arg))
            sys.stdout.flush()
        elif name == "on-term":
            signal.signal(signal.SIGTERM, signal.SIG_IGN if arg == "ignore"
                          else lambda *_: sys.exit(0))
        elif name in ("child", "detached"):
            started.append(subprocess.Popen([sys.executable, "-c", _SLEEPER], env=env,
                                            start_new_session=name == "detached").pid)
        elif name == "double-fork":
            started.append(_double_fork(env))
        elif name == "bare":
            env = {}
        elif name == "pids":
            _write_whole(arg, " ".join(str(p) for p in [os.getpid(), *started]))
        elif name == "wait":
            end = time.monotonic() + 60
            while not os.path.exists(arg) and time.monotonic() < end:
                time.sleep(0.02)
        elif name == "sleep":
            time.sleep(float(arg))
        elif name == "exit":
            sys.exit(int(arg))
        else:
            sys.exit(f"_agent.py: unknown step {step!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
