"""What every command shares: its two kinds of failure, the config's load (once per
invocation), root's refusals, and the store and services a command opens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pathlib is imported where a path is made
    from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class Usage(click.ClickException):
    """A bad config or bad input: one line (or one per problem), exit 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


class Failure(click.ClickException):
    exit_code = EXIT_FAIL

    def show(self, file: Any = None) -> None:
        click.echo(f"reverie: {self.message}", err=True)


def _loaded(ctx: click.Context, need_secrets: bool = True, env: dict | None = None) -> Any:
    """The validated config (loaded once per invocation), or exit 2 with its problems.

    Commands that only read the home pass ``need_secrets=False``: an admin without the
    service's environment file can still run them (an unset ${VAR} is left out)."""
    obj = ctx.ensure_object(dict)
    key = "loaded" if need_secrets else "loaded_readonly"
    if key not in obj:
        from reverie.daemon import config, logs

        path = config.resolve_path(obj.get("config"))
        _root_guard(ctx, [path])
        try:
            obj[key] = config.load(path, env=env, need_secrets=need_secrets)
        except config.ConfigError as e:
            raise Usage("\n".join(e.problems)) from None
        logs.set_secrets(obj[key].secrets)
        _root_guard(ctx, obj[key].home.every_path(), path)
        if need_secrets and ctx.find_root().invoked_subcommand not in ROOT_ANYWAY:
            # what runs or renders: never from a file the agent could write
            from reverie.daemon import strict

            refused = strict.problems(obj[key])
            if refused:
                raise Usage("\n".join(refused))
        _warn_once(ctx, obj[key])
    return obj[key]


# -- root runs nothing in the agent's home (docs/security.md) --------------------------

# what root may run whatever the files: they read the config at most, never a home
ROOT_ANYWAY = frozenset({"systemd", "config", "sources"})


def _root_guard(ctx: click.Context, paths: list[Path], config_path: Path | None = None) -> None:
    """As root, refuse (exit 2, one line) to touch what another user can write: that user
    could have put a `command` source in the config or a link where reverie writes.
    sshd's StrictModes: every path and each folder above it owned by root and writable
    by nobody else (a sticky /tmp aside)."""
    import os

    if os.geteuid() != 0 or ctx.find_root().invoked_subcommand in ROOT_ANYWAY:
        return
    from reverie.memory import trust

    bad = trust.root_refusal(paths)
    if bad is None:
        return
    sub = ctx.command_path.partition(" ")[2] or ctx.find_root().invoked_subcommand or ""
    cfg = config_path or (paths[0] if paths else None)
    if not bad.owner:  # root's own, but writable by others
        raise Usage(f"{ctx.command_path}: refusing to run as root: {bad}; make it writable "
                    "by root alone (chmod go-w), or run reverie as the home's user")
    raise Usage(f"{ctx.command_path}: refusing to run as root: {bad}; run it as that user: "
                f"sudo -u {trust.user_name(bad.owner)} reverie --config {cfg} {sub}")


def _warn_once(ctx: click.Context, loaded: Any) -> None:
    obj = ctx.ensure_object(dict)
    if not obj.get("warned"):
        obj["warned"] = True
        for line in loaded.warnings:
            click.echo(f"warning: {line}", err=True)


def _facts(ctx: click.Context, warn: bool = True) -> Any:
    """For status and state: the config's facts from its home's snapshot when it matches
    the file as it is now (no config models, no cron library), else the read-only load.
    ``warn=False`` leaves the config's warnings to a full load that may follow."""
    obj = ctx.ensure_object(dict)
    if "facts" not in obj:
        from reverie.daemon import snapshot

        path = snapshot.resolve_path(obj.get("config"))
        _root_guard(ctx, [path])
        facts = snapshot.read(path)
        if facts is not None:
            _root_guard(ctx, facts.home.every_path(), path)
        obj["facts"] = facts or _loaded_or_running(ctx, path)
    if warn:
        _warn_once(ctx, obj["facts"])
    return obj["facts"]


def _loaded_or_running(ctx: click.Context, path: Path) -> Any:
    """The read-only load; while the file is invalid, the facts of the config the daemon
    runs (daemon/snapshot.py), its problems in ``config_errors`` and one line on stderr:
    a typo being edited is no outage of the daemon, which keeps its previous config."""
    try:
        return _loaded(ctx, need_secrets=False)
    except Usage as e:
        from reverie.daemon import config, snapshot

        facts = snapshot.read_running(path, config.home_hint(path))
        if facts is None:
            raise
        _root_guard(ctx, facts.home.every_path(), path)
        facts.config_errors = e.message.splitlines()
        facts.warnings = []  # the running config's, not the file's: its problems are the news
        n = len(facts.config_errors)
        click.echo(f"reverie: {path} has {n} problem{'s' if n != 1 else ''} (`reverie "
                   "check-config` lists them); answering from the last good config the "
                   "daemon took", err=True)
        return facts


def _config_path(ctx: click.Context) -> Path:
    from reverie.daemon import snapshot

    return snapshot.resolve_path(ctx.ensure_object(dict).get("config"))


def _store(loaded: Any) -> Any:
    from reverie.memory.store import Store

    loaded.home.ensure()
    return Store.open(loaded.home.db)


def _services(loaded: Any) -> Any:
    from reverie.daemon import services

    return services.build(loaded)


def _refresh(svc: Any) -> None:
    """Write perception/state.md and the morning page from the store."""
    problem = svc.refresh()
    if problem:
        click.echo(f"reverie: morning page not written: {problem}", err=True)


def _ask_daemon(loaded: Any, payload: dict, timeout: float) -> dict | None:
    from reverie.daemon import control

    if not loaded.home.socket.exists():
        return None
    try:
        return control.request(loaded.home.socket, payload, timeout=timeout)
    except control.DaemonNotRunning:
        return None
    except control.ControlError as e:  # one line, not "error: ControlError: ..."
        raise Failure(str(e)) from None


def _need_sessions(loaded: Any) -> None:
    if not loaded.config.sessions.enabled:
        raise Usage(f"{loaded.path}: sessions.command: not configured (no agent to wake)")
