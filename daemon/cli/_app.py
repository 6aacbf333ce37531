"""The top-level `reverie` group: its options, its commands found through the table in
``_help`` (each imported only when it runs), and the one place a failure becomes a line."""

from __future__ import annotations

import sys

import click

from reverie.daemon import __version__
from reverie.daemon.cli import _help
from reverie.daemon.cli._common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, _loaded


class _Group(click.Group):
    """Commands come from ``_help.COMMANDS``: a command's module is imported when the
    command is looked up to run (or for its own help), so `reverie status` never
    imports what `reverie backup` needs. Its own help is ``_help.render``'s."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_help.COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _help.COMMANDS:
            import importlib

            module, attr, _ = _help.COMMANDS[cmd_name]
            try:
                self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
            except ImportError as e:  # `systemd` without the pwd module: left out
                if e.name != "pwd":  # any other is a broken install, not a missing command
                    raise
                return None
        return self.commands.get(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write(_help.render(formatter.width))


# invoked without a command only to answer as `reverie` alone does: a command is required
@click.group(cls=_Group, invoke_without_command=True, subcommand_metavar="COMMAND [ARGS]...",
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="FILE", envvar=None,
              help="Config file (default: $REVERIE_CONFIG, ./reverie.yaml, then "
                   "~/.config/reverie/reverie.yaml).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]), help="Log threshold.")
@click.option("--log-format", default="auto", show_default=True,
              type=click.Choice(["auto", "json", "console", "journal"]),
              help="auto: console on a terminal, JSON otherwise, prefixed for journald under systemd.")
@click.option("--log-to", "log_to", default="stderr", show_default=True,
              type=click.Choice(["stderr", "stdout"]),
              help="Where log lines go (the container image logs to stdout).")
@click.version_option(__version__, prog_name="reverie")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str, log_format: str,
        log_to: str) -> None:
    """reverie gives a file-memory agent a day: it perceives, dreams, wakes and sleeps."""
    from reverie.daemon import logs

    if ctx.invoked_subcommand is None:  # options but no command: as `reverie` alone
        click.echo(_help.render(_help.width()), err=True, nl=False)
        ctx.exit(2)

    ctx.ensure_object(dict)
    ctx.obj.update(config=config_path,
                   # `reverie systemd install` reads these lazily: --help needs no config.
                   # Rendering a unit needs no secret (`sudo` does not pass the service's).
                   config_path=lambda: _loaded(ctx, need_secrets=False).path.resolve(),
                   home=lambda: _loaded(ctx, need_secrets=False).config.home,
                   state_dir=lambda: _loaded(ctx, need_secrets=False).config.state_dir,
                   name=lambda: _loaded(ctx, need_secrets=False).name,
                   stop_timeout_s=lambda: _loaded(ctx, need_secrets=False)
                   .config.sessions.stop_timeout.total_seconds(),
                   agent_user=lambda: _loaded(ctx, need_secrets=False).config.sessions.user)
    # stdout for the container image: its engine collects stdout
    logs.configure(log_level, log_format, stream=sys.stdout if log_to == "stdout" else None)


def run(argv: list[str] | None) -> int:
    """Run the group on ``argv``: never a traceback for a user's mistake; exit 0, 1 or 2."""
    try:
        rv = cli.main(args=argv, prog_name="reverie", standalone_mode=False)
        return rv if isinstance(rv, int) else EXIT_OK
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.UsageError as e:  # one line, not click's usage block
        where = e.ctx.command_path if e.ctx else "reverie"
        click.echo(f"{where}: {' '.join(e.format_message().split())}", err=True)
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("reverie: aborted", err=True)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our stdout stopped early
        from reverie.daemon.cli import _shortcut

        return _shortcut.broken_pipe()
    except Exception as e:  # the last line of defence: one line, details in the log
        from reverie.memory.home import StateError
        from reverie.memory.trust import UntrustedFile

        if isinstance(e, (StateError, UntrustedFile)):  # the layout is wrong: exit 2
            click.echo(f"reverie: {e}", err=True)
            return EXIT_USAGE
        from reverie.daemon import logs

        logs.get("reverie").debug("cli.crashed", exc_info=True)
        click.echo(f"reverie: error: {logs.error_text(e)}", err=True)
        return EXIT_FAIL
