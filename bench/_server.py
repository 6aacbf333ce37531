"""The benches' local HTTP server, run in its own process (``python -m bench._server``) so
its CPU never counts as reverie's. Prints its port on the first line of stdout.

Routes: ``/ok`` a small JSON document; ``/hang`` never answers; ``/feed`` a 500-entry RSS
feed that answers a matching ``If-None-Match`` with 304; ``/feed200`` the same bytes,
always 200, no validators (a server that ignores conditional GET).
"""

from __future__ import annotations

import json
import sys
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FEED_ENTRIES = 500
JSON_BODY = json.dumps({"x": 1, "y": 2.5, "agent": {"karma": 1284, "name": "bench"}}).encode()


def feed_body(entries: int = FEED_ENTRIES) -> bytes:
    items = "".join(
        f"<item><title>Entry {i}: a headline of ordinary length</title>"
        f"<link>http://bench.invalid/post/{i}</link><guid>http://bench.invalid/post/{i}</guid>"
        f"<pubDate>{formatdate(1_700_000_000 + 3600 * i, usegmt=True)}</pubDate>"
        f"<description>&lt;p&gt;Paragraph {i} of the post, with &lt;b&gt;some&lt;/b&gt; markup "
        f"and enough words to look like a real summary of a real post.&lt;/p&gt;</description>"
        "</item>" for i in range(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>bench</title><link>http://bench.invalid/</link><description>d</description>"
            f"{items}</channel></rss>").encode()


FEED = feed_body()
ETAG = '"bench-v1"'
_never = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/hang":
            _never.wait(600)
            return
        if path == "/feed" and self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        if path in ("/feed", "/feed200"):
            body, ctype = FEED, "application/rss+xml"
        else:
            body, ctype = JSON_BODY, "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if path == "/feed":
            self.send_header("ETag", ETAG)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main() -> None:
    server = _Server(("127.0.0.1", 0), _Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
