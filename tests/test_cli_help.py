"""`reverie --help` is rendered from the command table without importing click, and says
exactly what click would: the table is checked against each command's own help, the
options against the group's, and the layout against click's own formatter."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from reverie.daemon.cli import _help, cli, main

from tests.conftest import reverie_env


def _context() -> click.Context:
    return click.Context(cli, info_name="reverie", **cli.context_settings)


def test_every_command_in_the_table_is_found_and_its_short_help_is_its_own():
    ctx = _context()
    for name, (_module, _attr, short) in _help.COMMANDS.items():
        cmd = cli.get_command(ctx, name)
        assert isinstance(cmd, click.Command), name
        assert short == cmd.get_short_help_str(limit=10**6), name


def test_the_options_listed_are_the_groups_own():
    ctx = _context()
    records = [p.get_help_record(ctx) for p in cli.get_params(ctx)]
    assert tuple(r for r in records if r) == _help.OPTIONS


@pytest.mark.parametrize("width", [50, 57, 64, 78])
def test_the_help_is_laid_out_as_clicks_own_formatter_lays_it_out(width):
    ctx = _context()
    for name in _help.COMMANDS:  # the real commands, with their own docstrings
        cli.get_command(ctx, name)
    formatter = click.HelpFormatter(width=width)
    click.Group.format_help(cli, ctx, formatter)
    assert _help.render(width) == formatter.getvalue()


def _run(*args: str, columns: str = "80") -> subprocess.CompletedProcess:
    code = ("import sys\nfrom reverie.daemon.cli import main\ncode = main()\n"
            "loaded = sorted(m for m in sys.modules if m == 'click' or m.startswith("
            "('click.', 'reverie.daemon.cli.')))\nprint(loaded, file=sys.stderr)\n"
            "sys.exit(code)\n")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env={**reverie_env(), "COLUMNS": columns}, timeout=60)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_reverie_help_prints_what_the_group_prints_and_imports_neither_click_nor_a_command(
        flag):
    out = _run(flag, columns="70")
    assert out.returncode == 0
    assert out.stderr.strip() == "['reverie.daemon.cli._help']"
    assert out.stdout == _help.render(68)
    assert out.stdout.startswith("Usage: reverie [OPTIONS] COMMAND [ARGS]...\n")
    assert "\n  status        Show the daemon, each source's health and next...\n" in out.stdout


def test_reverie_alone_prints_the_help_on_stderr_and_exits_2():
    out = _run()
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("Usage: reverie [OPTIONS] COMMAND [ARGS]...\n\n  reverie gives")
    assert "\nCommands:\n  audit " in out.stderr


@pytest.mark.parametrize("options", [["--config", "reverie.yaml"], ["--log-level", "debug"]])
def test_options_without_a_command_print_the_same_help_as_reverie_alone(options, capsys):
    assert main(options) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == _help.render(_help.width())


def test_a_command_runs_after_importing_only_its_own_module():
    out = _run("sources")
    assert out.returncode == 0, out.stderr
    loaded = eval(out.stderr.strip().splitlines()[-1])
    assert [m for m in loaded if m.startswith("reverie.daemon.cli.")] == [
        "reverie.daemon.cli._app", "reverie.daemon.cli._common", "reverie.daemon.cli._help",
        "reverie.daemon.cli._shortcut", "reverie.daemon.cli.home"]


def test_an_unknown_command_is_one_line_and_exit_2(capsys):
    assert main(["nosuch"]) == 2
    assert capsys.readouterr().err == "reverie: No such command 'nosuch'.\n"


def test_a_command_whose_module_cannot_be_imported_is_a_broken_install_not_an_unknown_command(
        monkeypatch, capsys):
    _module, attr, summary = _help.COMMANDS["sources"]
    monkeypatch.setitem(_help.COMMANDS, "sources", ("reverie.daemon.cli.gone", attr, summary))
    monkeypatch.delitem(cli.commands, "sources", raising=False)  # loaded by an earlier test
    assert main(["sources"]) == 1
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == "reverie: error: ModuleNotFoundError: No module named 'reverie.daemon.cli.gone'"
