"""files: counting files (and words) in a folder of the home."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from _sources_fixtures import make_ctx, run, units, values
from reverie.perception.sources import SourceError
from reverie.perception.sources.files import Files, count_words


@pytest.fixture
def posts_home(tmp_path):
    posts = tmp_path / "posts"
    (posts / "2024").mkdir(parents=True)
    (posts / "a.md").write_text("one two three\n")
    (posts / "b.md").write_text("four\nfive")
    (posts / "notes.txt").write_text("not counted by *.md")
    (posts / "2024" / "c.md").write_text("six seven")
    (posts / ".draft.md").write_text("hidden drafts are left out")
    return tmp_path


def test_counts_matching_files(posts_home):
    result = run(Files, make_ctx(posts_home), path="posts", glob="*.md", unit="posts")
    assert values(result) == {"count": 2} and units(result) == {"count": "posts"}


def test_recursive_counts_subfolders(posts_home):
    assert values(run(Files, make_ctx(posts_home), path="posts", glob="*.md", recursive=True))["count"] == 3


def test_words_are_totalled(posts_home):
    result = run(Files, make_ctx(posts_home), path="posts", glob="*.md", recursive=True, words=True)
    assert values(result) == {"count": 3, "words": 7} and units(result)["words"] == "words"


def test_the_default_glob_counts_every_visible_file(posts_home):
    assert values(run(Files, make_ctx(posts_home), path="posts"))["count"] == 3


def test_a_missing_folder_fails(tmp_path):
    with pytest.raises(SourceError, match="^no such folder: posts$"):
        run(Files, make_ctx(tmp_path), path="posts")


def test_a_folder_outside_the_home_is_refused_at_config_time():
    with pytest.raises(ValidationError, match="inside the home"):
        Files.Options(path="../other")
    with pytest.raises(ValidationError, match="inside the home"):
        Files.Options(path="/etc")


def test_a_symlinked_folder_leaving_the_home_is_refused(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "outside").mkdir()
    (home / "posts").symlink_to(tmp_path / "outside")
    with pytest.raises(SourceError, match="outside the home"):
        run(Files, make_ctx(home), path="posts")


def test_a_symlinked_file_leaving_the_home_is_not_counted(tmp_path):
    home = tmp_path / "home"
    (home / "posts").mkdir(parents=True)
    (tmp_path / "secret.md").write_text("x")
    (home / "posts" / "link.md").symlink_to(tmp_path / "secret.md")
    (home / "posts" / "real.md").write_text("y")
    assert values(run(Files, make_ctx(home), path="posts", glob="*.md"))["count"] == 1


def test_words_split_across_read_chunks_are_counted_once(tmp_path, monkeypatch):
    import reverie.perception.sources.files as files_mod

    monkeypatch.setattr(files_mod, "_READ_CHUNK", 4)
    p = tmp_path / "t.txt"
    p.write_text("alpha beta  gamma\ndelta")
    assert count_words(p) == (4, False)


def _bytes_read() -> int:
    with open("/proc/self/io") as f:
        return int(next(ln for ln in f if ln.startswith("rchar:")).split()[1])


def test_a_2_gib_sparse_file_is_counted_in_its_first_max_bytes_and_the_poll_says_so(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("one two three\n")
    with open(posts / "huge.md", "wb") as f:  # 2 GiB of holes: no disk, all zero bytes
        f.write(b"big words here ")
        f.truncate(2 * 1024 ** 3)
    before = _bytes_read()
    result = run(Files, make_ctx(tmp_path, timeout=30), path="posts", glob="*.md", words=True)
    read = _bytes_read() - before
    assert values(result) == {"count": 2, "words": 3 + 4}  # the zeros are one long "word"
    assert read < 5 * 1024 ** 2, read  # 4 MiB of the 2 GiB, not the file
    assert result.warnings == ["1 matching files are over max_bytes (4 MiB): their words "
                               "are counted in the first 4 MiB only"]


def test_max_bytes_is_an_option(tmp_path):
    (tmp_path / "t.md").write_text("a b c d e f")
    result = run(Files, make_ctx(tmp_path), glob="*.md", words=True, max_bytes=4)
    assert values(result)["words"] == 2  # "a b " then the cut
    assert result.warnings == ["1 matching files are over max_bytes (4 bytes): their words "
                               "are counted in the first 4 bytes only"]
    assert count_words(tmp_path / "t.md", 11) == (6, False)
