"""json.loads with a depth bound: the one way reverie parses JSON it did not just write.

The config snapshot, ledger lines, the store's JSON columns, a source's answer and a
control request can all come from the agent or the network. ``json.loads`` of 100000
nested ``[`` raises RecursionError (or exhausts the C stack of a smaller thread), which
no ``except ValueError`` catches: start-up and consolidation stopped on one line. Here the
depth is counted first, without recursion, and anything deeper than ``MAX_DEPTH`` is a
:class:`TooDeep` — a ValueError, so every caller's "not JSON" path already takes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 200  # far beyond any record of ours or any API's answer

# a string (skipped whole: brackets inside it do not count) or a bracket
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_TOKEN_S = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """JSON nested deeper than the bound; one line."""


def depth(text: str | bytes | bytearray, stop: int | None = None) -> int:
    """The deepest nesting of arrays and objects in ``text`` (0 for a scalar), counted no
    further than ``stop``."""
    tokens: Iterator[str | bytes]
    if isinstance(text, str):
        tokens = (m.group() for m in _TOKEN_S.finditer(text))
    else:
        tokens = (m.group() for m in _TOKEN.finditer(text))
    opens = ("[", "{", b"[", b"{")
    level = most = 0
    for tok in tokens:
        if len(tok) != 1:
            continue  # a string
        if tok in opens:
            level += 1
            most = max(most, level)
            if stop is not None and most >= stop:
                return most
        else:
            level -= 1
    return most


def loads(text: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(text)``; :class:`TooDeep` (a ValueError) past ``max_depth`` levels."""
    if isinstance(text, (bytes, bytearray)) and (b"[" in text or b"{" in text) \
            or isinstance(text, str) and ("[" in text or "{" in text):
        if depth(text, stop=max_depth + 1) > max_depth:
            raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # cannot happen under the bound; never let it out if it does
        raise TooDeep(f"JSON nested too deeply (the bound is {max_depth})") from None
