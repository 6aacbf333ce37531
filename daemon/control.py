"""The control socket: ``reverie wake|sleep|status|reload`` talking to the running daemon.

A unix socket at ``control.sock`` in the state folder (mode 0600, in a 0700 folder: only
the daemon's user can connect). One JSON object per line each way: a request
``{"cmd": "wake"|"sleep"|"status"|"reload", ...}`` and its reply. Each connection gets its
own thread, so a slow ``sleep`` never holds up a ``status``.
"""

from __future__ import annotations

import json
import os
import select
import socket
import stat
import struct
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from reverie.memory import bounded_json
from reverie.memory import _log
from reverie.memory.errors import described

log = _log.get("reverie.control")

MAX_REQUEST = 64 * 1024


class DaemonNotRunning(ConnectionError):
    """No daemon answers on the socket."""


class ControlError(RuntimeError):
    """The daemon answered, but not with a usable reply (one clear line)."""


class ControlServer:
    def __init__(self, path: str | os.PathLike, handler: Callable[[dict], dict]):
        self.path = Path(path)
        self.handler = handler
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake_r: int | None = None
        self._wake_w: int | None = None

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clear_stale()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # No umask dance (it is process-wide, and other threads create folders): the
        # socket sits in the 0700 state folder until chmod makes it 0600.
        with _address(self.path) as addr:
            sock.bind(addr)
        os.chmod(self.path, 0o600)
        sock.listen(16)
        self._sock = sock
        self._wake_r, self._wake_w = os.pipe()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="control-socket", daemon=True)
        self._thread.start()
        log.info("control.listening", path=str(self.path))

    def stop(self) -> None:
        self._stopping.set()
        if self._wake_w is not None:
            os.write(self._wake_w, b"x")  # wakes the select() in _serve at once
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for fd in (self._wake_r, self._wake_w):
            if fd is not None:
                os.close(fd)
        self._wake_r = self._wake_w = None
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()
        except FileNotFoundError:
            pass

    def __enter__(self) -> "ControlServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _clear_stale(self) -> None:
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise RuntimeError(f"{self.path} exists and is not a socket; remove it")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1)
        try:
            with _address(self.path) as addr:
                probe.connect(addr)
        except (ConnectionRefusedError, FileNotFoundError):
            self.path.unlink(missing_ok=True)  # left by a daemon that died
            return
        except OSError:
            self.path.unlink(missing_ok=True)
            return
        finally:
            probe.close()
        raise RuntimeError(f"another reverie daemon is listening on {self.path}")

    def _serve(self) -> None:
        assert self._sock is not None and self._wake_r is not None  # start() set both
        watched: list[socket.socket | int] = [self._sock, self._wake_r]
        while not self._stopping.is_set():
            ready, _, _ = select.select(watched, [], [])
            if self._stopping.is_set():
                return
            if self._sock not in ready:
                continue
            try:
                conn, _ = self._sock.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                continue
            threading.Thread(target=self._client, args=(conn,), name="control-client",
                             daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        with conn:
            if not _same_user(conn):
                _send(conn, {"ok": False, "error": "permission denied"})
                return
            conn.settimeout(30)
            reader = conn.makefile("rb")
            while True:
                try:
                    line = reader.readline(MAX_REQUEST + 1)
                except (OSError, socket.timeout):
                    return
                if not line:
                    return
                if len(line) > MAX_REQUEST:
                    _send(conn, {"ok": False, "error": "request too large"})
                    return
                _send(conn, self._answer(line))

    def _answer(self, line: bytes) -> dict:
        try:
            request = bounded_json.loads(line)
        except bounded_json.TooDeep:  # nested deeper than the bound, under the size cap
            return {"ok": False, "error": "a request nests too deeply"}
        except ValueError:
            return {"ok": False, "error": "a request is one JSON object per line"}
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": 'a request needs "cmd": wake, sleep, status or reload'}
        try:
            reply = self.handler(request)
        except Exception as e:
            log.error("control.failed", cmd=request.get("cmd"),
                      error=described(e))
            return {"ok": False, "error": described(e)}
        return reply if isinstance(reply, dict) else {"ok": True, "result": reply}


def request(path: str | os.PathLike, payload: dict, timeout: float = 30.0) -> dict:
    """Send one request and return the daemon's reply. DaemonNotRunning when nothing
    listens on ``path``; ControlError for a reply that is not one."""
    path = Path(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            with _address(path) as addr:
                sock.connect(addr)
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonNotRunning(f"no reverie daemon is listening on {path}") from None
        except PermissionError:
            raise ControlError(f"not allowed to talk to the daemon at {path} "
                               "(it belongs to another user)") from None
        sock.sendall(json.dumps(payload).encode() + b"\n")
        reader = sock.makefile("rb")
        try:
            line = reader.readline(MAX_REQUEST * 16)
        except socket.timeout:
            raise ControlError(f"the daemon did not answer within {timeout:g}s") from None
        if not line:
            raise ControlError("the daemon closed the connection without answering")
        try:
            reply = bounded_json.loads(line)
        except ValueError:
            raise ControlError("the daemon's reply is not JSON") from None
        if not isinstance(reply, dict):
            raise ControlError("the daemon's reply is not a JSON object")
        return reply
    finally:
        sock.close()


def is_running(path: str | os.PathLike) -> bool:
    """Whether a daemon answers a status request on ``path``."""
    try:
        request(path, {"cmd": "status"}, timeout=2)
    except (DaemonNotRunning, ControlError, OSError):
        return False
    return True


@contextmanager
def _address(path: Path) -> Iterator[str]:
    """An address for ``path`` that fits a sockaddr_un (about 107 bytes): a long path
    is reached through its folder's descriptor (Linux /proc/self/fd)."""
    if len(os.fsencode(path)) < 100 or not os.path.isdir("/proc/self/fd"):
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _send(conn: socket.socket, reply: dict) -> None:
    try:
        conn.sendall(json.dumps(reply, default=str).encode() + b"\n")
    except OSError:
        pass


def _same_user(conn: socket.socket) -> bool:
    """The file mode already keeps others out; this also refuses a peer with another
    uid when the kernel tells (Linux SO_PEERCRED). Root may always ask."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return True
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    except OSError:
        return True
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid in (os.getuid(), 0)
