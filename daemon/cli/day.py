"""The agent's day, by hand or through the running daemon: run, poll, dream, wake, sleep,
reload, distill."""

from __future__ import annotations

import sys
from datetime import date as Date

import click

from reverie.daemon.cli._common import (
    EXIT_FAIL, EXIT_OK, Failure, Usage, _ask_daemon, _loaded, _need_sessions, _refresh,
    _root_guard, _services, _store,
)


@click.command()
@click.option("--for", "run_for", type=float, default=None, hidden=True,
              help="Stop after this many seconds (used by `reverie demo`).")
@click.pass_context
def run(ctx: click.Context, run_for: float | None) -> None:
    """Run the daemon in the foreground (what the systemd unit starts)."""
    from reverie.daemon.lifecycle import Daemon

    loaded = _loaded(ctx)
    d = Daemon(loaded, run_for=run_for)
    code = d.run()
    if d.abandoned_jobs:
        # Python's exit joins the thread pool's workers, which wait out a hung job's
        # own timeout (minutes): the session is consolidated and the store closed, so leave now.
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    ctx.exit(code)


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
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
        _root_guard(ctx, home.every_path(), path)
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


@click.command()
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
