"""What the night is about: the digest's moves, sessions, letters and doors, each as a
subject with the sentence that gives its figures and the one that tells it without them,
and the plan: the lead first, and which subjects say their figures (at most ``MAX_FIGURES``
in a dream, so a reader meets few exact numbers and each is one the audit backs)."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

from reverie.perception.digest import Digest, Notable, SignalDigest
from reverie.perception.dreams._figures import amount, big, fmt_pct, says
from reverie.perception.dreams._grammar import _plural
from reverie.perception.dreams.sky import Sky
from reverie.perception.text import figure as fmt_num

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


@dataclass
class Plan:
    subjects: list[_Subject]  # in the order the night tells them: the lead first
    exact: set[int]  # the subjects (by index) that say their figures
    lead: Notable | None
    degrees: bool  # the sky says its temperature in degrees
    figures: int  # exact figures planned in all


def plan(digest: Digest, sky: Sky, rng: random.Random) -> Plan:
    """Which subjects the night tells, in which order, and which say their figures: the
    lead's, then at most two more, the temperature among them."""
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
        budget -= 1
    return Plan(subjects, exact, lead, temp_exact, MAX_FIGURES - budget)


def _lead_is_weather(lead, dg: Digest) -> bool:
    if lead.what == "storm":
        return True
    s = dg.signal(lead.signal)
    return s is not None and s.kind == "weather"
