"""Read a child's stderr as it comes, so a test can wait for a log line instead of sleeping."""

from __future__ import annotations

import threading
from typing import IO


class LogTail:
    def __init__(self, stream: IO[str]):
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                self._lines.append(line)

    def has(self, text: str) -> bool:
        with self._lock:
            return any(text in line for line in self._lines)

    def text(self, timeout: float = 10.0) -> str:
        """Everything read so far; once the child has exited, everything it wrote."""
        self._thread.join(timeout)
        with self._lock:
            return "".join(self._lines)
