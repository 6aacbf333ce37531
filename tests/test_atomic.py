"""The one atomic write: readers never see half a file; a failed write keeps the old one."""

from __future__ import annotations

import os
import threading

import pytest

from reverie.memory import atomic


def test_write_creates_file_with_content_and_mode(tmp_path):
    p = atomic.write_text(tmp_path / "a" / "state.md", "hello\n")
    assert p.read_text() == "hello\n"
    assert (p.stat().st_mode & 0o777) == 0o640


def test_secret_files_are_owner_only(tmp_path):
    p = atomic.write_text(tmp_path / "reverie.yaml", "k: v\n", mode=atomic.SECRET_MODE)
    assert (p.stat().st_mode & 0o777) == 0o600


def test_a_reader_thread_never_sees_a_partial_file(tmp_path):
    target = tmp_path / "state.md"
    versions = [(chr(ord("a") + i) * 200_000) for i in range(8)]
    atomic.write_text(target, versions[0])
    stop = threading.Event()
    seen_bad: list[int] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            text = target.read_text()
            reads += 1
            if text not in versions:
                seen_bad.append(len(text))

    t = threading.Thread(target=reader)
    t.start()
    for i in range(200):
        atomic.write_text(target, versions[i % len(versions)])
    stop.set()
    t.join()
    assert reads > 0
    assert seen_bad == []


def test_a_failing_write_leaves_the_old_file_intact_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "diary.md"
    atomic.write_text(target, "old entry\n")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)  # the disk, which cannot fill up here
    with pytest.raises(OSError):
        atomic.write_text(target, "new entry\n")
    monkeypatch.undo()
    assert target.read_text() == "old entry\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diary.md"]


def test_append_keeps_what_was_there(tmp_path):
    p = tmp_path / "ledger.jsonl"
    atomic.append_text(p, "one\n")
    atomic.append_text(p, "two\n")
    assert p.read_text() == "one\ntwo\n"


def test_symlink_points_relatively_and_replaces(tmp_path):
    (tmp_path / "2026-11-24.md").write_text("a")
    (tmp_path / "2026-11-25.md").write_text("b")
    atomic.symlink("2026-11-24.md", tmp_path / "latest.md")
    atomic.symlink("2026-11-25.md", tmp_path / "latest.md")
    assert os.readlink(tmp_path / "latest.md") == "2026-11-25.md"
    assert (tmp_path / "latest.md").read_text() == "b"


def test_create_writes_once_and_never_replaces_what_appeared_first(tmp_path):
    path = tmp_path / "diary.md"
    assert atomic.create_bytes(path, b"# Diary\n", mode=atomic.SECRET_MODE)
    assert not atomic.create_bytes(path, b"something else\n")
    assert path.read_bytes() == b"# Diary\n"
    assert oct(path.stat().st_mode & 0o777) == oct(atomic.SECRET_MODE)
    assert os.listdir(tmp_path) == ["diary.md"]  # no temporary file left either way
