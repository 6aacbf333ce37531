"""The `reverie` command line: parse, load the config, call in. Nothing else lives here.

``main`` is the entry point. The group and what its commands share are in ``_app`` and
``_common``; the commands live by what they are for: ``home`` (init, check-config,
config schema, sources, demo), ``day`` (run, poll, dream, wake, sleep, reload, distill),
``read`` (status, state, page, serve, audit) and ``fleet`` (backup, restore, export).
``_help`` holds the table that finds them and renders `reverie --help`; ``_shortcut``
answers `status` and `state` from the config's snapshot without click."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reverie.daemon.cli._app import cli as cli


def main(argv: list[str] | None = None) -> int:
    """Entry point: never a traceback for a user's mistake; exit 0, 1 or 2."""
    import os
    import sys

    args = sys.argv[1:] if argv is None else argv
    # no click to import (see _help), unless the shell asks click for completions
    if args in ([], ["--help"], ["-h"]) and "_REVERIE_COMPLETE" not in os.environ:
        from reverie.daemon.cli import _help

        # no command at all is a usage error: the help, on stderr, and exit 2
        (sys.stdout if args else sys.stderr).write(_help.render(_help.width()))
        return 0 if args else 2
    from reverie.daemon.cli import _shortcut

    code = _shortcut.run(args)  # status and state from the snapshot, without click
    if code is None:
        from reverie.daemon.cli import _app

        code = _app.run(argv)
    # the process's own command line: the process ends after it
    return _last(code) if argv is None else code


def _last(code: int) -> int:
    """``code``, with every object moved to the collector's permanent generation, so the
    interpreter's last collections at exit skip them: they walked every pydantic, click
    and YAML object to free memory the exit frees anyway (a sixth of `reverie
    check-config`'s time). Objects are still freed by their reference counts, the
    standard streams flushed and atexit handlers run."""
    import gc

    gc.freeze()
    return code


def __getattr__(name: str) -> Any:
    if name == "cli":  # the click group, for tests and tools that drive it directly
        from reverie.daemon.cli._app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
