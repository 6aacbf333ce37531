"""The offline distillation: a day's decisions, commitments, open questions, lessons and
stated facts, recognised by their form and quoted, never reworded (deterministic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reverie.memory import working
from reverie.memory.diary import Block
from reverie.memory.home import working_template
from reverie.perception._distill_files import cite, quoted
from reverie.perception._distill_questions import SENTENCES, asks, rhetorical
from reverie.perception.memory_audit import content_words

QUOTE_MAX = 160  # characters of a line quoted in a bullet
# a diary line is classified from its first characters: a line of megabytes (the agent
# writes what it likes) never makes a regular expression take quadratic time
LINE_MAX = 2000

KINDS = ("decision", "commitment", "question", "lesson", "fact")
TITLES = {"decision": "Decisions", "commitment": "Commitments", "question": "Open questions",
          "lesson": "Lessons", "fact": "Facts"}

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*)$")  # the closing #s are stripped in Python
_COMMENT = re.compile(r"^\s*<!--")
_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
_PREFIX = re.compile(r"^(?:\*\*)?(decision|decided|todo|to do|tomorrow|next|question|q|open question|"
                     r"lesson|learned|learnt|note to self|fact)(?:\*\*)?\s*:(?:\*\*)?\s*", re.I)
_PREFIX_KIND = {"decision": "decision", "decided": "decision", "todo": "commitment",
                "to do": "commitment", "tomorrow": "commitment", "next": "commitment", "question": "question", "q": "question",
                "open question": "question", "lesson": "lesson", "learned": "lesson",
                "learnt": "lesson", "note to self": "lesson", "fact": "fact"}
_SECTION = (
    ("decision", re.compile(r"\b(decisions?|decided)\b", re.I)),
    ("question", re.compile(r"\b(questions?|unknowns?|wonder(?:ing)?|open)\b", re.I)),
    ("lesson", re.compile(r"\b(lessons?|learn(?:ed|t|ings?)|til|notes? to self|heuristics?)\b", re.I)),
    ("commitment", re.compile(r"\b(todo|to do|commitments?|plans?|next( steps)?|promises?)\b", re.I)),
    ("fact", re.compile(r"\b(facts?)\b", re.I)),
)
# "I must have left the lamp on" guesses at the past: "must have" and a past participle
# is a deduction, not an obligation ("we must have backups" still is one)
_PAST = (r"(?:\w*(?:been|had|left|lost|made|done|gone|got|forgot|put|set|sent|read|thought|"
         r"meant|said|told|kept|slept|felt|found|run|come|hit|let)|\w+(?:ed|en|wn))\b")
_FORMS = (
    ("decision", re.compile(r"\b(decided|decide to|my decision|the decision|i chose|we chose|"
                            r"settled on|i'?m going with|going with)\b", re.I)),
    ("lesson", re.compile(r"\b(learned|learnt|lesson|note to self|til|turns out|reali[sz]ed|"
                          r"remember that|never again|good to know)\b", re.I)),
    ("commitment", re.compile(r"\b(?:i|we)(?:\s+(?:will|shall|must(?!\s+have\s+" + _PAST + r")|"
                              r"need to|have to|am going to|promise(?: to)?)|'ll)\b"
                              r"|\bmust\b(?!\s+have\b)|\bi'm going to\b", re.I)),
)


@dataclass
class Item:
    kind: str
    quote: str
    cites: list[tuple[Block, int]]


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def quote_of(line: str, kind: str) -> str:
    """The agent's line as a bullet quotes it: list marker and tags off, trimmed, not
    reworded (a cut is marked with …)."""
    text = _MARKER.sub("", line, count=1).strip()
    text = " ".join(working.strip_tags(text, " \u2026 ").split())
    text = text.removesuffix("\u2026").strip().removeprefix("\u2026").strip()
    text = _PREFIX.sub("", text, count=1).strip()
    text = text.strip("*_ ").strip()
    if len(text) <= QUOTE_MAX:
        return text
    # a long line: the sentence that carries the form, else its start
    sentences = re.split(r"(?<=[.!?])\s+", text)
    pattern = dict(_FORMS).get(kind)
    for s in sentences:
        if len(s) <= QUOTE_MAX and (pattern is None or pattern.search(s) or
                                    (kind == "question" and s.endswith("?"))):
            return (("" if text.startswith(s) else "\u2026 ") + s
                    + ("" if text.endswith(s) else " \u2026"))
    cut = text[:QUOTE_MAX].rsplit(" ", 1)[0]
    return cut + " \u2026"


def kind_of(text: str, section: str | None, listed: bool) -> str | None:
    """What a line is by its form (None: not memory)."""
    bare = working.strip_tags(_MARKER.sub("", text, count=1)).strip().strip("*_ ")
    m = _PREFIX.match(bare)
    if m:
        return _PREFIX_KIND[m.group(1).lower()]
    if asks(bare) and rhetorical(bare):
        # not a question to keep; what the line states besides may still be memory
        # ("Decided to drop the mirror. Who even uses it?")
        rest = " ".join(sen for sen in SENTENCES.split(bare) if not sen.rstrip().endswith("?"))
        return next((kind for kind, pattern in _FORMS if pattern.search(rest)), None)
    if asks(bare) and len(content_words(bare.rpartition("?")[0])) >= 2:
        return "question"
    for kind, pattern in _FORMS:
        if pattern.search(bare):
            return kind
    if section and listed:
        return section
    return None


def extract(found: dict[str, Block]) -> list[Item]:
    """The day's memory items, in diary order, the same line text cited once per item."""
    template = {ln.strip() for ln in working_template().splitlines() if ln.strip()}
    items: dict[tuple[str, str], Item] = {}
    for block in found.values():
        section: str | None = None
        code, _ = working.code_lines(block.lines)  # fenced code is not notes
        for n, full in enumerate(block.lines, start=1):
            line = full[:LINE_MAX]
            if code[n - 1]:
                continue
            h = _HEADING.match(line)
            if h:
                title = h.group(2).rstrip().rstrip("#")
                section = next((k for k, p in _SECTION if p.search(title)), None)
                continue
            if not line.strip() or line.strip() in template:
                continue
            if _COMMENT.match(line) or line.lstrip().startswith(("<a ", ">")):
                continue  # HTML comments and anchors are not notes; a quote is someone else's
            kind = kind_of(line, section, bool(_MARKER.match(line)))
            if kind is None:
                continue
            quote = quote_of(line, kind)
            if len(full) > LINE_MAX and not quote.endswith("\u2026"):
                quote += " \u2026"  # the line goes on
            if len(content_words(quote)) < 2:
                continue
            key = (kind, _squash(quote))
            if key in items:
                items[key].cites.append((block, n))
            else:
                items[key] = Item(kind, quote, [(block, n)])
    return list(items.values())


def offline_bullets(items: list[Item]) -> list[tuple[str, str, list]]:
    """(section title, bullet, cites) for each item."""
    out = []
    for kind in KINDS:
        for it in items:
            if it.kind == kind:
                out.append((TITLES[kind], f"- {kind}: {quoted(it.quote)} \u2014 {cite(it.cites)}",
                            it.cites))
    return out
