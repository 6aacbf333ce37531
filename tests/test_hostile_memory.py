"""The agent's memory files: its lines are kept, and distill's names are not its to take."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reverie.memory import consolidate as c
from reverie.perception.distill import DistillFailure, distill_day
from reverie.perception.dreams import DreamOptions
from tests.conftest import chat_completion

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)
DAY = date(2026, 11, 25)


def consolidate(home, store, text):
    home.working.write_text(text, encoding="utf-8")
    store.start_session("s1", START, 1, "scheduled")
    store.end_session("s1", START + timedelta(minutes=30), "exited", 0)
    return c.consolidate(home, store, store.session("s1"), tz=TZ)


def test_a_keep_line_with_text_between_two_comments_is_kept(home, store):
    led = consolidate(home, store, "## Keep\n<!-- a --> the sea is cold <!-- b -->\n<!-- only -->\n")
    assert led.promoted == 1
    assert "<!-- a --> the sea is cold <!-- b -->" in (home.memory_dir / "notes.md").read_text()


def test_remember_cannot_write_into_a_distill_file(home, store):
    led = consolidate(home, store, "- a thing #remember distilled-2026-11-30: to keep\n")
    assert not (home.memory_dir / "distilled-2026-11-30.md").exists()
    assert led.targets == {"memory/notes.md": 1}
    assert "- a thing #remember distilled-2026-11-30: to keep" in \
        (home.memory_dir / "notes.md").read_text()


def opts(httpserver) -> DreamOptions:
    return DreamOptions(base_url=httpserver.url_for("/v1"), api_key="sk-x", model="local",
                        timeout="3s")


def test_distill_never_overwrites_a_file_it_did_not_write(httpserver, home, store):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(chat_completion("- s", 5))
    home.diary(DAY).write_text("# Diary\nnotes\n")
    mine = home.memory_dir / "distilled-2026-11-25.md"
    mine.write_text("my own notes\n")
    with pytest.raises(DistillFailure, match=r"^memory/distilled-2026-11-25\.md was not written "
                                             r"by distill; not overwritten"):
        distill_day(home, store, opts(httpserver), day=DAY)
    assert mine.read_text() == "my own notes\n"
    assert httpserver.log == []


def test_distill_refuses_a_fifo_diary_without_blocking(httpserver, home, store):
    os.mkfifo(home.diary(DAY))
    with pytest.raises(DistillFailure, match=r"^diary/2026-11-25\.md: refused: a FIFO"):
        distill_day(home, store, opts(httpserver), day=DAY)


def test_100000_distinct_remember_topics_make_at_most_the_cap_of_files(home, store):
    n = 100_000
    text = "".join(f"- fact {i} #remember t{i}:\n" for i in range(n)) + "- plain #remember\n"
    before = set(home.memory_dir.iterdir()) if home.memory_dir.exists() else set()
    led = consolidate(home, store, text)
    made = set(home.memory_dir.iterdir()) - before
    topic_files = {p.name for p in made if p.name.startswith("t")}
    assert topic_files == {f"t{i}.md" for i in range(c.MAX_TOPIC_FILES)}
    assert led.promoted == n + 1 and led.topics_over_cap == n - c.MAX_TOPIC_FILES
    notes = (home.memory_dir / "notes.md").read_text(encoding="utf-8")
    assert f"- fact {n - 1} #remember t{n - 1}:" in notes and "- plain #remember" in notes
    assert "- fact 0 #remember" not in notes
    # the ledger says so, in its record and in the diary
    rec = json.loads(home.ledger.read_text().splitlines()[-1])
    assert rec["topics_over_cap"] == n - c.MAX_TOPIC_FILES
    assert sum(rec["targets"].values()) == n + 1 and len(rec["targets"]) == c.MAX_TOPIC_FILES + 1
    diary = home.diary(DAY).read_text(encoding="utf-8")
    assert f"{n - c.MAX_TOPIC_FILES} topics over the cap of {c.MAX_TOPIC_FILES} files went to " \
           "memory/notes.md." in diary
