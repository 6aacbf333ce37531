"""Citable diary lines: every line archived into a diary has a stable anchor.

A session's block in ``diary/DAY.md`` starts with ``<!-- session:SID -->`` and ends with
``<!-- /session:SID -->``; its lines are numbered from 1, the first line after the blank
line that follows the marker (line N is line N of working.md as the session left it). A
line is cited as ``diary/DAY.md#s-SID-N``, several as ``diary/DAY.md#s-SID-N-M``. Lines
written to working.md after the session ended are in their own block (marker ``<!--
session:SID late … id:ID -->``), cited as ``#s-SID-late-ID-N``. Numbers count within a
block, so later appends to the diary never move them. Each block also carries an HTML
anchor ``<a id="s-SID">`` a reader's browser can jump to; the line number is counted from
there (the diary says so in a comment next to the anchor).

The lines are read back from the markers, not from the ``<a>`` anchors, so diaries written
before anchors existed resolve too. Consolidation writes the blocks (memory/_archive.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reverie.memory import atomic, safe_read
from reverie.memory._home_files import HOME_FILE_MAX_BYTES, read_home
from reverie.memory.home import Home

DIARY_MAX_BYTES = HOME_FILE_MAX_BYTES

# a session id as the diary's markers carry it (consolidation refuses any other)
SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}")
_OPEN = re.compile(rf"^<!-- session:({SESSION_ID.pattern}) -->$")
# a late block's marker (working.md written after its session ended): the one rule that
# writes it (late_marker) and reads it. Diaries written before late blocks had ids lack
# " id:K"; their lines still count, but they have no anchor.
LATE = re.compile(rf"^<!-- session:({SESSION_ID.pattern}) late "
                  r"sha256:([0-9a-f]{64}) lines:(\d+)(?: id:(\d+))? -->$", re.M)


def late_marker(sid: str, digest: str, lines: int, late_id: str) -> str:
    return f"<!-- session:{sid} late sha256:{digest} lines:{lines} id:{late_id} -->"


def late_lines(diary: str, sid: str) -> int:
    """How many lines the diary's late blocks of session ``sid`` hold (read by the walk
    that skips blocks whole: a marker the agent wrote in its notes counts nothing)."""
    return sum(n for of, _name, late, n, _lines in _walk(diary.split("\n")) if late and of == sid)
# an anchor as written in memory/: diary/2026-11-25.md#s-SID-12 or #s-SID-12-15
ANCHOR = re.compile(r"(?<![\w./-])diary/(\d{4}-\d{2}-\d{2})\.md#s-([A-Za-z0-9][A-Za-z0-9._:+-]{0,200}?-\d{1,9}(?:-\d{1,9})?)"
                    r"(?![A-Za-z0-9._:+-])")


@dataclass(frozen=True)
class Block:
    name: str          # the session id, or SID-late-ID for lines written late
    day: str           # the diary's date
    lines: list[str]   # the archived lines, numbered from 1

    def anchor(self, first: int, last: int | None = None) -> str:
        span = f"{first}" if last is None or last == first else f"{first}-{last}"
        return f"diary/{self.day}.md#s-{self.name}-{span}"

    @property
    def href(self) -> str:
        """Where a browser jumps to: the block's own HTML anchor."""
        return f"diary/{self.day}.md#s-{self.name}"


def diary_heading(day: date) -> str:
    return f"# Diary {day.isoformat()}\n"


def ensure_diary(home: Home, day: date) -> Path:
    """The diary file of ``day``, created with its heading if missing."""
    path = home.diary(day)
    try:
        read_home(home, path)
    except FileNotFoundError:
        atomic.write_text(path, diary_heading(day))
    return path


def anchor_comment(sid: str, n: int) -> str:
    """The line under a session heading: the anchor, and how to count from it."""
    span = f"lines 1–{n}" if n > 1 else ("line 1" if n == 1 else "no lines")
    return (f'<a id="s-{sid}"></a><!-- {span} below (after the blank line): '
            f"cite line N as #s-{sid}-N -->")


_COUNTED = re.compile(rf'^<a id="s-({SESSION_ID.pattern})"></a><!-- (?:lines 1\u2013(\d+)|'
                      r"line (1)) below")


def blocks(text: str, day: str) -> dict[str, Block]:
    """Every citable block of a diary's text, by name: a session's lines by its id, lines
    written late by SID-late-ID (late blocks of diaries from before their ids are not
    citable)."""
    out: dict[str, Block] = {}
    for sid, name, late, _n, lines in _walk(text.split("\n")):
        if late and name == sid:
            continue
        out.setdefault(name, Block(name, day, lines))
    return out


def _walk(lines: list[str]) -> Iterator[tuple[str, str, bool, int, list[str]]]:
    """(session id, name, written late, line count, lines) of each block, in order.

    A block's lines are skipped as a whole: its length is in the line reverie writes
    before it (``lines 1–N``, or ``lines:N`` for lines written late), so a marker the
    agent wrote in its own notes is just a line of a block, never a block of its own. A
    block of a diary written before the counts existed runs to its closing marker. A late
    block is named SID-late-ID, or SID when its marker has no id (diaries from before)."""
    i = 0
    while i < len(lines):
        line = lines[i]
        c = _COUNTED.match(line)
        if c and i + 1 < len(lines) and lines[i + 1] == f"<!-- session:{c.group(1)} -->":
            n = int(c.group(2) or c.group(3))
            first = i + 3 if i + 2 < len(lines) and lines[i + 2] == "" else i + 2
            yield c.group(1), c.group(1), False, n, lines[first:first + n]
            i = first + n
            continue
        m = LATE.match(line)
        if m:
            sid, n, late_id = m.group(1), int(m.group(3)), m.group(4)
            name = f"{sid}-late-{late_id}" if late_id else sid
            yield sid, name, True, n, lines[i + 2:i + 2 + n]
            i += 2 + n
            continue
        m = _OPEN.match(line)
        if m:
            sid = m.group(1)
            close = f"<!-- /session:{sid} -->"
            try:
                end = lines.index(close, i + 1)
            except ValueError:
                i += 1
                continue
            # the block is "marker, blank, lines…, blank, close" (one written by hand may
            # lack the blank lines)
            first = i + 2 if i + 1 < end and lines[i + 1] == "" else i + 1
            last = end - 1 if end - 1 >= first and lines[end - 1] == "" else end
            yield sid, sid, False, last - first, lines[first:last]
            i = end + 1
            continue
        i += 1


@dataclass(frozen=True)
class Cited:
    anchor: str        # as written: diary/DAY.md#s-SID-N[-M]
    day: str
    block: Block | None
    first: int
    last: int

    @property
    def resolved(self) -> bool:
        return self.block is not None and 1 <= self.first <= self.last <= len(self.block.lines)

    @property
    def lines(self) -> list[str]:
        if self.block is None or not self.resolved:
            return []
        return self.block.lines[self.first - 1:self.last]

    def line_anchors(self) -> list[str]:
        """One anchor per cited line (a range expanded)."""
        if self.block is None:
            return [self.anchor]
        return [self.block.anchor(n) for n in range(self.first, self.last + 1)]


class Diaries:
    """Diary files read once each (capped, never following a FIFO or a link)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cache: dict[str, dict[str, Block] | None] = {}

    def day(self, day: str) -> dict[str, Block] | None:
        if day not in self._cache:
            try:
                text = safe_read.read_text(self.root / "diary" / f"{day}.md",
                                           max_bytes=DIARY_MAX_BYTES, errors="replace")
                self._cache[day] = blocks(text.replace("\r\n", "\n"), day)
            except (OSError, ValueError):
                self._cache[day] = None
        return self._cache[day]

    def resolve(self, anchor: str) -> Cited:
        m = ANCHOR.fullmatch(anchor)
        if m is None:
            return Cited(anchor, "", None, 0, 0)
        day, rest = m.group(1), m.group(2)
        found = self.day(day) or {}
        # a session id may itself end in -digits: the longest block name that fits wins
        for name in sorted(found, key=len, reverse=True):
            if rest.startswith(name + "-"):
                span = rest[len(name) + 1:]
                if re.fullmatch(r"\d+(?:-\d+)?", span):
                    a, _, b = span.partition("-")
                    return Cited(anchor, day, found[name], int(a), int(b or a))
        return Cited(anchor, day, None, 0, 0)


def anchors_in(text: str) -> list[str]:
    """The diary anchors a line of memory cites, in order, each once."""
    return list(dict.fromkeys(m.group(0) for m in ANCHOR.finditer(text)))


def line_hash(line: str) -> str:
    """What a cited line hashed as: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()[:16]


def day_of(path: Path) -> date | None:
    try:
        return date.fromisoformat(Path(path).stem)
    except ValueError:
        return None
