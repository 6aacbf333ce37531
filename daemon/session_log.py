"""The agent's session logs: its output copied under a cap, and the old logs pruned.

One log per session, ``sessions/<session id>.log`` in the state folder. Session ids sort
by start time to the second, so the newest logs are the last names (and the last written).
"""

from __future__ import annotations

import os
import re
import select
import threading
from pathlib import Path
from typing import IO

from reverie.memory import _log, atomic, clock
from reverie.daemon.logs import error_text

log = _log.get("reverie.sessions")

_FLUSH_EVERY = 0.5  # seconds between atomic rewrites of a growing session log
_LOG_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]+\.log$")


class LogCopier(threading.Thread):
    """Copy the agent's output to its log, up to a cap; drain (and drop) the rest so the
    agent never blocks on a full pipe. The log is rewritten atomically, at most every
    half second, like every file reverie writes."""

    def __init__(self, stream: IO[bytes], path: Path, cap: int):
        super().__init__(name=f"session-log-{path.stem}", daemon=True)
        self.stream = stream
        self.path = path
        self.cap = cap
        self.buf = bytearray()
        self.truncated = 0
        self.notes: list[str] = []

    def run(self) -> None:
        fd = self.stream.fileno()
        dirty = True  # an empty log says the session produced no output
        last = 0.0
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], _FLUSH_EVERY)
                if ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    room = self.cap - len(self.buf)
                    if room > 0:
                        self.buf += chunk[:room]
                        dirty = True
                    self.truncated += max(0, len(chunk) - max(room, 0))
                if dirty and clock.monotonic() - last >= _FLUSH_EVERY:
                    self._flush()
                    dirty, last = False, clock.monotonic()
        except (OSError, ValueError):
            pass
        finally:
            self._flush()
            try:
                self.stream.close()
            except OSError:
                pass

    def _flush(self) -> None:
        data = bytes(self.buf)
        for s in _secret_values():  # an agent may echo a secret it was given in sessions.env
            data = data.replace(s.encode("utf-8"), b"***")
        if self.truncated:
            data += (f"\n[reverie: output truncated at {self.cap} bytes; "
                     f"{self.truncated} more bytes were discarded]\n").encode()
        for note in self.notes:
            data += f"\n[reverie: {note}]\n".encode()
        try:
            atomic.write_bytes(self.path, data, mode=atomic.SECRET_MODE)
        except OSError as e:
            log.warning("session.log_failed", path=str(self.path), error=error_text(e))

    def finish(self, note: str | None = None, timeout: float = 5.0) -> None:
        """Wait for the output to end; ``note`` is what reverie adds at the log's end."""
        if note:
            self.notes.append(note)
        self.join(timeout)
        if note and not self.is_alive():
            self._flush()


def prune_logs(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` session logs in ``folder``; returns what went.
    Only names a session log has are touched; a link is removed, never followed."""
    try:
        names = [n for n in os.listdir(folder) if _LOG_NAME.match(n)]
    except OSError:
        return []
    names.sort(key=lambda n: (n[:16], _mtime(folder / n)))  # ids of one second: by last write
    gone = []
    for name in names[:max(0, len(names) - keep)]:
        path = folder / name
        try:
            path.unlink()
        except OSError as e:
            log.warning("session.log_prune_failed", path=str(path), error=error_text(e))
            continue
        gone.append(path)
    if gone:
        log.info("session.logs_pruned", removed=len(gone), kept=keep)
    return gone


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _secret_values() -> tuple[str, ...]:
    from reverie.daemon.logs import secret_values

    return secret_values()

