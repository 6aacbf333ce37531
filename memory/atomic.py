"""The one atomic write every file reverie writes goes through.

A temporary file in the same folder, fsync, ``os.replace``, fsync of the folder: a
reader sees the old file or the new one, never half of either, and a crash at any
point leaves one of the two on disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o640
SECRET_MODE = 0o600


def write_bytes(path: str | os.PathLike, data: bytes, *, mode: int = FILE_MODE) -> Path:
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(folder)
    return path


def write_text(path: str | os.PathLike, text: str, *, mode: int = FILE_MODE) -> Path:
    return write_bytes(path, text.encode("utf-8"), mode=mode)


def append_text(path: str | os.PathLike, text: str, *, mode: int = FILE_MODE) -> Path:
    """Append by rewriting the whole file atomically (files reverie appends to are small)."""
    path = Path(path)
    try:
        old = path.read_text(encoding="utf-8")
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
