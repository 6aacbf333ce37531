"""Making and checking a home: init, check-config, config schema, sources, demo."""

from __future__ import annotations

import click

from reverie.daemon.cli._common import Usage, _loaded, _root_guard
from reverie.memory.errors import described


@click.command()
@click.argument("home", required=False, type=click.Path(file_okay=False))
@click.option("--state-dir", "state_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Keep reverie's own files (the record) here, and say so in the config "
                   "(default: ${XDG_STATE_HOME:-~/.local/state}/reverie/<home's name>).")
@click.pass_context
def init(ctx: click.Context, home: str | None, state_dir: str | None) -> None:
    """Create an agent home (default ~/agent) with an example config that works offline.

    Never overwrites a file: existing ones are kept and listed as kept.
    """
    from pathlib import Path

    from reverie.memory.home import init_home

    try:
        target = Path(home or "~/agent").expanduser()
    except RuntimeError:  # "~nosuchuser/x"
        raise click.UsageError(f"{home or '~/agent'}: no such user's home to expand ~ in "
                               "(write the path out)") from None
    _root_guard(ctx, [target, *([Path(state_dir)] if state_dir else [])],
                target / "reverie.yaml")
    for path, what in init_home(target, Path(state_dir).expanduser().absolute()
                                if state_dir else None):
        click.echo(f"{what:8} {path}")
    cfg = target.resolve() / "reverie.yaml"
    click.echo(f"next: reverie --config {cfg} check-config && reverie --config {cfg} run")


@click.command("check-config")
@click.option("--env-file", "env_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Take ${VAR}s from this file (systemd EnvironmentFile= syntax) over the "
                   "environment: check with the service's secrets without becoming the service.")
@click.pass_context
def check_config(ctx: click.Context, env_file: str | None) -> None:
    """Validate the config: print its problems (exit 2) or one line of what it sets up.

    Every unset ${VAR} is a problem here, one line each, although the commands that only
    read the home (status, state, page, audit, serve) run without them."""
    import os

    from reverie.daemon import config

    env = None
    if env_file:
        try:
            env = {**os.environ, **config.read_env_file(env_file)}
        except config.ConfigError as e:
            raise Usage("\n".join(e.problems)) from None
    from reverie.perception.redact import redact

    loaded = _loaded(ctx, env=env)
    click.echo(redact(config.summary(loaded), loaded.secrets))


@click.group("config")
def config_group() -> None:
    """Inspect the configuration format."""


@config_group.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of reverie.yaml (for editors; needs no config file)."""
    from reverie.daemon import config

    import json

    click.echo(json.dumps(config.json_schema(), indent=2))


@click.command()
@click.argument("type_name", required=False, metavar="[TYPE]")
def sources(type_name: str | None) -> None:
    """List every available source type, one line each; with TYPE, that type's options."""
    from reverie.perception import sources as registry

    if type_name:
        from reverie.daemon.config import describe_source_type

        try:
            click.echo(describe_source_type(type_name), nl=False)
        except KeyError:
            raise Usage(f"sources: no source type {type_name!r} "
                        f"(available: {', '.join(sorted(registry.available()))})") from None
        return
    for name, origin in sorted(registry.available().items()):
        try:
            summary = registry.summary(registry.get(name))
        except Exception as e:
            summary = f"(failed to load: {described(e)})"
        where = "" if origin == "built-in" else f"  [{origin}]"
        click.echo(f"{name:10} {summary}{where}")


@click.command()
@click.option("--home", "home", type=click.Path(file_okay=False),
              help="Where to build the demo home (default: a new temporary folder).")
@click.pass_context
def demo(ctx: click.Context, home: str | None) -> None:
    """Run a whole compressed day offline in a demo home and show where everything went."""
    from pathlib import Path

    from reverie.daemon.demo import run_demo

    if home:
        _root_guard(ctx, [Path(home)])
    ctx.exit(run_demo(Path(home) if home else None, echo=click.echo))
