"""The agent's persona as the offline dream reads it: its motifs, its places, its point
of view. The identity file is the agent's text, so everything taken from it is cut down to
a short run of plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reverie.perception.dreams._figures import _NUMBER_WORDS


@dataclass
class Persona:
    motifs: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # its `## Places`, else places it names
    second: bool | None = None  # the point of view it asks for, when it says
    own_places: bool = False  # the places come from a `## Places` section


_POV = re.compile(r"(?i)\b(?:point of view|pov|person)\s*[:=-]\s*(first|second)\b")
# place nouns a persona's prose may name ("my greenhouse", "the allotment by the fjord")
_PLACE_NOUNS = (
    "garden|greenhouse|allotment|shed|studio|workshop|kitchen|attic|cellar|library|study|"
    "balcony|porch|veranda|terrace|courtyard|orchard|harbour|harbor|pier|jetty|boathouse|"
    "lighthouse|cabin|hut|cottage|farm|barn|meadow|field|forest|woods|beach|shore|bay|"
    "island|fjord|lake|river|valley|mountain|hill|moor|marsh|village|town|city|market|"
    "station|square|street|lane|bridge|park|cafe|café|bakery|shop|office|lab|laboratory|"
    "school|church|chapel|museum|observatory|tower|bookshop|archive|greenhouses|gardens")
_NAMED_PLACE = re.compile(
    rf"\b((?:[Mm]y|[Oo]ur|[Tt]he|[Aa]n?)\s+(?:[a-z'-]+\s+){{0,2}}(?:{_PLACE_NOUNS}))\b"
    rf"(?:\s+(?:in|by|on|near|at|above|below)\s+(?:the\s+)?([A-Z][\w'\u00c0-\u024f-]+))?")
_PROPER_PLACE = re.compile(r"\b(?:in|near|from|at)\s+([A-Z][\w'\u00c0-\u024f-]+(?:\s+[A-Z][\w'-]+)?)")


def _clean_words(line: str, cap: int = 60) -> str:
    """A short run of words from the agent's text: no digits, markup nor number words."""
    words = re.sub(r"[^\w' -]+|\d+|_", " ", line.strip().lstrip("-*+ ").strip())
    # a number word in a motif would be a figure the record cannot back
    words = " ".join(w for w in words.split()
                     if not _NUMBER_WORDS & set(w.lower().strip("'-").split("-")))
    return words[:cap].strip(" -'")


def persona(text: str) -> Persona:
    """The ``## Motifs`` and ``## Places`` sections (one a line) and a ``point of view:
    second`` line of the agent's identity file; without ``## Places``, the places its
    prose names. It is the agent's text: hostile, so each is kept to a short run of words
    (no digits, no markup, no number words) and a few of them."""
    p = Persona()
    m = _POV.search(text or "")
    if m:
        p.second = m.group(1).lower() == "second"
    inside = None
    prose: list[str] = []
    for line in (text or "").splitlines()[:2000]:
        if line.startswith("#"):
            head = line.lstrip("#").strip().lower()
            inside = head if head in ("motifs", "places") else None
            continue
        if inside is None:
            prose.append(line)
            continue
        words = _clean_words(line)
        into = p.motifs if inside == "motifs" else p.places
        if len(words) >= 3 and words.lower() not in (x.lower() for x in into) and len(into) < 12:
            into.append(words)
    p.own_places = bool(p.places)
    if not p.places:
        p.places = _named_places(" ".join(prose)[:8000])
    return p


def _named_places(text: str) -> list[str]:
    """The places a persona's prose names: "my greenhouse", "the harbour in Tromsø"."""
    out: list[str] = []
    for m in _NAMED_PLACE.finditer(text):
        thing = _clean_words(m.group(1), 40)
        if m.group(2):
            thing += " in " + _clean_words(m.group(2), 30)
        if thing.split()[0].lower() in ("a", "an"):
            thing = "the " + thing.split(" ", 1)[1]
        if thing.lower() not in (x.lower() for x in out):
            out.append(thing)
    if not out:
        for m in _PROPER_PLACE.finditer(text):
            name = _clean_words(m.group(1), 40)
            if name and name.lower() not in ("the", "i") and name not in out:
                out.append(f"a street in {name}")
    return out[:8]
