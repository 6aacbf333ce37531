"""The day's residue: the agent's own words from the cycle, and what last night's dream held.

Own words are the headings of its diary for the cycle's dates and of working.md, the
lines it marked to keep or remember there, and the titles of its own posts (files of a
``files`` source of kind ``work`` changed during the cycle: their first heading, else
their name). Everything here is the agent's text, read from its home: hostile, so only
regular files inside the home are read (never a link or a FIFO), each capped, and every
line is kept to a short run of plain words (no digits, no markup, no number words), so
that nothing it wrote can become a figure, a heading or an instruction in the dream.
"""

from __future__ import annotations

import itertools
import os
import re
import stat
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import yaml

from reverie.memory.home import Home

READ_CAP = 64 * 1024  # bytes read of any one file
MAX_FILES = 200  # files looked at in a folder of posts
MAX_WORDS = 8  # words kept of one line
_KEEP = re.compile(r"(?i)^\s*(?:[-*+]\s*)?(?:keep|kept|remember|remembered|note to self)\s*[:\-]\s*(.+)$")


def _read(path: Path, home: Home | None = None) -> str:
    try:
        if home is not None:  # a folder the agent swapped for a link out of the home: refused
            path = home.inside(Path(path).relative_to(home.root))
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, ValueError):
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, READ_CAP).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def plain(line: str) -> str:
    """A line of the agent's as a short run of plain words, or "" when too little is left."""
    from reverie.perception.dreams.persona import _clean_words

    line = re.sub(r"<[^>]*>|\[([^\]]*)\]\([^)]*\)", r" \1 ", line)  # tags, and links by their text
    words = _clean_words(line, 80).split()[:MAX_WORDS]
    text = " ".join(words)
    return text if len(words) >= 2 and len(text) >= 6 else ""


def _headings(text: str) -> list[str]:
    out = []
    for line in text.splitlines()[:400]:
        m = _KEEP.match(line)
        if m:
            out.append(m.group(1))
        elif line.startswith("#"):
            out.append(line.lstrip("#"))
    return out


def own_words(home: Home, start: datetime, end: datetime, tz: tzinfo, sources=()) -> list[str]:
    """The agent's own words from the cycle (start, end], most telling first, de-duplicated."""
    found: list[str] = []
    days = {start.astimezone(tz).date(), end.astimezone(tz).date(),
            (end - timedelta(hours=12)).astimezone(tz).date()}
    for day in sorted(days):
        found += _headings(_read(home.diary(day), home))
    found += _headings(_read(home.working, home))
    found += _post_titles(home, start, end, sources)
    out: list[str] = []
    skip = {"diary", "working", "session", "notes", "today", "log", "motifs", "places"}
    for line in found:
        t = plain(line)
        if t and t.lower() not in skip and not re.match(r"(?i)^(session|diary)\b", t) \
                and t.lower() not in (x.lower() for x in out):
            out.append(t)
        if len(out) >= 24:
            break
    return out


def _post_titles(home: Home, start: datetime, end: datetime, sources) -> list[str]:
    """Titles of the agent's own posts changed during the cycle (``files`` sources)."""
    out = []
    t0, t1 = start.timestamp(), end.timestamp()
    for spec in sources or ():
        if getattr(spec, "type", "") != "files":
            continue
        kind = getattr(spec, "kind", None)
        if kind not in (None, "work") and not isinstance(kind, dict):
            continue
        opts = getattr(spec, "options", None)
        try:
            folder = home.inside(getattr(opts, "path", ".") or ".")
            glob = getattr(opts, "glob", "*") or "*"
            # a folder of a million files costs no more than MAX_FILES of them
            paths = sorted(itertools.islice(folder.glob(glob), MAX_FILES))
        except (OSError, ValueError):
            continue
        for p in paths:
            try:
                st = p.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or p.name.startswith(".") or not t0 < st.st_mtime <= t1:
                continue
            heads = [h for h in _headings(_read(p, home)) if plain(h)]
            out.append(heads[0] if heads else p.stem.replace("-", " ").replace("_", " "))
    return out


def last_night(home: Home, store, day) -> dict:
    """The setting and motifs of the dream before ``day``, from its front matter (the
    agent may have edited the file: only short plain strings are taken)."""
    prev = store.dreams_before(day.isoformat(), 1)
    if not prev:
        return {}
    try:
        path = home.inside(prev[0].path)
    except (OSError, ValueError, AttributeError):
        return {}
    text = _read(path)
    if not text.startswith("---"):
        return {}
    try:
        meta = yaml.safe_load(text.split("---", 2)[1])
    except (yaml.YAMLError, IndexError):
        return {}
    if not isinstance(meta, dict):
        return {}
    from reverie.perception.dreams.persona import _clean_words

    setting = meta.get("setting")
    got = meta.get("motifs")
    motifs: list = got if isinstance(got, list) else []
    return {"setting": _clean_words(setting, 80) if isinstance(setting, str) else None,
            "motifs": [_clean_words(m, 60) for m in motifs[:4] if isinstance(m, str)]}
