"""A cgroup (v2) of its own for each session, when the daemon's cgroup is delegated to it.

Under systemd with ``Delegate=yes`` the daemon's cgroup (``0::/...`` in /proc/self/cgroup)
is the daemon's to divide: each session's agent starts in a child cgroup
``reverie-session-<id>``, and everything it starts stays there whatever it does (``setsid``,
``env -i``, a double fork): a process cannot leave a cgroup without write access to its
parent's ``cgroup.procs``. The session ends with ``cgroup.kill``, which takes the whole
tree at once. Where the daemon's cgroup is not cgroup v2, is the root, or is not writable
(outside systemd, ``Delegate=`` unset), :func:`for_session` says so and the runner stops
the tree by walking the process table instead (daemon/agent.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PREFIX = "reverie-session-"


def _mount_and_own() -> tuple[Path, str] | None:
    """The cgroup2 mount point and this process's cgroup path under it, or None."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            own = next((line.strip()[3:] for line in f if line.startswith("0::")), None)
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    if not own:
        return None
    for fields in mounts:
        sep = fields.index("-") if "-" in fields else -1
        if sep < 0 or fields[sep + 1] != "cgroup2":
            continue
        root, point = fields[3], fields[4]
        rel = own if root == "/" else own.removeprefix(root) if own.startswith(root) else None
        if rel is not None:
            return Path(point), rel
    return None


def delegated() -> Path | None:
    """The daemon's own cgroup directory when sessions can get child cgroups in it: cgroup
    v2, not the root cgroup (nobody delegated that), writable, with ``cgroup.kill``."""
    found = _mount_and_own()
    if found is None:
        return None
    point, rel = found
    if rel in ("", "/"):
        return None
    here = point / rel.lstrip("/")
    if not (here / "cgroup.kill").exists():
        return None  # before Linux 5.14
    if not (os.access(here, os.W_OK) and os.access(here / "cgroup.procs", os.W_OK)):
        return None
    return here


class SessionCgroup:
    """One session's cgroup: made before the agent starts, emptied and removed at its end."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    @classmethod
    def make(cls, session_id: str) -> "SessionCgroup | None":
        parent = delegated()
        if parent is None:
            return None
        path = parent / (PREFIX + session_id)
        try:
            path.mkdir(mode=0o755)
            cg = cls(path)
            # opened now, written in the child before exec: ``0`` moves the writer itself
            cg._fd = os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            try:
                path.rmdir()
            except OSError:
                pass
            return None
        return cg

    @classmethod
    def existing(cls, session_id: str) -> "SessionCgroup | None":
        """The cgroup of a session a previous daemon started, if it is still there."""
        parent = delegated()
        path = parent / (PREFIX + session_id) if parent is not None else None
        return cls(path) if path is not None and path.is_dir() else None

    def enter(self) -> None:
        """In the child, between fork and exec: move into the session's cgroup. Only a
        write() on a descriptor opened before the fork. A refusal leaves the agent where
        the daemon is: the walk still stops its tree."""
        if self._fd is not None:
            try:
                os.write(self._fd, b"0")
            except OSError:
                pass

    def started(self) -> None:
        """In the daemon once the child runs: the descriptor is no longer needed."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def procs(self) -> set[int]:
        try:
            return {int(p) for p in (self.path / "cgroup.procs").read_text().split()}
        except (OSError, ValueError):
            return set()

    def populated(self) -> bool:
        try:
            for line in (self.path / "cgroup.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "populated":
                    return value.strip() == "1"
        except OSError:
            return False
        return False

    def kill(self, wait: float = 5.0) -> int:
        """SIGKILL to every process in the cgroup at once (``cgroup.kill``); how many there
        were. Waits up to ``wait`` seconds for the cgroup to be empty."""
        n = len(self.procs())
        if n:
            try:
                (self.path / "cgroup.kill").write_text("1")
            except OSError:
                return 0
        end = time.monotonic() + wait
        while self.populated() and time.monotonic() < end:
            time.sleep(0.02)
        return n

    def remove(self) -> None:
        self.started()
        for _ in range(50):  # the last exits may take a moment to leave the cgroup
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
