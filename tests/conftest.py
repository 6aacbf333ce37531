"""Shared fixtures: a home on disk, a config file, the real CLI as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reverie.memory.home import Home, init_home
from reverie.memory.store import Store

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = Path(__file__).resolve().parent / "_launcher.py"


def _product_as_installed() -> None:
    """The tests import reverie as installed (``reverie.*``), never the checkout's folders:
    ``python -m pytest`` puts the working directory (the repository's root) first on
    sys.path, where ``import daemon`` would find daemon/. It is taken out; the tests' own
    helpers stay importable as the package ``tests`` (this folder), without the root."""
    import importlib.util
    from importlib.machinery import ModuleSpec

    sys.path[:] = [p for p in sys.path if Path(p or os.getcwd()).resolve() != ROOT]
    if "tests" not in sys.modules:
        spec = ModuleSpec("tests", None, is_package=True)
        spec.submodule_search_locations = [str(ROOT / "tests")]
        sys.modules["tests"] = importlib.util.module_from_spec(spec)


_product_as_installed()


def pytest_collection_modifyitems(items: list) -> None:
    """Tests that mostly wait (``@pytest.mark.waits(seconds)``) go first, longest first:
    their waiting then overlaps the other workers' tests instead of ending the run. (Not
    for a test whose module shares a fixture: moved apart, it would be made twice.)"""
    def waits(item) -> float:
        m = item.get_closest_marker("waits")
        return -float(m.args[0]) if m else 0.0

    items.sort(key=waits)  # stable: every other test keeps its place


def pytest_configure(config) -> None:
    """Until a test's own fixture says otherwise (module-scoped fixtures run before it),
    state directories go under a folder of this test process, never ~/.local/state."""
    import tempfile

    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="reverie-tests-state-")
    os.environ.pop("STATE_DIRECTORY", None)


def pytest_unconfigure(config) -> None:
    import shutil

    shutil.rmtree(os.environ.get("XDG_STATE_HOME", "/nonexistent"), ignore_errors=True)


@pytest.fixture(autouse=True, scope="module")
def _module_state_home(tmp_path_factory):
    """A module's own fixtures (a world built once per module) get a state folder of the
    module's: two modules' homes both called ``home`` in one worker never share one."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("xdg-module"))
    yield
    if old is not None:
        os.environ["XDG_STATE_HOME"] = old


@pytest.fixture(autouse=True)
def _state_home(tmp_path_factory, monkeypatch) -> Path:
    """reverie's state directories (the record, outside the home) go under a folder of the
    test's own, never into the real ~/.local/state; systemd's $STATE_DIRECTORY is unset."""
    state = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    return state


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """An agent home with its folders (no files) under the test's tmp_path."""
    h = Home.at(tmp_path / "home")
    h.ensure()
    return h


@pytest.fixture
def store(home: Home):
    """The home's real SQLite store."""
    s = Store.open(home.db)
    yield s
    s.close()


@pytest.fixture
def agent_home(home: Home) -> Home:
    """The conftest home, initialised as `reverie init` leaves it (working.md, memory/...)."""
    init_home(home.root)
    return home


@pytest.fixture
def runner(agent_home: Home, store):
    """``runner(*steps, **options)``: a SessionRunner whose agent is tests/_agent.py doing
    ``steps`` (or ``command=[...]``); every agent it started is stopped at the end."""
    from reverie.daemon.sessions import SessionRunner, SessionsOptions
    from tests import _agent

    made: list[SessionRunner] = []

    def make(*steps: str, render_state=lambda: None, notable_since=None,
             **opts) -> SessionRunner:
        if "webhook" not in opts:
            opts.setdefault("command", _agent.command(*steps))
        opts.setdefault("stop_timeout", "0.5s")
        opts.setdefault("max_duration", "30s")
        r = SessionRunner(agent_home, store, SessionsOptions(**opts), tz=ZoneInfo("Europe/Berlin"),
                          render_state=render_state, notable_since=notable_since)
        made.append(r)
        return r

    yield make
    for r in made:  # never leave an agent behind
        if r.current():
            r.sleep()


@pytest.fixture
def fake_clock():
    """The process's clock, standing at the real now until the test moves it."""
    from reverie.memory import clock

    c = clock.FakeClock(clock.now())
    old = clock.install(c)
    yield c
    clock.install(old)


def wait_for(pred, timeout: float = 10.0, every: float = 0.05):
    """Poll ``pred`` until it returns something true (returned) or ``timeout`` passes (None)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(every)
    return None


def make_config(tmp_path: Path, name: str = "reverie.yaml", **overrides) -> Path:
    """Write a valid reverie.yaml under ``tmp_path`` from keyword arguments; return its path.

    The defaults are ``home: <tmp_path>/home`` (created) and ``timezone: UTC``; every keyword
    is a top-level key of the config (``sources=[...]``, ``sessions={...}``, ``dream={...}``),
    ``None`` drops a default. Tests about the YAML text itself (error line numbers) write
    their text with ``write_config`` instead.
    """
    import yaml

    doc = {"home": str(tmp_path / "home"), "timezone": "UTC", **overrides}
    doc = {k: v for k, v in doc.items() if v is not None}
    if "home" in doc:
        Path(tmp_path, doc["home"]).mkdir(parents=True, exist_ok=True)
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return p


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a reverie.yaml (dedented) next to the home and return its path."""

    def write(text: str, name: str = "reverie.yaml") -> Path:
        p = tmp_path / name
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return p

    return write


def reverie_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REVERIE_", "NOTIFY_SOCKET", "WATCHDOG_", "JOURNAL_STREAM"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


# Commands that are one function call from argv to exit code: the tests call the real
# entry point (reverie.daemon.cli.main) in their own process, where a fresh interpreter
# would cost ~0.3 s of CPU each. Everything about the process itself (a daemon, a
# foreground session and its signals, a server, what a cold start imports) runs as one.
IN_PROCESS = frozenset({"init", "check-config", "config", "poll", "state", "dream", "sleep",
                        "reload", "status", "distill", "audit", "sources", "page"})
def _command(args: tuple[str, ...]) -> str | None:
    """The subcommand in ``args``, past the group's options (read from the CLI itself)."""
    from reverie.daemon.cli import cli

    takes_value = {o for p in cli.params if not getattr(p, "is_flag", False) for o in p.opts}
    it = iter(args)
    for a in it:
        if a in takes_value:
            next(it, None)
        elif not a.startswith("-"):
            return a
    return None


def run_cli(*args: str, env: dict | None = None, timeout: float = 60,
            cwd: Path | None = None, process: bool | None = None) -> subprocess.CompletedProcess:
    """The real `reverie` entry point: in this process for the commands of IN_PROCESS
    (``process=True`` forces a fresh one), else in a fresh process."""
    if process is None:
        process = _command(args) not in IN_PROCESS
    if process:
        return subprocess.run([sys.executable, "-m", "reverie.daemon.cli", *args],
                              capture_output=True, text=True, env=env or reverie_env(),
                              timeout=timeout, cwd=cwd)
    from tests._inprocess import run_main

    return run_main(list(args), env=env or reverie_env(), cwd=cwd, timeout=timeout)


def start_cli(*args: str, env: dict | None = None, at: str | None = None,
              **kw) -> subprocess.Popen:
    """Start `reverie ARGS` in the background (through the time launcher when ``at`` is set)."""
    cmd = [sys.executable, "-m", "reverie.daemon.cli", *args]
    if at:
        cmd = [sys.executable, str(LAUNCHER), "--at", at, "--", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or reverie_env(), **kw)


def chat_completion(content: str, tokens: int = 42) -> dict:
    """A chat-completions reply as an OpenAI-compatible server sends it."""
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": tokens - 10, "completion_tokens": 10,
                      "total_tokens": tokens}}


def replies(httpserver, *texts: str) -> list[dict]:
    """The local OpenAI-compatible server answers with each text in turn (the last one from
    then on); returns the request bodies as they arrive."""
    import json

    from werkzeug import Response

    bodies: list[dict] = []

    def handler(request):
        bodies.append(json.loads(request.get_data()))
        text = texts[min(len(bodies), len(texts)) - 1]
        return Response(json.dumps(chat_completion(text)), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    return bodies


# -- the source-type tests: a threaded local HTTP server, a Context, a closed port --------

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
    from pytest_httpserver import HTTPServer

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


@pytest.fixture
def ctx(tmp_path):
    """A source's Context whose home is the test's tmp_path."""
    from tests._sources_fixtures import make_ctx

    return make_ctx(tmp_path)


@pytest.fixture
def closed_port_url():
    # bind then close: nothing listens there afterwards
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def notify_socket(tmp_path: Path):
    """A datagram socket standing in for systemd's NOTIFY_SOCKET: (socket, path)."""
    import socket

    path = tmp_path / "notify.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(0.2)
    yield s, path
    s.close()


def polls_of(db: Path, source: str) -> int:
    """How many polls of ``source`` the store at ``db`` holds (0 before it exists)."""
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM polls WHERE source = ?",
                                (source,)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def unit_keys(text: str) -> dict[str, list[str]]:
    """A systemd unit's settings: each key with its values in order (sections merged)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out
