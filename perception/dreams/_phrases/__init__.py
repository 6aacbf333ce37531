"""The offline dream's phrase groups (a Tracery-like grammar; see offline.py).

Pools are named for the kind of signal they express (money, reputation, work, items,
weather, health, host) and its direction; each kind keeps its imagery (money is water
and coins, reputation voices, posts letters the dreamer wrote, sessions hours awake, a
failing source a door that does not open, the weather the sky). An entry whose words
the record contradicts (rain on a dry night, warmth in the cold) is never picked: see
``sky.py``.

Tokens: ``{pool}`` expands a pool; ``{a:pool}`` the same with "a"/"an" before it;
``{=x}`` a figure or text of the scene, inserted literally; ``{v:verb}`` the
narrator's verb (I/you, present or past), ``{t:verb}`` a third-person-singular verb,
``{tp:verb}`` a plural one, ``{n:verb}`` one that agrees with the scene's ``{=name}``
("the total items rise"); ``{I} {me} {my} {am} {is} {are} {can} {cannot}`` follow person
and tense. ``{N:x:noun}`` is a noun of ``NOUNS`` agreeing with the figure ``{=x}`` ("1 voice",
"2 voices"; ``{N:x:=name}`` takes the noun from the scene's name) and ``{c:x:verb}`` a verb
agreeing with it ("1 room opens", "3 rooms open"); an entry with either is never used for a
negative figure.

Phrase text never holds a digit nor a number word: every figure in a dream comes from
the digest through ``{=...}``, so every number a dream shows is backed by its record.
Entries are short and templates put a slot every few words, so that long word runs do
not recur from night to night.

A reader meets these frames every morning: the fewer fixed runs of words a frame has and
the more frames a kind has, the less one night reads like the last month (Self-BLEU); so
most pools grew by ``+=`` as the bench measured them, kept in the order they grew (a
pool's order is part of which entry a night's seed picks).

The data is kept by what it is for: ``verbs`` and ``lexicon`` (the words the slots take),
``scene`` (the settings, the opening, the texture, the end), ``weather`` (the sky),
``changes`` (what moved in the day) and ``elsewhere`` (the agent's own words, last night,
a change of place). Each pool lives in one of them; ``T`` is all of them.
"""

from __future__ import annotations

from reverie.perception.dreams._phrases import changes, elsewhere, scene, weather
from reverie.perception.dreams._phrases.lexicon import LEXICON
from reverie.perception.dreams._phrases.scene import SETTINGS
from reverie.perception.dreams._phrases.verbs import NOUNS, VERBS


def _pools() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in (scene, weather, changes, elsewhere):
        twice = out.keys() & part.T.keys()
        if twice:  # a pool split over two parts would depend on their import order
            raise RuntimeError(f"{part.__name__}: pools defined twice: {sorted(twice)}")
        out.update(part.T)
    return out


T: dict[str, list[str]] = _pools()

__all__ = ["LEXICON", "NOUNS", "SETTINGS", "T", "VERBS"]
