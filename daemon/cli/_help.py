"""The command table, and `reverie --help` rendered from it without importing click.

click alone costs more start-up than the 3x `python -c pass` the top-level help may take
(docs/performance.md, P6). So the table names each command's module and its short help,
and ``render`` lays the help out as click's HelpFormatter does; the group's own
``format_help`` is this same function, so both paths print one text.
tests/test_cli_help.py checks the table against each command's docstring and the
options against the group's, and the layout against click's at several widths."""

from __future__ import annotations

# name -> (module, attribute, the first sentence of the command's help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "audit": ("reverie.daemon.cli.read", "audit",
              "Check every number in a dream against the record of its cycle, or (a file "
              "under memory/, or --all) every memory line against the diary lines it cites; "
              "exit 1 if any is unbacked."),
    "backup": ("reverie.daemon.cli.fleet", "backup",
               "Write one archive (tar.gz) of the agent: the record, its home, its config."),
    "check-config": ("reverie.daemon.cli.home", "check_config",
                     "Validate the config: print its problems (exit 2) or one line of what it "
                     "sets up."),
    "config": ("reverie.daemon.cli.home", "config_group", "Inspect the configuration format."),
    "demo": ("reverie.daemon.cli.home", "demo",
             "Run a whole compressed day offline in a demo home and show where everything "
             "went."),
    "distill": ("reverie.daemon.cli.day", "distill",
                "Distil a day's diary into memory/, every line citing its sources "
                "(memory.distill)."),
    "dream": ("reverie.daemon.cli.day", "dream",
              "Write the dream for a date (once per date unless --force)."),
    "export": ("reverie.daemon.cli.fleet", "export",
               "Print the record's observations (oldest first) as CSV or JSON Lines, in "
               "bounded memory: time (in the config's zone), time_utc, source, signal, value, "
               "text, unit."),
    "init": ("reverie.daemon.cli.home", "init",
             "Create an agent home (default ~/agent) with an example config that works "
             "offline."),
    "page": ("reverie.daemon.cli.read", "page",
             "Write morning.html: the dream, signal charts, health and sessions on one page."),
    "poll": ("reverie.daemon.cli.day", "poll",
             "Poll sources once now (all enabled ones by default); exit 1 if any failed."),
    "reload": ("reverie.daemon.cli.day", "reload",
               "Make the running daemon re-read its config, and say whether it took it."),
    "restore": ("reverie.daemon.cli.fleet", "restore",
                "Restore a `reverie backup` archive into a new, empty home."),
    "run": ("reverie.daemon.cli.day", "run",
            "Run the daemon in the foreground (what the systemd unit starts)."),
    "serve": ("reverie.daemon.cli.read", "serve",
              "Serve morning.html, /metrics and /healthz (nothing else) read-only, on "
              "127.0.0.1 by default."),
    "sleep": ("reverie.daemon.cli.day", "sleep",
              "Put the agent to sleep now and consolidate what it wrote."),
    "sources": ("reverie.daemon.cli.home", "sources",
                "List every available source type, one line each; with TYPE, that type's "
                "options."),
    "state": ("reverie.daemon.cli.read", "state",
              "Print perception/state.md (rendering it first when the store is newer)."),
    "status": ("reverie.daemon.cli.read", "status",
               "Show the daemon, each source's health and next run, the session, next wake "
               "and dream."),
    "systemd": ("reverie.daemon.systemd", "systemd_group", "Run reverie as a systemd service."),
    "wake": ("reverie.daemon.cli.day", "wake",
             "Wake the agent now (through the daemon if it runs, else in the foreground)."),
}

DOC = "reverie gives a file-memory agent a day: it perceives, dreams, wakes and sleeps."

# the group's options as click's help records give them
OPTIONS = (
    ("--config FILE", "Config file (default: $REVERIE_CONFIG, ./reverie.yaml, then "
                      "~/.config/reverie/reverie.yaml)."),
    ("--log-level [debug|info|warning|error]", "Log threshold.  [default: info]"),
    ("--log-format [auto|json|console|journal]", "auto: console on a terminal, JSON "
     "otherwise, prefixed for journald under systemd.  [default: auto]"),
    ("--log-to [stderr|stdout]", "Where log lines go (the container image logs to "
                                 "stdout).  [default: stderr]"),
    ("--version", "Show the version and exit."),
    ("-h, --help", "Show this message and exit."),
)


def width() -> int:
    """click's help width: the terminal's (``COLUMNS`` first, as shutil reads it) up to
    80, less 2, at least 50."""
    import os
    import sys

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return max(min(columns, 80) - 2, 50)


def render(text_width: int) -> str:
    """The top-level help, laid out as click lays out a group's (usage, the docstring,
    then Options and Commands as two-column lists)."""
    import textwrap

    def wrap(text: str, w: int, indent: str = "") -> list[str]:
        return textwrap.TextWrapper(w, initial_indent=indent, subsequent_indent=indent,
                                    replace_whitespace=False).wrap(text)

    def table(rows: list[tuple[str, str]]) -> list[str]:
        first = min(max(len(a) for a, _ in rows), 30) + 2
        out = []
        for a, b in rows:
            lines = wrap(b, max(text_width - first - 2, 10))
            if len(a) <= first - 2:
                out.append(f"  {a}{' ' * (first - len(a))}{lines[0]}")
            else:
                out += [f"  {a}", f"{' ' * (first + 2)}{lines[0]}"]
            out += [f"{' ' * (first + 2)}{line}" for line in lines[1:]]
        return out

    limit = text_width - 6 - max(map(len, COMMANDS))
    commands = [(name, _shorten(COMMANDS[name][2], limit)) for name in sorted(COMMANDS)]
    return "\n".join(["Usage: reverie [OPTIONS] COMMAND [ARGS]...", "",
                      *wrap(DOC, text_width, "  "), "", "Options:", *table(list(OPTIONS)),
                      "", "Commands:", *table(commands)]) + "\n"


def _shorten(text: str, limit: int) -> str:
    """A command's short help in ``limit`` characters, as click shortens it."""
    if len(text) <= limit:
        return text
    if limit < 3:
        return "..."
    import textwrap

    return textwrap.shorten(text, limit, placeholder="...", break_on_hyphens=False)
