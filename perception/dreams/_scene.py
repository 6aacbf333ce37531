"""The night's one scene: a setting chosen with the weather and the season in mind, the
things in it, and the agent's own words changed into them."""

from __future__ import annotations

import random
import re

from reverie.perception.dreams._drafts import _key
from reverie.perception.dreams._grammar import _DETERMINERS
from reverie.perception.dreams._phrases import SETTINGS
from reverie.perception.dreams.persona import Persona
from reverie.perception.dreams.sky import Sky

_INDOORS = re.compile(r"(?i)kitchen|library|greenhouse|studio|attic|cellar|shop|hall|museum|"
                      r"cinema|station|hut|cabin|workshop|bakery|office|study|archive|house|"
                      r"hotel|room|stove|works")
_SUMMER = re.compile(r"(?i)lido|beach|pool|orchard|garden|roof|meadow|pier|terrace|balcony|"
                     r"allotment|vineyard|river")
_WINTER = re.compile(r"(?i)winter|snow|hut|stove|mountain|skis?|fjord|harbour")
_CUT = re.compile(r"\s+(?:with|at|on|that|in|under|behind|by|of|kept|above|after|showing|"
                  r"set|made|crossing|out|before|where|beside|among|near|for)\s+")
_STOCK_THINGS = ["a lamp", "a chair", "a kettle", "a ladder", "a coat on a hook", "a map",
                 "a jar of buttons", "a radio", "a wheelbarrow", "a bell", "a clock",
                 "a blue bowl", "a pair of boots", "a notebook", "a basket", "a bench"]


def here_of(setting: str) -> str:
    """The scene said shortly once the dream is in it: "a harbour town at low water" ->
    "the harbour town", "my greenhouse" -> "my greenhouse"."""
    head = _CUT.split(setting, maxsplit=1)[0].strip() or setting
    words = head.split()
    if words and words[0].lower() in ("a", "an"):
        return "the " + " ".join(words[1:])
    if words and words[0].lower() in _DETERMINERS:
        return head
    return head if head[:1].isupper() else "the " + head


def _scene(who: Persona, sky: Sky, rng: random.Random, recent: dict[str, int],
           last_setting: str | None, forbidden: re.Pattern, second: bool
           ) -> tuple[str, list[str], str]:
    """(setting, things in it, dryness key): the agent's own places when it has them,
    chosen with the weather and season in mind, never last night's setting."""
    cands: list[tuple[str, list[str]]]
    if who.places:
        cands = [(p, []) for p in who.places]
    else:
        cands = list(SETTINGS)
    last = (last_setting or "").strip().lower()
    pool = [(s, objs) for s, objs in cands if not forbidden.search(s)
            and s.strip().lower() != last and
            (re.sub(r"\b(my|your)\b", "", s.lower()) != re.sub(r"\b(my|your)\b", "", last))]
    pool = pool or [c for c in cands if c[0].strip().lower() != last] or cands
    cold = sky.band in ("frost", "cold") or sky.snowing
    wet = sky.rain or sky.snowing or sky.wind
    weights = []
    for s, _ in pool:
        w = 1 / (1 + 8 * recent.get(_key("setting", s.lower()), 0))
        if wet and _INDOORS.search(s):
            w *= 2
        if sky.band in ("warm", "hot") and _SUMMER.search(s):
            w *= 2
        if cold and _SUMMER.search(s) and not _INDOORS.search(s):
            w *= 0.5
        if cold and _WINTER.search(s):
            w *= 2
        if sky.band in ("warm", "hot") and _WINTER.search(s):
            w *= 0.3
        weights.append(w)
    setting, objects = pool[rng.choices(range(len(pool)), weights=weights)[0]]
    if second:
        setting = re.sub(r"\b[Mm]y\b", "your", setting)
    objects = [o for o in (objects or rng.sample(_STOCK_THINGS, 3)) if not forbidden.search(o)]
    return setting, objects or ["a chair"], _key("setting", setting.lower())


def dreamed(words: str, rng: random.Random, things: list[str]) -> str:
    """The agent's own words as a dream changes them: now and then their last word turns
    into a thing of the scene ("rebalancing the wallet" -> "rebalancing the kettle");
    otherwise they come back as they were."""
    ws = words.split()[:9]
    if len(ws) >= 4 and len(ws[-1]) >= 4 and ws[-1].isalpha() and things and rng.random() < 0.45:
        ws[-1] = rng.choice(things).split()[-1]
    return " ".join(ws)
