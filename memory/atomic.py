"""The one atomic write every file reverie writes goes through.

A temporary file in the same folder, fsync, ``os.replace``, fsync of the folder: a
reader sees the old file or the new one, never half of either, and a crash at any
point leaves one of the two on disk.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

FILE_MODE = 0o640
SECRET_MODE = 0o600
# a file reverie appends to is read whole first: the diary, memory/ files, the ledger
APPEND_MAX_BYTES = 64 * 1024 * 1024


def write_bytes(path: str | os.PathLike, data: bytes, *, mode: int = FILE_MODE) -> Path:
    with streaming(path, mode=mode) as f:
        f.write(data)
    return Path(path)


def create_bytes(path: str | os.PathLike, data: bytes, *, mode: int = FILE_MODE) -> bool:
    """Write ``path`` atomically only if nothing is there: False (and nothing written) when
    a file appeared first. ``os.link`` of the finished temporary file never replaces."""
    created = True

    def link(tmp: str, path: Path) -> None:
        nonlocal created
        try:
            os.link(tmp, path)
        except FileExistsError:
            created = False
        finally:
            os.unlink(tmp)

    with _written(path, mode, link) as f:
        f.write(data)
    return created


def _mkstemp(path: Path) -> tuple[int, str]:
    import tempfile  # with shutil and random: paid by a write, not by a command that reads

    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        # name the file being written, not the random temporary one: the same failure
        # (a read-only home) then reads the same every time and is logged once
        raise OSError(e.errno, e.strerror, str(path)) from None


def _keep_owner(fd: int, folder: Path) -> None:
    # root (``sudo reverie poll``) writing into a user's home: the file keeps the folder's
    # owner, so the agent can still read what reverie wrote for it
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        st = os.stat(folder)
        if st.st_uid != 0:
            os.fchown(fd, st.st_uid, st.st_gid)


def write_text(path: str | os.PathLike, text: str, *, mode: int = FILE_MODE) -> Path:
    return write_bytes(path, text.encode("utf-8"), mode=mode)


def append_text(path: str | os.PathLike, text: str, *, mode: int = FILE_MODE) -> Path:
    """Append by rewriting the whole file atomically (files reverie appends to are small)."""
    from reverie.memory import safe_read

    path = Path(path)
    try:
        old = safe_read.read_text(path, max_bytes=APPEND_MAX_BYTES)
    except FileNotFoundError:
        old = ""
    return write_text(path, old + text, mode=mode)


def fsync_dir(folder: str | os.PathLike) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def symlink(target: str, link: str | os.PathLike) -> None:
    """Point ``link`` at the relative ``target`` atomically (rename of a fresh link)."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.lnk")
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    os.symlink(target, tmp)
    os.replace(tmp, link)
    fsync_dir(link.parent)


@contextmanager
def streaming(path: str | os.PathLike, *, mode: int = FILE_MODE) -> Iterator[BinaryIO]:
    """Write ``path`` atomically from a stream (an archive too big to hold in memory): a
    binary file object on a temporary file beside it, put in place (fsync, ``os.replace``,
    fsync of the folder) only when the block ends without an exception."""
    with _written(path, mode, os.replace) as f:
        yield f


@contextmanager
def _written(path: str | os.PathLike, mode: int, place: Callable[[str, Path], object]
             ) -> Iterator[BinaryIO]:
    """A temporary file beside ``path`` to write in the block; then synced, given its mode
    and owner, and handed to ``place`` (which puts it in place), and the folder synced.
    Removed if anything fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _mkstemp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            _keep_owner(f.fileno(), path.parent)
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        place(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)
