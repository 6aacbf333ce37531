"""Read a file the agent controls without letting it hang, flood or redirect reverie.

The agent writes its home as the daemon's own user, so any path there may be a FIFO (an
``open`` that never returns), a link to ``/dev/zero`` (a read that never ends) or a link to
a file it could not name otherwise. Every file reverie reads from the home is opened here:
without following a final symlink, without blocking, checked to be a regular file by
``fstat`` on the open descriptor (so it cannot be swapped between the check and the read),
and read up to a cap. A regular file with more than one name (a hard link the agent made
to a file it cannot read by path) is refused too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 4 * MiB


class UnsafeFile(OSError):
    """A home file reverie refuses to read. ``strerror`` is the reason ("refused: a FIFO, not
    a regular file"), ``str()`` one line naming the file too."""

    def __init__(self, path: str | os.PathLike, reason: str, errno_: int = 0):
        super().__init__(errno_, reason, str(path))
        self.reason = reason  # strerror, typed: OSError's may be None, this one never is

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symlink")):
        if test(mode):
            return name
    return "not a regular file"


def refusal(path: str | os.PathLike) -> str | None:
    """Why ``path`` (without following a final link) is not a plain file reverie reads, or
    None when it is one. A missing file raises FileNotFoundError."""
    st = os.lstat(path)
    return None if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)


def open_regular(path: str | os.PathLike) -> int:
    """A read-only descriptor of the regular file at ``path``; anything else is refused."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnsafeFile(path, "refused: a symlink, not a regular file", e.errno) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(path, f"refused: {_kind(st.st_mode)}, not a regular file")
        if st.st_nlink > 1:
            # a second name for a file the agent could not name otherwise (a key, the
            # record) on hosts without fs.protected_hardlinks
            raise UnsafeFile(path, f"refused: a hard link ({st.st_nlink} names), not a file "
                                   "with one name")
        # back to blocking reads: a regular file never blocks, and plain reads are simpler
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file at ``path``, refused (UnsafeFile) past ``max_bytes``."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFile(path, f"refused: over the {_fmt(max_bytes)} cap")
    return data


def read_text(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
              errors: str = "strict") -> str:
    return read_bytes(path, max_bytes=max_bytes).decode("utf-8", errors=errors)


def size(path: str | os.PathLike) -> int:
    """Size of the regular file at ``path`` (refused like a read)."""
    fd = open_regular(path)
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def _fmt(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB and n % MiB == 0 else f"{n} bytes"


def check_folder(path: str | os.PathLike) -> None:
    """Refuse a reverie-owned folder in the home that is a symlink (one line)."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFile(p, "refused: a symlink; reverie never follows a link for its own "
                              "folders (replace it with a real folder)")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeFile(p, f"refused: {_kind(st.st_mode)}, expected a folder")
