"""A poll round of 200 local HTTP sources, with 20 that never answer against none.

The sources are the real ``http_json`` type against a stdlib HTTP server on
127.0.0.1. Hanging sources get a 2 s timeout; the figure to watch is how long the
healthy ones take in each round and how far past the timeout the whole round runs.
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import structlog

from bench import Row
from memory.home import Home
from memory.store import Store
from perception import poll
from perception.sources import SourceSpec

SOURCES = 200
HANGING = 20
TIMEOUT = "2s"

_release = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/hang"):
            _release.wait(60)
            return
        body = json.dumps({"x": 1, "y": 2.5}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


class _TimedStore(Store):
    """Notes when each successful poll is committed."""

    def record_run(self, source, ts, *, ok, **kw):  # type: ignore[override]
        out = super().record_run(source, ts, ok=ok, **kw)
        if ok:
            self.__dict__.setdefault("ok_at", []).append(time.monotonic())
        return out


def _specs(base: str, hanging: int) -> list[SourceSpec]:
    hung = set(range(0, SOURCES, SOURCES // hanging)) if hanging else set()
    return [SourceSpec(name=f"s{i:03d}", type="http_json", every="1m", timeout=TIMEOUT,
                       options={"url": f"{base}{'/hang' if i in hung else '/ok'}?i={i}",
                                "fields": {"x": "x", "y": "y"}})
            for i in range(SOURCES)]


def _round(specs: list[SourceSpec], root: Path, label: str) -> list[Row]:
    home = Home.at(root / label)
    home.ensure()
    with _TimedStore.open(home.db) as store:
        started = time.monotonic()
        outs = poll.poll_round(specs, home=home, store=store)
        wall = time.monotonic() - started
        last_done = max(store.ok_at) - started
    healthy = [o.duration for o in outs if o.ok]
    failed = sum(1 for o in outs if not o.ok)
    note = f"{len(healthy)} ok, {failed} failed"
    return [
        Row("poll", f"round wall, {label}", wall, "s", note),
        Row("poll", f"healthy fetch p50, {label}", statistics.median(healthy) * 1000, "ms",
            "from its start"),
        Row("poll", f"healthy fetch max, {label}", max(healthy) * 1000, "ms"),
        Row("poll", f"last healthy done, {label}", last_done, "s", "after the round began"),
    ]


def run() -> list[Row]:
    # 20 "source.failing" lines are the expected outcome, not news
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows += _round(_specs(base, 0), Path(tmp), "none hanging")
            specs = _specs(base, HANGING)
            assert sum("/hang" in s.options["url"] for s in specs) == HANGING
            rows += _round(specs, Path(tmp), f"{HANGING} hanging ({TIMEOUT} timeout)")
    finally:
        _release.set()
        server.shutdown()
        server.server_close()
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())
