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
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reverie.perception.digest import Digest, SignalDigest, _severity
from reverie.perception.dreams._phrases import LEXICON, SETTINGS, T, VERBS
from reverie.perception.text import figure as fmt_num

MIN_WORDS, MAX_WORDS = 60, 300
_TOKEN = re.compile(r"\{([^{}]+)\}")
_FIG = re.compile(r"\{=([a-z_]+)\}")
SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_NUMBER_WORDS = set(SMALL) | set(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty "
    "thirty forty fifty sixty seventy eighty ninety hundred thousand million".split())


def fmt_pct(x: float) -> str:
    """A percentage as prose writes it: "83", "4.2"; the audit backs it within that rounding."""
    a = abs(x)
    if a >= 9.95:
        return str(math.floor(a + 0.5))
    return fmt_num(round(a, 1))


def big(n: float) -> str:
    """A whole figure as a person writes it: 313, 1597, 12,400."""
    n = int(round(abs(n)))
    return f"{n:,}" if n >= 10000 else str(n)


def says(n: float) -> str:
    """A count as said: two to nine in words, larger ones in figures (never a zero)."""
    n = int(round(abs(n)))
    return SMALL[n] if 1 < n < 10 else ("one" if n == 1 else big(n))


def amount(x: float, unit: str | None) -> str:
    """A balance at the precision a person reads it: 0.61 ETH, 12.4 SOL, 1520 USDC."""
    a = abs(x)
    if a >= 100:
        s = big(a)
    elif a >= 1:
        s = fmt_num(round(a, 2))
    elif a == 0:
        s = "nothing"
    else:
        digits = 1 - math.floor(math.log10(a))  # two significant figures
        s = fmt_num(round(a, digits))
    if x < 0 and s != "nothing":
        s = "minus " + s
    return s + (f" {unit}" if unit and s != "nothing" and not re.search(r"\d", unit) else "")


def _one(figure: str) -> bool:
    return figure.lstrip("-") in ("1", "one")


def _fits(entry: str, ctx: dict) -> bool:
    return all(f in ctx for f in _FIG.findall(entry))


def _key(pool: str, entry: str) -> str:
    return f"{pool}:{hashlib.sha1(entry.encode('utf-8')).hexdigest()[:8]}"


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


# -- the persona --------------------------------------------------------------------

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


# -- what the record rules out: see sky.py ------------------------------------------------

from reverie.perception.dreams.sky import Sky, degrees as _degrees, sky_of  # noqa: E402,F401


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


def runs(text: str, n: int = 4) -> set[str]:
    """Dryness keys of the runs of ``n`` words in ``text`` (lowercase, as a reader counts
    them): "run:" for four words, "tri:" for three."""
    ws = re.findall(r"[a-z0-9']+", text.lower())
    tag = "run:" if n == 4 else f"n{n}:" if n != 3 else "tri:"
    return {tag + hashlib.sha1(" ".join(ws[i:i + n]).encode()).hexdigest()[:10]
            for i in range(len(ws) - n + 1)}


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


# -- the generator --------------------------------------------------------------------

class _Gen:
    def __init__(self, rng: random.Random, recent: dict[str, int], second: bool, past: bool,
                 forbidden: re.Pattern):
        self.rng = rng
        self.recent = recent
        self.used: list[str] = []
        self.second = second
        self.past = past
        self.forbidden = forbidden
        # motif -> its shorter names, used once the opening has said it whole
        self.refs: dict[str, list[str]] = {}
        self.settled = False
        # the runs of four words said in recent nights, and in this dream so far
        self.stale = {k for k in recent if k.startswith(("run:", "tri:"))}
        self.said: set[str] = set()
        self.trace: list[tuple[str, str]] = []  # (pool, sentence), for the bench

    def choose(self, pool: str, entries: list[str]) -> str:
        entries = [e for e in entries if not self.forbidden.search(e)]
        if not entries:
            raise LookupError(pool)
        weights = []
        for e in entries:
            k = _key(pool, e)
            w = 1.0 / (1 + 8 * self.recent.get(k, 0))
            if k in self.used:
                w *= 0.01
            weights.append(w)
        choice = self.rng.choices(entries, weights=weights)[0]
        self.used.append(_key(pool, choice))
        return choice

    def pick(self, pool: str, ctx: dict | None = None) -> str:
        entries = LEXICON.get(pool) or T[pool]
        if ctx is not None:
            entries = [e for e in entries if _fits(e, ctx)]
        return self.choose(pool, entries)

    def has(self, pool: str, ctx: dict) -> bool:
        return any(_fits(e, ctx) and not self.forbidden.search(e) for e in T.get(pool, ()))

    def expand(self, template: str, ctx: dict) -> str:
        def sub(m: re.Match) -> str:
            tok = m.group(1)
            if tok.endswith("_cap") and tok[1:-4] in ctx:  # {=x_cap}: x, capitalised
                inner = re.match(r"\{(=[a-z_]+)\}", "{" + tok[:-4] + "}")
                assert inner is not None  # tok is "=name_cap": "{=name}" matches
                return _cap(sub(inner))
            if tok.startswith("="):
                said = ctx[tok[1:]]
                if isinstance(said, list):  # ways to say it: each draft takes one
                    said = self.rng.choice(said)
                if self.settled and said in self.refs:
                    return self.rng.choice(self.refs[said])
                return said
            if tok.startswith(("v:", "t:", "tp:", "n:", "d:")):
                kind, verb = tok.split(":", 1)
                third, past = VERBS[verb]
                if self.past:
                    return past
                if kind == "v":  # the dreamer: "I walk", "you walk"
                    return verb
                # n: agrees with the scene's label, d: with its counted figure ("one voice")
                singular = kind == "t" or (kind == "n" and not ctx.get("plural")) or (
                    kind == "d" and not ctx.get("dplural"))
                return third if singular else verb
            if tok.startswith("a:"):
                word = self.expand(self.pick(tok[2:]), ctx)
                return _article(word) + " " + word
            if tok == "nis":
                plural = bool(ctx.get("plural"))
                return ("were" if plural else "was") if self.past else ("are" if plural else "is")
            if tok == "can":
                return "could" if self.past else "can"
            if tok == "cannot":
                return "could not" if self.past else "cannot"
            if tok == "I":
                return "you" if self.second else "I"
            if tok == "me":
                return "you" if self.second else "me"
            if tok == "my":
                return "your" if self.second else "my"
            if tok == "am":
                if self.second:
                    return "were" if self.past else "are"
                return "was" if self.past else "am"
            if tok == "is":
                return "was" if self.past else "is"
            if tok == "are":
                return "were" if self.past else "are"
            if tok == "here":  # the night's one scene, said shortly ("the greenhouse")
                return ctx.get("here", "the place")
            if tok == "sky_cold":  # with its degrees exactly when the plan gives it them
                entries = [e for e in T["sky_cold"] if ("{=deg}" in e) == ("deg" in ctx)]
                return self.expand(self.choose("sky_cold", entries), ctx)
            if tok == "air_word":
                return self.expand(self.pick(ctx["air"]), ctx)
            return self.expand(self.pick(tok, ctx), ctx)

        return _TOKEN.sub(sub, template)

    def sentence(self, pool: str, ctx: dict, turn: bool = False, tries: int = 10) -> str:
        """A sentence of ``pool``: of a few drafts, the one that repeats the fewest runs of
        three and four words said in recent nights (or earlier in this dream): the dryness
        memory rests whole frames as a reader meets them, not only the phrases they are
        made of, and the three-word joints between the parts of a frame as well."""
        best: tuple[int, str, list[str]] | None = None
        for _ in range(tries):
            mark = len(self.used)
            s = self._draft(pool, ctx, turn)
            grams = runs(s) | runs(s, 3)
            cost = len(grams & self.stale) + len(grams & self.said)
            if best is None or cost < best[0]:
                best = (cost, s, self.used[mark:])
            del self.used[mark:]
            if cost == 0:
                break
        assert best is not None
        self.used.extend(best[2])
        self.said |= runs(best[1]) | runs(best[1], 3)
        self.trace.append((pool, best[1]))
        return best[1]

    def _draft(self, pool: str, ctx: dict, turn: bool) -> str:
        s = self.expand(self.pick(pool, ctx), ctx)
        if turn:
            lead = self.expand(self.pick("turn"), ctx)
            keep = s.split(" ", 1)[0] == "I" or any(
                m[:1].isupper() and s.startswith(m) for m in (ctx.get("motif_a", ""),
                                                              ctx.get("motif_b", "")))
            # "Then then": a sentence that already opens on a turn takes no second one
            # "A little later, then": a sentence that already opens on a time word takes
            # no second one
            opens = s.split()[0].strip(",").lower()
            if opens not in _TIME_WORDS | {lead.split()[0].strip(",").lower()}:
                s = f"{lead} {s if keep else s[:1].lower() + s[1:]}"
        return _cap(s)


_TIME_WORDS = {"then", "later", "after", "afterwards", "soon", "meanwhile", "by", "much",
               "finally", "suddenly"}


# -- what the night is about ----------------------------------------------------------

MAX_FIGURES = 3  # exact figures a dream says: the lead's, and at most two more

SIZES = {
    "small": ["a little", "a touch", "only a little", "slightly", "a shade"],
    "mid": ["a good way", "more than usual", "noticeably", "further than most nights"],
    "big": ["a long way", "a great deal", "far past its usual mark", "further than ever"],
}


@dataclass
class _Subject:
    pool: str  # the pool that says it with its figures
    ctx: dict
    score: float
    used: list[str]
    figures: int = 0  # how many exact figures that sentence says
    told: str | None = None  # the pool that tells it by direction and size, no figure
    extra: list[tuple[str, dict]] = field(default_factory=list)


def _label_ctx(label: str, rng: random.Random | None = None, money: bool = False) -> dict:
    label = " ".join(re.sub(r"\d+", " ", label.replace("_", " ")).split()) or "signal"
    words = label.split()
    if rng is not None and len(words) > 1 and not money and rng.random() < 0.5:
        # "wallet balance" is also "the wallet" or "the balance": the same words around
        # a label every night are a tic a reader hears (money keeps its whole name: it is
        # what an owner looks for)
        label = rng.choice([words[0], words[-1]])
    ctx = {"label": label}
    if _plural(label):
        ctx["plural"] = "1"
    return ctx


def _size(sd: SignalDigest, rng: random.Random) -> list[str]:
    """How big a move was, as a person tells it without its figure (the ways to say it:
    each draft of a sentence takes one)."""
    if sd.usual:
        x = sd.score
    elif sd.change_pct is not None:
        x = abs(sd.change_pct) / 5
    else:
        x = 2.0
    return list(SIZES["small" if x < 2 else "mid" if x < 6 else "big"])


def _subjects(dg: Digest, rng: random.Random) -> list[_Subject]:
    """Money, reputation and own work that moved beyond their noise, anything else that
    was notable, the hours awake, the letters, the doors: each with the sentence that
    gives its figures and the one that tells it by direction and size."""
    scores: dict[str, float] = {}
    for n in dg.notable:
        scores[n.signal] = max(scores.get(n.signal, 0.0), n.score)
    out: list[_Subject] = []
    moved_work_sources = {sd.source for sd in dg.signals
                          if sd.kind == "work" and sd.beyond_noise and sd.field == "count"}
    for sd in dg.signals:
        if not sd.numeric or not sd.change:
            continue
        ctx = _label_ctx(sd.label, rng, money=sd.kind == "money")
        # the notable score orders the night (the biggest event leads); the kind's own
        # weight only breaks ties between quiet subjects
        score = scores.get(sd.signal, 0.0) + sd.score * 0.001
        up = sd.change > 0
        ctx["size"] = _size(sd, rng)
        if sd.kind in ("money", "reputation", "work") and not sd.beyond_noise \
                and sd.signal not in scores:
            continue  # within its usual noise: not told at all
        if sd.kind == "money":
            assert sd.last is not None  # a numeric signal that changed has a last reading
            ctx["amount"] = amount(sd.last, sd.unit)
            ctx["dir_word"] = "higher" if up else "lower"
            pct = sd.change_pct
            figs = 0 if ctx["amount"] == "nothing" else 1
            if pct is not None and fmt_pct(pct) not in ("0", "0.0") and abs(pct) >= 1:
                p = fmt_pct(pct)
                exact = abs(abs(pct) - float(p)) < 0.05
                ctx["pct_about"] = f"{p}%" if exact else f"about {p}%"
                pool, figs = ("money.up" if up else "money.down"), figs + 1
            else:
                pool = "money.small"
            out.append(_Subject(pool, ctx, score + 0.03, [sd.signal], figs,
                                f"money.{'up' if up else 'down'}.told"))
        elif sd.kind in ("reputation", "work"):
            assert sd.change is not None and sd.last is not None  # it moved: both are known
            if abs(sd.change) < 0.5:
                continue
            if sd.kind == "work" and sd.field != "count" and sd.source in moved_work_sources:
                continue
            ctx["delta_says"] = says(sd.change)
            one = abs(round(sd.change)) == 1
            ctx["delta_voices"] = ["a single voice", "one voice", "a lone voice"] \
                if one else f"{says(sd.change)} voices"
            ctx["delta_pages"] = ["one page", "a single page", "a page"] \
                if one else f"{says(sd.change)} pages"
            ctx["last_says"] = ("zero" if round(sd.last) == 0 else big(sd.last)
                                if abs(sd.last) >= 10 else says(sd.last))
            if not one:
                ctx["dplural"] = "1"
            if 1 < abs(round(sd.change)) < 10:
                ctx["delta_word"] = says(sd.change)
            if round(sd.last) < 0:  # a negative karma is not a number of voices
                ctx["last_says"] = "below nothing"
            figs = (0 if one else 1) + (0 if ctx["last_says"] in ("zero", "below nothing",
                                                                    "one") else 1)
            d = "up" if up else "down"
            out.append(_Subject(f"{sd.kind}.{d}", ctx, score + 0.02, [sd.signal], figs,
                                f"{sd.kind}.{d}.told"))
        elif sd.kind in ("host", "other") and sd.signal in scores:
            ctx["last_plain"] = fmt_num(sd.last) + (f" {sd.unit}" if sd.unit and not re.search(r"\d", sd.unit) else "")
            d = "up" if up else "down"
            out.append(_Subject(f"other.{d}", ctx, score, [sd.signal], 1, f"other.{d}.told"))
    if dg.sessions["count"]:
        times, minutes = int(dg.sessions["count"]), dg.sessions["minutes"]
        count_says = {1: "once", 2: "twice"}.get(times, f"{says(times)} times")
        figs = 0 if times <= 2 else 1
        if minutes >= 90:
            hours = round(minutes / 60, 1)
            whole = int(math.floor(hours + 0.5))
            duration = [w.format(says(whole)) for w in
                        ["about {} hours", "around {} hours", "close to {} hours",
                         "some {} hours", "roughly {} hours"]]
            figs += 1
        elif minutes >= 1:
            duration = [w.format(minutes, "s" if minutes != 1 else "")
                        for w in ["{} minute{}", "a good {} minute{}", "some {} minute{}"]]
            figs += 1
        else:
            duration = None  # a pool of its own says it
        how = ("on and off", "again and again", "more than once", "now and then",
               "off and on", "by fits and starts", "at intervals", "every so often") if times >= 3 \
            else ("for hours", "a long while", "through the small hours", "most of the night",
                  "until the lamp ran low", "long past midnight", "for ages",
                  "hour after hour") \
            if minutes >= 90 else ("briefly", "for a short spell", "only a moment",
                                   "not for long", "a little while", "for a breath or so",
                                   "just long enough", "for a few breaths") if minutes < 20 else \
            ("for a while", "some while", "for part of the night", "a good while",
             "for a stretch", "a fair while", "long enough to notice", "for a spell")
        out.append(_Subject("sessions" if duration else "sessions.brief",
                            {"count_says": count_says, "duration": duration or "",
                             "awake_how": list(how)},
                            scores.get("sessions", 0.0) + 0.01, ["sessions"], figs,
                            "sessions.told"))
    if dg.items_total:
        src = max(dg.items_by_source, key=lambda k: dg.items_by_source[k])
        label = next((n.text.split(":")[0] for n in dg.notable
                      if n.what == "items" and n.signal == src), src)
        ctx = _label_ctx(label)
        ctx.pop("plural", None)
        n_items = dg.items_total
        ctx["items_letters"] = f"{says(n_items)} letters"
        if n_items > 1:
            ctx["plural"] = "1"
        extra = []
        titles = [" ".join(it["title"].split()[:10]) for it in dg.items if it.get("title")]
        # quotation marks inside a title would end the quotation the audit recognises
        titles = [re.sub(r"[\u201c\u201d\"]", "", t).strip("' ") for t in titles]
        titles = [t for t in titles if t]
        # words from outside: at most once a dream, and not most nights
        if titles and rng.random() < 0.3:
            extra.append(("items.title", dict(ctx, title=rng.choice(titles))))
        out.append(_Subject("items.one" if n_items == 1 else "items", ctx,
                            max((x.score for x in dg.notable if x.what == "items"), default=1.0),
                            ["items"], 0 if n_items == 1 else 1,
                            "items.told" if n_items > 1 else None,
                            extra))
    for door in dg.doors:
        if not (door.started_failing or door.stopped_failing or door.failing_now):
            continue
        src = " ".join(re.sub(r"[\d_-]+", " ", door.source).split()) or "nameless"
        ctx = {"source": src, "failed_says": says(door.failed), "polls_says": says(door.polls)}
        pool = "health.up" if door.stopped_failing else "health.down"
        out.append(_Subject(pool, ctx, scores.get(door.source, 1.0), [f"doors:{door.source}"]))
    return out


# -- the scene ---------------------------------------------------------------------------

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

    # -- the plan: which subjects say their figures (the lead's, then at most two more)
    subjects = sorted(_subjects(digest, rng), key=lambda s: -s.score)
    lead = digest.lead()
    if lead is not None:  # the night's biggest event is the first subject
        names = {lead.signal, f"doors:{lead.signal}"} | ({"items"} if lead.what == "items" else set())
        subjects.sort(key=lambda s: not names & set(s.used))
    budget = MAX_FIGURES
    exact: set[int] = set()
    for i, sub in enumerate(subjects):
        if sub.figures == 0:
            exact.add(i)
            continue
        wants = i == 0 or rng.random() < 0.35
        if (wants or not sub.told) and sub.figures <= budget:
            exact.add(i)
            budget -= sub.figures
    temp_exact = sky.temp_said is not None and budget >= 1 and (
        lead is None or rng.random() < 0.6 or _lead_is_weather(lead, digest))
    if temp_exact:
        base["deg"] = sky.temp_said
        budget -= 1
    figures = MAX_FIGURES - budget

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


def _lead_is_weather(lead, dg: Digest) -> bool:
    if lead.what == "storm":
        return True
    s = dg.signal(lead.signal)
    return s is not None and s.kind == "weather"


def _count(*parts: list[str]) -> int:
    return sum(len(s.split()) for p in parts for s in p)
