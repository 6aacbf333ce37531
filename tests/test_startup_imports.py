"""The commands a person types import only what they use: a read-only command on a home
with HTTP and feed sources never loads requests, openai, feedparser or Jinja2; with the
config's snapshot in the home, `status` and `state` build no config models (no pydantic,
no YAML) and no command that only checks or reads loads APScheduler or asyncio (bench P6)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reverie.memory.home import Home

from tests.conftest import reverie_env, run_cli

HEAVY = {"requests", "openai", "feedparser", "jinja2"}
SCHEDULER = {"apscheduler", "asyncio"}
CONFIG_MODELS = {"pydantic", "pydantic_core", "yaml"}

CONFIG = """\
home: ./home
sources:
  - {name: inbox, type: feed, url: "http://127.0.0.1:9/feed.xml", every: 30m}
  - name: karma
    type: http_json
    url: http://127.0.0.1:9/api
    fields: {karma: agent.karma}
    every: 15m
  - {name: posts, type: files, path: posts, every: 15m}
  - {name: nightly, type: files, path: posts, cron: "30 2 * * mon-fri"}
sessions: {command: [agent], wake: ["0 8 * * *"], sleep: ["0 23 * * *"]}
dream: {at: "0 5 * * *", backend: openai, model: m, base_url: "http://127.0.0.1:9/v1", api_key: k}
"""


def _imported(tmp_path, *args: str, full: bool = False) -> set[str]:
    """The modules ``reverie ARGS`` imports: top-level packages, or every module (``full``)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "reverie.daemon.cli",
                          "--config", str(tmp_path / "reverie.yaml"), *args],
                         capture_output=True, text=True, env=reverie_env(), cwd=tmp_path,
                         timeout=60)
    assert out.returncode in (0, 3), out.stderr[-2000:]  # status: 3 when no daemon runs
    names = {line.split("|")[-1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:")}
    return names if full else {n.split(".")[0] for n in names}


@pytest.fixture
def configured(tmp_path):
    (tmp_path / "reverie.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "home").mkdir()
    return tmp_path


@pytest.mark.parametrize("command", ["status", "check-config", "--help"])
def test_a_read_only_command_does_not_import_the_network_or_template_libraries(
        configured, command):
    assert _imported(configured, command) & HEAVY == set()


def test_state_with_the_record_unchanged_does_not_import_the_renderer(configured):
    # the first call renders state.md (Jinja2 is fine then); the second only prints it
    first = subprocess.run([sys.executable, "-m", "reverie.daemon.cli", "--config",
                            str(configured / "reverie.yaml"), "state"], capture_output=True,
                           text=True, env=reverie_env(), cwd=configured, timeout=60)
    assert first.returncode == 0, first.stderr
    assert _imported(configured, "state") & HEAVY == set()


def _cli(configured, *args):
    r = subprocess.run([sys.executable, "-m", "reverie.daemon.cli", "--config",
                        str(configured / "reverie.yaml"), *args], capture_output=True,
                       text=True, env=reverie_env(), cwd=configured, timeout=60)
    assert r.returncode in (0, 3), r.stderr
    return r


@pytest.mark.parametrize("command", ["status", "check-config", "--help"])
def test_checking_or_reading_does_not_import_the_scheduler(configured, command):
    assert _imported(configured, command) & SCHEDULER == set()


@pytest.mark.parametrize("command", ["status", "state"])
def test_status_and_state_on_the_snapshot_build_no_config_models(configured, command):
    _cli(configured, "state")  # renders state.md; its load leaves the snapshot
    _cli(configured, "check-config")
    assert (Home.at(configured / "home").state / "config.snapshot.json").exists()
    assert _imported(configured, command) & (CONFIG_MODELS | SCHEDULER | HEAVY) == set()


@pytest.mark.parametrize("command", ["status", "state"])
def test_status_and_state_of_an_init_made_home_set_up_no_logging_and_no_redaction(
        tmp_path, command):
    # they log nothing: the stdlib's logging waits for a library that imports it
    # (tests/test_logs.py), the redaction model for a secret or a line. init writes the
    # machine's zone out: asking tzlocal for it would import logging.
    assert run_cli("init", str(tmp_path)).returncode == 0
    _cli(tmp_path, "state")
    _cli(tmp_path, "check-config")
    names = _imported(tmp_path, command, full=True)
    assert "reverie.daemon.cli" in names
    assert "reverie.perception.redact" not in names and "logging" not in names


def test_status_without_a_snapshot_builds_the_config(configured):
    # the guard above is not vacuous: the full load does import the models
    assert {"pydantic", "yaml"} <= _imported(configured, "status")


# What check-config once imported that validating does not need: the store and SQLite
# (through the digest, for NotableRules), difflib (only for a "did you mean"), the email
# parser (the package metadata read for the HTTP User-Agent), html.parser (a feed's text),
# the digest itself (dream.notable's model lives apart from it), the alerts (their
# thread, queue and logging: the notify: options live apart).
NOT_FOR_CHECKING = {"reverie.memory.store", "sqlite3", "difflib", "email.parser",
                    "email.feedparser", "html.parser", "reverie.perception.digest",
                    "reverie.daemon.alerts"}


def test_check_config_on_a_new_home_imports_nothing_validating_does_not_need(tmp_path):
    home = tmp_path / "home"
    made = subprocess.run([sys.executable, "-m", "reverie.daemon.cli", "init", str(home)],
                          capture_output=True, text=True, env=reverie_env(), timeout=60)
    assert made.returncode == 0, made.stderr
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "reverie.daemon.cli",
                          "--config", str(home / "reverie.yaml"), "check-config"],
                         capture_output=True, text=True, env=reverie_env(), cwd=tmp_path,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("ok: "), out.stderr[-2000:]
    names = {line.split("|")[-1].strip() for line in out.stderr.splitlines()
             if line.startswith("import time:")}
    assert "reverie.daemon.config" in names  # the list is read right
    assert names & NOT_FOR_CHECKING == set()
