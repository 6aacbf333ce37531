"""Helpers of the source-type tests: a Context, one fetch, compact views of a Result.

Their fixtures (``server``, ``release``, ``ctx``, ``closed_port_url``) are in conftest.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from reverie.memory import clock
from reverie.perception.sources import Context


def make_ctx(home: Path, timeout: float = 1.0, state: dict | None = None,
             secrets: tuple[str, ...] = ()) -> Context:
    return Context(home=home, timeout=timeout, now=clock.now(),
                   state={} if state is None else state, secrets=secrets)


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (a few KiB on the wire)."""
    return gzip.compress(b"\0" * size, compresslevel=9)


def run(cls, ctx: Context, **options):
    """Build a source of type ``cls`` from config-like options and fetch once."""
    return cls("test", cls.Options(**options)).fetch(ctx)


def values(result) -> dict:
    """{field: value or text} of a Result, for compact assertions."""
    return {r.field: (r.value if r.value is not None else r.text) for r in result.readings}


def units(result) -> dict:
    return {r.field: r.unit for r in result.readings}
