"""S1-S5: legible sleep — the offline distillation against 30-day diaries with planted items.

Five agents in five voices (a terse engineer, a reflective diarist, a casual one who
writes half its items in no form the rules know, a list-maker, and one in shorthand
notes written after the rules, so they are measured on a style not made for them) live
30 days each; every day's working.md holds planted decisions, commitments, questions and
lessons among routine noise (including near misses: "it will rain", "must have rained",
"willow", "mustard"), and some questions recur on known days in varied words. The pages
go through the real consolidation into diaries; then each day is distilled offline and
memory/patterns.md is built over the 30 days.

- S1 recall: share of planted lines some distilled bullet cites (goal >= 0.8).
- S2 precision: share of distilled bullets that cite only planted lines (goal >= 0.8).
- S3 recurring questions: planted recurring questions found in patterns.md with their exact
  day counts (goal: all), and patterns that were not planted.
- S4 every distilled line (days and patterns) cited, resolved and supported (`reverie audit`'s
  check; goal 100 %).
- S5 the model path against a local fake chat-completions server (real openai client): a
  bullet with an invented fact or a false citation is never published (goal 0).
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import Row, quiet_logs

DAYS = 30
START = datetime(2026, 10, 1, 7, 0, tzinfo=timezone.utc)
TZ = ZoneInfo("UTC")

SUBJECTS = ["the newsletter", "the RPC provider", "the archive", "the feed reader", "the wallet",
            "the cache", "the weekly summary", "the mentions bot", "the backup job", "the garden log",
            "the reading list", "the price alerts", "the photo index", "the calendar sync",
            "the journal export", "the comment queue", "the sitemap", "the weather notes",
            "the tip jar", "the mirror"]
ACTIONS = ["move {s} to mornings", "drop {s} for a month", "rewrite {s} in plain files",
           "pay for {s}", "split {s} into two parts", "check {s} before noon",
           "keep {s} exactly as it is", "make {s} public", "archive {s} at the month's end",
           "test {s} against last week's data"]
LESSON_FACTS = ["{s} fails quietly when the disk is full", "{s} lags the chain by {n} blocks",
                "{s} needs {n} retries after a reorg", "{s} is faster read backwards",
                "{s} breaks on names with spaces", "{s} only updates every {n} minutes"]

VOICES = {
    "engineer": {
        "decision": ["- decided: {a}", "Decided to {a}."],
        "commitment": ["- I will {a} tomorrow", "We must {a} this week."],
        "question": ["- Q: should we {a}?", "Should we {a}?"],
        "lesson": ["- TIL {f}", "- learned: {f}"],
        "noise": ["- polled the feed, {n} items", "- karma {n}", "- {s}: ok",
                  "- the forecast says it will rain by {n}:00", "- cpu at {n} %",
                  "- restarted {s}, fine", "- read {n} posts",
                  # near misses a person would not keep, which the forms still catch
                  "- why is the feed so slow today?", "- ran the tests; I will admit they are slow"],
    },
    "diarist": {
        "decision": ["After a long look at the logs I decided to {a}.",
                     "In the end I'm going with a plan to {a}."],
        "commitment": ["I will {a} before the week is out.", "I'm going to {a}, I promised Ada."],
        "question": ["I keep wondering: should I {a}?", "Would it be wiser to {a}?"],
        "lesson": ["Note to self: {f}.", "I learned today that {f}."],
        "noise": ["The light was thin this morning and the feed was quiet.",
                  "It must have rained overnight; the willow by the window is dark.",
                  "Read {n} posts about {s}, none of them new.",
                  "Someone on the forum thinks {s} will come back into fashion.",
                  "The mustard-coloured sky again, {n} degrees at noon.",
                  "A slow day, mostly tidying {s}.",
                  "I must have left the lamp on again.", "Ada says she will decide by Friday.",
                  "The forum asked whether fees will ever come down?"],
    },
    # half of its items are written with no form the offline rules know: a bound on recall
    "casual": {
        "decision": ["ok so: {a}, final answer.", "Going with a plan to {a}."],
        "commitment": ["tomorrow: {a}", "I'll {a} after lunch."],
        "question": ["{a}? not sure yet", "what if we {a}?"],
        "lesson": ["huh, {f}. good to know", "Turns out {f}."],
        "noise": ["lol the feed is down again", "who even reads {s}?", "coffee number {n}",
                  "{s} looks fine", "quiet day, {n} posts"],
    },
    "lister": {
        "decision": ["## Decisions\n- {a}"],
        "commitment": ["## Todo\n- [ ] {a}"],
        "question": ["## Questions\n- {a}?"],
        "lesson": ["## Learned\n- {f}"],
        "noise": ["## Log\n- {n} new items in the feed", "## Log\n- {s} checked, {n} ok",
                  "## Log\n- weather: {n} degrees, wind from the west"],
    },
    # written after the rules, to measure them on a style they were not written for: terse
    # notes with abbreviations and shorthand, several of its items in forms the rules lack
    "terse": {
        "decision": ["- dec: {a}", "=> {a}. final."],
        "commitment": ["- TODO {a}", "tmrw: {a}"],
        "question": ["?? {a}", "- q: {a}?"],
        "lesson": ["NB {f}", "- lesson: {f}"],
        "noise": ["{s} ok", "{n} msgs, nothing new", "ping {s}... no reply", "wtf {s}??",
                  "{s} down again?!", "{s} slow again, why??", "- lunch", "{n}/400 checks green",
                  "fyi {s} at {n}%", "re {s}: nvm", "- {s} w/ {n} errs, retried, fine"],
    },
}
# the voice written after the offline rules were, never to tune them on: its figures are
# also shown apart
HELD_OUT = "terse"
# questions that come back, and the days (0-29) they are asked on
RECURRING = {
    "engineer": [(["should we pay for the RPC provider?", "should we pay for a better RPC provider?"],
                  [2, 6, 11, 19, 25]),
                 (["is the cache invalidated on a reorg?", "is the cache really invalidated on a reorg?"],
                  [4, 17, 28])],
    "diarist": [(["Should I make the journal public one day?", "should I ever make the journal public?"],
                 [1, 3, 8, 13, 21, 29]),
                (["Why does the archive feel heavier every week?", "why does the archive feel heavier each week?"],
                 [10, 20])],
    "casual": [(["what if we drop the mirror for good?", "what if we just drop the mirror?"],
                [3, 11, 18, 24])],
    "lister": [(["publish the reading list", "publish the whole reading list"], [5, 12, 26]),
               (["merge the two calendars", "merge both calendars"], [7, 9, 14, 23])],
    "terse": [(["q: move the backups offsite?", "q: backups offsite?"], [3, 9, 16, 22, 27])],
}


def _day_page(voice: str, k: int, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
    """(working.md text, planted (kind, line)) of one day."""
    v = VOICES[voice]
    parts: list[str] = []
    planted: list[tuple[str, str]] = []
    items = []
    for kind in ("decision", "commitment", "question", "lesson"):
        for _ in range(rng.choice((0, 1, 1, 2))):
            s = rng.choice(SUBJECTS)
            a = rng.choice(ACTIONS).format(s=s)
            f = rng.choice(LESSON_FACTS).format(s=s, n=rng.randint(2, 9))
            items.append((kind, rng.choice(v[kind]).format(a=a, f=f)))
    for variants, days in RECURRING[voice]:
        if k in days:
            text = variants[days.index(k) % len(variants)]
            if voice == "lister":
                items.append(("question", "## Questions\n- " + text.rstrip("?") + "?"))
            else:
                items.append(("question", text[0].upper() + text[1:]))
    for _ in range(rng.randint(6, 12)):
        items.append(("noise", rng.choice(v["noise"]).format(n=rng.randint(2, 400),
                                                             s=rng.choice(SUBJECTS))))
    rng.shuffle(items)
    if voice != "lister":
        parts.append("## Notes")
    for kind, text in items:
        parts.extend(text.split("\n"))
        if kind != "noise":
            planted.append((kind, text.split("\n")[-1]))
    return "\n".join(parts) + "\n", planted


def _live(root: Path, voice: str, rng: random.Random):
    """Consolidate 30 days of pages into a home's diary; the planted lines by day."""
    from reverie.memory import consolidate as c
    from reverie.memory.home import Home
    from reverie.memory.store import Store

    home = Home.at(root / voice, state=root / "state" / voice)  # never the user's state folder
    home.ensure()
    store = Store.open(home.db)
    planted: dict[str, list[tuple[str, str]]] = {}
    for k in range(DAYS):
        start = START + timedelta(days=k)
        text, plants = _day_page(voice, k, rng)
        home.working.write_text(text, encoding="utf-8")
        sid = f"{start:%Y%m%dT%H%M}-{voice[:3]}"
        store.start_session(sid, start, 1, "bench")
        store.end_session(sid, start + timedelta(minutes=50), "exited", 0)
        c.consolidate(home, store, store.session(sid), tz=TZ)
        planted[start.date().isoformat()] = plants
    return home, store, planted


def _bullets(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8").split("---\n", 2)[2].split("## Receipt")[0]
    return [ln for ln in text.splitlines() if ln.startswith("- ")]


def _offline(quick: bool) -> tuple[list[Row], dict]:
    from reverie.memory.diary import Diaries, anchors_in
    from reverie.perception import memory_audit as ma
    from reverie.perception.distill import distill_day
    from reverie.perception.dreams import DreamOptions

    rng = random.Random(25)
    n_planted = hit = bullets = pure = kind_right = 0
    per_voice: dict[str, tuple[float, float]] = {}  # voice -> (recall, precision)
    rec_found = rec_total = rec_exact = spurious = repeats = 0
    counts = {"lines": 0, "cited": 0, "resolved": 0, "supported": 0}
    details, homes = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES:
            home, store, planted = _live(Path(tmp), voice, rng)
            last = (START + timedelta(days=DAYS - 1)).date()
            for k in range(DAYS):
                distill_day(home, store, DreamOptions(), day=(START + timedelta(days=k)).date(),
                            mode="offline", patterns_days=DAYS)
            diaries = Diaries(home.root)
            v_hit = v_planted = v_b = v_pure = 0
            for k in range(DAYS):
                d = (START + timedelta(days=k)).date().isoformat()
                plants = {line.strip(): kind for kind, line in planted[d]}
                cited_lines = set()
                for b in _bullets(home.memory_dir / f"distilled-{d}.md"):
                    lines = [ln.strip() for a in anchors_in(b) for ln in diaries.resolve(a).lines]
                    cited_lines.update(lines)
                    v_b += 1
                    if lines and all(ln in plants for ln in lines):
                        v_pure += 1
                        kind_right += b[2:].startswith(plants[lines[0]] + ":")
                v_planted += len(plants)
                v_hit += len(set(plants) & cited_lines)
            n_planted += v_planted
            hit += v_hit
            bullets += v_b
            pure += v_pure
            details.append(f"{voice} {v_hit}/{v_planted} recall, {v_pure}/{v_b} precision")
            per_voice[voice] = (v_hit / max(v_planted, 1), v_pure / max(v_b, 1))
            # the recurring questions in patterns.md (built at the last day over 30 days)
            pats = _bullets(home.memory_dir / "patterns.md")
            matched = set()
            for variants, days in RECURRING[voice]:
                rec_total += 1
                words = ma.content_words(variants[0])
                for i, p in enumerate(pats):
                    m = re.match(r"- recurring question \((\d+) days\): \u201c(.*)\u201d", p)
                    if m and len(ma.content_words(m.group(2)) & words) / len(words) >= 0.6:
                        rec_found += 1
                        rec_exact += int(m.group(1)) == len(days)
                        matched.add(i)
                        details.append(f"{voice}: \u201c{m.group(2)}\u201d {m.group(1)} days "
                                       f"(planted {len(days)})")
                        break
            for i, p in enumerate(pats):
                if i in matched:
                    continue
                said = {re.sub(r"^\s*(?:[-*+]\s+)?(?:\[ \]\s+)?", "", ln).strip().lower()
                        for a in anchors_in(p) for ln in diaries.resolve(a).lines}
                if len(said) == 1:
                    repeats += 1  # the same words on several days: a pattern in the data
                else:
                    spurious += 1
                    details.append(f"{voice}: merged {sorted(said)}")
            for r in ma.audit_all(home.root):
                if r.kind == "distilled":
                    for key in counts:
                        counts[key] += getattr(r, key)
            homes[voice] = (home, store, planted, last)
            if voice == "engineer":
                s5 = _model_path(home, store, planted)
            store.close()
    recall = hit / max(n_planted, 1)
    precision = pure / max(bullets, 1)
    # the voice written after the rules, apart: the figure the rules were not made for
    held = HELD_OUT if HELD_OUT in per_voice else None
    held_r = f"; {held} (held out) {per_voice[held][0]:.3f}" if held else ""
    held_p = f"; {held} (held out) {per_voice[held][1]:.3f}" if held else ""
    rows = [
        Row("S1", f"offline distillation recall of planted items ({len(VOICES)} voices x {DAYS} days)",
            f"{recall:.3f} ({hit}/{n_planted}){held_r}", "", "", ">= 0.8", recall >= 0.8),
        Row("S2", "offline distillation precision (bullets that are planted items)",
            f"{precision:.3f} ({pure}/{bullets}; kind right {kind_right}/{pure}){held_p}", "", "",
            ">= 0.8", precision >= 0.8),
        Row("S3", "recurring questions found in patterns.md with their day counts",
            f"{rec_found}/{rec_total} found, {rec_exact} exact counts; other patterns: {repeats} "
            f"repeat the same words, {spurious} merge different items",
            "", "", "all, exact", rec_found == rec_total == rec_exact),
        Row("S4", "distilled lines cited / resolved / supported (reverie audit)",
            f"{counts['cited']}/{counts['resolved']}/{counts['supported']} of {counts['lines']}",
            "", "", "100 %", counts["lines"] == counts["cited"] == counts["resolved"]
            == counts["supported"] > 0),
        s5,
    ]
    return rows, {"details": details}


# -- the model path: a local fake chat-completions server ------------------------------------

class _Fake(BaseHTTPRequestHandler):
    script: list[str] = []  # "good", "invented", "false-cite", "uncited", "mixed"
    calls = 0

    def do_POST(self):  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n))
        prompt = body["messages"][0]["content"]
        rows = re.findall(r"^L(\d+): (.*)$", prompt, re.M)
        kind = _Fake.script[min(_Fake.calls, len(_Fake.script) - 1)]
        _Fake.calls += 1
        good = [f"- {t.strip('- ')} [L{k}]" for k, t in rows
                if re.search(r"decided|will|\?", t, re.I)][:3] or [f"- {rows[0][1]} [L{rows[0][0]}]"]
        k0 = rows[0][0]
        bad = {"invented": [f"- The agent decided to sell 40 ETH and leave the forum. [L{k0}]"],
               "false-cite": [f"- {rows[0][1].strip('- ')} [L{len(rows) + 40}]"],
               "uncited": ["- The agent is doing well and should rest more."],
               "mixed": good[:1] + [f"- The archive holds 9137 posts now. [L{k0}]"],
               "good": good}[kind]
        text = "\n".join(bad)
        out = json.dumps({"id": "x", "object": "chat.completion", "created": 1, "model": "fake",
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": text}}],
                          "usage": {"prompt_tokens": 10, "completion_tokens": 10,
                                    "total_tokens": 20}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


SCRIPTS = [["invented"], ["false-cite"], ["uncited"], ["mixed"], ["invented", "good"],
           ["false-cite", "good"], ["good"]]
INVENTED = ("40 ETH", "9137", "doing well", "L7")


def _model_path(home, store, planted) -> Row:
    from reverie.perception import memory_audit as ma
    from reverie.perception.distill import distill_day
    from reverie.perception.dreams import DreamOptions

    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    published_bad = runs = fell = 0
    try:
        opts = DreamOptions(backend="openai", base_url=f"http://127.0.0.1:{srv.server_port}/v1",
                            api_key="sk-bench-not-a-key", model="fake", timeout="5s",
                            max_tokens_per_day=10 ** 9)
        for i, script in enumerate(SCRIPTS):
            day = (START + timedelta(days=i)).date()
            path = home.memory_dir / f"distilled-{day.isoformat()}.md"
            path.unlink(missing_ok=True)
            _Fake.script, _Fake.calls = script, 0
            out = distill_day(home, store, opts, day=day, mode="openai", patterns_days=DAYS)
            runs += 1
            fell += out.fallback_reason is not None
            rep = ma.audit_distilled(f"memory/{path.name}", path.read_text(encoding="utf-8"),
                                     ma.Diaries(home.root))
            text = "\n".join(_bullets(path))
            published_bad += (rep.lines - rep.supported) + sum(x in text for x in INVENTED[:3])
    finally:
        srv.shutdown()
        srv.server_close()
    return Row("S5", f"model path, {runs} replies with invented facts / false or missing "
               "citations (local fake server)", f"{published_bad} bad bullets published; "
               f"{fell} fell back to offline", "", "", "0 published", published_bad == 0)


def run(quick: bool) -> list[Row]:
    quiet_logs()
    rows, info = _offline(quick)
    for line in info["details"]:
        print(f"  {line}", flush=True)
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run(True))
