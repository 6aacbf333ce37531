"""The command line contract: help everywhere, version, exit codes."""

from __future__ import annotations

import click
import pytest

from reverie.daemon import __version__
from reverie.daemon.cli import cli, main
from tests.conftest import run_cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
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
