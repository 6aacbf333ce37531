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

from reverie.perception.digest import Digest, SignalDigest, _severity
from reverie.perception.dreams._phrases import LEXICON, SETTINGS, T, VERBS
from reverie.perception.text import figure as fmt_num

MIN_WORDS, MAX_WORDS = 120, 300
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
    second: bool | None = None  # the point of view it asks for, when it says


_POV = re.compile(r"(?i)\b(?:point of view|pov|person)\s*[:=-]\s*(first|second)\b")


def persona(text: str) -> Persona:
    """The ``## Motifs`` section (one motif a line) and a ``point of view: second`` line
    of the agent's identity file. It is the agent's text: hostile, so motifs are kept to
    short runs of words (no digits, no markup) and a few of them."""
    p = Persona()
    m = _POV.search(text or "")
    if m:
        p.second = m.group(1).lower() == "second"
    inside = False
    for line in (text or "").splitlines()[:2000]:
        if line.startswith("#"):
            inside = line.lstrip("#").strip().lower() == "motifs"
            continue
        if not inside:
            continue
        words = re.sub(r"[^A-Za-z' -]+", " ", line.strip().lstrip("-*+ ").strip())
        # a number word in a motif would be a figure the record cannot back
        words = " ".join(w for w in words.split()
                         if not _NUMBER_WORDS & set(w.lower().strip("'-").split("-")))
        words = words[:60].strip(" -'")
        if len(words) >= 3 and words.lower() not in (x.lower() for x in p.motifs):
            p.motifs.append(words)
        if len(p.motifs) >= 12:
            break
    return p


# -- what the record rules out --------------------------------------------------------

@dataclass
class Sky:
    cond: str | None = None
    arc: list[str] = field(default_factory=list)
    temp_c: float | None = None
    temp_said: str | None = None
    rain: bool = False
    fog: bool = False
    snow: bool = False
    storm: bool = False
    wind: bool = False
    clear: bool = False
    signals: list[str] = field(default_factory=list)

    def forbidden(self) -> re.Pattern:
        """Words whose imagery the night's record contradicts."""
        words = []
        if not self.rain:
            words += ["rain\\w*", "drizzl\\w*", "puddles?", "downpour", "showers?", "monsoon",
                      "wet", "raincoat"]
        if not self.fog:
            words += ["fog\\w*", "mist\\w*", "haze", "hazy"]
        if not self.snow:
            words += ["snow\\w*", "sledge"]
        if not self.storm:
            words += ["thunder\\w*", "lightning", "storms?"]
        if self.temp_c is None or self.temp_c < 10:
            words += ["warm\\w*", "heat", "hot", "sweat\\w*", "summer", "balmy", "sticky",
                      "honey-slow", "sun-baked"]
        if self.temp_c is None or self.temp_c > 4:
            words += ["frost\\w*", "ice", "icy", "freez\\w*", "frozen", "breath"]
        if self.temp_c is not None and self.temp_c >= 18:
            words += ["cold", "chilly", "bitter", "winter"]
        return re.compile(r"(?i)\b(" + "|".join(words) + r")\b") if words else re.compile(r"(?!x)x")

    def air(self) -> str:
        if self.temp_c is None:
            return "air.cool"
        return "air.cold" if self.temp_c < 5 else "air.cool" if self.temp_c < 20 else "air.warm"


def _temperature(sd: SignalDigest) -> bool:
    unit = (sd.unit or "").strip()
    return unit in ("°C", "°F") or sd.field.lower() in ("temperature", "temp")


def sky_of(dg: Digest, rng: random.Random | None = None) -> Sky:
    sky = Sky()
    # the air's own temperature before any "apparent" or "feels like" one
    for sd in sorted(dg.signals, key=lambda s: s.field.lower() not in ("temperature", "temp")):
        if sd.kind != "weather":
            continue
        if not sd.numeric and sd.text_last and sky.cond is None:
            sky.cond = " ".join(sd.text_last.lower().split())[:40]
            sky.arc = [" ".join(a.lower().split())[:40] for a in sd.arc]
            sky.signals.append(sd.signal)
        elif sd.numeric and _temperature(sd) and sky.temp_c is None:
            t = sd.last if (sd.unit or "").strip() != "°F" else (sd.last - 32) * 5 / 9
            sky.temp_c = t
            sky.temp_said = _degrees(sd.last, rng)
            sky.signals.append(sd.signal)
        elif sd.numeric and "precip" in sd.field.lower() and (sd.max or 0) > 0:
            sky.rain = True
        elif sd.numeric and "wind" in sd.field.lower() and (sd.max or 0) >= 30:
            sky.wind = True
    texts = " ".join(sky.arc or [sky.cond or ""])
    sky.rain = sky.rain or bool(re.search(r"rain|drizzle|shower|thunder", texts))
    sky.fog = "fog" in texts or "mist" in texts
    sky.snow = "snow" in texts
    sky.storm = "thunder" in texts
    sky.clear = bool(re.search(r"clear|sun", texts))
    return sky


def _degrees(t: float, rng: random.Random | None = None) -> str:
    """A temperature as said: "3 below zero", "3 degrees of frost", "12 degrees"."""
    n = int(math.floor(abs(t) + 0.5))
    if n == 0:
        return "around zero"
    deg = f"degree{'s' if n != 1 else ''}"
    if t < 0:
        ways = [f"{n} below zero", f"{n} {deg} of frost", f"{n} {deg} below zero"]
    else:
        ways = [f"{n} {deg}", f"{n} {deg} above zero"] if t < 10 else [f"{n} {deg}"]
    return rng.choice(ways) if rng else ways[0]


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


_THEN = [", then", ", and then", ", later", ", after that", ", toward morning", ", soon"]


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


def runs(text: str) -> set[str]:
    """Dryness keys of the runs of four words in ``text`` (lowercase, as a reader counts them)."""
    ws = re.findall(r"[a-z0-9']+", text.lower())
    return {"run:" + hashlib.sha1(" ".join(ws[i:i + 4]).encode()).hexdigest()[:10]
            for i in range(len(ws) - 3)}


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
        self.stale = {k for k in recent if k.startswith("run:")}
        self.said: set[str] = set()

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
                return _cap(sub(re.match(r"\{(=[a-z_]+)\}", "{" + tok[:-4] + "}")))
            if tok.startswith("="):
                said = ctx[tok[1:]]
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
            if tok == "sky_cold":
                return self.expand(self.pick("sky_cold", ctx), ctx)
            if tok == "air_word":
                return self.expand(self.pick(ctx["air"]), ctx)
            return self.expand(self.pick(tok, ctx), ctx)

        return _TOKEN.sub(sub, template)

    def sentence(self, pool: str, ctx: dict, turn: bool = False, tries: int = 3) -> str:
        """A sentence of ``pool``: of a few drafts, the one that repeats the fewest runs of
        words said in recent nights (or earlier in this dream): the dryness memory rests
        whole frames as a reader meets them, not only the phrases they are made of."""
        best: tuple[int, str, list[str]] | None = None
        for _ in range(tries):
            mark = len(self.used)
            s = self._draft(pool, ctx, turn)
            grams = runs(s)
            cost = len(grams & self.stale) + len(grams & self.said)
            if best is None or cost < best[0]:
                best = (cost, s, self.used[mark:])
            del self.used[mark:]
            if cost == 0:
                break
        assert best is not None
        self.used.extend(best[2])
        self.said |= runs(best[1])
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

@dataclass
class _Subject:
    pool: str
    ctx: dict
    score: float
    used: list[str]
    extra: list[tuple[str, dict]] = field(default_factory=list)


def _label_ctx(label: str) -> dict:
    label = " ".join(re.sub(r"\d+", " ", label.replace("_", " ")).split()) or "signal"
    ctx = {"label": label}
    if _plural(label):
        ctx["plural"] = "1"
    return ctx


def _subjects(dg: Digest, rng: random.Random) -> list[_Subject]:
    scores: dict[str, float] = {}
    for n in dg.notable:
        scores[n.signal] = max(scores.get(n.signal, 0.0), n.score)
    out: list[_Subject] = []
    moved_work_sources = {sd.source for sd in dg.signals
                          if sd.kind == "work" and sd.change and sd.field == "count"}
    for sd in dg.signals:
        if not sd.numeric or not sd.change:
            continue
        ctx = _label_ctx(sd.label)
        # the notable score orders the night (the biggest event leads); the kind's own
        # weight only breaks ties between quiet subjects
        score = scores.get(sd.signal, 0.0) + sd.score * 0.001
        if sd.kind == "money":
            ctx["amount"] = amount(sd.last, sd.unit)
            ctx["dir_word"] = "higher" if sd.change > 0 else "lower"
            pct = sd.change_pct
            if pct is not None and fmt_pct(pct) not in ("0", "0.0") and abs(pct) >= 1:
                p = fmt_pct(pct)
                exact = abs(abs(pct) - float(p)) < 0.05
                ctx["pct_about"] = f"{p}%" if exact else f"about {p}%"
                pool = "money.up" if sd.change > 0 else "money.down"
            else:
                pool = "money.small"
            out.append(_Subject(pool, ctx, score + 0.03, [sd.signal]))
        elif sd.kind in ("reputation", "work"):
            if sd.kind == "work" and sd.field != "count" and sd.source in moved_work_sources:
                continue
            if abs(sd.change) < 0.5:
                continue
            ctx["delta_says"] = says(sd.change)
            one = abs(round(sd.change)) == 1
            ctx["delta_voices"] = rng.choice(["a single voice", "one voice", "a lone voice"]) \
                if one else f"{says(sd.change)} voices"
            ctx["delta_pages"] = rng.choice(["one page", "a single page", "a page"]) \
                if one else f"{says(sd.change)} pages"
            ctx["last_says"] = ("zero" if round(sd.last) == 0 else big(sd.last)
                                if abs(sd.last) >= 10 else says(sd.last))
            if not one:
                ctx["dplural"] = "1"
            if 1 < abs(round(sd.change)) < 10:
                ctx["delta_word"] = says(sd.change)
            if round(sd.last) < 0:  # a negative karma is not a number of voices
                ctx["last_says"] = "below nothing"
            pool = f"{sd.kind}.{'up' if sd.change > 0 else 'down'}"
            out.append(_Subject(pool, ctx, score + 0.02, [sd.signal]))
        elif sd.kind in ("host", "other") and sd.signal in scores:
            ctx["last_plain"] = fmt_num(sd.last) + (f" {sd.unit}" if sd.unit and not re.search(r"\d", sd.unit) else "")
            out.append(_Subject(f"other.{'up' if sd.change > 0 else 'down'}", ctx, score,
                                [sd.signal]))
    if dg.sessions["count"]:
        n, minutes = dg.sessions["count"], dg.sessions["minutes"]
        count_says = {1: "once", 2: "twice"}.get(n, f"{says(n)} times")
        if minutes >= 90:
            hours = round(minutes / 60, 1)
            whole = int(math.floor(hours + 0.5))
            duration = rng.choice(["about {} hours", "around {} hours", "close to {} hours",
                                   "some {} hours", "roughly {} hours"]).format(says(whole))
        elif minutes >= 1:
            duration = rng.choice(["{} minute{}", "a good {} minute{}", "some {} minute{}"]).format(
                minutes, "s" if minutes != 1 else "")
        else:
            duration = None  # a pool of its own says it
        out.append(_Subject("sessions" if duration else "sessions.brief",
                            {"count_says": count_says, "duration": duration or ""},
                            scores.get("sessions", 0.0) + 0.01, ["sessions"]))
    if dg.items_total:
        src = max(dg.items_by_source, key=dg.items_by_source.get)
        label = next((n.text.split(":")[0] for n in dg.notable
                      if n.what == "items" and n.signal == src), src)
        ctx = _label_ctx(label)
        ctx.pop("plural", None)
        n = dg.items_total
        ctx["items_letters"] = f"{says(n)} letters"
        if n > 1:
            ctx["plural"] = "1"
        extra = []
        titles = [" ".join(it["title"].split()[:10]) for it in dg.items if it.get("title")]
        # quotation marks inside a title would end the quotation the audit recognises
        titles = [re.sub(r"[\u201c\u201d\"]", "", t).strip("' ") for t in titles]
        titles = [t for t in titles if t]
        if titles:
            extra.append(("items.title", dict(ctx, title=rng.choice(titles))))
        out.append(_Subject("items.one" if n == 1 else "items", ctx,
                            max((x.score for x in dg.notable if x.what == "items"), default=1.0),
                            ["items"], extra))
    for door in dg.doors:
        if not (door.started_failing or door.stopped_failing or door.failing_now):
            continue
        src = " ".join(re.sub(r"[\d_-]+", " ", door.source).split()) or "nameless"
        ctx = {"source": src, "failed_says": says(door.failed), "polls_says": says(door.polls)}
        pool = "health.up" if door.stopped_failing else "health.down"
        out.append(_Subject(pool, ctx, scores.get(door.source, 1.0), [f"doors:{door.source}"]))
    return out


# -- composing ------------------------------------------------------------------------

def compose(digest: Digest, day: date, *, recent: dict[str, int] | None = None,
            persona_text: str = "") -> tuple[str, list[str], list[str]]:
    """(prose, phrase keys used, signals used) for the night before ``day``."""
    seed = hashlib.sha256(f"{day.isoformat()}|{digest.sha256()}".encode()).hexdigest()
    rng = random.Random(int(seed[:16], 16))
    who = persona(persona_text)
    second = who.second if who.second is not None else rng.random() < 0.35
    sky = sky_of(digest, rng)
    recent = recent or {}
    g = _Gen(rng, recent, second=second, past=rng.random() < 0.5, forbidden=sky.forbidden())

    # the scene: a setting not dreamt lately, one motif of the agent's own when it has any
    settings = [(i, s) for i, s in enumerate(SETTINGS) if not g.forbidden.search(s[0])]
    idx, (setting, objects) = settings[rng.choices(
        range(len(settings)),
        weights=[1 / (1 + 8 * recent.get(f"setting:{i}", 0)) for i, _ in settings])[0]]
    g.used.append(f"setting:{idx}")
    objects = [o for o in objects if not g.forbidden.search(o)] or ["a chair"]
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
    base = {"setting": setting, "setting_cap": _cap(setting), "motif_a": motif_a,
            "motif_b": motif_b, "air": sky.air()}
    if sky.temp_said:
        base["deg"] = sky.temp_said

    def ctx_of(extra: dict) -> dict:
        return {**base, **extra}

    used_signals: list[str] = list(sky.signals)
    first: list[tuple[str, int]] = [(g.sentence("open", base), 9)]
    g.settled = True
    ra, rb = referents(motif_a), referents(motif_b)
    if not {r.lower() for r in ra[1:]} & {r.lower() for r in rb[1:]}:
        # said whole now and then, by its short name more often
        g.refs = {motif_a: ra + ra[1:], motif_b: rb + rb[1:]}
    if sky.cond:
        sctx = dict(base)
        if sky.temp_said:
            sctx["temp"] = sky.temp_said
        if "deg" not in sctx:
            sctx["deg"] = "the air unmoving"
        arc = [a for i, a in enumerate(sky.arc) if i == 0 or a != sky.arc[i - 1]]
        if len(arc) > 1 and arc[0] != arc[-1]:
            # the change as a person tells it: where it began, its worst, where it ended
            if len(arc) > 3:
                middle = [a for a in arc[1:-1] if a not in (arc[0], arc[-1])]
                arc = [arc[0]] + ([max(middle, key=_severity)] if middle else []) + [arc[-1]]
            sctx["cond_from"], sctx["cond_seq"] = cond_arc(arc, rng)
            first.append((g.sentence("sky.arc", sctx), 9))
        else:
            sctx.update(cond=sky.cond, cond_np=cond_np(sky.cond))
            first.append((g.sentence("sky", sctx), 9))
    elif sky.temp_said:
        first.append((g.sentence("sky", dict(base, cond="dark and still",
                                              cond_np="a dark, still night")), 9))

    subjects = sorted(_subjects(digest, rng), key=lambda s: -s.score)
    lead = digest.lead()
    if lead is not None:  # the night's biggest event is the first subject
        names = {lead.signal, f"doors:{lead.signal}"} | ({"items"} if lead.what == "items" else set())
        subjects.sort(key=lambda s: not names & set(s.used))
    storm_leads = lead is not None and lead.what == "storm" and sky.storm and \
        not any(s.score > lead.score for s in subjects)
    if sky.storm and sky.cond:
        storm = cond_np(max(sky.arc or [sky.cond], key=lambda t: "thunder" in t))
        if not _COUNTABLE.search(storm):  # thunder that is no thunderstorm: "thunder"
            storm = "a storm"
        pair = (g.sentence("sky.storm", dict(base, storm=storm, storm_cap=_cap(storm))), 8)
        if storm_leads:
            first.append(pair)
    blocks: list[list[tuple[str, int]]] = [first]
    body: list[list[tuple[str, int]]] = []
    if sky.storm and sky.cond and not storm_leads:
        body.append([pair])
    for i, sub in enumerate(subjects):
        ctx = ctx_of(sub.ctx)
        if not g.has(sub.pool, ctx):
            continue
        turn = bool(body) and rng.random() < 0.35
        sents = [(g.sentence(sub.pool, ctx, turn=turn), 8)]
        for pool, ectx in sub.extra:
            if g.has(pool, ctx_of(ectx)):
                sents.append((g.sentence(pool, ctx_of(ectx)), 4))
        used_signals.extend(sub.used)
        if i == 0 and not storm_leads:
            first.extend(sents)  # the night's biggest event leads
        else:
            body.append(sents)
    img = ("sky.img.rain" if sky.rain else "sky.img.fog" if sky.fog
           else "sky.img.snow" if sky.snow else "sky.img.wind" if sky.wind
           else "sky.img.clear" if sky.clear else "sky.img.cloud")
    if g.has(img, base) and rng.random() < 0.7:
        (body[rng.randrange(len(body))] if body else first).append((g.sentence(img, base), 3))

    # group the body into one or two paragraphs
    if len(body) > 3 and rng.random() < 0.6:
        cut = rng.randint(2, len(body) - 1)
        blocks += [sum(body[:cut], []), sum(body[cut:], [])]
    elif body:
        blocks.append(sum(body, []))
    g.settled = False  # the end says the motifs whole, as the opening did
    closing = [(g.sentence("close", base), 9)]
    g.settled = True

    target = rng.randint(MIN_WORDS + 20, 230)
    tries = 0
    while _words(blocks) + _words([closing]) < target and tries < 40:
        tries += 1
        # the first paragraph is the scene, the sky and the lead: filler goes after them
        bi = rng.randrange(len(blocks))
        b = blocks[bi]
        pool = "motif" if rng.random() < 0.35 else "texture"
        b.insert(len(b) if bi == 0 else rng.randint(1, len(b)), (g.sentence(pool, base), 1))
    blocks.append(closing)
    while _words(blocks) > MAX_WORDS:
        flat = [(p, bi, si) for bi, b in enumerate(blocks) for si, (_, p) in enumerate(b)]
        p, bi, si = min(flat, key=lambda x: (x[0], -x[1]))
        if p >= 8:
            break
        del blocks[bi][si]
    prose = "\n\n".join(" ".join(s for s, _ in b) for b in blocks if b)
    keys = list(dict.fromkeys(g.used)) + sorted(runs(prose))
    return prose, keys, list(dict.fromkeys(used_signals))


def _words(blocks: list[list[tuple[str, int]]]) -> int:
    return sum(len(s.split()) for b in blocks for s, _ in b)
