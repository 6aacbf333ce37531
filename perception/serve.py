"""`reverie serve`: the morning page over HTTP, its metrics and health, nothing else.

GET and HEAD of ``/`` (or ``/morning.html``) answer the page, re-rendered first when the
store (or the ledger, or the dream) changed since the last render, or when the page is
older than ``max_age`` (its "2h ago" texts would lie). ``/metrics`` and ``/healthz``
answer perception/metrics.py's exposition and heartbeat health (a server built with
``page=False``, the daemon's metrics listener, answers only those). Every other path is
404, every other method 405. Each answer carries the page's strict
Content-Security-Policy.

On a loopback address, a request naming another host (``Host: evil.example``) is
refused: a web page elsewhere cannot read the agent's page through DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from reverie.memory import _log, clock, safe_read
from reverie.memory.home import Home
from reverie.memory.store import Store, StoreError
from reverie.perception._listener import IDLE_TIMEOUT, BoundedHTTPServer
from reverie.perception.metrics import Answer, Metrics
from reverie.perception.page import PageError, page_csp, render_page
from reverie.perception.sources import SourceSpec
from reverie.perception.text import clean

log = _log.get("reverie.serve")

PATHS = ("/", "/morning.html")
METRICS, HEALTH = "/metrics", "/healthz"
ALLOWED = "GET, HEAD"
MAX_AGE = 300.0


class ServeError(Exception):
    """The server cannot start (address in use, bad host); one line."""


def is_loopback(host: str) -> bool:
    h = host.strip().strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


_HOST_V6 = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?")
_HOST_NAME = re.compile(r"([A-Za-z0-9.-]+)(?::\d{1,5})?")


def host_name(host: str) -> str | None:
    """The name in a Host header (``[::1]:8765`` -> ``::1``), or None when the header is
    not exactly a host and an optional port (``[::1]evil.com``)."""
    m = _HOST_V6.fullmatch(host) or _HOST_NAME.fullmatch(host)
    return m.group(1) if m else None


def bind_warning(host: str) -> str | None:
    """What to tell a person who binds beyond this machine (None on loopback)."""
    if is_loopback(host):
        return None
    where = "every network interface" if host.strip("[]") in ("0.0.0.0", "::", "") else host
    return (f"warning: serving the morning page on {where}: anyone who can reach it can read "
            "the agent's dream, signals, items and sessions, with no password. "
            "Leave out --host to keep it on 127.0.0.1.")


SEEN_MAX = 100
PAGE_MAX_BYTES = 16 * 1024 * 1024


class PageServer(BoundedHTTPServer):
    """Connections capped, idle ones timed out (perception/_listener.py)."""
    allow_reuse_address = True

    def __init__(self, home: Home, store_factory: Callable[[], Store], specs: list[SourceSpec],
                 tz: ZoneInfo, *, host: str = "127.0.0.1", port: int = 8765,
                 template: Path | None = None, max_age: float = MAX_AGE, page: bool = True,
                 current_specs: Callable[[], list[SourceSpec]] | None = None,
                 metrics_options: dict | None = None):
        self.home, self.store_factory, self.specs, self.tz = home, store_factory, specs, tz
        self.template, self.max_age, self.serves_page = template, max_age, page
        self.metrics = Metrics(home, store_factory, current_specs or (lambda: self.specs),
                               **(metrics_options or {}))
        self.loopback = is_loopback(host)
        # (method, path, status) of the last SEEN_MAX requests answered: never an ever-growing list
        self.seen: list[tuple[str, str, int]] = []
        self._render_lock = threading.Lock()
        self._stamp: tuple | None = None
        self._rendered_at: float | None = None
        addr = host.strip("[]")
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        try:
            super().__init__((addr, port), _Handler)
        except OSError as e:
            raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's full name; nothing here needs it
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def _sources_stamp(self) -> tuple:
        """What the page is made from, as file stamps: any write changes one of them."""
        out: list[tuple[int, int] | None] = []
        db = self.home.db
        for p in (db, db.with_name(db.name + "-wal"), self.home.ledger, self.home.latest_dream):
            try:
                st = p.stat()
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def page(self) -> bytes | None:
        """The page's bytes, rendered first when it is out of date; None when there is
        no page and it cannot be rendered."""
        with self._render_lock:
            stamp = self._sources_stamp()
            fresh = (stamp == self._stamp and self.home.page.exists()
                     and self._rendered_at is not None
                     and clock.monotonic() - self._rendered_at < self.max_age)
            if not fresh:
                try:
                    store = self.store_factory()
                    try:
                        render_page(self.home, store, self.specs, tz=self.tz,
                                    template=self.template)
                    finally:
                        store.close()
                    self._stamp, self._rendered_at = stamp, clock.monotonic()
                except (PageError, OSError, StoreError) as e:
                    log.warning("page.render_failed", error=clean(e, 300))
            try:  # the agent may have put a FIFO there: never wait on it holding the lock
                return safe_read.read_bytes(self.home.page, max_bytes=PAGE_MAX_BYTES)
            except OSError:
                return None


class _Handler(BaseHTTPRequestHandler):
    server: PageServer
    server_version = "reverie"
    sys_version = ""
    timeout = IDLE_TIMEOUT  # a client that stalls does not hold a worker forever

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.seen.append((self.command, self.path, int(code) if str(code).isdigit() else 0))
        del self.server.seen[:-SEEN_MAX]
        log.debug("serve.request", method=self.command, path=clean(self.path, 200), status=code)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass  # stderr noise; requests are logged by log_request

    def _plain(self, code: int, text: str, extra: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(code)
        self._common_headers("text/plain; charset=utf-8", len(body),
                             "default-src 'none'; frame-ancestors 'none'")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _common_headers(self, ctype: str, length: int, csp: str) -> None:
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Security-Policy", csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def _host_ok(self) -> bool:
        if not self.server.loopback:
            return True
        host = self.headers.get("Host", "")
        if not host:
            return True  # an HTTP/1.0 client names no host
        name = host_name(host)
        return name is not None and is_loopback(name)

    def _answer(self, a: Answer) -> None:
        self.send_response(a.status)
        self._common_headers(a.content_type, len(a.body),
                             "default-src 'none'; frame-ancestors 'none'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(a.body)

    def _page(self) -> None:
        if not self._host_ok():
            self._plain(403, "forbidden: this server answers only requests for localhost")
            return
        path = urlsplit(self.path).path
        if path == METRICS:
            self._answer(self.server.metrics.exposition(self.headers.get("Accept")))
            return
        if path == HEALTH:
            self._answer(self.server.metrics.health())
            return
        if path not in PATHS or not self.server.serves_page:
            self._plain(404, "not found: this server serves only the morning page at /, "
                             "/metrics and /healthz" if self.server.serves_page else
                             "not found: this server serves only /metrics and /healthz")
            return
        body = self.server.page()
        if body is None:
            self._plain(503, "the morning page is not available yet (see the daemon's log)")
            return
        self.send_response(200)
        html = body.decode("utf-8", errors="replace")
        self._common_headers("text/html; charset=utf-8", len(body), page_csp(html, header=True))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = _page
    do_HEAD = _page

    def _not_allowed(self) -> None:
        self._plain(405, f"method not allowed: this page is read-only ({ALLOWED})",
                    {"Allow": ALLOWED})

    def __getattr__(self, name: str):
        # BaseHTTPRequestHandler looks up do_<METHOD>; every other method is refused
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)


def serve(home: Home, store_factory: Callable[[], Store], specs: list[SourceSpec],
          tz: ZoneInfo, *, host: str = "127.0.0.1", port: int = 8765,
          template: Path | None = None, echo: Callable[[str], None] = print,
          metrics_options: dict | None = None) -> None:
    """Serve the page until interrupted (Ctrl-C or SIGTERM turned into KeyboardInterrupt)."""
    server = PageServer(home, store_factory, specs, tz, host=host, port=port, template=template,
                        metrics_options=metrics_options)
    echo(f"serving the morning page at {server.url}, metrics at {server.url}metrics, "
         f"health at {server.url}healthz (Ctrl-C to stop)")
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
