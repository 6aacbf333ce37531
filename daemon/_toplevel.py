"""A top-level, block-style ``key: value`` line of reverie.yaml read as text, one rule:
`reverie reload` finds the home of a file too broken for YAML by it (config.home_hint,
daemon/config/loading.py), and `reverie status` finds the home before any YAML is
parsed (daemon/snapshot.py); the config's loader and both of those take the folder such a
line names by ``folder``. Only ``re`` and ``pathlib``: status imports this without the
config."""

from __future__ import annotations

import os
import re
from pathlib import Path


def line(key: str) -> re.Pattern[str]:
    """``key: value`` starting a line (so top-level, block style): the value is group 2,
    without the quotes ('...' or "...") around it or a ``# comment`` after it."""
    return re.compile(rf"""^{re.escape(key)}:[ \t]*(["']?)([^"'#\n]+?)\1[ \t]*(#.*)?$""", re.M)


HOME = line("home")


def folder(config: str | os.PathLike, value: str) -> Path:
    """The folder a config's ``home:`` or ``state_dir:`` names: ``~`` expanded, a relative
    path taken from the config's own folder. RuntimeError for ``~nosuchuser``."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (Path(config).parent / p).resolve()
