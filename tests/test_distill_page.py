"""The morning page shows what was distilled last night, each line linked to the diary lines
it came from, and the ledger counts a distillation's lines cited and supported."""

from __future__ import annotations

import os
from datetime import timedelta

from reverie.memory import consolidate as c
from reverie.perception.distill import distill_day
from reverie.perception.dreams import DreamOptions
from tests.test_page import NOW, TZ, render
from tests.test_page import world  # noqa: F401  (a fixture, used by name)

PAGE = """## Notes
Decided to post twice a week; the RPC endpoint was flaky again.
Should I <script>alert(1)</script> move the posts to the mornings?
The weather turned cold.
"""


def distilled(home, store, text=PAGE):
    start = NOW - timedelta(hours=10)
    home.working.write_text(text, encoding="utf-8")
    store.start_session("s1", start, 1, "scheduled")
    store.end_session("s1", start + timedelta(minutes=30), "exited", 0)
    c.consolidate(home, store, store.session("s1"), tz=TZ)
    return distill_day(home, store, DreamOptions(), day=start.astimezone(TZ).date(), mode="offline")


def test_the_page_shows_last_nights_distillation_with_links_to_its_diary_lines(world):  # noqa: F811
    home, store = world
    out = distilled(home, store)
    day = out.path.name[10:20]
    html, page = render(home, store, [])
    heads = [a["id"] for t, a in page.tags if t == "h2"]
    assert heads[:2] == ["h-dream", "h-distilled"]
    text = page.all_text
    assert "Distilled last night" in text
    assert (f"memory/distilled-{day}.md · the diary of {day} · written by offline · audit: "
            "2 lines, 2 cited, 2 resolved, 2 unchanged, 2 supported") in text
    assert "decision \u201cDecided to post twice a week; the RPC endpoint was flaky again.\u201d" in text
    links = [(a["href"], a.get("class")) for t, a in page.tags if t == "a" and a["href"].startswith("diary/")]
    assert links == [(f"diary/{day}.md#s-s1", "small")] * 2
    assert f"{day}.md#s-s1-2" in text and f"{day}.md#s-s1-3" in text  # line 1 is "## Notes"
    assert "<script>alert(1)</script>" not in html  # the agent's words are escaped


def test_the_ledger_line_of_a_distillation_counts_lines_cited_and_supported(world):  # noqa: F811
    home, store = world
    out = distilled(home, store)
    _, page = render(home, store, [])
    assert (f"distilled memory/{out.path.name} (offline): 2 lines, 2 cited, 2 supported, "
            "0 patterns") in page.all_text


def test_an_edited_diary_shows_on_the_page_as_fewer_lines_unchanged(world):  # noqa: F811
    home, store = world
    out = distilled(home, store)
    diary = home.diary_dir / f"{out.path.name[10:20]}.md"
    diary.write_text(diary.read_text().replace("twice a week", "daily"))
    _, page = render(home, store, [])
    assert "2 lines, 2 cited, 2 resolved, 1 unchanged, 1 supported (run reverie audit " \
           f"memory/{out.path.name} )" in page.all_text


def test_a_fifo_in_place_of_the_distillation_does_not_block_the_page(world):  # noqa: F811
    home, store = world
    os.mkfifo(home.memory_dir / "distilled-2025-03-09.md")
    _, page = render(home, store, [])
    assert "memory/distilled-2025-03-09.md could not be read." in page.all_text

