"""`reverie audit memory/FILE` and `--all`: every memory line followed to the diary lines it
cites, and told whether the record still supports it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reverie.memory import consolidate as c
from reverie.perception.distill import distill_day
from reverie.perception.dreams import DreamOptions
from tests.conftest import make_config, run_cli

TZ = ZoneInfo("UTC")
START = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
DAY = START.date()
PAGE = """## Notes
Checked the feed: 12 new items.
Decided to post twice a week; the RPC endpoint was flaky again.
Should I move the posts to the mornings?
- the RPC is flaky #remember infra: retry after 30 s
## Keep
- Ada runs the market stall on Saturdays
"""
DISTILLED = "memory/distilled-2026-11-25.md"


@pytest.fixture
def lived(home, store, tmp_path):
    """A home with one consolidated session and its offline distillation; the config path."""
    home.working.write_text(PAGE, encoding="utf-8")
    store.start_session("s1", START, 1, "scheduled")
    store.end_session("s1", START + timedelta(minutes=30), "exited", 0)
    c.consolidate(home, store, store.session("s1"), tz=TZ)
    distill_day(home, store, DreamOptions(), day=DAY, mode="offline")
    return make_config(tmp_path, home=str(home.root))


def audit(cfg, *args):
    return run_cli("--config", str(cfg), "audit", *args)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_fresh_distillation_is_cited_resolved_unchanged_and_supported(lived, home):
    r = audit(lived, str(home.root / DISTILLED))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == (f"{DISTILLED}: 2 lines from the diary, 2 cited, 2 resolved, 2 unchanged, "
                        "2 supported\n")


def test_a_path_relative_to_the_home_is_a_memory_audit_too(lived, home):
    r = audit(lived, DISTILLED)
    assert r.returncode == 0 and r.stdout.startswith(f"{DISTILLED}: 2 lines")


def test_an_edited_diary_line_is_reported_not_trusted(lived, home):
    edit(home.diary(DAY), "Decided to post twice a week", "Decided to post three times a week")
    r = audit(lived, DISTILLED)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == (f"{DISTILLED}: 2 lines from the diary, 2 cited, "
                                        "2 resolved, 1 unchanged, 1 supported")
    n = next(i for i, ln in enumerate((home.root / DISTILLED).read_text().splitlines(), 1)
             if ln.startswith("- decision:"))
    assert (f"  {DISTILLED}:{n}: the diary changed since it was distilled: "
            "diary/2026-11-25.md#s-s1-3: - decision:") in r.stdout
    assert "UNSUPPORTED (quotes" in r.stdout


def test_a_bullet_that_says_more_than_its_line_is_unsupported(lived, home):
    edit(home.root / DISTILLED, "\u201cDecided to post twice a week; the RPC endpoint was flaky again.\u201d",
         "Posting 5 times a week is best")
    r = audit(lived, DISTILLED)
    assert r.returncode == 1
    assert "2 resolved, 2 unchanged, 1 supported" in r.stdout
    assert "UNSUPPORTED (states 5, not in the cited lines): - decision: Posting 5 times" in r.stdout


def test_an_anchor_to_no_line_and_a_bullet_without_one_are_listed(lived, home):
    edit(home.root / DISTILLED, "#s-s1-4]", "#s-s1-99]")
    path = home.root / DISTILLED
    path.write_text(path.read_text().replace("\n## Receipt", "- an uncited thought\n\n## Receipt"))
    r = audit(lived, DISTILLED)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == (f"{DISTILLED}: 3 lines from the diary, 2 cited, "
                                        "1 resolved, 1 unchanged, 1 supported")
    assert "does not resolve: diary/2026-11-25.md#s-s1-99: - question:" in r.stdout
    assert "uncited: - an uncited thought" in r.stdout


def test_promoted_lines_are_checked_against_their_diary_block(lived, home):
    r = audit(lived, "memory/infra.md")
    assert r.returncode == 0
    assert r.stdout == ("memory/infra.md: 1 line from the diary, 1 cited, 1 resolved, "
                        "1 unchanged, 1 supported\n")
    edit(home.memory_dir / "notes.md", "on Saturdays", "on Sundays")
    r = audit(lived, "memory/notes.md")
    assert r.returncode == 1
    assert "memory/notes.md:6: this block was edited since it was promoted" in r.stdout
    assert ("memory/notes.md:6: UNSUPPORTED (not in diary/2026-11-25.md#session-s1): "
            "- Ada runs the market stall on Sundays") in r.stdout


def test_an_edited_diary_block_is_reported_for_its_promoted_lines(lived, home):
    edit(home.diary(DAY), "Checked the feed: 12 new items.", "Checked the feed: 13 new items.")
    r = audit(lived, "memory/infra.md")
    assert r.returncode == 1
    assert "diary/2026-11-25.md session s1 changed since it was consolidated" in r.stdout


def test_audit_all_checks_every_memory_file_that_cites_the_diary(lived, home):
    (home.memory_dir / "identity.md").write_text("I am Wren.\n")
    r = audit(lived, "--all")
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines() == [
        f"{DISTILLED}: 2 lines from the diary, 2 cited, 2 resolved, 2 unchanged, 2 supported",
        "memory/infra.md: 1 line from the diary, 1 cited, 1 resolved, 1 unchanged, 1 supported",
        "memory/notes.md: 1 line from the diary, 1 cited, 1 resolved, 1 unchanged, 1 supported",
        "memory/patterns.md: 0 lines from the diary, 0 cited, 0 resolved, 0 unchanged, 0 supported",
        "4 files: 4 lines, 4 cited, 4 resolved, 4 unchanged, 4 supported",
    ]
    assert audit(lived).stdout == r.stdout  # no file: every file
    edit(home.diary(DAY), "Should I move", "Shall I move")
    assert audit(lived, "--all").returncode == 1


def test_a_memory_file_that_does_not_exist_is_one_line(lived, home):
    r = audit(lived, "memory/nope.md")
    assert r.returncode == 2
    assert r.stderr.strip().endswith("memory/nope.md: no such file")


def test_a_diary_reference_inside_the_agents_words_is_not_taken_for_a_citation(home, store, tmp_path):
    home.working.write_text("Decided to reread diary/2026-01-01.md#s-old-3 tomorrow.\n")
    store.start_session("s1", START, 1, "scheduled")
    store.end_session("s1", START + timedelta(minutes=30), "exited", 0)
    c.consolidate(home, store, store.session("s1"), tz=TZ)
    out = distill_day(home, store, DreamOptions(), day=DAY, mode="offline")
    assert out.counts == {"bullets": 1, "cited": 1, "resolved": 1, "supported": 1}
    r = audit(make_config(tmp_path, home=str(home.root)), DISTILLED)
    assert r.returncode == 0, r.stdout


def test_lines_crafted_to_make_a_parser_backtrack_are_audited_line_by_line(lived, home):
    # each of these would make a naive regular expression retry from every character:
    # hundreds of them are read in well under a second, not in hours
    crafted = ["- \u201c" * 1000, "- [" * 1000, "- " + "diary/2026-11-25.md#s-" * 150,
               "- " + '"' + " " * 3990, "- x \u2014 " * 500]
    path = home.root / DISTILLED
    path.write_text(path.read_text().replace("\n## Receipt", "\n" + "\n".join(crafted * 60)
                                             + "\n\n## Receipt"))
    r = audit(lived, DISTILLED)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0].startswith(f"{DISTILLED}: 302 lines from the diary, 2 cited")
    assert r.stdout.count("uncited") == 300
