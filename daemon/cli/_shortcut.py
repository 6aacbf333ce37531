"""`reverie status` and `reverie state` answered without click, when that changes nothing.

Monitoring and the container's HEALTHCHECK run `reverie status` every few seconds, for
months; click alone costs more than twice python's own start (docs/performance.md, P6).
So ``run`` takes exactly `[--config FILE] status [--json]` and `[--config FILE] state`,
and only when the answer comes from the config's snapshot with nothing to refuse or
render: the snapshot matches the file (daemon/snapshot.py), root has nothing to refuse,
state.md is current. Anything else returns None before a byte is written, and click
runs the command from the start. The commands in ``read`` print through the same
functions (``status_report``, ``state_current``), so both ways print the same bytes
(tests/test_cli_shortcut.py)."""

from __future__ import annotations

import os
import sys
from typing import Any


def parse(args: list[str]) -> tuple[str | None, str, bool] | None:
    """(--config's value, the command, --json) for the shapes taken here, else None."""
    config = None
    if args[:1] == ["--config"] and len(args) > 1 and not args[1].startswith("-"):
        config, args = args[1], args[2:]
    elif args[:1] and args[0].startswith("--config=") and len(args[0]) > 9:
        config, args = args[0][9:], args[1:]
    if args in (["status"], ["status", "--json"]):
        return config, "status", len(args) == 2
    if args == ["state"]:
        return config, "state", False
    return None


def run(args: list[str]) -> int | None:
    """The command's exit code, or None: nothing written, click's way must answer."""
    parsed = parse(args)
    if (parsed is None or "_REVERIE_COMPLETE" in os.environ
            or sys.stdout is None or sys.stderr is None):  # a closed stream: click's way
        return None
    config, command, as_json = parsed
    from reverie.daemon import logs

    logs.configure("info", "auto")  # as the group does, before anything may log
    try:
        facts = snapshot_facts(config)
        if facts is None:
            return None
        if command == "status":
            out, code = status_report(facts, as_json)
            out += "\n"
        else:
            if not state_current(facts.home):
                return None
            from reverie.memory import safe_read

            out, code = safe_read.read_text(facts.home.state_md, errors="replace"), 0
        warnings = "".join(f"warning: {line}\n" for line in facts.warnings)
        for stream, text in ((sys.stderr, warnings), (sys.stdout, out)):
            # a stream that cannot carry the text: click's way copes with it
            text.encode(stream.encoding or "utf-8", stream.errors or "strict")
    except KeyboardInterrupt:
        return 130
    except Exception:  # an error is click's way to word: it runs the command again
        return None
    return write(warnings, out, code)


def write(warnings: str, out: str, code: int) -> int:
    """Print the answer; a failed write is the same exit as click's way gives it."""
    try:
        sys.stderr.write(warnings)
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:
        return broken_pipe()
    except OSError as e:  # a full disk behind stdout
        from reverie.memory.errors import described

        try:
            sys.stderr.write(f"reverie: error: {described(e)}\n")
        except OSError:
            pass
        return 1
    return code


def broken_pipe() -> int:
    """`reverie status | head -1`: the reader stopped early. Exit 1, no traceback, and
    nothing more written to the closed pipe at exit (either way)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass
    return 1


def snapshot_facts(config: str | None) -> Any:
    """The config's facts from its snapshot, when it matches the file and root has
    nothing to refuse on its way; else None."""
    from reverie.daemon import snapshot

    path = snapshot.resolve_path(config)
    as_root = os.geteuid() == 0
    if as_root and _refused([path]):
        return None
    facts = snapshot.read(path)
    if facts is None or (as_root and _refused(facts.home.every_path())):
        return None
    return facts


def _refused(paths: list[Any]) -> bool:
    from reverie.memory import trust

    return trust.root_refusal(paths) is not None


def status_report(facts: Any, as_json: bool) -> tuple[str, int]:
    """What `reverie status` prints (without its last newline) and its exit code."""
    from reverie.daemon import status as st

    data = st.collect(facts)
    if as_json:
        import json

        return json.dumps(data, ensure_ascii=False, indent=2), st.exit_code(data)
    return st.render_text(data), st.exit_code(data)


def state_current(home: Any) -> bool:
    """state.md is there and no newer than the record."""
    if not home.state_md.exists():
        return False
    if not home.db.exists():
        return True
    times = [p.stat().st_mtime for p in (home.db, home.db.with_name(home.db.name + "-wal"))
             if p.exists()]
    return max(times, default=0.0) <= home.state_md.stat().st_mtime
