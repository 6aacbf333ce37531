"""The offline dream: a data-driven generator, no network, deterministic for (date, digest).

A night is one scene: a setting and two motifs (one of them the agent's own when its
persona has a ``## Motifs`` section) said in the first lines and returned to at the end.
The night's biggest event (``Digest.lead``) comes right after the sky, in the first
paragraph; money, reputation and the agent's own work follow whenever they moved, each in
its own imagery. Entries whose words the record contradicts are never picked (no rain on
a dry night, no warmth below 10 °C, no fog without fog). The "dryness" memory (phrase
keys used in recent nights, kept in the store) makes recent phrases unlikely.

Numbers only enter the prose through the digest's own figures, as a person says them
("about 40%", "three times", "0.61 ETH"), so every number is backed by the record.

This module puts one night together in its order; each part changes for its own reason
and lives in its own room: ``persona`` (what the identity file asks for), ``sky`` (what
the record rules out), ``_subjects`` (what there is to tell, and the plan), ``_scene``
(where it happens), ``_drafts`` (a sentence from the phrase pools, the driest of a few
drafts), ``_figures`` and ``_grammar`` (how a figure and a thing are said), ``_phrases``
(the words themselves).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reverie.perception.digest import Digest, _severity
from reverie.perception.dreams._drafts import _Gen, _key, runs
from reverie.perception.dreams._figures import SMALL, amount, big, fmt_pct, says
from reverie.perception.dreams._grammar import (_COUNTABLE, _article, _cap, cond_arc, cond_np,
                                                referents)
from reverie.perception.dreams._phrases import LEXICON
from reverie.perception.dreams._scene import _scene, dreamed, here_of
from reverie.perception.dreams._subjects import MAX_FIGURES, SIZES, plan
from reverie.perception.dreams.persona import Persona, _clean_words, persona
from reverie.perception.dreams.sky import Sky, sky_of

MIN_WORDS, MAX_WORDS = 60, 300

# the names callers and tests have always imported from here
__all__ = ["MAX_FIGURES", "MAX_WORDS", "MIN_WORDS", "SIZES", "SMALL", "Night", "Persona", "Sky",
           "amount", "big", "compose", "compose_night", "cond_arc", "cond_np", "dreamed",
           "fmt_pct", "here_of", "persona", "referents", "runs", "says", "sky_of"]


# -- composing ------------------------------------------------------------------------

@dataclass
class Night:
    prose: str
    keys: list[str]
    signals: list[str]
    setting: str = ""
    motifs: list[str] = field(default_factory=list)
    figures: int = 0  # exact figures said (planned)
    own: str | None = None  # the agent's own words, as the dream said them
    trace: list[tuple[str, str]] = field(default_factory=list)  # (pool, sentence)


def compose(digest: Digest, day: date, *, recent: dict[str, int] | None = None,
            persona_text: str = "", own_words: list[str] | tuple = (),
            last_night: dict | None = None) -> tuple[str, list[str], list[str]]:
    """(prose, phrase keys used, signals used) for the night before ``day``."""
    n = compose_night(digest, day, recent=recent, persona_text=persona_text,
                      own_words=own_words, last_night=last_night)
    return n.prose, n.keys, n.signals


def compose_night(digest: Digest, day: date, *, recent: dict[str, int] | None = None,
                  persona_text: str = "", own_words: list[str] | tuple = (),
                  last_night: dict | None = None, attempt: int = 0) -> Night:
    """The night's dream: one scene in the agent's own places, the sky as the record has
    it, the lead first, few exact figures, the agent's own words, something of last night."""
    salt = f"|{attempt}" if attempt else ""
    seed = hashlib.sha256(f"{day.isoformat()}|{digest.sha256()}{salt}".encode()).hexdigest()
    rng = random.Random(int(seed[:16], 16))
    who = persona(persona_text)
    second = who.second if who.second is not None else rng.random() < 0.35
    sky = sky_of(digest, rng)
    recent = recent or {}
    last_night = last_night or {}
    g = _Gen(rng, recent, second=second, past=rng.random() < 0.5, forbidden=sky.forbidden())

    setting, objects, skey = _scene(who, sky, rng, recent, last_night.get("setting"),
                                    g.forbidden, second)
    g.used.append(skey)
    own = [m for m in who.motifs if not g.forbidden.search(m)]
    if own:
        w = [1 / (1 + 2 * recent.get(_key("motif", m), 0)) for m in own]
        mine = rng.choices(own, weights=w)[0]
        g.used.append(_key("motif", mine))
        if second:
            mine = re.sub(r"\b[Mm]y\b", "your", mine)
        motif_a, motif_b = mine, rng.choice(objects)
    else:
        motif_a, motif_b = rng.sample(objects, 2) if len(objects) > 1 else (objects[0], "a lamp")
    if rng.random() < 0.5:
        motif_a, motif_b = motif_b, motif_a
    # a place the agent knows is often said as it says it to itself: by its head alone
    said_setting = here_of(setting) if who.places and len(setting.split()) > 3 \
        and rng.random() < 0.5 else setting
    base: dict[str, Any] = {"setting": said_setting, "setting_cap": _cap(said_setting), "motif_a": motif_a,
            "motif_b": motif_b, "air": sky.air(), "here": here_of(setting)}

    def ctx_of(extra: dict) -> dict:
        return {**base, **extra}

    # -- the plan: what the night tells, and which of it says its figures
    told = plan(digest, sky, rng)
    subjects, exact, lead, figures = told.subjects, told.exact, told.lead, told.figures
    if told.degrees:
        base["deg"] = sky.temp_said

    used_signals: list[str] = list(sky.signals)
    one = rng.random() < 0.4  # the scene and one thing; the other comes in later
    first: list[str] = [g.sentence("open.one" if one else "open", base)]
    g.settled = True
    ra, rb = referents(motif_a), referents(motif_b)
    if not {r.lower() for r in ra[1:]} & {r.lower() for r in rb[1:]}:
        # said whole now and then, by its short name more often
        g.refs = {motif_a: ra + ra[1:], motif_b: rb + rb[1:]}
    if sky.cond:
        sctx = dict(base)
        if "deg" in base:
            sctx["temp"] = base["deg"]
        arc = [a for i, a in enumerate(sky.arc) if i == 0 or a != sky.arc[i - 1]]
        if len(arc) > 1 and arc[0] != arc[-1]:
            # the change as a person tells it: where it began, its worst, where it ended
            if len(arc) > 3:
                middle = [a for a in arc[1:-1] if a not in (arc[0], arc[-1])]
                arc = [arc[0]] + ([max(middle, key=_severity)] if middle else []) + [arc[-1]]
            # a few ways to join it: each draft of the sentence takes one, and the one
            # least said in recent nights is kept (the record's words recur; the joints need not)
            ways = [cond_arc(arc, rng) for _ in range(4)]
            sctx["cond_from"], sctx["cond_seq"] = [w[0] for w in ways], [w[1] for w in ways]
            first.append(g.sentence("sky.arc", sctx))
        else:
            sctx.update(cond=sky.cond, cond_np=cond_np(sky.cond))
            first.append(g.sentence("sky", sctx))
    elif sky.temp_c is not None:
        first.append(g.sentence("sky", dict(base, cond="dark and still",
                                            cond_np="a dark, still night")))

    storm_leads = lead is not None and lead.what == "storm" and sky.storm and \
        not any(s.score > lead.score for s in subjects)
    pair = None
    if sky.storm and sky.cond:
        storm = cond_np(max(sky.arc or [sky.cond], key=lambda t: "thunder" in t))
        if not _COUNTABLE.search(storm):  # thunder that is no thunderstorm: "thunder"
            storm = "a storm"
        pair = g.sentence("sky.storm", dict(base, storm=storm, storm_cap=_cap(storm)))
        if storm_leads:
            first.append(pair)
    body: list[str] = []
    if pair and not storm_leads:
        body.append(pair)
    said_title = False
    for i, sub in enumerate(subjects):
        pool = sub.pool if i in exact or not sub.told else sub.told
        ctx = ctx_of(sub.ctx)
        if not g.has(pool, ctx):
            pool = sub.told if sub.told and g.has(sub.told, ctx) else pool
            if not g.has(pool, ctx):
                continue
        turn = bool(body) and rng.random() < 0.3
        sents = [g.sentence(pool, ctx, turn=turn)]
        for epool, ectx in sub.extra:
            if not said_title and g.has(epool, ctx_of(ectx)):
                sents.append(g.sentence(epool, ctx_of(ectx)))
                said_title = True
        used_signals.extend(sub.used)
        if i == 0 and not storm_leads:
            first.extend(sents)  # the night's biggest event leads
        else:
            body.extend(sents)

    # the sky's own image: snow is told, and the wind from 40 km/h
    imgs = []
    if sky.snowing and sky.wind:
        imgs.append("sky.img.blizzard")
    elif sky.snowing:
        imgs.append("sky.img.snow")
    elif sky.wind:
        imgs.append("sky.img.wind")
    if not imgs or rng.random() < 0.3:
        extra_img = ("sky.img.rain" if sky.rain else "sky.img.fog" if sky.fog
                     else "sky.img.frost" if sky.band == "frost" and not sky.snowing
                     else "sky.img.heat" if sky.band == "hot"
                     else "sky.img.clear" if sky.clear else "sky.img.cloud")
        if extra_img not in imgs and (imgs or rng.random() < 0.6):
            imgs.append(extra_img)
    for img in imgs:
        if g.has(img, base):
            at = rng.randint(0, len(body)) if body else 0
            (body.insert(at, g.sentence(img, base)) if body or rng.random() < 0.5
             else first.append(g.sentence(img, base)))

    # the agent's own words from the day, changed as dreams change things
    own_said = None
    own_ok = [w for w in own_words if w and not g.forbidden.search(w)]
    if own_ok and rng.random() < 0.92:
        w = [1 / (1 + 4 * recent.get(_key("own", x.lower()), 0)) for x in own_ok]
        pick = rng.choices(own_ok, weights=w)[0]
        g.used.append(_key("own", pick.lower()))
        own_said = dreamed(pick, rng, objects)
        body.insert(rng.randint(0, len(body)), g.sentence("own", dict(base, own=own_said)))

    # something of last night comes back on some nights
    echoes = [m for m in last_night.get("motifs", []) if isinstance(m, str)
              and m.lower() not in (motif_a.lower(), motif_b.lower())
              and not g.forbidden.search(m)]
    if echoes and rng.random() < 0.4:
        echo = _clean_words(rng.choice(echoes), 50)
        echo = re.sub(r"\b[Mm]y\b", "your", echo) if second else \
            re.sub(r"\b[Yy]our\b", "my", echo)
        if len(echo) >= 3:
            body.insert(rng.randint(0, len(body)), g.sentence("echo", dict(base, echo=echo)))

    if one:  # said whole, as a thing is the first time
        g.settled = False
        body.insert(0, g.sentence("motif.b", base))  # before anything else names it
        g.settled = True

    # at most one change of place, told as a passage; the scene goes on there
    if rng.random() < 0.3 and body:
        others = [p for p in who.places if p.lower() != setting.lower()] if who.places else []
        there = rng.choice(others) if others else \
            _article(word := rng.choice(LEXICON["place"])) + " " + word
        if second:
            there = re.sub(r"\b[Mm]y\b", "your", there)
        if not g.forbidden.search(there):
            at = rng.randint(1, len(body)) if len(body) > 1 else len(body)
            sent = g.sentence("move", dict(base, there=there, there_cap=_cap(there)))
            rest = body[at:]
            body = body[:at] + [sent]
            base["here"] = here_of(there)
            # what follows happens there: later sentences keep their words (already said)
            body += rest

    g.settled = rng.random() < 0.5  # the end says the motifs whole, or by their short names
    closing = g.sentence("close", base)
    g.settled = True
    # a motif returns when the dream is short: a sentence with the scene as its job
    tries = 0
    want = MIN_WORDS + 10
    while _count(first, body, [closing]) < want and tries < 5:
        tries += 1
        body.insert(rng.randint(0, len(body)), g.sentence("motif", base))

    blocks = [first]
    if len(body) > 3 and rng.random() < 0.6:
        cut = rng.randint(2, len(body) - 1)
        blocks += [body[:cut], body[cut:]]
    elif body:
        blocks.append(body)
    blocks.append([closing])
    prose = "\n\n".join(" ".join(b) for b in blocks if b)
    keys = list(dict.fromkeys(g.used)) + sorted(runs(prose) | runs(prose, 3))
    return Night(prose, keys, list(dict.fromkeys(used_signals)), setting,
                 [motif_a, motif_b], figures, own_said, g.trace)


def _count(*parts: list[str]) -> int:
    return sum(len(s.split()) for p in parts for s in p)
