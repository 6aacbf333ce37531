"""memory.git: the home's text files versioned after each consolidation (real git)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reverie.memory import consolidate as c
from reverie.memory.git import GitError, commit_home

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)


@pytest.fixture
def home(home, tmp_path, monkeypatch):
    # no global or system git config: reverie must bring its own identity
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    return home


def git(home, *args):
    return subprocess.run(["git", "-C", str(home.root), *args], capture_output=True,
                          text=True, check=True).stdout


def session(store, sid="s1", start=START):
    store.start_session(sid, start, 1, "scheduled")
    store.end_session(sid, start + timedelta(minutes=90), "exited", 0)
    return store.session(sid)


def test_consolidation_commits_the_home_with_the_ledger_summary(home, store):
    home.working.write_text("met Ada #remember\n## Carry\n- call Bob\n")
    led = c.consolidate(home, store, session(store), tz=TZ, git=True)
    assert led.commit and led.git_error is None
    assert git(home, "rev-parse", "HEAD").strip() == led.commit
    assert git(home, "log", "-1", "--format=%s").strip() == led.summary()
    assert git(home, "log", "-1", "--format=%an <%ae>").strip() == "reverie <reverie@localhost>"
    tracked = git(home, "ls-files").split()
    assert {"working.md", "diary/2026-11-25.md", "memory/notes.md", "memory/ledger.jsonl",
            ".gitignore"} <= set(tracked)
    assert not [t for t in tracked if t.startswith(".reverie")]
    assert git(home, "status", "--porcelain") == ""


def test_only_text_files_are_versioned(home):
    (home.root / "notes.md").write_text("x\n")
    (home.root / "photo.png").write_bytes(b"\x89PNG")
    (home.root / "reverie.yaml").write_text("api_key: secret\n")
    (home.root / ".working.md.abc.tmp").write_text("half\n")
    commit_home(home, "first")
    assert git(home, "ls-files").split() == [".gitignore", "notes.md"]


def test_nothing_changed_means_no_commit(home):
    (home.root / "a.md").write_text("a\n")
    assert commit_home(home, "first") is not None
    assert commit_home(home, "second") is None
    assert git(home, "log", "--format=%s").split() == ["first"]


def test_a_deleted_file_is_committed_as_deleted(home):
    (home.root / "a.md").write_text("a\n")
    commit_home(home, "first")
    (home.root / "a.md").unlink()
    assert commit_home(home, "gone") is not None
    assert "a.md" not in git(home, "ls-files").split()


def test_the_store_is_never_versioned_even_with_a_users_gitignore(home):
    (home.root / ".gitignore").write_text("*.log\n")  # the user's own, without .reverie/
    (home.private / "reverie.db").write_bytes(b"SQLite")
    (home.root / "a.md").write_text("a\n")
    commit_home(home, "first")
    assert sorted(git(home, "ls-files").split()) == [".gitignore", "a.md"]
    assert (home.root / ".gitignore").read_text() == "*.log\n"


def test_missing_git_is_one_clear_line(home, monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GitError) as e:
        commit_home(home, "x")
    assert str(e.value) == "git is not installed or not on PATH (memory.git: true needs it)"


def test_missing_git_does_not_stop_consolidation(home, store, monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    home.working.write_text("hello\n")
    led = c.consolidate(home, store, session(store), tz=TZ, git=True)
    assert led.commit is None and "git is not installed" in led.git_error
    assert store.session("s1").consolidated is True
    assert "hello" in home.diary(START.date()).read_text()


def test_a_git_failure_is_one_line_naming_the_command(home):
    (home.root / ".git").mkdir()
    (home.root / ".git" / "HEAD").write_text("garbage\n")  # a broken repository
    (home.root / "a.md").write_text("a\n")
    with pytest.raises(GitError) as e:
        commit_home(home, "x")
    assert "\n" not in str(e.value) and str(e.value).startswith("git ")


def test_git_variables_of_an_enclosing_repository_are_ignored(home, monkeypatch, tmp_path):
    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    (home.root / "a.md").write_text("a\n")
    assert commit_home(home, "first") is not None
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_WORK_TREE")
    assert git(home, "log", "--format=%s").strip() == "first"
