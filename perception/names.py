"""The one rule for a name a user gives (a source, a field of a source's readings, an
agent): lowercase letters, digits, ``_`` and ``-``. A name becomes a file name, a
metric label and a key in state.json, so nothing else may be in it. Kept free of regular
expressions and pydantic: `reverie status` checks the names in its snapshot with it."""

from __future__ import annotations

from typing import Any

CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
RULE = "use lowercase letters, digits, '_' and '-'"


def is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and set(value) <= CHARS
