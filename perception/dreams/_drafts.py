"""Drafting a sentence from the phrase pools and choosing the driest draft.

The "dryness" memory (phrase keys and runs of three and four words said in recent nights,
kept in the store) makes recent phrases unlikely; a sentence is the draft that repeats the
fewest of them. The phrase data lives in ``_phrases``; its token language is expanded here.
"""

from __future__ import annotations

import hashlib
import random
import re

from reverie.perception.dreams._grammar import _article, _cap
from reverie.perception.dreams._phrases import LEXICON, T, VERBS

_TOKEN = re.compile(r"\{([^{}]+)\}")
_FIG = re.compile(r"\{=([a-z_]+)\}")


def _fits(entry: str, ctx: dict) -> bool:
    return all(f in ctx for f in _FIG.findall(entry))


def _key(pool: str, entry: str) -> str:
    return f"{pool}:{hashlib.sha1(entry.encode('utf-8')).hexdigest()[:8]}"


def runs(text: str, n: int = 4) -> set[str]:
    """Dryness keys of the runs of ``n`` words in ``text`` (lowercase, as a reader counts
    them): "run:" for four words, "tri:" for three."""
    ws = re.findall(r"[a-z0-9']+", text.lower())
    tag = "run:" if n == 4 else f"n{n}:" if n != 3 else "tri:"
    return {tag + hashlib.sha1(" ".join(ws[i:i + n]).encode()).hexdigest()[:10]
            for i in range(len(ws) - n + 1)}


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
