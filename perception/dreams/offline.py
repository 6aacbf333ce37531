"""The offline dream: a data-driven generator, no network, deterministic for (date, digest).

Phrase groups (``_phrases``) are tagged by the kind of signal they express and the
direction of its change; a salience score picks which signals the night is about; the
"dryness" memory (phrase keys used in recent nights, kept in the store) makes recent
phrases unlikely; the structure varies too: where the dream opens, how many scenes,
first or second person, present or past, how it is cut into paragraphs.

Numbers only enter the prose through the digest's own figures (``fmt_num``), so every
number in an offline dream is backed by its record.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from datetime import date

from reverie.perception.digest import Digest, SignalDigest
from reverie.perception.text import figure as fmt_num
from reverie.perception.dreams._phrases import LEXICON, NOUNS, T, VERBS

MIN_WORDS, MAX_WORDS = 120, 300
_TOKEN = re.compile(r"\{([^{}]+)\}")
_FIG = re.compile(r"\{=([a-z_]+)\}")
# {N:figure:noun} and {c:figure:verb} agree with a figure: "1 voice", "2 rooms open"
_COUNTED = re.compile(r"\{[Nc]:([a-z_]+):")


_TIMED = ("After", "Then", "Later", "Meanwhile", "Before", "For", "First", "At", "By")


def fmt_pct(x: float) -> str:
    """A percentage as prose writes it: "83", "4.2"; the audit backs it within that rounding."""
    a = abs(x)
    if a >= 9.95:
        return str(math.floor(a + 0.5))
    return fmt_num(round(a, 1))


def _one(figure: str) -> bool:
    return figure.lstrip("-") == "1"


def _fits(entry: str, ctx: dict) -> bool:
    # a count noun cannot take a negative figure: karma below zero is not "-3 voices"
    return all(f in ctx for f in _FIG.findall(entry)) and all(
        k in ctx and not ctx[k].startswith("-") for k in _COUNTED.findall(entry))


def _noun(word: str, figure: str) -> str:
    singular = next((s for s, pl in NOUNS.items() if word in (s, pl)), word)
    return singular if _one(figure) else NOUNS.get(singular, singular + "s")


def _key(pool: str, entry: str) -> str:
    return f"{pool}:{hashlib.sha1(entry.encode('utf-8')).hexdigest()[:8]}"


def _clean_name(text: str, fallback: str) -> str:
    # digits in a name would be numbers the audit cannot tie to a figure
    out = " ".join(re.sub(r"\d+", " ", text.replace("_", " ").replace("-", " ")).split())
    return out or fallback


class _Gen:
    def __init__(self, rng: random.Random, recent: dict[str, int], second: bool, past: bool):
        self.rng = rng
        self.recent = recent
        self.used: list[str] = []
        self.second = second
        self.past = past

    def pick(self, pool: str, ctx: dict | None = None) -> str:
        entries = LEXICON.get(pool) or T[pool]
        if ctx is not None:
            entries = [e for e in entries if _fits(e, ctx)]
        if not entries:
            raise LookupError(pool)
        weights = []
        for e in entries:
            k = _key(pool, e)
            w = 1.0 / (1 + 6 * self.recent.get(k, 0))
            if k in self.used:
                w *= 0.01
            weights.append(w)
        choice = self.rng.choices(entries, weights=weights)[0]
        self.used.append(_key(pool, choice))
        return choice

    def has(self, pool: str, ctx: dict) -> bool:
        return any(_fits(e, ctx) for e in T.get(pool, ()))

    def expand(self, template: str, ctx: dict) -> str:
        def sub(m: re.Match) -> str:
            tok = m.group(1)
            if tok.startswith("="):
                return ctx[tok[1:]]
            if tok.startswith("N:"):
                _, key, word = tok.split(":", 2)
                return _noun(ctx[word[1:]] if word.startswith("=") else word, ctx[key])
            if tok.startswith("c:"):
                _, key, verb = tok.split(":", 2)
                if verb == "be":
                    return ("was" if self.past else "is") if _one(ctx[key]) else \
                        ("were" if self.past else "are")
                third, past = VERBS[verb]
                return past if self.past else third if _one(ctx[key]) else verb
            if tok.startswith(("v:", "t:", "tp:", "n:")):
                kind, verb = tok.split(":", 1)
                third, past = VERBS[verb]
                if self.past:
                    return past
                singular = kind == "t" or (kind == "n" and not ctx.get("plural"))
                return third if singular else verb
            if tok.startswith("a:"):
                word = self.expand(self.pick(tok[2:]), ctx)
                return _article(word) + " " + word
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
            return self.expand(self.pick(tok), ctx)

        return _TOKEN.sub(sub, template)

    def sentence(self, pool: str, ctx: dict, turn: bool = False) -> str:
        s = self.expand(self.pick(pool, ctx), ctx)
        # "After that after two tries": a sentence that opens on time needs no lead
        if turn and s.split(" ", 1)[0] not in _TIMED:
            lead = self.expand(self.pick("turn"), ctx)
            first = s.split(" ", 1)[0]
            if first not in ("I",) and not first[:1].isdigit():
                s = s[:1].lower() + s[1:]
            s = f"{lead} {s}"
        return _cap(s)


def _article(word: str) -> str:
    w = word.lower()
    if w.startswith(("hour", "honest", "honour", "heir")):
        return "an"
    if w.startswith(("uni", "use", "one", "eu")):
        return "a"
    return "an" if w[:1] in "aeiou" else "a"


def _plural(name: str) -> bool:
    # "total items", "followers", "pages": the verb after them is plural
    last = name.split()[-1].lower() if name.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _is_temperature(sd: SignalDigest) -> bool:
    unit = (sd.unit or "").strip()
    return unit in ("°C", "°F", "K", "C", "F") or "temp" in sd.field.lower() \
        or "feels_like" in sd.field.lower()


def _cap(s: str) -> str:
    for i, ch in enumerate(s):
        if ch.isalpha():
            return s[:i] + ch.upper() + s[i + 1:]
        if ch.isdigit():
            return s
    return s


# -- what the night is about ---------------------------------------------------------

class _Scene:
    def __init__(self, kind: str, pool: str, ctx: dict, salience: float, used: list[str],
                 notable: bool, extra: list[tuple[str, dict]] | None = None, img: str | None = None):
        self.kind, self.pool, self.ctx, self.salience = kind, pool, ctx, salience
        self.used, self.notable, self.extra, self.img = used, notable, extra or [], img


def _signal_ctx(sd: SignalDigest) -> dict:
    unit = sd.unit or ""
    ctx = {"last": fmt_num(sd.last),
           "u": f" {unit}" if unit and not re.search(r"\d", unit) else "",
           "name": _clean_name(sd.field, "signal"),
           "before": fmt_num(sd.before if sd.before is not None else sd.first),
           "max": fmt_num(sd.max), "min": fmt_num(sd.min)}
    if sd.change:
        ctx["delta"] = fmt_num(abs(sd.change))
    # nothing falls by more than all of itself ("down by 140%" is a negative base)
    if sd.change_pct and fmt_pct(sd.change_pct) != "0" and not (
            sd.change_pct <= -100 and sd.direction == "down" and (sd.last or 0) < 0):
        ctx["pct"] = fmt_pct(sd.change_pct)
    if sd.kind == "files":
        ctx["name"] = "words" if "word" in sd.field else "pages"
    if _plural(ctx["name"]):
        ctx["plural"] = "1"
    return ctx


def _scenes(dg: Digest, rng: random.Random) -> list[_Scene]:
    notable = {n.signal for n in dg.notable}
    out: list[_Scene] = []
    for sd in dg.signals:
        # a feed's per-poll new_items count is the letters scene's business (items_total)
        if not sd.numeric or sd.kind == "letters":
            continue
        kind = sd.kind if sd.kind in ("weather", "balance", "voices", "files") else "other"
        ctx = _signal_ctx(sd)
        pool = f"{'temp' if kind == 'weather' and _is_temperature(sd) else kind}.{sd.direction}"
        sal = 0.2 + (3.0 if sd.signal in notable else 0.0)
        if sd.change_pct:
            sal += min(2.0, abs(sd.change_pct) / 20)
        extra = []
        if sd.high30 and "max" in ctx:
            extra.append(("high", ctx))
            sal += 1
        if sd.low30 and "min" in ctx:
            extra.append(("low", ctx))
            sal += 1
        out.append(_Scene(kind, pool, ctx, sal + rng.random() * 0.6, [sd.signal],
                          sd.signal in notable, extra, img=f"{kind}.img"))
    if dg.items_total:
        ctx = {"items": fmt_num(dg.items_total)}
        extra = []
        titles = [" ".join(it["title"].split()[:12]) for it in dg.items if it.get("title")]
        if titles:
            tctx = dict(ctx, title=rng.choice(titles).strip("\u201c\u201d\"'"))
            extra.append(("letters.title", tctx))
        out.append(_Scene("letters", "letters.one" if dg.items_total == 1 else "letters.any", ctx,
                          2.5 + math.log1p(dg.items_total) + rng.random() * 0.5,
                          ["items"], True, extra))
    for door in dg.doors:
        ctx = {"source": _clean_name(door.source, "nameless"), "failed": fmt_num(door.failed),
               "polls": fmt_num(door.polls)}
        pool = "doors.up" if door.stopped_failing else "doors.down"
        important = door.started_failing or door.stopped_failing
        out.append(_Scene("doors", pool, ctx, (3.0 if important else 1.5) + rng.random() * 0.5,
                          [f"doors:{door.source}"], important, img="doors.img"))
    if dg.sessions["count"]:
        ctx = {"sessions": fmt_num(dg.sessions["count"]), "minutes": fmt_num(dg.sessions["minutes"])}
        out.append(_Scene("sessions", "sessions.any", ctx, 1.2 + rng.random(), ["sessions"], False))
    return out


def _weather_text(dg: Digest) -> SignalDigest | None:
    texts = [s for s in dg.signals if s.kind == "weather" and not s.numeric and s.text_last]
    return texts[0] if texts else None


# -- composing ------------------------------------------------------------------------

def compose(digest: Digest, day: date, *, recent: dict[str, int] | None = None
            ) -> tuple[str, list[str], list[str]]:
    """(prose, phrase keys used, signals used) for the night before ``day``."""
    seed = hashlib.sha256(f"{day.isoformat()}|{digest.sha256()}".encode()).hexdigest()
    rng = random.Random(int(seed[:16], 16))
    g = _Gen(rng, recent or {}, second=rng.random() < 0.4, past=rng.random() < 0.5)
    g.used.append(f"person:{'second' if g.second else 'first'}")
    g.used.append(f"tense:{'past' if g.past else 'present'}")

    scenes = _scenes(digest, rng)
    scenes.sort(key=lambda s: -s.salience)
    must = [s for s in scenes if s.notable][:6]
    room = max(len(must), rng.choice([2, 3, 3, 4, 5]))
    chosen = must + [s for s in scenes if not s.notable][: max(0, room - len(must))]
    if rng.random() < 0.4:
        rng.shuffle(chosen)
    used_signals: list[str] = []

    # each block is (sentences, priority): lower priority is dropped first when too long
    blocks: list[list[tuple[str, int]]] = []
    weather = _weather_text(digest)
    ctx0: dict[str, str] = {}
    opening_pool = "open"
    if weather is not None:
        arc = weather.arc
        # "from thunderstorm to thunderstorm" is no arc
        if len(arc) > 1 and rng.random() < 0.6 and arc[0] != arc[-1]:
            ctx0 = {"cond_first": arc[0], "cond_last": arc[-1]}
            opening_pool = "open.arc"
        else:
            ctx0 = {"cond": weather.text_last}
            opening_pool = "open.weather"
        used_signals.append(weather.signal)
    opening = [(g.sentence(opening_pool, ctx0), 9)]
    if rng.random() < 0.5:
        opening.append((g.sentence("texture", {}), 1))
    blocks.append(opening)

    records = 0
    for i, sc in enumerate(chosen):
        if not g.has(sc.pool, sc.ctx):
            continue
        sents = [(g.sentence(sc.pool, sc.ctx, turn=i > 0 and rng.random() < 0.55),
                  8 if sc.notable else 5)]
        for pool, ctx in sc.extra:
            if pool in ("high", "low"):
                # a month's record is news, but a night of nothing else reads like a ledger
                if records >= 2 or not sc.notable:
                    continue
                records += 1
            if g.has(pool, ctx):
                sents.append((g.sentence(pool, ctx), 7 if sc.notable else 4))
        if sc.img and rng.random() < 0.6:
            sents.insert(rng.randint(0, len(sents)), (g.sentence(sc.img, {}), 2))
        blocks.append(sents)
        used_signals.extend(sc.used)

    closing = [(g.sentence("close", {}), 6)] if rng.random() < 0.85 else None

    target = rng.randint(MIN_WORDS + 30, 250)
    tries = 0
    while _words(blocks) + (_words([closing]) if closing else 0) < target and tries < 40:
        tries += 1
        b = blocks[rng.randrange(len(blocks))]
        b.insert(rng.randint(1, len(b)), (g.sentence("texture", {}), 1))
    if closing:
        blocks.append(closing)
    while _words(blocks) > MAX_WORDS:
        flat = [(p, bi, si) for bi, b in enumerate(blocks) for si, (_, p) in enumerate(b)]
        p, bi, si = min(flat, key=lambda x: (x[0], -x[1]))
        if p >= 8 and _words(blocks) <= MAX_WORDS:
            break
        del blocks[bi][si]
        if not blocks[bi]:
            del blocks[bi]

    prose = _paragraphs(blocks, rng)
    return prose, list(dict.fromkeys(g.used)), list(dict.fromkeys(used_signals))


def _words(blocks: list[list[tuple[str, int]]]) -> int:
    return sum(len(s.split()) for b in blocks for s, _ in b)


def _paragraphs(blocks: list[list[tuple[str, int]]], rng: random.Random) -> str:
    style = rng.choice(["each", "pairs", "two", "lastalone"])
    sents = [[s for s, _ in b] for b in blocks if b]
    if style == "each" or len(sents) < 3:
        paras = [" ".join(b) for b in sents]
    elif style == "pairs":
        paras = [" ".join(x for b in sents[i:i + 2] for x in b) for i in range(0, len(sents), 2)]
    elif style == "two":
        cut = rng.randint(1, len(sents) - 1)
        paras = [" ".join(x for b in sents[:cut] for x in b), " ".join(x for b in sents[cut:] for x in b)]
    else:
        paras = [" ".join(x for b in sents[:-1] for x in b), " ".join(sents[-1])]
    return "\n\n".join(p for p in paras if p)
