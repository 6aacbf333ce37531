"""D1-D9: thirty consecutive dreams a person would read, measured (``python -m bench dreams``).

A synthetic world an agent really has: the weather (a thunderstorm one night), an ETH
wallet (-40 % one night, its RPC failing two nights), Moltbook karma (+313 one night), a
blog feed, the agent's own posts, two sessions a day; values drift with their own usual
movement. Thirty mornings go through the real ``write_dream`` (offline backend, dryness
memory in the store), then each dream's prose is read as a user would:

- Self-BLEU-4: nltk ``sentence_bleu`` (``SmoothingFunction().method2``), each dream
  against the other 29, tokens = lowercase ``[a-z0-9']+`` of the prose (falls back to
  the same formula in plain Python when nltk, an optional extra, is absent);
- consecutive-night bigram Jaccard (mean over the 29 pairs; the max is shown);
- 5-word phrases used in more than 3 nights;
- coverage: nights on which every moved money/reputation/own-work signal is spoken of;
- big-move placement: the night's lead event is in the first paragraph;
- prose defects (:func:`defects`), contradictions with the record (:func:`contradictions`);
- the audit: share of figures backed by the store.
"""

from __future__ import annotations

import math
import random
import re
import sys
import tempfile
from typing import Any
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # the first dream morning's cycle start
HISTORY_DAYS = 15
NIGHTS = 30
BIG_WALLET, BIG_KARMA, STORM = 11, 19, 6  # the nights of the big moves (0-based)
WALLET_DOWN = (23, 24)  # the nights the wallet's RPC fails
CONDITIONS = ["clear sky", "mainly clear", "partly cloudy", "overcast", "fog", "light drizzle",
              "light rain", "moderate rain", "slight snow fall"]
# a feed's titles: some with figures (untrusted: they back only their own quotation)
TITLES = ["Notes on agent memory", "Why small models dream", "Release 2.3 is out",
          "What 999 ETH buys you", "A week of quiet commits", "On forgetting well",
          "Ten things about cron", "The weather in my logs", "Letters to a new agent",
          "How we cut latency by 40%", "Field notes from a slow server", "In praise of retries",
          "The quiet cost of polling", "A map of my own diary", "Small tools, long days",
          "What the logs remembered", "Against clever schedulers", "Reading old configs",
          "The case for plain files", "Three bugs and a heron", "Sleep as a design pattern",
          "What I learned from SQLite", "Notes toward a better wake", "Cron, again"]
MOTIFS = "# Who I am\n\nI am Wren, an agent who writes.\n\n## Motifs\n- the green ferry\n" \
         "- my grandmother's radio\n- the tall lighthouse\n- Ink the cat\n"


def sources():
    from reverie.perception.sources import SourceSpec

    return [SourceSpec(name="weather", type="weather"), SourceSpec(name="wallet", type="wallet"),
            SourceSpec(name="moltbook", type="moltbook"), SourceSpec(name="blog", type="feed"),
            SourceSpec(name="posts", type="files", label={"count": "posts"})]


def build_world(store, nights: int = NIGHTS, seed: int = 11) -> None:
    """Hourly polls from HISTORY_DAYS before T0 to the last morning, and the sessions."""
    rng = random.Random(seed)
    temp, bal, karma, followers, posts = 3.0, 1.02, 1284.0, 310.0, 41
    cond = "overcast"
    n_items = 0
    for h in range(-24 * HISTORY_DAYS, 24 * nights):
        ts = T0 + timedelta(hours=h)
        night = h // 24  # the cycle (night) index this poll belongs to (0 = the first dream)
        hour = (ts.hour + 1) % 24
        temp += rng.uniform(-0.6, 0.6) + 0.8 * math.sin((hour - 9) / 24 * 2 * math.pi) * 0.3
        temp = max(-8.0, min(24.0, temp))
        if h % 6 == 0:
            cond = rng.choice(CONDITIONS)
        if night == STORM and 2 <= h % 24 <= 8:
            cond = "thunderstorm"
        precip = 0.0
        if any(w in cond for w in ("rain", "drizzle", "thunder", "snow")):
            precip = round(rng.uniform(0.1, 3.0), 1)
        wind = round(rng.uniform(3, 25) + (30 if cond == "thunderstorm" else 0), 1)
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.temperature", round(temp, 1), None, "°C"),
            ("weather.precipitation", precip, None, "mm"),
            ("weather.wind_speed", wind, None, "km/h"),
            ("weather.condition", None, cond, None)])
        if h % 24 == 3:  # one move a day, at night
            bal = round(bal * (1 + rng.uniform(-0.015, 0.015)), 4)
            if night == BIG_WALLET:
                bal = round(bal * 0.6, 4)
            karma += rng.choice([0, 3, 5, 8, 12, 15, 20, -4])
            if night == BIG_KARMA:
                karma += 313
            followers += rng.choice([0, 0, 1, 2, 3])
        if night in WALLET_DOWN and h % 24 >= 2:
            store.record_run("wallet", ts, ok=False, error="RPC answered HTTP 503")
        else:
            store.record_run("wallet", ts, ok=True,
                              readings=[("wallet.balance", bal, None, "ETH")])
        store.record_run("moltbook", ts, ok=True, readings=[
            ("moltbook.karma", karma, None, None), ("moltbook.followers", followers, None, None)])
        if rng.random() < 0.04:
            n_items += 1
            store.record_run("blog", ts, ok=True, readings=[("blog.new_items", 1, None, "items")],
                              items=[{"uid": f"i{n_items}", "title": TITLES[n_items % len(TITLES)]}])
        if h % 24 == 10 and rng.random() < 0.6:
            posts += 1
        store.record_run("posts", ts, ok=True, readings=[("posts.count", posts, None, "files")])
        if h % 24 in (3, 9) and h >= 0 and rng.random() < 0.85:  # sessions at 08:00 and 14:00
            sid = f"s{h}"
            store.start_session(sid, ts, None, "scheduled")
            store.end_session(sid, ts + timedelta(minutes=rng.choice([25, 40, 55, 90])), "done", 0)


def morning(i: int) -> datetime:
    return T0 + timedelta(days=i + 1)


def write_nights(root: Path, nights: int = NIGHTS) -> list[dict]:
    """The thirty dreams through the real writer: [{day, path, prose, digest, outcome}]."""
    from reverie.memory.home import Home
    from reverie.memory.store import Store

    home = Home.at(root, Path(f"{root}.state"))  # the record beside the home, not in ~
    home.ensure()
    (home.root / "memory" / "identity.md").write_text(MOTIFS, encoding="utf-8")
    store = Store.open(home.private / "reverie.db")
    build_world(store, nights)
    return dream_nights(home, store, sources(), nights)


def dream_nights(home: Any, store: Any, specs: list, nights: int) -> list[dict]:
    """Each morning's dream through the real writer, beside the digest of its cycle:
    [{day, path, prose, digest, meta, store}]."""
    from reverie.perception.audit import split_dream
    from reverie.perception.digest import build_digest
    from reverie.perception.dreams import DreamOptions
    from reverie.perception.dreams.write import cycle_for, write_dream

    opts = DreamOptions(at="0 5 * * *")
    out = []
    for i in range(nights):
        now = morning(i)
        day = now.date()
        start, end = cycle_for(store, day, now, at=opts.at, tz=UTC)
        dg = build_digest(store, start, end, tz=UTC, rules=opts.notable, sources=specs)
        o = write_dream(home, store, opts, day=day, tz=UTC, now=now, sources=specs)
        meta, prose, _, _ = split_dream(o.path.read_text(encoding="utf-8"))
        out.append({"day": day, "path": o.path, "prose": prose.strip(), "digest": dg,
                    "meta": meta, "store": store})
    return out


# -- what a reader sees --------------------------------------------------------------

def tokens(prose: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", prose.lower())


def self_bleu(texts: list[list[str]]) -> float:
    try:
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    except ImportError:  # nltk is an optional extra: the same formula, in plain Python
        return _self_bleu_plain(texts)
    sm = SmoothingFunction().method2
    scores = [sentence_bleu(texts[:i] + texts[i + 1:], t, smoothing_function=sm)
              for i, t in enumerate(texts)]
    return sum(scores) / len(scores)


def _ngrams(ws: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)]


def _self_bleu_plain(texts: list[list[str]]) -> float:
    out = []
    for i, hyp in enumerate(texts):
        refs = texts[:i] + texts[i + 1:]
        logs = []
        for n in range(1, 5):
            h = Counter(_ngrams(hyp, n))
            best: Counter = Counter()
            for r in refs:
                for g, c in Counter(_ngrams(r, n)).items():
                    best[g] = max(best[g], c)
            match = sum(min(c, best[g]) for g, c in h.items())
            total = sum(h.values())
            logs.append(math.log((match + (n > 1)) / (total + (n > 1))) if total else 0.0)
        ref_len = min((len(r) for r in refs), key=lambda L: (abs(L - len(hyp)), L))
        bp = 1.0 if len(hyp) > ref_len else math.exp(1 - ref_len / max(len(hyp), 1))
        out.append(bp * math.exp(sum(logs) / 4))
    return sum(out) / len(out)


def jaccard(a: list[str], b: list[str]) -> float:
    x, y = set(_ngrams(a, 2)), set(_ngrams(b, 2))
    return len(x & y) / len(x | y) if x | y else 0.0


def repeated_phrases(texts: list[list[str]], n: int = 5, nights: int = 3) -> list[str]:
    seen: Counter = Counter()
    for t in texts:
        seen.update(set(_ngrams(t, n)))
    return [" ".join(g) for g, c in seen.items() if c > nights]


_PLURAL_NOUNS = r"(minutes|items|letters|voices|times|pages|degrees|envelopes|hours|posts)"
_SINGULAR_NOUNS = r"(minute|item|letter|voice|time|page|degree|envelope|hour|post)"


def defects(prose: str, signals: list[str] = ()) -> list[str]:
    """What a careful reader would mark: a sentence starting with a digit, a zero count,
    number agreement, raw identifiers, two persons in one dream, a/an, doubled words."""
    out = []
    for s in re.split(r"(?<=[.!?])\s+|\n+", prose):
        s = s.strip().lstrip("\u201c\"'")
        if s[:1].isdigit() or (s and s[0] in "-\u2212"):
            out.append(f"starts with a figure: {s[:40]!r}")
    for m in re.finditer(rf"\b0 ({_PLURAL_NOUNS[1:-1]}|{_SINGULAR_NOUNS[1:-1]}|left)\b", prose):
        out.append(f"zero count: {m.group(0)!r}")
    for m in re.finditer(rf"(?<![\d.,])1 {_PLURAL_NOUNS}\b", prose):
        out.append(f"agreement: {m.group(0)!r}")
    for m in re.finditer(rf"\b(?:[2-9]|\d\d+|two|three|four|five|six|seven|eight|nine) {_SINGULAR_NOUNS}\b(?!['\u2019])", prose):
        out.append(f"agreement: {m.group(0)!r}")
    if "_" in prose:
        out.append("an underscore")
    for name in signals:
        if name in prose:
            out.append(f"raw signal name: {name}")
    told = re.sub(r"\u201c[^\u201d]*\u201d", " ", prose)  # a quoted title is not the narrator
    first = re.search(r"\b(I|me|my|mine)\b", told)
    second = re.search(r"\b(you|your|yours)\b", told, re.I)
    if first and second:
        out.append(f"two persons: {first.group(0)!r} and {second.group(0)!r}")
    for m in re.finditer(r"\b([Aa]) ([aeiou]\w*)", prose):
        if not m.group(2).lower().startswith(("uni", "use", "one", "eu")):
            out.append(f"article: {m.group(0)!r}")
    for m in re.finditer(r"\b(\w+) \1\b", prose, re.I):
        out.append(f"doubled word: {m.group(0)!r}")
    for m in re.finditer(r"\S\s+[.,;:!?](?!\d)", prose):  # a slot left empty before it
        out.append(f"space before punctuation: {m.group(0)!r}")
    for clause in re.split(r"[.;:!?\u201c\u201d\n]|,?\s+\b(?:and|but|while|then|until|as|when|"
                           r"before|after|or|where|because)\b", prose):
        words = re.findall(r"[a-z']+", clause.lower())
        for v, n in Counter(w for w in words if w in _verb_forms()).items():
            if n > 1:
                out.append(f"verb twice in a clause: {v!r} in {clause.strip()[:60]!r}")
    cond = _conditions()
    # a condition word dropped into a frame as a clause of its own: ", thunderstorm,"
    for m in re.finditer(rf"(?:^|[,:;])\s*({cond})\s*(?=[,:;.])", prose, re.I | re.M):
        out.append(f"bare condition: {m.group(0).strip()!r}")
    # a change of weather begun with "from" ends with "to": not "from overcast turning rain"
    for m in re.finditer(rf"\bfrom ({cond})\b(?! (?:to|into)\b)\W*\w*", prose, re.I):
        out.append(f"from without to: {m.group(0)!r}")
    return out


def _verb_forms() -> set[str]:
    """The inflected forms of the generator's verbs ("says", "said") that are no noun too
    ("stacks", "taps" are both), and not the copula, which a clause may hold twice."""
    global _FORMS
    if _FORMS is None:
        from reverie.perception.dreams._phrases import LEXICON, NOUNS, VERBS

        nouns = {w for pool in LEXICON.values() for e in pool for w in re.findall(r"[a-z']+", e.lower())}
        nouns |= set(NOUNS) | set(NOUNS.values())
        forms = {f for base, (third, past) in VERBS.items() for f in (third, past) if f != base}
        _FORMS = forms - nouns - {"is", "was", "are", "were", "has", "had", "does", "did"}
    return _FORMS


_FORMS: set[str] | None = None


def _conditions() -> str:
    """Every weather condition a source says (WMO's words), as one alternation."""
    from reverie.perception.sources.weather import WMO_CODES

    words = sorted(set(WMO_CODES.values()) | set(CONDITIONS) | {"thunderstorm"}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)


def contradictions(prose: str, dg) -> list[str]:
    """Where the dream contradicts the sky (snow/rain, wind, fog, thunder, warmth/frost):
    the same check every dream passes (perception/dreams/sky.py)."""
    from reverie.perception.dreams.sky import contradictions as check

    return check(prose, dg)


def moved(dg) -> list[str]:
    """The money, reputation and own-work subjects that moved this night."""
    out = [s.signal for s in dg.signals
           if s.kind in ("money", "reputation", "work") and s.numeric and s.change
           and s.beyond_noise and (s.kind == "money" or abs(s.change) >= 0.5)]
    if dg.sessions["count"]:
        out.append("sessions")
    return out


def spoken(prose: str, dg, subject: str) -> bool:
    """Is the subject in the prose as a reader finds it: its label or its figure."""
    from reverie.perception.dreams.offline import amount

    text = prose.lower()
    if subject == "sessions":
        return "awake" in text
    s = dg.signal(subject)
    words = [w for w in re.findall(r"[a-z]+", s.label.lower()) if len(w) > 3] or [s.label.lower()]
    if s.kind == "money" and amount(s.last, s.unit).lower() in text:
        return True
    return any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)


def lead_in_first_paragraph(prose: str, dg) -> bool | None:
    lead = dg.lead()
    if lead is None:
        return None
    first = prose.split("\n\n")[0].lower()
    if lead.what == "storm":
        return "thunder" in first or "storm" in first or "lightning" in first
    if lead.what in ("started_failing", "stopped_failing"):
        return "door" in first or "gate" in first
    if lead.what == "items":
        return "letter" in first or "envelope" in first
    if lead.what == "sessions":
        return "awake" in first
    s = dg.signal(lead.signal)
    if s is not None and s.kind == "weather":  # the weather is the sky of the first lines
        from reverie.perception.dreams.offline import sky_of

        sky = sky_of(dg)
        return any(x and x in first for x in [sky.cond, sky.temp_said, *sky.arc])
    if s is not None and s.kind == "money":
        from reverie.perception.dreams.offline import amount

        if amount(s.last, s.unit).lower() in first:
            return True
    return s is not None and spoken(first, dg, s.signal)


def measure(nights: list[dict]) -> dict:
    from reverie.perception.audit import audit

    toks = [tokens(n["prose"]) for n in nights]
    jac = [jaccard(a, b) for a, b in zip(toks, toks[1:])]
    cover = []
    for n in nights:
        subjects = moved(n["digest"])
        if subjects:
            cover.append(all(spoken(n["prose"], n["digest"], s) for s in subjects))
    leads = [x for x in (lead_in_first_paragraph(n["prose"], n["digest"]) for n in nights)
             if x is not None]
    bad = {n["day"].isoformat(): defects(n["prose"], [s.signal for s in n["digest"].signals])
           for n in nights}
    contra = {n["day"].isoformat(): contradictions(n["prose"], n["digest"]) for n in nights}
    checked = backed = audits_ok = 0
    for n in nights:
        rep = audit(n["path"], n["store"])
        checked += len(rep.findings)
        backed += sum(f.backed for f in rep.findings)
        audits_ok += rep.ok
    return {
        "self_bleu": self_bleu(toks), "jaccard": sum(jac) / len(jac), "jaccard_max": max(jac),
        "repeated": repeated_phrases(toks), "coverage": sum(cover) / max(len(cover), 1),
        "covered_nights": (sum(cover), len(cover)),
        "lead": sum(leads) / max(len(leads), 1), "lead_nights": (sum(leads), len(leads)),
        "defects": {d: v for d, v in bad.items() if v},
        "contradictions": {d: v for d, v in contra.items() if v},
        "precision": backed / checked if checked else 1.0, "checked": checked,
        "audit_pass": audits_ok / len(nights),
        "words": [len(t) for t in toks],
    }


# -- worlds the dream was not tuned on ---------------------------------------------------
#
# Each world is built the same generic way (hourly polls of the sources it has, a diary
# with headings and posts with titles the agent wrote, sessions), from its own climate
# and its own agent; nothing below names a phrase of the generator.

from typing import NamedTuple  # noqa: E402


class World(NamedTuple):
    name: str
    persona: str
    temp_mean: float  # °C
    temp_swing: float  # day-night amplitude
    conditions: list[str]  # the usual sky (WMO words)
    wind_base: float  # km/h
    events: dict = {}  # night -> blizzard|thunder|heat|gale|thaw
    coin: str | None = None  # the wallet's unit, or no wallet
    karma: bool = False
    stars: bool = False
    session_minutes: tuple = (25, 40, 55, 90)
    failing: tuple = ()  # nights the feed fails
    big: dict = {}  # night -> wallet|karma|stars
    diary: list = []
    posts: list = []
    heap: bool = False  # a command source with a °C unit (a compost heap): not the sky
    seed: int = 1


WORLDS = [
    World("polar", "# Who I am\n\nI am Sel, a gardener and poet in the far north.\n\n"
          "## Motifs\n- the red sledge\n- my mother's shawl\n- a jar of seeds\n\n"
          "## Places\n- the greenhouse behind the house\n- the quay at Tromsø\n"
          "- the cold frame by the fence\n- the potting shed\n- the library reading room\n",
          temp_mean=-9, temp_swing=3, conditions=["overcast", "partly cloudy", "clear sky",
                                                   "mainly clear", "fog"],
          wind_base=12, events={4: "blizzard", 5: "blizzard", 17: "blizzard", 26: "thaw"},
          coin="SOL", stars=True, session_minutes=(30, 45, 70, 120),
          big={9: "wallet", 21: "stars"},
          diary=["Seed order for the spring", "What the frost did to the kale",
                 "A poem about the dark months", "Letters to the seed library",
                 "Notes on the northern lights", "Mending the cold frame",
                 "Why I keep a garden here", "The shawl and the snow",
                 "Reading Hamsun again", "A list of hardy roses"],
          posts=["Winter sowing", "The kale that survived", "Poem for the polar night",
                 "On patience and seeds", "Snow on the greenhouse roof",
                 "A small grammar of frost", "The quay in January"], seed=3),
    World("warm", "# Who I am\n\nI am Tam, an agent who writes about food and weather. "
          "I spend my days on the terrace above the market in Lisbon, and my evenings "
          "in the kitchen by the courtyard.\n\n## Motifs\n- a bowl of figs\n"
          "- the blue tiles\n- my aunt's fan\n",
          temp_mean=27, temp_swing=6, conditions=["clear sky", "mainly clear",
                                                  "partly cloudy", "overcast"],
          wind_base=8, events={3: "thunder", 11: "heat", 12: "heat", 19: "thunder",
                               24: "thunder"},
          coin=None, karma=True, session_minutes=(20, 35, 50, 80),
          big={14: "karma"}, heap=True,
          diary=["Sardines and the heat", "A recipe for cold soup",
                 "The market at noon", "On the smell of storms", "Cooking with figs",
                 "Why the tiles are blue", "Shade and siesta"],
          posts=["Cold soup for hot nights", "The last figs", "Market notes",
                 "A storm over the river", "Salt and lemons", "Ten ways to keep cool"],
          seed=5),
    World("temperate", "# Who I am\n\nI am Ash, an agent who trades a little and posts "
          "on Moltbook.\n\n## Motifs\n- the green umbrella\n- a chipped teacup\n",
          temp_mean=9, temp_swing=4, conditions=["overcast", "light drizzle", "light rain",
                                                 "partly cloudy", "fog", "mainly clear"],
          wind_base=14, events={8: "thunder", 20: "gale"},
          coin="ETH", karma=True, session_minutes=(1, 2, 3, 5, 8),
          failing=(12, 13, 14), big={6: "wallet", 23: "karma"},
          diary=["Gas fees again", "A reply I should not have posted",
                 "Rebalancing the wallet", "Quiet day on Moltbook",
                 "Thinking about the feed", "Tea and charts"],
          posts=["Why I hold ETH", "A thread on patience", "Small trades",
                 "What Moltbook taught me", "The rainy market"], seed=7),
]


def world_sources(w: World, home: Path):
    from reverie.perception.sources import SourceSpec
    from reverie.perception.sources.files import Files

    out = [SourceSpec(name="weather", type="weather"),
           SourceSpec(name="blog", type="feed"),
           SourceSpec(name="posts", type="files",
                      options=Files.Options(path="posts", glob="*.md"))]
    if w.coin:
        out.append(SourceSpec(name="wallet", type="wallet"))
    if w.karma:
        out.append(SourceSpec(name="moltbook", type="moltbook"))
    if w.stars:
        out.append(SourceSpec(name="repo", type="http_json", kind="reputation",
                              label={"stars": "stars", "forks": "forks"}))
    if w.heap:
        out.append(SourceSpec(name="compost", type="command"))
    return out


def build_any(store, home: Path, w: World, nights: int = NIGHTS) -> None:
    """Hourly polls from HISTORY_DAYS before T0 to the last morning; the agent's diary,
    posts and sessions."""
    import os

    rng = random.Random(w.seed)
    temp = w.temp_mean
    bal = {"SOL": 22.49, "ETH": 1.02}.get(w.coin or "", 0.0)
    karma, followers, stars, forks, posts = 1284.0, 310.0, 45.0, 31.0, 0
    cond, n_items = w.conditions[0], 0
    (home / "posts").mkdir(exist_ok=True)
    (home / "diary").mkdir(exist_ok=True)
    for h in range(-24 * HISTORY_DAYS, 24 * nights):
        ts = T0 + timedelta(hours=h)
        night = h // 24
        hour = (ts.hour + 1) % 24
        ev = w.events.get(night) if 1 <= h % 24 <= 12 else None
        target = w.temp_mean + w.temp_swing * math.sin((hour - 9) / 24 * 2 * math.pi)
        if ev == "heat":
            target += 8
        if ev == "thaw":
            target += 12
        temp += (target - temp) * 0.3 + rng.uniform(-0.8, 0.8)
        if h % 6 == 0:
            cond = rng.choice(w.conditions)
        precip, wind = 0.0, round(w.wind_base + rng.uniform(-5, 8), 1)
        if rng.random() < 0.12 or "rain" in cond or "drizzle" in cond:
            precip = round(rng.uniform(0.1, 1.5), 1)  # snowfall, too, arrives as precipitation
        if ev == "blizzard":
            precip, wind, cond = round(rng.uniform(1, 4), 1), round(rng.uniform(55, 80), 1), "overcast"
        elif ev == "gale":
            wind = round(rng.uniform(45, 65), 1)
        elif ev == "thunder":
            cond, precip, wind = "thunderstorm", round(rng.uniform(2, 9), 1), round(rng.uniform(25, 45), 1)
        humidity = max(20, min(100, round((70 if w.temp_mean < 20 else 55) + rng.uniform(-15, 25))))
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.temperature", round(temp, 1), None, "°C"),
            ("weather.apparent_temperature", round(temp - wind / 12, 1), None, "°C"),
            ("weather.precipitation", precip, None, "mm"),
            ("weather.wind_speed", wind, None, "km/h"),
            ("weather.relative_humidity", humidity, None, "%"),
            ("weather.cloud_cover", rng.choice([0, 5, 40, 90, 100]), None, "%"),
            ("weather.condition", None, cond, None)])
        if h % 24 == 3:  # one move a day, at night
            bal = round(bal * (1 + rng.uniform(-0.01, 0.01)), 4)
            if w.big.get(night) == "wallet":
                bal = round(bal * rng.choice([0.6, 1.45]), 4)
            karma += rng.choice([0, 3, 5, 8, 12, -4])
            if w.big.get(night) == "karma":
                karma += 313
            followers += rng.choice([0, 0, 1, 2])
            stars += rng.choice([0, 0, 0, 1])
            forks += rng.choice([0, 0, 0, 0, 1])
            if w.big.get(night) == "stars":
                stars += 40
        if w.coin:
            store.record_run("wallet", ts, ok=True,
                              readings=[("wallet.balance", bal, None, w.coin)])
        if w.karma:
            store.record_run("moltbook", ts, ok=True, readings=[
                ("moltbook.karma", karma, None, None), ("moltbook.followers", followers, None, None)])
        if w.stars:
            store.record_run("repo", ts, ok=True, readings=[
                ("repo.stars", stars, None, None), ("repo.forks", forks, None, None)])
        if w.heap:
            store.record_run("compost", ts, ok=True, readings=[
                ("compost.temperature", round(55 + 6 * math.sin(h / 30) + rng.uniform(-1, 1), 1),
                 None, "°C")])
        if night in w.failing and h % 24 >= 2:
            store.record_run("blog", ts, ok=False, error="HTTP 503")
        elif rng.random() < 0.05:
            n_items += 1
            store.record_run("blog", ts, ok=True, readings=[("blog.new_items", 1, None, "items")],
                              items=[{"uid": f"i{n_items}", "title": TITLES[n_items % len(TITLES)]}])
        if h % 24 == 10 and h >= -48 and rng.random() < 0.6:
            posts += 1
            title = w.posts[posts % len(w.posts)]
            f = home / "posts" / f"post-{posts:03d}.md"
            f.write_text(f"# {title}\n\nSome words.\n", encoding="utf-8")
            os.utime(f, (ts.timestamp(), ts.timestamp()))
        store.record_run("posts", ts, ok=True, readings=[("posts.count", posts, None, "files")])
        if h % 24 == 12 and h >= -24:
            day = (ts - timedelta(hours=1)).date()
            heads = rng.sample(w.diary, 2)
            (home / "diary" / f"{day.isoformat()}.md").write_text(
                f"# Diary {day.isoformat()}\n\n## {heads[0]}\n\nNotes.\n\n## {heads[1]}\n\n"
                "More notes.\n", encoding="utf-8")
        if h % 24 in (3, 9) and h >= 0 and rng.random() < 0.85:
            sid = f"s{h}"
            store.start_session(sid, ts, None, "scheduled")
            store.end_session(sid, ts + timedelta(minutes=rng.choice(w.session_minutes)), "done", 0)


def write_world(root: Path, w: World, nights: int = NIGHTS) -> list[dict]:
    from reverie.memory.home import Home
    from reverie.memory.store import Store

    home = Home.at(root, Path(f"{root}.state"))  # the record beside the home, not in ~
    home.ensure()
    (home.root / "memory").mkdir(exist_ok=True)
    (home.root / "memory" / "identity.md").write_text(w.persona, encoding="utf-8")
    store = Store.open(home.private / "reverie.db")
    build_any(store, home.root, w, nights)
    out = dream_nights(home, store, world_sources(w, home.root), nights)
    for n in out:
        n["meta"]["_labels"] = {word for sd in n["digest"].signals
                                for word in re.findall(r"[a-z]+", sd.label.lower())
                                if len(word) > 3}
    return out


# a broad list of place nouns a reader would take for a new place
PLACE_NOUNS = set("""station harbour library museum hotel cinema market church chapel school
hospital kitchen cellar attic garden greenhouse orchard park beach pier bridge tunnel corridor
hallway stairwell platform square street alley lane road village town city forest meadow field
moor marsh lake island mountain valley desert bay coast lighthouse observatory tower ballroom
gym lido bakery shop office factory warehouse barn shed hut cabin tent boathouse quay
laundromat launderette courtyard cloister quarry vineyard archive aquarium planetarium
barbershop arcade boardwalk causeway jetty towpath colonnade terrace allotment depot
signal theatre theater circus rooftop roof chemist greengrocer carpark""".split())


def places_beyond(prose: str, meta: dict, persona: str) -> int:
    allowed = set(re.findall(r"[a-z]+", " ".join([str(meta.get("setting") or ""),
                                                   *map(str, meta.get("motifs") or []),
                                                   persona]).lower()))
    said = re.sub(r"\u201c[^\u201d]*\u201d", " ", prose.lower())
    return len({w for w in re.findall(r"[a-z]+", said) if w in PLACE_NOUNS and w not in allowed})


_JOBS = re.compile(
    r"(?i)\b(sky|rain\w*|snow\w*|wind\w*|fog|mist|cloud\w*|stars?|storm\w*|thunder\w*|lightning|"
    r"frost\w*|air|heat|weather|overcast|clear|drizzle|degrees?|zero|cold|warm|hot|mild|"
    r"breath|blizzard|gusts?|tide|water|coins?|sea|river|well|harbour|purse|fountain|pool|"
    r"canal|bay|stream|voices?|crowd|choir|chorus|audience|applause|listeners|gallery|"
    r"congregation|pages?|letters?|envelopes?|postcard|awake|door|gate|gauge|dial|needle|"
    r"meter|wake|woke|waking|morning|dreams?|sleep|night|stair|ladder|corridor|curtain|trapdoor|passage|"
    r"gutters?|shade)\b")


def filler(prose: str, meta: dict) -> list[str]:
    """Sentences with no job: none of the scene, the sky, a signal's imagery, the agent's
    words, last night or the waking."""
    keep = set()
    for m in [str(meta.get("setting") or ""), *map(str, meta.get("motifs") or [])]:
        keep |= {w for w in re.findall(r"[a-z]+", m.lower()) if len(w) > 2}
    keep |= set(meta.get("_labels") or ())
    out = []
    for sent in re.split(r"(?<=[.!?])\s+|(?<=[.!?]\u201d)\s+|\n+", prose):
        if not sent.strip() or "\u201c" in sent:
            continue
        words = set(re.findall(r"[a-z]+", sent.lower()))
        if not (words & keep) and not _JOBS.search(sent):
            out.append(sent)
    return out


def own_words_said(prose: str, w: World) -> bool:
    mine = [set(x for x in re.findall(r"[a-z]+", t.lower()) if len(x) > 3) for t in w.diary + w.posts]
    for q in re.findall(r"\u201c([^\u201d]*)\u201d", prose):
        words = set(x for x in re.findall(r"[a-z]+", q.lower()) if len(x) > 3)
        # changed as dreams change things: half its words are still there
        if any(len(words & m) >= max(1, (len(m) + 1) // 2) for m in mine if m):
            return True
    return False


def exact_figures(prose: str) -> int:
    from reverie.perception.audit import check, Record

    told = re.sub(r"\u201c[^\u201d]*\u201d", " ", prose)
    return len(check(told, Record(units_known=False), name="none").findings)


def probes(dg) -> list[str]:
    """Wrong sentences of every kind the audit checks, built from the night's own record."""
    from reverie.perception.dreams.offline import fmt_pct

    out = []
    for s in dg.signals:
        if not s.numeric or s.last is None:
            continue
        lab = s.label
        if s.change_pct and abs(s.change_pct) >= 1:  # the right size, the wrong direction
            out.append(f"The {lab} {'fell' if s.change_pct > 0 else 'rose'} by {fmt_pct(s.change_pct)}%.")
        if s.unit == "°C" and s.kind == "weather" and abs(s.last) >= 1:
            n = int(round(abs(s.last)))
            out.append(f"It was {n} degrees {'above' if s.last < 0 else 'below'} zero.")
            base = s.before if s.before is not None else s.first
            if base and s.change:  # a percent change of a temperature means nothing
                out.append(f"The air cooled by {round(abs(s.change / base * 100))}%.")
        if (s.unit or "") == "%" and round(s.last) >= 5:
            out.append(f"The {lab} grew by about {round(s.last)}%.")
        if s.kind == "money":
            u = s.unit or ""
            out += [f"The purse held {round(s.last)}k {u}.", f"The purse held a million {u}.",
                    f"The purse held 1.2M {u}.", "The coins doubled in the night."]
            if s.last >= 10:  # a count said from an amount with a unit
                out += [f"A crowd of {int(s.last)} stars gathered.",
                        f"I met the {int(s.last)}th star."]
        if s.kind == "reputation" and s.last >= 20:
            out += [f"About {round(s.last * 1.12)} voices sang.", "The crowd tripled.",
                    f"The {round(s.last) + 57}th voice was mine.",
                    f"The {lab} grew by {round(s.last) // 3 + 7}."]
    if dg.sessions["count"]:
        out.append("I was awake the fifty-seventh time.")
    return out


def measure_world(w: World, nights: list[dict]) -> dict:
    from reverie.perception.audit import audit, check, Record

    m = measure(nights)
    # the agent's own places and motifs recur by design, and a quotation (its own words,
    # a feed's title) is the record's: neither is a phrase of the generator's
    own = " ".join(re.findall(r"[a-z0-9']+", w.persona.lower()))
    told = [tokens(re.sub(r"\u201c[^\u201d]*\u201d", " | ", n["prose"])) for n in nights]
    m["repeated"] = [p for p in repeated_phrases(told)
                     if " ".join(p.split()[:4]) not in own and " ".join(p.split()[1:]) not in own]
    # last night's motifs coming back are continuity, a job of their own
    m["filler"] = {n["day"].isoformat(): filler(n["prose"], dict(n["meta"], motifs=[
        *(n["meta"].get("motifs") or []), *((nights[i - 1]["meta"].get("motifs") or []) if i else [])]))
        for i, n in enumerate(nights)}
    # last night's motifs may come back (continuity): they are no new place
    m["places"] = [places_beyond(n["prose"], dict(n["meta"], motifs=[
        *(n["meta"].get("motifs") or []), *((nights[i - 1]["meta"].get("motifs") or []) if i else [])]),
        w.persona) for i, n in enumerate(nights)]
    m["figures"] = [exact_figures(n["prose"]) for n in nights]
    m["own"] = sum(own_words_said(n["prose"], w) for n in nights) / len(nights)
    passed, total = [], 0
    for n in nights:
        rec = Record.of(__import__("reverie.perception.digest", fromlist=["x"]).build_digest(
            n["store"], n["digest"].start and __import__("datetime").datetime.fromisoformat(n["digest"].start),
            __import__("datetime").datetime.fromisoformat(n["digest"].end),
            rules=__import__("reverie.perception.digest", fromlist=["x"]).NotableRules(items_cap=10000)))
        for p in probes(n["digest"]):
            total += 1
            rep = check(n["prose"] + "\n" + p, rec)
            if rep.ok:
                passed.append(p)
    m["probes"] = (passed, total)
    ch = [audit(n["path"], n["store"]).chances for n in nights]
    m["chances"] = {k: max(c[k] for c in ch) for k in ch[0]}
    return m


def run(quick: bool):
    import time as _time

    from bench import Row

    rows = []
    for w in WORLDS:
        t0 = _time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"reverie-dreams-{w.name}-") as tmp:
            nights = write_world(Path(tmp), w)
            m = measure_world(w, nights)
        took = _time.monotonic() - t0
        for day, v in list(m["defects"].items())[:3]:
            print(f"  [{w.name}] defect {day}: {v[:3]}", file=sys.stderr)
        for day, v in list(m["contradictions"].items())[:3]:
            print(f"  [{w.name}] sky {day}: {v[:3]}", file=sys.stderr)
        for day, v in [(d, v) for d, v in m["filler"].items() if v][:3]:
            print(f"  [{w.name}] filler {day}: {v[:2]}", file=sys.stderr)
        for p in m["probes"][0][:5]:
            print(f"  [{w.name}] probe passed: {p!r}", file=sys.stderr)
        for p in m["repeated"][:3]:
            print(f"  [{w.name}] repeated 5-gram: {p!r}", file=sys.stderr)
        nd = sum(len(v) for v in m["defects"].values())
        nc = sum(len(v) for v in m["contradictions"].values())
        nf = sum(len(v) for v in m["filler"].values())
        c, cn = m["covered_nights"]
        ld, ln = m["lead_nights"]
        pp, pt = m["probes"]
        W = f"[{w.name}]"
        ch = m["chances"]
        rows += [
            Row("D1", f"{W} Self-BLEU-4 over 30 nights (nltk, method2)", f"{m['self_bleu']:.3f}",
                "human ~0.31", "-", "<= 0.30", m["self_bleu"] <= 0.30),
            Row("D2", f"{W} consecutive-night bigram Jaccard (mean)",
                f"{m['jaccard']:.3f} (max {m['jaccard_max']:.3f})", "-", "-", "<= 0.10",
                m["jaccard"] <= 0.10),
            Row("D3", f"{W} 5-word phrases in more than 3 of 30 nights", str(len(m["repeated"])),
                "-", "-", "0", not m["repeated"]),
            Row("D4", f"{W} nights every money/reputation/work move beyond noise is spoken of",
                f"{m['coverage']:.2f} ({c}/{cn})", "-", "-", ">= 0.9", m["coverage"] >= 0.9),
            Row("D5", f"{W} night's biggest event in the first paragraph",
                f"{m['lead']:.2f} ({ld}/{ln})", "-", "-", "1.0", m["lead"] >= 1.0),
            Row("D6", f"{W} prose defects in 30 dreams", str(nd), "-", "-", "0", nd == 0),
            Row("D7", f"{W} sky contradictions (snow/rain, wind, fog, thunder, warmth/frost)",
                str(nc), "-", "-", "0", nc == 0),
            Row("D8", f"{W} numeric precision (figures backed by the store)",
                f"{m['precision']:.3f} of {m['checked']}", "RotoWire 0.72-0.92", "-", "1.0",
                m["precision"] >= 1.0),
            Row("D9", f"{W} audit pass rate", f"{m['audit_pass']:.2f}", "-", "-", "1.0",
                m["audit_pass"] >= 1.0),
            Row("D10", f"{W} filler sentences in 30 dreams", str(nf), "-", "-", "0", nf == 0),
            Row("D11", f"{W} places beyond the setting per dream (max; mean)",
                f"{max(m['places'])}; {sum(m['places']) / len(m['places']):.2f}", "-", "-",
                "<= 1", max(m["places"]) <= 1),
            Row("D12", f"{W} exact figures per dream (max; mean)",
                f"{max(m['figures'])}; {sum(m['figures']) / len(m['figures']):.1f}", "-", "-",
                "<= 3", max(m["figures"]) <= 3),
            Row("D13", f"{W} nights with the agent's own words", f"{m['own']:.2f}", "-", "-",
                ">= 0.6", m["own"] >= 0.6),
            Row("D14", f"{W} audit probes (wrong sentences added to real dreams) passed",
                f"{len(pp)} of {pt}", "-", "-", "0", not pp),
            Row("D15", f"{W} chance a random 1-100 passes the audit (worst night): count / "
                "N % / about N %", " / ".join(f"{ch[k]:.0%}" for k in ("a count", "N %", "about N %")),
                "-", "-", "<= 10 % each", max(ch.values()) <= 0.10),
            Row("D16", f"{W} time to build and write 30 nights", f"{took:.1f} s", "-", "-",
                "reported", True),
        ]
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
