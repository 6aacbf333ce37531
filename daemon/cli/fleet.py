"""Moving an agent: backup, restore, export."""

from __future__ import annotations


import click

from reverie.daemon.cli._common import (
    EXIT_FAIL, EXIT_OK, Failure, Usage, _loaded,
)


@click.command()
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


@click.command()
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


@click.command()
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
        from reverie.daemon.cli._shortcut import broken_pipe

        broken_pipe()  # the rows asked for were all written: exit 0
