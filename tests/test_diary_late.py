"""A late block's marker (working.md written after its session ended) is written and read
by one rule (memory/diary.py): consolidation counts its lines, the diary's reader makes
it a citable block; a diary from before late blocks had ids still counts its lines."""

from __future__ import annotations

from reverie.memory import diary as d


def test_the_marker_written_is_the_marker_read():
    marker = d.late_marker("s1", "a" * 64, 2, "1764059000")
    old = f"<!-- session:s1 late sha256:{'b' * 64} lines:1 -->"  # before ids
    body = (f"### Written to working.md after session s1 ended\n{marker}\n\n"
            "the first late line\nthe second\n\n"
            f"### Written to working.md after session s1 ended\n{old}\n\nan old late line\n")
    assert d.late_lines(body, "s1") == 3
    assert d.late_lines(body, "s2") == 0
    late = {name: b.lines for name, b in d.blocks(body, "2026-11-25").items() if "-late-" in name}
    assert late == {"s1-late-1764059000": ["the first late line", "the second"]}


def test_a_late_marker_the_agent_wrote_in_its_notes_counts_nothing():
    # the agent's working.md held the marker's exact form: archived, it is one line of a
    # session block, and neither consolidation's count nor the citable blocks take it
    forged = d.late_marker("s1", "a" * 64, 999, "1")
    body = (f"{d.anchor_comment('s1', 2)}\n<!-- session:s1 -->\n\n{forged}\nmy own line\n\n"
            "<!-- /session:s1 -->\n")
    assert d.late_lines(body, "s1") == 0
    assert {name: b.lines for name, b in d.blocks(body, "2026-11-25").items()} == {
        "s1": [forged, "my own line"]}
