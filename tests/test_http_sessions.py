"""Sessions are reused between fetches (bench P2): keep-alive to the same host, and nothing
a server set (a cookie) outlives the fetch it came with."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reverie.perception import http


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append((self.client_address, self.headers.get("Cookie")))
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=abc123; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.seen = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_a_cookie_a_server_set_is_not_sent_with_the_next_fetch(server):
    url = f"http://127.0.0.1:{server.server_address[1]}/x"
    http.fetch(url, timeout=5)
    http.fetch(url, timeout=5)
    assert [cookie for _, cookie in server.seen] == [None, None]


def test_fetches_of_one_host_one_after_another_reuse_the_connection(server):
    url = f"http://127.0.0.1:{server.server_address[1]}/x"
    for _ in range(3):
        assert http.fetch(url, timeout=5).json() == {"ok": True}
    assert len({addr for addr, _ in server.seen}) == 1
