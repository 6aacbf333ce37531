"""Shared fixtures for the source-type tests: a threaded local HTTP server, a Context, a closed port.

Import the fixtures into a test module with ``from _sources_fixtures import *``.
"""

from __future__ import annotations

import gzip
import socket
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reverie.memory import clock
from reverie.perception.sources import Context

__all__ = ["_threaded_server", "server", "release", "ctx", "closed_port_url"]


@pytest.fixture
def release():
    """An event slow handlers wait on, set at teardown so the server thread is never stuck."""
    ev = threading.Event()
    yield ev
    ev.set()


@pytest.fixture(scope="module")
def _threaded_server():
    # threaded: a handler that hangs must not hold up the next request or test.
    # One per module because stopping a server costs half a second.
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()


@pytest.fixture
def server(_threaded_server, release):
    _threaded_server.clear()
    yield _threaded_server
    release.set()
    _threaded_server.clear()


def make_ctx(home: Path, timeout: float = 1.0, state: dict | None = None,
             secrets: tuple[str, ...] = ()) -> Context:
    return Context(home=home, timeout=timeout, now=clock.now(),
                   state={} if state is None else state, secrets=secrets)


@pytest.fixture
def ctx(tmp_path):
    return make_ctx(tmp_path)


@pytest.fixture
def closed_port_url():
    # bind then close: nothing listens there afterwards
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"


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
