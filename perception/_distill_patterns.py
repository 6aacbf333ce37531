"""memory/patterns.md: the same question, decision, commitment or lesson on two days or
more, across the last ``memory.patterns_days`` days, citing a line of each day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import yaml

from reverie.memory import atomic, clock
from reverie.memory.diary import Block, Diaries
from reverie.memory.home import Home
from reverie.perception._distill_files import cite, hash_cited, patterns_path, quoted, read_own
from reverie.perception._distill_offline import KINDS, Item, extract
from reverie.perception.memory_audit import content_words, digits

PATTERNS_DAYS = 14
SIMILAR = 0.6  # Jaccard of topic words for two days' items to be "the same"


@dataclass
class Pattern:
    kind: str
    items: list[tuple[str, Item]]  # (day, item), oldest first

    @property
    def days(self) -> list[str]:
        return sorted({d for d, _ in self.items})


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


# the words that give an item its kind say nothing of what it is about: two questions
# that both begin "I keep wondering" are not the same question
_FORM_WORDS = content_words("decided decide decision chose settled going will shall must need "
                            "have promise promised todo question wonder wondering keep learned "
                            "learnt lesson note self til turns realised realized remember never "
                            "again really ever still one whether wiser would")


def _topic(quote: str) -> set[str]:
    # figures in digits: a number word is a content word already
    return (content_words(quote) - _FORM_WORDS) | digits(quote)


def _same(a: set[str], b: set[str]) -> bool:
    """Much the same words, none swapped for another: "move the posts to mornings" and
    "really move the posts to the mornings" are one question; "drop the cache" and "drop
    the mirror" are two, as are "every 2 minutes" and "every 8 minutes"."""
    return (a <= b or b <= a) and _jaccard(a, b) >= SIMILAR


def find_patterns(diaries: Diaries, last: date, days: int) -> list[Pattern]:
    """Items of the same kind and much the same words on two days or more."""
    groups: list[tuple[set[str], Pattern]] = []
    for k in range(days - 1, -1, -1):
        d = (last - timedelta(days=k)).isoformat()
        found = diaries.day(d)
        if not found:
            continue
        for it in extract(found):
            words = _topic(it.quote)
            if len(words) < 2:
                continue
            for rep, p in groups:
                if p.kind == it.kind and _same(words, rep):
                    p.items.append((d, it))
                    break
            else:
                groups.append((words, Pattern(it.kind, [(d, it)])))
    repeated = [p for _, p in groups if len(p.days) >= 2]
    return sorted(repeated, key=lambda p: (-len(p.days), KINDS.index(p.kind), p.days[0]))


def write_patterns(home: Home, last: date, days: int) -> int:
    """Rewrite ``memory/patterns.md`` for the ``days`` days ending ``last``; the number of
    patterns. The quote is the latest day's words; each day is cited by its first line."""
    path = patterns_path(home)
    read_own(path)
    pats = find_patterns(Diaries(home.root), last, days)
    hashes: dict[str, str] = {}
    lines = []
    for p in pats:
        per_day: dict[str, tuple[Block, int]] = {}
        for d, it in p.items:  # the quote is the last item's: its own line is cited
            per_day[d] = it.cites[0]
        cites = list(per_day.values())
        hash_cited(cites, hashes)
        n = len(p.days)
        lines.append(f"- recurring {p.kind} ({n} days): {quoted(p.items[-1][1].quote)} \u2014 "
                     f"{cite(cites)}")
    first = (last - timedelta(days=days - 1)).isoformat()
    meta = {"status": "proposed", "from": first, "to": last.isoformat(), "days": days,
            "backend": "offline", "created": clock.now().isoformat(timespec="seconds"),
            "cited": hashes}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    body = "\n".join(lines) if lines else "_Nothing recurs yet._"
    atomic.write_text(path, f"---\n{front}---\n\n# Patterns from {first} to {last.isoformat()}\n\n"
                      "Questions, decisions, commitments and lessons found on two days or more, "
                      "in the words of the latest day, citing a line of each day.\n\n"
                      f"{body}\n")
    return len(lines)
