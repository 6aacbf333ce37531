"""The command line contract: help everywhere, version, exit codes."""

from __future__ import annotations

import click
import pytest

from reverie.daemon import __version__
from reverie.daemon.cli import cli, main
from tests.conftest import run_cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    # as click finds them (some are imported only when looked up)
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, (*prefix, name))


def test_every_command_has_help_text():
    missing = [" ".join(path) for path, cmd in all_commands(cli) if not (cmd.help or "").strip()]
    assert missing == []


def test_the_design_command_set_is_present():
    names = {" ".join(p) for p, _ in all_commands(cli)}
    assert {"init", "check-config", "run", "poll", "state", "dream", "wake", "sleep", "status",
            "audit", "config schema", "sources", "demo", "systemd install"} <= names


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in all_commands(cli)])
def test_help_of_each_command_exits_0(path, capsys):
    assert main([*path.split(), "--help"]) == 0
    assert "Usage:" in capsys.readouterr().out


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"reverie, version {__version__}"


def test_an_unknown_command_is_usage_exit_2():
    r = run_cli("frobnicate")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_sources_lists_every_type_in_one_line_each():
    r = run_cli("sources")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    names = [l.split()[0] for l in lines]
    assert names == sorted(["weather", "http_json", "wallet", "moltbook", "feed", "files",
                            "command", "system"])
    assert all(len(l.split()) > 2 for l in lines)  # a summary follows each name


def test_page_writes_the_morning_page_of_a_new_home(tmp_path):
    run_cli("init", str(tmp_path / "agent"))
    r = run_cli("--config", str(tmp_path / "agent" / "reverie.yaml"), "page")
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "agent" / "morning.html").read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "<script" not in html.lower()


def test_serve_on_another_address_warns(tmp_path):
    from reverie.perception.serve import bind_warning

    assert bind_warning("127.0.0.1") is None
    assert bind_warning("0.0.0.0")


# -- read-only commands never need secrets --------------------------------------------------

SECRET_CONFIG = """\
home: {home}
sources:
  - {{name: api, type: http_json, url: "http://127.0.0.1:1/x", headers: {{Authorization: "Bearer ${{SECRET}}"}}, fields: {{k: a}}}}
  - {{name: host, type: system}}
dream: {{backend: offline, api_key: "${{OPENAI_KEY}}"}}
"""


@pytest.fixture
def secret_config(tmp_path):
    p = tmp_path / "reverie.yaml"
    p.write_text(SECRET_CONFIG.format(home=tmp_path / "home"))
    return p


def _no_secrets_env():
    from tests.conftest import reverie_env

    env = reverie_env()
    env.pop("SECRET", None)
    env.pop("OPENAI_KEY", None)
    return env


@pytest.mark.parametrize("command", [["status"], ["state"], ["page"]])
def test_a_read_only_command_runs_with_a_secret_unset(secret_config, command):
    r = run_cli("--config", str(secret_config), *command, env=_no_secrets_env())
    assert r.returncode in (0, 3), r.stderr  # status: 3 when no daemon runs
    assert "not set" not in r.stderr and "Traceback" not in r.stderr


def test_audit_runs_with_a_secret_unset(secret_config, tmp_path):
    from tests.conftest import reverie_env

    made = run_cli("--config", str(secret_config), "dream", "--date", "2026-11-30",
                   env=reverie_env(SECRET="tok-123456", OPENAI_KEY="sk-abcdef"))
    assert made.returncode == 0, made.stderr
    dream = tmp_path / "home" / "dreams" / "2026-11-30.md"
    r = run_cli("--config", str(secret_config), "audit", str(dream), env=_no_secrets_env())
    assert r.returncode == 0, r.stderr
    assert "not set" not in r.stderr


def test_serve_runs_with_a_secret_unset(secret_config):
    import socket
    import urllib.request

    from tests.conftest import start_cli, wait_for

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_cli("--config", str(secret_config), "serve", "--port", str(port),
                     env=_no_secrets_env())
    try:
        def answers():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as resp:
                    return resp.status
            except OSError:
                return None

        assert wait_for(answers, timeout=20) == 200
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    assert "not set" not in err


def test_commands_that_use_secrets_still_refuse_an_unset_one(secret_config):
    r = run_cli("--config", str(secret_config), "poll", "host", env=_no_secrets_env())
    assert r.returncode == 2
    assert f"{secret_config}:3: sources[0].headers.Authorization: environment variable SECRET is not set" \
        in r.stderr.splitlines()


def test_check_config_reports_every_unset_variable_one_line_each(secret_config):
    r = run_cli("--config", str(secret_config), "check-config", env=_no_secrets_env())
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"{secret_config}:3: sources[0].headers.Authorization: environment variable SECRET is not set",
        f"{secret_config}:5: dream.api_key: environment variable OPENAI_KEY is not set"]


def test_check_config_takes_the_services_environment_file(secret_config, tmp_path):
    env_file = tmp_path / "reverie.env"
    env_file.write_text("# the service's secrets\nSECRET='tok 123456'\nOPENAI_KEY=\"sk-abc\\\"def\"\n")
    r = run_cli("--config", str(secret_config), "check-config", "--env-file", str(env_file),
                env=_no_secrets_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok: ")
    assert "tok 123456" not in r.stdout + r.stderr


def test_check_config_with_an_env_file_missing_a_variable_names_it(secret_config, tmp_path):
    env_file = tmp_path / "reverie.env"
    env_file.write_text("SECRET=tok-123456\n")
    r = run_cli("--config", str(secret_config), "check-config", "--env-file", str(env_file),
                env=_no_secrets_env())
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"{secret_config}:5: dream.api_key: environment variable OPENAI_KEY is not set"]


def test_an_unreadable_env_file_is_one_line_exit_2(secret_config, tmp_path):
    r = run_cli("--config", str(secret_config), "check-config", "--env-file",
                str(tmp_path / "missing.env"), env=_no_secrets_env())
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"{tmp_path / 'missing.env'}: cannot read the environment file")


# -- small things ------------------------------------------------------------------------

def test_serve_with_a_port_out_of_range_is_one_usage_line():
    r = run_cli("serve", "--port", "99999")
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "reverie serve: Invalid value for '--port': 99999 is not in the range 1<=x<=65535."]


def test_sources_type_shows_its_options_defaults_and_an_example():
    r = run_cli("sources", "command")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("command: ")
    options = out.split("options:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    rows = {line.split()[0]: line.split(None, 3) for line in options}
    assert rows["command"][1:3] == ["list", "of"]  # "list of string  required"
    assert "required" in " ".join(rows["command"])
    assert rows["timeout"][1:3] == ["duration", '"10s"']
    assert rows["field"][1:3] == ["string", '"value"']
    assert all(len(r) == 4 for r in rows.values())  # every option has a description
    assert "example:\n  - name: inbox" in out


def test_sources_with_an_unknown_type_is_one_usage_line():
    r = run_cli("sources", "wether")
    assert r.returncode == 2
    assert r.stderr.startswith("sources: no source type 'wether' (available: ")


def test_the_command_source_reads_the_old_argv_key_with_one_warning(write_config):
    p = write_config("home: ./home\nsources:\n  - {name: n, type: command, argv: [echo, '1']}\n")
    r = run_cli("--config", str(p), "check-config")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == [
        f"warning: {p}:3: sources[0].argv: argv: is deprecated, rename it to command:"]


def test_the_command_source_refuses_both_names_at_once(write_config):
    p = write_config("home: ./home\nsources:\n  - {name: n, type: command, argv: [a], command: [b]}\n")
    r = run_cli("--config", str(p), "check-config")
    assert r.returncode == 2
    assert r.stderr.strip() == f"{p}:3: sources[0].argv: give command: only (argv: is its old name)"


def test_poll_prints_each_warning_it_counts(write_config):
    import json
    import sys

    argv = json.dumps([sys.executable, "-c", "print('{\"a\": 1}')"])
    p = write_config(f"home: ./home\nsources:\n  - name: n\n    type: command\n"
                     f"    command: {argv}\n    fields: {{a: a, b: b}}\n")
    r = run_cli("--config", str(p), "poll")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "n ok a=1 (1 warning)"
    assert lines[1].startswith("  warning: b: ")


def test_bench_without_time_machine_skips_its_row_saying_what_to_install():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, runpy; sys.modules['time_machine'] = None; "
            "sys.argv = ['bench', '--quick', 'P7']; runpy.run_module('bench', run_name='__main__')")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "skipping P7: needs time-machine (pip install -e '.[bench]')" in r.stderr.splitlines()
    assert "Traceback" not in r.stderr
