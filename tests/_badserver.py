"""A local HTTP server that misbehaves the way the internet does, one way per path.

    with BadServer() as srv:
        srv.url("/drip")          # http://127.0.0.1:PORT/drip

Healthy paths: ``/ok/<anything>.json`` (a small JSON document whose ``v`` counts the
requests to that path) and ``/ok/<anything>.xml`` (a small RSS feed). Misbehaving paths
are listed in :data:`BAD_PATHS`; each one's docstring-ish comment in ``_BadHandler.do_GET``
says what it does. Every request is counted per path (``srv.hits``).

Threaded (one thread per connection, daemon threads), stdlib only, bound to 127.0.0.1.
"""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOMB_INFLATED = 64 * 1024 * 1024  # what the gzip bomb inflates to
BIG_BODY = 12 * 1024 * 1024  # plainly over the 5 MiB default cap

BAD_PATHS = (
    "/drip",          # 200, Content-Length 10000, one byte every 0.3 s
    "/hang",          # accepts the connection, reads the request, never answers
    "/silent",        # accepts the connection and never even reads it
    "/reset",         # RST: SO_LINGER 0 then close, before any response
    "/reset-mid",     # headers and half a body, then RST
    "/gzip-bomb",     # 64 MiB of zeros in a ~64 KiB gzip body
    "/big",           # 12 MiB body with an honest Content-Length
    "/big-chunked",   # 12 MiB body, chunked, no Content-Length
    "/html",          # 200 text/html page instead of JSON or a feed
    "/wrong-type",    # 200 image/png with garbage bytes
    "/error-500",     # 500 with an HTML error page
    "/truncated",     # 200 application/json cut in the middle
    "/bad-utf8",      # 200 application/json with invalid UTF-8 inside a string
    "/loop",          # 302 to /loop2, which 302s back to /loop
    "/429",           # 429 Too Many Requests, Retry-After: 2
    "/empty",         # 200 with an empty body
    "/bad-gzip",      # Content-Encoding: gzip, body is not gzip
)


def _rss(n: int, title: str = "item") -> bytes:
    items = "".join(
        f"<item><title>{title} {i}</title><link>http://127.0.0.1/{i}</link>"
        f"<guid>g{i}</guid></item>" for i in range(n))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>ok</title>'
            f"<link>http://127.0.0.1/</link><description>d</description>{items}"
            f"</channel></rss>").encode()


def _bomb() -> bytes:
    z = gzip.compress(b"\0" * (1024 * 1024), compresslevel=9)
    # gzip members concatenate: 64 copies of a 1 MiB member decode to 64 MiB
    return z * (BOMB_INFLATED // (1024 * 1024))


class _BadHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *_a) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json",
              extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _rst(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _wait_stop(self, seconds: float) -> None:
        self.server.stopping.wait(seconds)

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.hits[path] += 1
            count = self.server.hits[path]
        try:
            self._route(path, count)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _route(self, path: str, count: int) -> None:
        if path.startswith("/ok/") and path.endswith(".xml"):
            return self._send(200, _rss(3, "ok"), "application/rss+xml")
        if path.startswith("/ok/"):
            return self._send(200, json.dumps({"v": count, "name": path}).encode())
        if path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "10000")
            self.end_headers()
            self.wfile.write(b'{"v": ')
            self.wfile.flush()
            for _ in range(10000):
                if self.server.stopping.wait(0.3):
                    break
                self.wfile.write(b"1")
                self.wfile.flush()
            self.close_connection = True
            return
        if path == "/hang":
            self._wait_stop(3600)
            self.close_connection = True
            return
        if path == "/reset":
            return self._rst()
        if path == "/reset-mid":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"v": [1, 2, 3')
            self.wfile.flush()
            time.sleep(0.05)
            return self._rst()
        if path == "/gzip-bomb":
            return self._send(200, self.server.bomb, "application/json",
                              {"Content-Encoding": "gzip"})
        if path == "/big":
            return self._send(200, b" " * BIG_BODY, "application/json")
        if path == "/big-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            for _ in range(BIG_BODY // len(chunk)):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        if path == "/html":
            return self._send(200, b"<!doctype html><html><body><h1>Welcome</h1></body></html>",
                              "text/html; charset=utf-8")
        if path == "/wrong-type":
            return self._send(200, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR garbage", "image/png")
        if path == "/error-500":
            return self._send(500, b"<html><head><title>500 Internal Server Error</title></head>"
                                   b"<body><h1>Oops</h1><pre>Traceback...</pre></body></html>",
                              "text/html")
        if path == "/truncated":
            return self._send(200, b'{"v": 1, "list": [1, 2, {"a": "b', "application/json")
        if path == "/bad-utf8":
            return self._send(200, b'{"v": "\xff\xfe\xc3\x28 broken"}', "application/json")
        if path == "/loop":
            return self._send(302, b"", "text/plain", {"Location": "/loop2"})
        if path == "/loop2":
            return self._send(302, b"", "text/plain", {"Location": "/loop"})
        if path == "/429":
            return self._send(429, b'{"error": "slow down"}', "application/json",
                              {"Retry-After": "2"})
        if path == "/empty":
            return self._send(200, b"", "application/json")
        if path == "/bad-gzip":
            return self._send(200, b"this is not gzip at all" * 10, "application/json",
                              {"Content-Encoding": "gzip"})
        return self._send(404, b"<html>not found</html>", "text/html")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _BadHandler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.stopping = threading.Event()
        self.bomb = _bomb()

    def handle_error(self, request, client_address):  # noqa: ANN001
        pass  # clients hanging up on a bad path is the point, not news

    def process_request(self, request, client_address):  # noqa: ANN001
        # /silent is decided before anything is read: peek at the request line
        try:
            request.settimeout(2.0)
            head = request.recv(64, socket.MSG_PEEK)
            request.settimeout(None)
        except OSError:
            head = b""
        if b" /silent" in head.split(b"\r\n", 1)[0]:
            with self.lock:
                self.hits["/silent"] += 1
            t = threading.Thread(target=self._hold, args=(request,), daemon=True)
            t.start()
            return
        super().process_request(request, client_address)

    def _hold(self, request: socket.socket) -> None:
        self.stopping.wait(3600)
        try:
            request.close()
        except OSError:
            pass


class BadServer:
    """Context manager: starts the server on a free port, stops it (and frees every
    held connection) on exit."""

    def __init__(self) -> None:
        self._srv = _Server()
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)

    @property
    def hits(self) -> Counter[str]:
        with self._srv.lock:
            return Counter(self._srv.hits)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "BadServer":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._srv.stopping.set()
        self._srv.shutdown()
        self._srv.server_close()


if __name__ == "__main__":  # a manual check: python tests/_badserver.py
    with BadServer() as s:
        print("serving on", s.url("/"))
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
