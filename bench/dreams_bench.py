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
    from reverie.perception.audit import split_dream
    from reverie.perception.digest import build_digest
    from reverie.perception.dreams import DreamOptions
    from reverie.perception.dreams.write import cycle_for, write_dream

    home = Home.at(root, Path(f"{root}.state"))  # the record beside the home, not in ~
    home.ensure()
    (home.root / "memory" / "identity.md").write_text(MOTIFS, encoding="utf-8")
    store = Store.open(home.private / "reverie.db")
    build_world(store, nights)
    opts = DreamOptions(at="0 5 * * *")
    specs = sources()
    out = []
    for i in range(nights):
        now = morning(i)
        day = now.date()
        start, end = cycle_for(store, day, now, at=opts.at, tz=UTC)
        dg = build_digest(store, start, end, tz=UTC, rules=opts.notable, sources=specs)
        o = write_dream(home, store, opts, day=day, tz=UTC, now=now, sources=specs)
        _, prose, _, _ = split_dream(o.path.read_text(encoding="utf-8"))
        out.append({"day": day, "path": o.path, "prose": prose.strip(), "digest": dg})
    for n in out:
        n["store"] = store
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
    """Imagery the record rules out (see offline.Sky.forbidden)."""
    from reverie.perception.dreams.offline import sky_of

    sky = sky_of(dg)
    # the record's own words (the condition said as it is) are no contradiction
    said = prose
    for c in set(sky.arc) | {sky.cond or ""}:
        if c:
            said = re.sub(re.escape(c), " ", said, flags=re.I)
    return [m.group(0) for m in sky.forbidden().finditer(said)]


def moved(dg) -> list[str]:
    """The money, reputation and own-work subjects that moved this night."""
    out = [s.signal for s in dg.signals
           if s.kind in ("money", "reputation", "work") and s.numeric and s.change
           and (s.kind == "money" or abs(s.change) >= 0.5)]
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
    if s.kind == "money":
        return amount(s.last, s.unit).lower() in text
    return s.label.lower() in text


def lead_in_first_paragraph(prose: str, dg) -> bool | None:
    lead = dg.lead()
    if lead is None:
        return None
    first = prose.split("\n\n")[0].lower()
    if lead.what == "storm":
        return "thunder" in first or "storm" in first or "lightning" in first
    if lead.what in ("started_failing", "stopped_failing"):
        return "door" in first
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

        return amount(s.last, s.unit).lower() in first
    return s is not None and s.label.lower() in first


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


def run(quick: bool):
    from bench import Row

    with tempfile.TemporaryDirectory(prefix="reverie-dreams-") as tmp:
        nights = write_nights(Path(tmp))
        m = measure(nights)
    nd = sum(len(v) for v in m["defects"].values())
    nc = sum(len(v) for v in m["contradictions"].values())
    for day, v in list(m["defects"].items())[:5]:
        print(f"  defect {day}: {v[:3]}", file=sys.stderr)
    for day, v in list(m["contradictions"].items())[:5]:
        print(f"  contradiction {day}: {v[:3]}", file=sys.stderr)
    for p in m["repeated"][:5]:
        print(f"  repeated 5-gram: {p!r}", file=sys.stderr)
    c, cn = m["covered_nights"]
    ld, ln = m["lead_nights"]
    return [
        Row("D1", "Self-BLEU-4 over 30 nights (nltk, method2)", f"{m['self_bleu']:.3f}",
            "human ~0.31", "-", "<= 0.35", m["self_bleu"] <= 0.35),
        Row("D2", "consecutive-night bigram Jaccard (mean)",
            f"{m['jaccard']:.3f} (max {m['jaccard_max']:.3f})", "-", "-", "<= 0.10",
            m["jaccard"] <= 0.10),
        Row("D3", "5-word phrases in more than 3 of 30 nights", str(len(m["repeated"])), "-", "-",
            "0", not m["repeated"]),
        Row("D4", "nights every moved money/reputation/work signal is spoken of",
            f"{m['coverage']:.2f} ({c}/{cn})", "-", "-", ">= 0.9", m["coverage"] >= 0.9),
        Row("D5", "night's biggest event in the first paragraph", f"{m['lead']:.2f} ({ld}/{ln})",
            "-", "-", "1.0", m["lead"] >= 1.0),
        Row("D6", "prose defects in 30 dreams", str(nd), "-", "-", "0", nd == 0),
        Row("D7", "imagery the record contradicts", str(nc), "-", "-", "0", nc == 0),
        Row("D8", "numeric precision (figures backed by the store)",
            f"{m['precision']:.3f} of {m['checked']}", "RotoWire 0.72-0.92", "-", "1.0",
            m["precision"] >= 1.0),
        Row("D9", "audit pass rate", f"{m['audit_pass']:.2f}", "-", "-", "1.0",
            m["audit_pass"] >= 1.0),
    ]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
