"""An HTTP server whose connections the client cannot pile up: the listeners' base.

``ThreadingHTTPServer`` gives every accepted connection a thread that waits for the
request: ~1100 idle connections took the daemon's 1024 descriptors, and polls, the
control socket and /healthz died with them. Here an accepted connection waits, without a
thread, in one selector until its first bytes arrive; only then a worker of a small fixed
pool (``WORKERS``) reads and answers it, under a socket timeout (``IDLE_TIMEOUT``). At
most ``MAX_CONNECTIONS`` are held at once: past that the oldest idle one is closed (and
when none is idle, the new one), and an idle connection is closed after ``IDLE_TIMEOUT``.
So a flood of idle connections costs a bounded number of descriptors, and a real request,
which sends its bytes at once, is answered. A worker spends at most ``REQUEST_DEADLINE``
on one connection, so clients that trickle a byte at a time hold a worker only that long.

Errors of a connection (a client that aborts mid-answer) are one structlog line at
debug level, at most one per ``ERROR_EVERY`` seconds with a count of those left out,
never socketserver's traceback on stderr.
"""

from __future__ import annotations

import collections
import queue
import selectors
import socket
import sys
import threading
import time
from http.server import HTTPServer
from typing import Any, cast

from reverie.memory import _log

log = _log.get("reverie.serve")

MAX_CONNECTIONS = 256
WORKERS = 8
IDLE_TIMEOUT = 10.0
REQUEST_DEADLINE = 30.0  # a worker's whole time on one connection: a byte every 9 s is not a request
ERROR_EVERY = 60.0


class BoundedHTTPServer(HTTPServer):
    request_queue_size = 128  # the kernel's backlog; accepting is quick, so it drains
    max_connections = MAX_CONNECTIONS
    workers = WORKERS
    idle_timeout = IDLE_TIMEOUT
    request_deadline = REQUEST_DEADLINE

    def __init__(self, *args: Any, **kw: Any):
        self._idle: collections.OrderedDict[socket.socket, float] = collections.OrderedDict()
        self._busy: dict[socket.socket, float] = {}  # being answered, since
        self._held = 0  # idle + queued + being answered
        self._mutex = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._wakeup_r, self._wakeup_w = socket.socketpair()
        self._wakeup_r.setblocking(False)
        self._wakeup_w.setblocking(False)
        self._selector.register(self._wakeup_r, selectors.EVENT_READ)
        self._ready: queue.SimpleQueue = queue.SimpleQueue()
        self._closing = False
        self._errors_at = 0.0
        self._errors_left_out = 0
        self._threads: list[threading.Thread] = []
        try:
            super().__init__(*args, **kw)
        except BaseException:  # the address cannot be taken: leave nothing open
            self._selector.close()
            self._wakeup_r.close()
            self._wakeup_w.close()
            raise
        self._start_threads()

    # -- the waiting room --------------------------------------------------------------

    def _start_threads(self) -> None:
        t = threading.Thread(target=self._watch, name="reverie-http-idle", daemon=True)
        self._threads.append(t)
        for i in range(self.workers):
            self._threads.append(threading.Thread(target=self._work, daemon=True,
                                                  name=f"reverie-http-{i}"))
        for t in self._threads:
            t.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Called by serve_forever for each accepted connection: hold it until it speaks."""
        with self._mutex:
            if self._held >= self.max_connections:
                if not self._idle:
                    self.shutdown_request(request)  # every slot is answering: not this one
                    return
                oldest, _ = self._idle.popitem(last=False)
                self._drop(oldest)
            self._held += 1
            request.setblocking(False)
            self._idle[request] = time.monotonic()
            self._selector.register(request, selectors.EVENT_READ, client_address)
        try:
            self._wakeup_w.send(b"\0")
        except OSError:
            pass  # already awake with bytes to read

    def _drop(self, request: socket.socket) -> None:  # under _mutex, for an idle one
        try:
            self._selector.unregister(request)
        except (KeyError, ValueError):
            pass
        self._held -= 1
        self.shutdown_request(request)

    def _watch(self) -> None:
        while not self._closing:
            try:
                events = self._selector.select(timeout=min(1.0, self.idle_timeout))
            except OSError:
                if self._closing:
                    return
                continue
            now = time.monotonic()
            with self._mutex:
                for key, _ in events:
                    if key.fileobj is self._wakeup_r:
                        try:
                            self._wakeup_r.recv(4096)
                        except OSError:
                            pass
                        continue
                    # besides the wake-up pair, only accepted sockets are registered
                    request = cast(socket.socket, key.fileobj)
                    if request in self._idle:
                        del self._idle[request]
                        self._selector.unregister(request)
                        self._ready.put((request, key.data))
                while self._idle:
                    request, since = next(iter(self._idle.items()))
                    if now - since < self.idle_timeout:
                        break
                    del self._idle[request]
                    self._drop(request)
                for request, since in list(self._busy.items()):
                    if now - since >= self.request_deadline:
                        # a client trickling bytes: end it, which wakes its worker's read
                        del self._busy[request]
                        try:
                            request.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass

    def _work(self) -> None:
        while True:
            item = self._ready.get()
            if item is None:
                return
            request, client_address = item
            if self._closing:  # closing: not answered, only closed
                self.shutdown_request(request)
                with self._mutex:
                    self._held -= 1
                continue
            with self._mutex:
                self._busy[request] = time.monotonic()
            try:
                request.setblocking(True)
                request.settimeout(self.idle_timeout)
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                with self._mutex:
                    self._busy.pop(request, None)
                    self._held -= 1
                self.shutdown_request(request)

    # -- errors and closing -------------------------------------------------------------

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One debug line, rate-limited, instead of socketserver's traceback on stderr."""
        exc = sys.exc_info()[1]
        now = time.monotonic()
        with self._mutex:
            if now - self._errors_at < ERROR_EVERY:
                self._errors_left_out += 1
                return
            left_out, self._errors_left_out, self._errors_at = self._errors_left_out, 0, now
        log.debug("serve.connection_error", error=f"{type(exc).__name__}: {exc}"[:200],
                  left_out=left_out)

    def server_close(self) -> None:
        super().server_close()
        self._closing = True
        for _ in range(self.workers):
            self._ready.put(None)
        try:
            self._wakeup_w.send(b"\0")
        except OSError:
            pass
        end = time.monotonic() + 2.0  # a worker mid-answer has its socket timeout; no more
        for t in self._threads:
            t.join(timeout=max(0.0, end - time.monotonic()))
        with self._mutex:
            for request in list(self._idle):
                self._drop(request)
            self._idle.clear()
        self._selector.close()
        self._wakeup_r.close()
        self._wakeup_w.close()
