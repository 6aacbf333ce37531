"""The home's lock: one reverie process acts on a home at a time (the daemon, or a
foreground `reverie wake`). An flock on ``reverie.lock`` in the state folder, holding
"<pid> <role>"; `reverie status` asks it whether the daemon runs."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path


class LockHeld(Exception):
    def __init__(self, pid: str):
        super().__init__(pid)
        self.pid = pid


class HomeLock:
    """One reverie process acting on a home at a time: an flock on reverie.lock
    holding "<pid> <role>" (role: daemon, or wake for a foreground `reverie wake`)."""

    def __init__(self, path: Path, role: str = "daemon"):
        self.path = path
        self.role = role
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                text = os.pread(fd, 64, 0).decode(errors="replace").split()
                os.close(fd)
                raise LockHeld(text[0] if text else "unknown") from None
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.role}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            finally:
                os.close(self._fd)
                self._fd = None

    @staticmethod
    def holder(path: Path) -> int | None:
        """The pid of the process holding this lock, or None."""
        info = HomeLock.holder_info(path)
        return info[0] if info else None

    @staticmethod
    def holder_info(path: Path) -> tuple[int, str] | None:
        """(pid, role) of the process holding this lock (pid -1 if unreadable), or None."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:  # missing, or a link someone planted: nobody holds it
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = os.pread(fd, 64, 0).decode(errors="replace").split()
            pid = int(text[0]) if text and text[0].isdigit() else -1
            return pid, (text[1] if len(text) > 1 else "daemon")
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)
