"""Children get nothing they were not given: every process reverie starts (a command source,
git for memory.git, the agent) sees PATH, HOME, LANG, TZ (LC_ALL) and what its own config
names, never the daemon's keys; and a config cannot hand a child a key of the daemon."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reverie.memory import children
from reverie.memory.git import commit_home
from tests.conftest import make_config, reverie_env, run_cli
from tests._runner import file_text

KEYS = {"OPENAI_API_KEY": "sk-daemon-only-1234", "MOLTBOOK_API_KEY": "mb-daemon-only-5678",
        "AWS_SECRET_ACCESS_KEY": "aws-daemon-only-9012"}
BASICS = {"PATH", "HOME", "LANG", "TZ", "LC_ALL"}


def environ_of(path: Path) -> dict[str, str]:
    """A /proc/self/environ a child copied to ``path``."""
    raw = file_text(path)
    return dict(e.split("=", 1) for e in raw.split("\0") if e)


def test_a_command_source_sees_only_the_basics_and_its_own_env(tmp_path):
    # the real CLI in a process of its own, with the daemon's keys in its environment
    cfg = make_config(tmp_path, sources=[{
        "name": "env", "type": "command", "every": "1h",
        "command": [sys.executable, "-c",  # no shell: a shell adds PWD and SHLVL itself
                    "open('seen.env', 'wb').write(open('/proc/self/environ', 'rb').read()); "
                    "print(1)"],
        "env": {"GH_TOKEN": "${GH_TOKEN}", "PLAIN": "given"}}])
    out = run_cli("--config", str(cfg), "poll", process=True,
                  env=reverie_env(**KEYS, GH_TOKEN="gh-for-this-source", LANG="C.UTF-8"))
    assert out.returncode == 0, out.stderr
    seen = environ_of(tmp_path / "home" / "seen.env")
    assert set(seen) <= BASICS | {"GH_TOKEN", "PLAIN"}
    assert seen["GH_TOKEN"] == "gh-for-this-source" and seen["PLAIN"] == "given"
    assert seen["LANG"] == "C.UTF-8" and "PATH" in seen
    assert not [v for v in seen.values() if any(k in v for k in KEYS.values())]


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_for_memory_git_never_sees_the_daemons_keys(home, tmp_path, monkeypatch):
    # a clean filter in the home's own .git/config runs with git's environment: the agent
    # could plant one to read whatever git was given
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # an enclosing git's, never ours
    dump = tmp_path / "git.env"
    (home.root / "note.md").write_text("hello\n")
    subprocess.run(["git", "-C", str(home.root), "init", "-q"], check=True,
                   env=children.child_env())
    subprocess.run(["git", "-C", str(home.root), "config", "filter.dump.clean",
                    f"cat /proc/self/environ > {dump}; cat"], check=True, env=children.child_env())
    (home.root / ".gitattributes").write_text("*.md filter=dump\n")
    assert commit_home(home, "day") is not None
    seen = environ_of(dump)
    assert not [v for v in seen.values() if any(k in v for k in KEYS.values())]
    assert not set(KEYS) & set(seen) and "GIT_DIR" not in seen or seen["GIT_DIR"] != str(
        tmp_path / "elsewhere")


def test_the_agent_sees_only_the_basics_its_files_and_sessions_env(runner, tmp_path,
                                                                 monkeypatch):
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/run/credentials/reverie.service")
    monkeypatch.setenv("PLAIN", "not given")
    out = tmp_path / "seen.json"
    runner(f"report={out}", env={"GIVEN_KEY": "given-by-name"}).wake("w")
    env = json.loads(file_text(out))["env"]
    own = {k for k in env if k.startswith("REVERIE_")}
    assert set(env) - own <= BASICS | {"GIVEN_KEY"}
    assert env["GIVEN_KEY"] == "given-by-name" and env["PATH"]


def test_a_child_env_is_the_basics_then_what_is_given(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    monkeypatch.delenv("LC_ALL", raising=False)
    env = children.child_env({"X": "1"}, home="/home/agent")
    assert env["HOME"] == "/home/agent" and env["TZ"] == "Europe/Berlin" and env["X"] == "1"
    assert "OPENAI_API_KEY" not in env and "LC_ALL" not in env


# -- a config cannot hand a child the daemon's key ---------------------------------------

def check(tmp_path: Path, text: str, **env: str) -> subprocess.CompletedProcess:
    cfg = tmp_path / "reverie.yaml"
    (tmp_path / "home").mkdir(exist_ok=True)
    cfg.write_text(text.replace("HOME", str(tmp_path / "home")), encoding="utf-8")
    return run_cli("--config", str(cfg), "check-config", env=reverie_env(**env))


def test_sessions_env_naming_the_dreams_key_is_refused_with_one_line(tmp_path):
    out = check(tmp_path, """\
home: HOME
dream:
  api_key: ${OPENAI_API_KEY}
sessions:
  command: [my-agent]
  env:
    STOLEN: "${OPENAI_API_KEY}"
""", OPENAI_API_KEY="sk-daemon-only-1234")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"{tmp_path / 'reverie.yaml'}:7: sessions.env.STOLEN: ${{OPENAI_API_KEY}} is a secret "
        "of dream.api_key: a child's environment may not name it (give the child a "
        "variable of its own)"]
    assert "sk-daemon-only-1234" not in out.stdout + out.stderr


def test_a_command_sources_env_naming_another_sources_key_is_refused(tmp_path):
    out = check(tmp_path, """\
home: HOME
sources:
  - name: api
    type: http_json
    url: https://example.com/api
    headers: {Authorization: "Bearer ${API_TOKEN}"}
    fields: {n: n}
  - name: probe
    type: command
    command: [env]
    env: {T: "x${API_TOKEN}"}
""", API_TOKEN="tok-daemon-only-1234")
    assert out.returncode == 2
    assert "reverie.yaml:11: sources[1].env.T: ${API_TOKEN} is a secret of " \
           "sources[0].headers.Authorization" in out.stderr
    assert "tok-daemon-only-1234" not in out.stdout + out.stderr


def test_a_variable_given_only_to_the_agent_is_allowed(tmp_path):
    out = check(tmp_path, """\
home: HOME
sessions:
  command: [my-agent]
  env:
    GH_TOKEN: "${AGENT_GH_TOKEN}"
""", AGENT_GH_TOKEN="gh-agent-own")
    assert out.returncode == 0, out.stderr
