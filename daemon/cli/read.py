"""Reading the record: status, state, page, serve, audit."""

from __future__ import annotations

from typing import NoReturn

import click

from reverie.daemon.cli._common import (
    EXIT_FAIL, EXIT_OK, Failure, Usage, _config_path, _facts, _loaded, _loaded_or_running,
    _refresh, _services, _store, _warn_once,
)


@click.command()
@click.option("--json", "as_json", is_flag=True,
              help="Print the status as one JSON document (its shape is in the README).")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the daemon, each source's health and next run, the session, next wake and dream.

    Exits 0 when the daemon is running and 3 when it is not (as `systemctl is-active`)."""
    from reverie.daemon.cli import _shortcut

    out, code = _shortcut.status_report(_facts(ctx), as_json)
    click.echo(out)
    ctx.exit(code)


@click.command()
@click.pass_context
def state(ctx: click.Context) -> None:
    """Print perception/state.md (rendering it first when the store is newer)."""
    from reverie.daemon.cli import _shortcut

    facts = _facts(ctx, warn=False)
    home = facts.home
    if _shortcut.state_current(home) or getattr(facts, "config_errors", None):
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


@click.command()
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


@click.command()
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


@click.command()
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
