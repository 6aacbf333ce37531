"""A top-level, block-style ``key: value`` line of reverie.yaml read as text, one rule:
`reverie reload` finds the home of a file too broken for YAML by it (config.home_hint,
daemon/config/loading.py), and `reverie status` finds the home before any YAML is
parsed (daemon/snapshot.py). Only ``re``: status imports this without the config."""

from __future__ import annotations

import re


def line(key: str) -> re.Pattern[str]:
    """``key: value`` starting a line (so top-level, block style): the value is group 2,
    without the quotes ('...' or "...") around it or a ``# comment`` after it."""
    return re.compile(rf"""^{re.escape(key)}:[ \t]*(["']?)([^"'#\n]+?)\1[ \t]*(#.*)?$""", re.M)


HOME = line("home")
