"""English as the dream needs it: articles, capitals, plurals, the weather as a noun
phrase, and the shorter names a thing takes once it has been said whole."""

from __future__ import annotations

import random
import re


def _article(word: str) -> str:
    w = word.lower()
    if w.startswith(("hour", "honest", "honour", "heir")):
        return "an"
    if w.startswith(("uni", "use", "one", "eu")):
        return "a"
    return "an" if w[:1] in "aeiou" else "a"


def _cap(s: str) -> str:
    for i, ch in enumerate(s):
        if ch.isalpha() or ch == "\u201c":
            return s[:i] + ch.upper() + s[i + 1:] if ch.isalpha() else s
        if ch.isdigit():
            return s
    return s


def _plural(name: str) -> bool:
    # "followers", "posts", "pages": the verb after them is plural
    last = name.split()[-1].lower() if name.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


# a weather condition that is a thing takes an article ("a thunderstorm", "a clear sky");
# the rest are weather said as it is ("overcast", "light rain", "fog")
_COUNTABLE = re.compile(r"\b(thunderstorm|storm|sky|snow fall|shower|gale|hailstorm)\b")


def cond_np(cond: str) -> str:
    """A condition as a noun phrase a sentence can hold: "a thunderstorm", "light rain"."""
    head = cond.split(" with ")[0]
    if _COUNTABLE.search(head) and not head.endswith("s") and \
            head.split()[0] not in _DETERMINERS:
        return f"{_article(cond)} {cond}"
    return cond


_THEN = [", then", ", and then", ", later", ", after that", ", toward morning", ", soon",
         ", by midnight", ", before dawn", ", in the small hours", ", at length", ", a while later"]


def cond_arc(arc: list[str], rng: random.Random | None = None) -> tuple[str, str]:
    """A change of weather as a person says it: ("from overcast to a thunderstorm, then
    light rain", "overcast, then a thunderstorm, then light rain"); the joints vary (and
    none twice) so that the record's own words do not make the same run of words night
    after night."""
    said = [cond_np(a) for a in arc]
    joints = rng.sample(_THEN, len(said)) if rng else _THEN[:len(said)]

    def join(parts: list[str]) -> str:
        return parts[0] + "".join(f"{j} {p}" for j, p in zip(joints, parts[1:]))

    to = rng.choice(["to", "into"]) if rng else "to"
    return f"from {said[0]} {to} {join(said[1:])}", join(said)


# -- saying a thing again --------------------------------------------------------------

_DETERMINERS = {"a", "an", "the", "my", "your", "his", "her", "our", "their", "some"}
_PREPOSITIONS = {"of", "on", "in", "with", "at", "for", "from", "by", "under", "above", "behind",
                 "beside", "near", "to", "over", "inside", "without"}


def referents(thing: str) -> list[str]:
    """The ways to name a thing once the dream has introduced it: whole ("the green
    ferry"), by its head noun ("the ferry"), a named companion by its name ("Ink the cat"
    -> "Ink", "the cat"). A person says a thing whole once, then shortly."""
    words = thing.split()
    if len(words) > 2 and words[0][:1].isupper() and words[1].lower() == "the":
        return [thing, words[0], "the " + " ".join(words[2:])]
    if len(words) == 1 or (words[0][:1].isupper() and words[0].lower() not in _DETERMINERS):
        return [thing]
    core = words[1:] if words[0].lower() in _DETERMINERS else words
    cut = next((i for i, w in enumerate(core) if w.lower() in _PREPOSITIONS), len(core))
    head = core[cut - 1] if cut else core[-1]
    short = "the " + head
    return [thing] if short.lower() == thing.lower() else [thing, short]
