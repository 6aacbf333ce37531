"""The `reverie` command line: parse, load the config, call in. Nothing else lives here."""

from __future__ import annotations

import sys
from datetime import date as Date
from typing import TYPE_CHECKING, Any, NoReturn

import click

from reverie.daemon import __version__

if TYPE_CHECKING:  # pathlib is imported where a path is made: `--help` makes none
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
        _root_guard(ctx, _home_paths(obj[key].home), path)
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


def _home_paths(home: Any) -> list[Path]:
    """What a command on ``home`` may read, write or follow: the home and its folders,
    the state folder, and the record's files in both the old and the new place."""
    old = home.old_private
    return [home.root, home.perception_dir, home.dreams_dir, home.diary_dir,
            home.memory_dir, home.taking_dir, old, old / "sessions", old / "reverie.db",
            old / "reverie.lock", home.state, home.sessions_dir, home.db, home.lock]


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
            _root_guard(ctx, _home_paths(facts.home), path)
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
        _root_guard(ctx, _home_paths(facts.home), path)
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


def _store(loaded: Any, readonly: bool = False) -> Any:
    from reverie.memory.store import Store

    loaded.home.ensure()
    return Store.open(loaded.home.db, readonly=readonly)


class _Group(click.Group):
    """The top-level group, with commands imported only when they are looked up to run
    (or for their own help): `reverie --help` lists them from LAZY's short help lines."""

    # name -> (module, attribute, short help as the command's docstring gives it)
    LAZY = {"systemd": ("reverie.daemon.systemd", "systemd_group",
                        "Run reverie as a systemd service.")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None or cmd_name not in self.LAZY:
            return cmd
        import importlib

        module, attr, _ = self.LAZY[cmd_name]
        try:
            cmd = getattr(importlib.import_module(module), attr)
        except ImportError:  # e.g. no pwd module: the command is left out, as before
            return None
        self.add_command(cmd, cmd_name)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lazy = [name for name in self.LAZY if name not in self.commands]
        for name in lazy:  # a stand-in with the same short help, for the listing only
            self.commands[name] = click.Command(name, short_help=self.LAZY[name][2])
        try:
            super().format_commands(ctx, formatter)
        finally:
            for name in lazy:
                del self.commands[name]


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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

    ctx.ensure_object(dict)
    ctx.obj.update(config=config_path, log_level=log_level, log_format=log_format,
                   # `reverie systemd install` reads these lazily: --help needs no config.
                   # Rendering a unit needs no secret (`sudo` does not pass the service's).
                   config_path=lambda: _loaded(ctx, need_secrets=False).path.resolve(),
                   home=lambda: _loaded(ctx, need_secrets=False).config.home,
                   state_dir=lambda: _loaded(ctx, need_secrets=False).config.state_dir,
                   name=lambda: _loaded(ctx, need_secrets=False).name,
                   stop_timeout_s=lambda: _loaded(ctx, need_secrets=False)
                   .config.sessions.stop_timeout.total_seconds(),
                   agent_user=lambda: _loaded(ctx, need_secrets=False).config.sessions.user)
    logs.configure(log_level, log_format)
    if log_to == "stdout":  # the container image: its engine collects stdout
        logs.configure(log_level, log_format, stream=sys.stdout)


@cli.command()
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
    if not stale or getattr(facts, "config_errors", None):
        _warn_once(ctx, facts)  # an invalid file: the daemon renders it from its config
        if not home.state_md.exists():
            raise Failure(f"{home.state_md}: not written yet (the daemon writes it)")
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
        from pathlib import Path

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
        from pathlib import Path

        from reverie.daemon import snapshot

        try:  # its state folder, from the same lines the status shortcut reads
            state = snapshot.state_line(path, Path(path).read_text(encoding="utf-8"), found)
        except (OSError, UnicodeDecodeError):
            state = None
        home = Home.at(found, state)
        _root_guard(ctx, _home_paths(home), path)
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
    """Distil a day's diary into memory/, every line citing its sources (memory.distill)."""
    from reverie.memory import clock
    from reverie.perception.distill import DistillFailure, distill_day

    loaded = _loaded(ctx)
    if not loaded.config.memory.distill:
        raise Usage(f"{loaded.path}: memory.distill: not enabled (set it to offline or openai)")
    try:
        d = Date.fromisoformat(day) if day else clock.now().astimezone(loaded.tz).date()
    except ValueError:
        raise Usage(f"--date: invalid date {day!r} (use YYYY-MM-DD)") from None
    store = _store(loaded)
    try:
        mem = loaded.config.memory
        out = distill_day(loaded.home, store, loaded.config.dream, day=d, secrets=loaded.secrets,
                          mode=mem.distill, patterns_days=mem.patterns_days)
    except DistillFailure as e:
        raise Failure(f"no summary for {d}: {e}") from None
    if out is None:
        click.echo(f"nothing to distill for {d} (no diary, or unchanged since the last summary)")
    else:
        c = out.counts
        click.echo(f"proposed: {out.path} ({out.backend}, {out.tokens} tokens; {c.get('bullets', 0)} "
                   f"lines, {c.get('cited', 0)} cited, {c.get('supported', 0)} supported; "
                   f"{out.patterns} patterns)")
        if out.fallback_reason:
            click.echo(f"the model's bullets were not kept: {out.fallback_reason}")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.option("--all", "every", is_flag=True, help="Audit every file of memory/ that cites the diary.")
@click.pass_context
def audit(ctx: click.Context, file: str | None, every: bool) -> None:
    """Check every number in a dream against the record of its cycle, or (a file under
    memory/, or --all) every memory line against the diary lines it cites; exit 1 if any
    is unbacked."""
    from reverie.perception.audit import audit as run_audit

    loaded = _loaded(ctx, need_secrets=False)
    if every or file is None or _under_memory(loaded, file):
        _audit_memory(ctx, loaded, None if every else file)
    from pathlib import Path

    path = Path(file)
    if not path.exists():
        raise Usage(f"{file}: no such file")
    store = _store(loaded)
    report = run_audit(path, store)
    click.echo(report.format())
    ctx.exit(EXIT_OK if report.ok else EXIT_FAIL)


def _under_memory(loaded, file: str) -> bool:
    """A path in the home's memory/ (given from the home or from the current directory)."""
    from pathlib import Path

    memory = loaded.home.memory_dir.resolve()
    return any(memory in p.resolve().parents for p in (Path(file), loaded.home.root / file))


def _audit_memory(ctx: click.Context, loaded, file: str | None) -> NoReturn:
    """`reverie audit memory/FILE` or `--all` (perception/memory_audit.py)."""
    from reverie.perception import memory_audit as ma

    root = loaded.home.root
    if file is None:
        reports = ma.audit_all(root)
        if not reports:
            click.echo("memory/: no file cites the diary yet")
    else:
        from pathlib import Path

        path = next((p for p in (Path(file), root / file) if p.is_file()), None)
        if path is None:
            raise Usage(f"{file}: no such file")
        reports = [ma.audit_file(root, path)]
    for r in reports:
        click.echo(r.format())
    if len(reports) > 1:
        click.echo(ma.totals(reports))
    ctx.exit(EXIT_OK if all(r.ok for r in reports) else EXIT_FAIL)


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
    from pathlib import Path

    from reverie.daemon.demo import run_demo

    if home:
        _root_guard(ctx, [Path(home)])
    ctx.exit(run_demo(Path(home) if home else None, echo=click.echo))


@cli.command()
@click.pass_context
def page(ctx: click.Context) -> None:
    """Write morning.html: the dream, signal charts, health and sessions on one page."""
    from reverie.perception.page import PageError, render_page

    facts = _loaded_or_running(ctx, _config_path(ctx))
    try:
        if getattr(facts, "config_errors", None):  # the file is invalid: the daemon's facts
            store = _store(facts)
            try:
                path = render_page(facts.home, store, facts.config.sources, tz=facts.tz)
            finally:
                store.close()
        else:
            path = _services(facts).render_page()
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
                   loaded.tz, host=host, port=port, echo=click.echo,
                   metrics_options={"agent": loaded.name,
                                    "signals": loaded.config.metrics.signals})
    except ServeError as e:
        raise Failure(str(e)) from None


# -- fleet: backup, restore, export (issue 23) -------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--max-bytes", default="4GiB", show_default=True, metavar="SIZE",
              help="Budget for the home's files (the record aside); past it files are left out.")
@click.pass_context
def backup(ctx: click.Context, file: str, max_bytes: str) -> None:
    """Write one archive (tar.gz) of the agent: the record, its home, its config.

    Safe while the daemon runs: the record is copied through SQLite's online backup API.
    Exits 1 when a file had to be left out (listed here and in the archive's manifest)."""
    from reverie.daemon import backup as bk
    from reverie.daemon.config import parse_size

    try:
        budget = parse_size(max_bytes)
    except ValueError as e:
        raise Usage(f"--max-bytes: {e}") from None
    loaded = _loaded(ctx, need_secrets=False)
    try:
        out = bk.backup(loaded, file, max_bytes=budget)
    except (bk.BackupError, OSError) as e:
        raise Failure(f"no backup written: {e}") from None
    rows = sum(out.record.values())
    click.echo(f"backup written: {out.path} ({out.files} files, {out.bytes} bytes; "
               f"the record: {rows} rows)")
    for item in out.left_out:
        click.echo(f"  left out: {item['path']}: {item['why']}", err=True)
    ctx.exit(EXIT_FAIL if out.left_out else EXIT_OK)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--home", "home_dir", required=True, type=click.Path(file_okay=False),
              help="The new home (empty or absent).")
@click.option("--state-dir", type=click.Path(file_okay=False),
              help="Where the record goes (default: what the restored config says).")
@click.option("--config-to", type=click.Path(dir_okay=False),
              help="Where to write the config when it lived outside the home.")
def restore(file: str, home_dir: str, state_dir: str | None, config_to: str | None) -> None:
    """Restore a `reverie backup` archive into a new, empty home.

    Refuses a home whose daemon runs or that is not empty, and any archive with a member
    that would land outside the home or the state folder. The restored config points at
    the new home."""
    from reverie.daemon import backup as bk

    try:
        r = bk.restore(file, home_dir, state_dir=state_dir, config_to=config_to)
    except bk.Refused as e:
        raise Usage(f"reverie restore: {e}") from None
    except (bk.BackupError, OSError) as e:
        raise Failure(f"restore failed: {e}") from None
    click.echo(f"restored: {r.files} files into {r.home}; the record "
               f"({sum(r.record.values())} rows) into {r.state}")
    click.echo(f"next: reverie --config {r.config} check-config && "
               f"reverie --config {r.config} run")


@cli.command()
@click.option("--since", metavar="DATE", help="From this date or time (YYYY-MM-DD: that day's "
              "start in the config's zone; or an ISO date and time).")
@click.option("--until", metavar="DATE", help="Up to this date (included) or time (excluded).")
@click.option("--source", "source", metavar="NAME", help="Only this source's readings.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True)
@click.pass_context
def export(ctx: click.Context, since: str | None, until: str | None, source: str | None,
           fmt: str) -> None:
    """Print the record's observations (oldest first) as CSV or JSON Lines, in bounded
    memory: time (in the config's zone), time_utc, source, signal, value, text, unit."""
    from reverie.daemon import export as ex

    loaded = _loaded(ctx, need_secrets=False)
    tz = loaded.tz
    bounds = {}
    for opt, text in (("--since", since), ("--until", until)):
        try:
            bounds[opt] = ex.parse_when(text, tz, end=opt == "--until") if text else None
        except ValueError as e:
            raise Usage(f"reverie export: {opt}: {e}") from None
    if not loaded.home.db.exists():
        raise Failure(f"{loaded.home.db}: no record yet (start the daemon or run `reverie poll`)")
    from reverie.memory.store import Store, StoreError

    out = click.open_file("-", "w")  # stdout as get_text_stream (deprecated) gave it
    try:
        with Store.open(loaded.home.db, readonly=True) as store:
            rows = store.iter_observations(since=bounds["--since"], until=bounds["--until"],
                                          source=source)
            try:
                ex.write(rows, out, tz, fmt)
                out.flush()
            finally:
                rows.close()  # its cursor, before the store closes
    except StoreError as e:
        raise Failure(str(e)) from None
    except BrokenPipeError:  # `reverie export | head`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
        from reverie.memory.home import StateError
        from reverie.memory.trust import UntrustedFile

        if isinstance(e, (StateError, UntrustedFile)):  # the layout is wrong: exit 2
            click.echo(f"reverie: {e}", err=True)
            return EXIT_USAGE
        from reverie.daemon import logs

        logs.get("reverie").debug("cli.crashed", exc_info=True)
        click.echo(f"reverie: error: {logs.scrub(f'{e.__class__.__name__}: {e}')}", err=True)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
