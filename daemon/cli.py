"""The `reverie` command line: parse, load the config, call in. Nothing else lives here."""

from __future__ import annotations

import sys
from datetime import date as Date
from pathlib import Path
from typing import Any

import click

from reverie.daemon import __version__

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
        try:
            obj[key] = config.load(path, env=env, need_secrets=need_secrets)
        except config.ConfigError as e:
            raise Usage("\n".join(e.problems)) from None
        logs.set_secrets(obj[key].secrets)
        _warn_once(ctx, obj[key])
    return obj[key]


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
        obj["facts"] = snapshot.read(path) or _loaded(ctx, need_secrets=False)
    if warn:
        _warn_once(ctx, obj["facts"])
    return obj["facts"]


def _store(loaded: Any, readonly: bool = False) -> Any:
    from reverie.memory.store import Store

    loaded.home.ensure()
    return Store.open(loaded.home.db, readonly=readonly)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="FILE", envvar=None,
              help="Config file (default: $REVERIE_CONFIG, ./reverie.yaml, then "
                   "~/.config/reverie/reverie.yaml).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]), help="Log threshold.")
@click.option("--log-format", default="auto", show_default=True,
              type=click.Choice(["auto", "json", "console", "journal"]),
              help="auto: console on a terminal, JSON otherwise, prefixed for journald under systemd.")
@click.version_option(__version__, prog_name="reverie")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str, log_format: str) -> None:
    """reverie gives a file-memory agent a day: it perceives, dreams, wakes and sleeps."""
    from reverie.daemon import logs

    ctx.ensure_object(dict)
    ctx.obj.update(config=config_path, log_level=log_level, log_format=log_format,
                   # `reverie systemd install` reads these lazily: --help needs no config.
                   config_path=lambda: _loaded(ctx).path.resolve(),
                   home=lambda: _loaded(ctx).config.home,
                   stop_timeout_s=lambda: _loaded(ctx).config.sessions.stop_timeout.total_seconds())
    logs.configure(log_level, log_format)


@cli.command()
@click.argument("home", required=False, type=click.Path(file_okay=False))
def init(home: str | None) -> None:
    """Create an agent home (default ~/agent) with an example config that works offline.

    Never overwrites a file: existing ones are kept and listed as kept.
    """
    from reverie.memory.home import init_home

    try:
        target = Path(home or "~/agent").expanduser()
    except RuntimeError:  # "~nosuchuser/x"
        raise click.UsageError(f"{home or '~/agent'}: no such user's home to expand ~ in "
                               "(write the path out)") from None
    for path, what in init_home(target):
        click.echo(f"{what:8} {path}")
    cfg = target.resolve() / "reverie.yaml"
    click.echo(f"next: reverie --config {cfg} check-config && reverie --config {cfg} run")


@cli.command("check-config")
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


@cli.group("config")
def config_group() -> None:
    """Inspect the configuration format."""


@config_group.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of reverie.yaml (for editors; needs no config file)."""
    from reverie.daemon import config

    import json

    click.echo(json.dumps(config.json_schema(), indent=2))


@cli.command()
@click.option("--for", "run_for", type=float, default=None, hidden=True,
              help="Stop after this many seconds (used by `reverie demo`).")
@click.pass_context
def run(ctx: click.Context, run_for: float | None) -> None:
    """Run the daemon in the foreground (what the systemd unit starts)."""
    from reverie.daemon.lifecycle import Daemon

    loaded = _loaded(ctx)
    d = Daemon(loaded, log_level=ctx.obj["log_level"], log_format=ctx.obj["log_format"],
               run_for=run_for)
    code = d.run()
    if d.abandoned_jobs:
        # Python's exit joins the thread pool's workers, which wait out a hung job's
        # own timeout (minutes): the session is consolidated and the store closed, so leave now.
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    ctx.exit(code)


@cli.command()
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.pass_context
def poll(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Poll sources once now (all enabled ones by default); exit 1 if any failed."""
    from reverie.perception import poll as poll_mod

    loaded = _loaded(ctx)
    specs = {s.name: s for s in loaded.config.sources}
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise Usage(f"{loaded.path}: sources: no source named {', '.join(map(repr, unknown))} "
                    f"(configured: {', '.join(specs) or 'none'})")
    chosen = [specs[n] for n in names] if names else [s for s in specs.values() if s.enabled]
    svc = _services(loaded)
    outcomes = poll_mod.poll_round(chosen, home=loaded.home, store=svc.store,
                                   secrets=loaded.secrets)
    failed = 0
    for o in outcomes:
        click.echo(o.line())
        for w in o.warnings:  # already one line each, secrets redacted
            click.echo(f"  warning: {w}")
        failed += not o.ok
    _refresh(svc)
    ctx.exit(EXIT_FAIL if failed else EXIT_OK)


def _services(loaded: Any, store: Any = None) -> Any:
    from reverie.daemon import services

    return services.build(loaded, store=store)


def _refresh(svc: Any) -> None:
    """Write perception/state.md and the morning page from the store."""
    problem = svc.refresh()
    if problem:
        click.echo(f"reverie: morning page not written: {problem}", err=True)


@cli.command()
@click.pass_context
def state(ctx: click.Context) -> None:
    """Print perception/state.md (rendering it first when the store is newer)."""
    facts = _facts(ctx, warn=False)
    home = facts.home
    stale = (not home.state_md.exists()) or (
        home.db.exists() and _newest_store_mtime(home) > home.state_md.stat().st_mtime)
    if not stale:
        _warn_once(ctx, facts)
    else:
        loaded = _loaded(ctx, need_secrets=False)  # rendering reads the whole config
        home = loaded.home
        svc = _services(loaded)
        _refresh(svc)
        svc.close()
        # closing checkpoints the WAL into the database, after state.md was written: without
        # this the next `reverie state` would find the record newer and render it again
        home.state_md.touch()
    from reverie.memory import safe_read

    try:  # the agent may have put a FIFO or a huge file there
        text = safe_read.read_text(home.state_md, errors="replace")
    except OSError as e:
        raise Failure(str(e) if isinstance(e, safe_read.UnsafeFile)
                      else f"{home.state_md}: {e.strerror or e}") from None
    click.echo(text, nl=False)


def _newest_store_mtime(home: Any) -> float:
    times = [p.stat().st_mtime for p in (home.db, home.db.with_name(home.db.name + "-wal"))
             if p.exists()]
    return max(times) if times else 0.0


@cli.command()
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The morning's date (default: today).")
@click.option("--force", is_flag=True, help="Write again; the old dream is kept as YYYY-MM-DD.N.md.")
@click.option("--backend", type=click.Choice(["offline", "openai"]), help="Override dream.backend.")
@click.option("--print", "show", is_flag=True, help="Print the dream file.")
@click.pass_context
def dream(ctx: click.Context, day: str | None, force: bool, backend: str | None, show: bool) -> None:
    """Write the dream for a date (once per date unless --force).

    Exits 1 when a model was wanted and the offline dream was written instead (the
    reason is on stderr and in the front matter)."""
    from reverie.memory import clock

    loaded = _loaded(ctx)
    try:
        d = Date.fromisoformat(day) if day else clock.now().astimezone(loaded.tz).date()
    except ValueError:
        raise Usage(f"--date: invalid date {day!r} (use YYYY-MM-DD)") from None
    svc = _services(loaded)
    out = svc.dream_now(d, force=force, backend=backend)
    if out.written:
        click.echo(f"dream written: {out.path} [{out.backend}]")
        _refresh(svc)
    else:
        click.echo(f"dream for {d} already written: {out.path} (use --force to write again)")
    if show:
        click.echo(Path(out.path).read_text(encoding="utf-8"))
    if out.written and out.fallback_reason:
        click.echo(f"reverie dream: the model's dream was not used, wrote the offline dream "
                   f"instead: {out.fallback_reason}", err=True)
        ctx.exit(EXIT_FAIL)


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


@cli.command()
@click.option("--reason", default="asked by `reverie wake`", show_default=True)
@click.pass_context
def wake(ctx: click.Context, reason: str) -> None:
    """Wake the agent now (through the daemon if it runs, else in the foreground)."""
    loaded = _loaded(ctx)
    reply = _ask_daemon(loaded, {"cmd": "wake", "reason": reason}, timeout=60)
    if reply is not None:
        if reply.get("outcome") == "started":
            click.echo(f"woke the agent: session {reply.get('session_id')}")
            return
        raise Failure(f"not woken: {reply.get('reason') or reply.get('error')}")
    from reverie.daemon import foreground

    _need_sessions(loaded)
    try:
        res = foreground.wake(loaded, reason, warn=lambda m: click.echo(m, err=True))
    except foreground.ForegroundError as e:
        raise Failure(str(e)) from None
    click.echo(f"session {res.session_id}: {res.outcome} ({res.reason})")
    ctx.exit(EXIT_OK if res.outcome == "started" else EXIT_FAIL)


@cli.command()
@click.pass_context
def sleep(ctx: click.Context) -> None:
    """Put the agent to sleep now and consolidate what it wrote."""
    loaded = _loaded(ctx)
    stop_s = loaded.config.sessions.stop_timeout.total_seconds()
    reply = _ask_daemon(loaded, {"cmd": "sleep"}, timeout=stop_s + 60)
    if reply is not None:
        click.echo("the agent sleeps" if reply.get("stopped") else "no session was running")
        return
    from reverie.daemon import foreground

    _need_sessions(loaded)
    try:
        click.echo(foreground.sleep(loaded, warn=lambda m: click.echo(m, err=True)))
    except foreground.ForegroundError as e:
        raise Failure(str(e)) from None


@cli.command()
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds to wait for the daemon's answer.")
@click.pass_context
def reload(ctx: click.Context, timeout: float) -> None:
    """Make the running daemon re-read its config, and say whether it took it.

    Exit 0 when the new config is live; 1 when the daemon refused it (its problems are
    printed, one line each, and the previous config keeps running); 3 when no daemon
    runs (as `reverie status`). The units' ExecReload= runs this, so a refused config
    fails `systemctl reload`."""
    from reverie.daemon import config, control
    from reverie.memory.home import Home

    path = config.resolve_path(ctx.obj.get("config"))
    try:
        home = _loaded(ctx, need_secrets=False).home
    except Usage as e:
        # The daemon reads the file itself and refuses it with these same lines; it only
        # has to be found, through the `home:` the file still names.
        found = config.home_hint(path)
        if found is None:
            click.echo(e.message, err=True)
            raise Failure("config refused (the daemon was not asked: the file does not "
                          "say where its home is); the daemon keeps its config") from None
        home = Home.at(found)
    try:
        reply = control.request(home.socket, {"cmd": "reload"}, timeout=timeout)
    except control.DaemonNotRunning:
        click.echo(f"reverie: no daemon is running on {home.root} (nothing to reload; "
                   "after changing `home:`, restart it)", err=True)
        ctx.exit(3)
    except control.ControlError as e:
        raise Failure(str(e)) from None
    if reply.get("ok"):
        click.echo(f"reloaded: the new config is live ({reply.get('sources', 0)} sources)")
        return
    for line in reply.get("problems") or ():
        click.echo(line, err=True)
    if reply.get("problems"):
        raise Failure("config refused; the daemon keeps running the previous config")
    raise Failure(f"not reloaded: {reply.get('error')}")


def _need_sessions(loaded: Any) -> None:
    if not loaded.config.sessions.enabled:
        raise Usage(f"{loaded.path}: sessions.command: not configured (no agent to wake)")


@cli.command()
@click.option("--json", "as_json", is_flag=True,
              help="Print the status as one JSON document (its shape is in the README).")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the daemon, each source's health and next run, the session, next wake and dream.

    Exits 0 when the daemon is running and 3 when it is not (as `systemctl is-active`)."""
    import json

    from reverie.daemon import status as st

    data = st.collect(_facts(ctx))
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else st.render_text(data))
    ctx.exit(st.exit_code(data))


@cli.command()
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The diary's date (default: today).")
@click.pass_context
def distill(ctx: click.Context, day: str | None) -> None:
    """Propose a summary of a day's diary into memory/ (memory.distill: openai)."""
    from reverie.memory import clock
    from reverie.perception.distill import DistillFailure, distill_day

    loaded = _loaded(ctx)
    if not loaded.config.memory.distill:
        raise Usage(f"{loaded.path}: memory.distill: not enabled (set it to openai)")
    try:
        d = Date.fromisoformat(day) if day else clock.now().astimezone(loaded.tz).date()
    except ValueError:
        raise Usage(f"--date: invalid date {day!r} (use YYYY-MM-DD)") from None
    store = _store(loaded)
    try:
        out = distill_day(loaded.home, store, loaded.config.dream, day=d, secrets=loaded.secrets)
    except DistillFailure as e:
        raise Failure(f"no summary for {d}: {e}") from None
    if out is None:
        click.echo(f"nothing to distill for {d} (no diary, or unchanged since the last summary)")
    else:
        click.echo(f"proposed: {out.path} ({out.tokens} tokens)")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def audit(ctx: click.Context, file: str) -> None:
    """Check every number in a dream against the record of its cycle; exit 1 if any is unbacked."""
    from reverie.perception.audit import audit as run_audit

    loaded = _loaded(ctx, need_secrets=False)
    path = Path(file)
    if not path.exists():
        raise Usage(f"{file}: no such file")
    store = _store(loaded)
    report = run_audit(path, store)
    click.echo(report.format())
    ctx.exit(EXIT_OK if report.ok else EXIT_FAIL)


@cli.command()
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
            summary = f"(failed to load: {e.__class__.__name__}: {e})"
        where = "" if origin == "built-in" else f"  [{origin}]"
        click.echo(f"{name:10} {summary}{where}")


@cli.command()
@click.option("--home", "home", type=click.Path(file_okay=False),
              help="Where to build the demo home (default: a new temporary folder).")
@click.pass_context
def demo(ctx: click.Context, home: str | None) -> None:
    """Run a whole compressed day offline in a demo home and show where everything went."""
    from reverie.daemon.demo import run_demo

    ctx.exit(run_demo(Path(home) if home else None, echo=click.echo))


@cli.command()
@click.pass_context
def page(ctx: click.Context) -> None:
    """Write morning.html: the dream, signal charts, health and sessions on one page."""
    from reverie.perception.page import PageError

    svc = _services(_loaded(ctx, need_secrets=False))
    try:
        path = svc.render_page()
    except PageError as e:
        raise Failure(str(e)) from None
    click.echo(f"{path}  (open it in a browser: file://{path})")


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback exposes the page to the network.")
@click.pass_context
def serve(ctx: click.Context, port: int, host: str) -> None:
    """Serve morning.html, /metrics and /healthz (nothing else) read-only, on 127.0.0.1
    by default."""
    from reverie.memory.store import Store
    from reverie.perception.serve import ServeError, bind_warning
    from reverie.perception.serve import serve as run_server

    loaded = _loaded(ctx, need_secrets=False)
    warning = bind_warning(host)
    if warning:
        click.echo(warning, err=True)
    home = loaded.home
    _store(loaded).close()  # make sure the store exists before opening it read-only
    try:
        run_server(home, lambda: Store.open(home.db, readonly=True), loaded.config.sources,
                   loaded.tz, host=host, port=port, echo=click.echo)
    except ServeError as e:
        raise Failure(str(e)) from None


def _add_systemd() -> None:
    try:
        from reverie.daemon.systemd import systemd_group
    except ImportError:
        return
    cli.add_command(systemd_group, "systemd")


_add_systemd()


def main(argv: list[str] | None = None) -> int:
    """Entry point: never a traceback for a user's mistake; exit 0, 1 or 2."""
    if argv is None:  # the process's own command line: the process ends after it
        return _last(_main(argv))
    return _main(argv)


def _last(code: int) -> int:
    """``code``, with every object moved to the collector's permanent generation, so the
    interpreter's last collections at exit skip them: they walked every pydantic, click
    and YAML object to free memory the exit frees anyway (a sixth of `reverie
    check-config`'s time). Objects are still freed by their reference counts, the
    standard streams flushed and atexit handlers run."""
    import gc

    gc.freeze()
    return code


def _main(argv: list[str] | None) -> int:
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
    except Exception as e:  # the last line of defence: one line, details in the log
        from reverie.daemon import logs

        logs.get("reverie").debug("cli.crashed", exc_info=True)
        click.echo(f"reverie: error: {logs.scrub(f'{e.__class__.__name__}: {e}')}", err=True)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
