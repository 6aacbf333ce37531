"""memory.distill: offline — the day's decisions, commitments, questions and lessons, by
their form, each quoting its diary line and citing it; what recurs across days in
memory/patterns.md. The diaries come from real consolidations."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import yaml

from reverie.memory import consolidate as c
from reverie.memory import working
from reverie.memory.diary import Diaries, anchors_in
from reverie.memory.home import working_template
from reverie.perception.distill import distill_day, path_for, patterns_path
from reverie.perception.dreams import DreamOptions
from tests.conftest import make_config, run_cli

TZ = ZoneInfo("UTC")
START = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
DAY = START.date()

PAGE = """## Notes
Checked the feed: 12 new items, nothing urgent.
Decided to post twice a week; the RPC endpoint was flaky again.
Should I move the posts to the mornings?
- learned: the balance lags the chain by 2 blocks
I will write the weekly summary on Fridays.
The weather turned cold, the willow by the window is bare.
Note to self: never trust a balance read during a reorg.
It must have rained overnight, the mustard seeds are wet.
## Decisions
- weekly summary goes out on Friday mornings
## Open questions
- whether the RPC provider is worth paying for
## Keep
- the RPC is flaky #remember infra: retry after 30 s
"""


def session(home, store, text, sid, start=START):
    home.working.write_text(text, encoding="utf-8")
    store.start_session(sid, start, 1, "scheduled")
    store.end_session(sid, start + timedelta(minutes=45), "exited", 0)
    return c.consolidate(home, store, store.session(sid), tz=TZ)


def offline(home, store, day=DAY, days=14):
    return distill_day(home, store, DreamOptions(), day=day, mode="offline", patterns_days=days)


def bullets(path) -> list[str]:
    text = path.read_text(encoding="utf-8").split("---\n", 2)[2].split("## Receipt")[0]
    return [ln for ln in text.splitlines() if ln.startswith("- ")]


def quote(bullet: str) -> str:
    return re.search(r"\u201c(.*)\u201d", bullet).group(1)


def test_decisions_commitments_questions_and_lessons_are_found_by_their_form(home, store):
    session(home, store, PAGE, "s1")
    out = offline(home, store)
    got = [(b.split(":", 1)[0][2:], quote(b)) for b in bullets(out.path)]
    assert got == [
        ("decision", "Decided to post twice a week; the RPC endpoint was flaky again."),
        ("decision", "weekly summary goes out on Friday mornings"),
        ("commitment", "I will write the weekly summary on Fridays."),
        ("question", "Should I move the posts to the mornings?"),
        ("question", "whether the RPC provider is worth paying for"),
        ("lesson", "the balance lags the chain by 2 blocks"),
        ("lesson", "never trust a balance read during a reorg."),
    ]
    text = out.path.read_text(encoding="utf-8")
    for noise in ("12 new items", "willow", "mustard", "retry after 30 s", "To keep a line"):
        assert noise not in text.split("## Receipt")[0]
    assert out.backend == "offline" and out.tokens == 0
    assert out.counts == {"bullets": 7, "cited": 7, "resolved": 7, "supported": 7}


def test_every_bullet_quotes_its_line_and_cites_it_by_session_and_number(home, store):
    session(home, store, PAGE, "s1")
    out = offline(home, store)
    lines = working.split_lines(PAGE)
    cited = Diaries(home.root)
    for b in bullets(out.path):
        (anchor,) = anchors_in(b)
        n = int(anchor.rsplit("-", 1)[1])
        assert cited.resolve(anchor).lines == [lines[n - 1]]
        assert quote(b) in lines[n - 1]  # quoted, never reworded
        assert b.endswith(f"({'../diary/2026-11-25.md#s-s1'})")  # a link a reader can follow
    meta = yaml.safe_load(out.path.read_text(encoding="utf-8").split("---\n")[1])
    assert meta["status"] == "proposed" and meta["backend"] == "offline"
    assert meta["fallback_reason"] is None and meta["sessions"] == ["s1"]
    assert len(meta["cited"]) == 7


def test_a_tag_is_left_out_of_the_quote_and_a_long_line_is_cut_where_marked(home, store):
    long = ("We talked for an hour about the archive and its shelves and the light. "
            "I decided to move the archive to the cellar because the attic is too hot in summer. "
            "Then we had tea and watched the rain for a long while.")
    session(home, store, f"I will call Ada tomorrow #remember people: Ada\n{long}\n", "s1")
    got = [quote(b) for b in bullets(offline(home, store).path)]
    assert got == ["\u2026 I decided to move the archive to the cellar because the attic is too "
                   "hot in summer. \u2026",
                   "I will call Ada tomorrow \u2026 Ada"]


def test_the_template_guidance_and_lines_in_code_are_not_memory(home, store):
    page = working_template() + "```\nI will never run this: rm -rf /\n```\nDecided: ship the archive today.\n"
    session(home, store, page, "s1")
    got = [quote(b) for b in bullets(offline(home, store).path)]
    assert got == ["ship the archive today."]


def test_the_same_diary_gives_the_same_distillation(home, store, tmp_path, fake_clock):
    session(home, store, PAGE, "s1")
    first = offline(home, store).path.read_text(encoding="utf-8")
    path_for(home, DAY).unlink()
    second = offline(home, store).path.read_text(encoding="utf-8")
    assert first == second  # the clock is frozen in tests: even `created` is the same
    assert offline(home, store) is None  # and an unchanged diary is not distilled again


def test_a_question_asked_on_several_days_becomes_a_recurring_pattern_citing_each_day(home, store):
    asked = {0: "Should I move the posts to the mornings?",
             2: "should I move posts to the mornings, then?",
             5: "Should I really move the posts to mornings?",
             20: "Should I move the posts to the mornings?"}  # outside the 14 days: not counted
    last = DAY + timedelta(days=20)
    for k in range(21):
        lines = ["## Notes", f"Day {k}: read the feed."]
        if k in asked:
            lines.append(asked[k])
        if k in (3, 4):
            lines.append("Decided to keep the newsletter weekly.")
        if k == 7:
            lines.append("Is the cellar dry enough for the archive?")
        session(home, store, "\n".join(lines) + "\n", f"s{k:02d}", START + timedelta(days=k))
    first_day = last - timedelta(days=19)
    for k in range(21):
        offline(home, store, day=DAY + timedelta(days=k), days=20)
    text = patterns_path(home).read_text(encoding="utf-8")
    pats = [ln for ln in text.splitlines() if ln.startswith("- ")]
    assert len(pats) == 2, text
    assert pats[0].startswith("- recurring question (3 days): \u201cShould I move the posts to "
                              "the mornings?\u201d \u2014 ")
    assert [a.split("#")[0] for a in anchors_in(pats[0])] == [
        "diary/2026-11-27.md", "diary/2026-11-30.md", "diary/2026-12-15.md"]
    assert pats[1].startswith("- recurring decision (2 days): \u201cDecided to keep the "
                              "newsletter weekly.\u201d")
    assert "cellar" not in text  # asked once
    meta = yaml.safe_load(text.split("---\n")[1])
    assert (meta["from"], meta["to"]) == (first_day.isoformat(), last.isoformat())


def test_patterns_md_written_by_someone_else_is_not_overwritten(home, store):
    session(home, store, PAGE, "s1")
    patterns_path(home).write_text("my patterns\n")
    out = offline(home, store)
    assert out.path.exists() and out.patterns == 0
    assert patterns_path(home).read_text() == "my patterns\n"


def test_remember_cannot_aim_at_patterns_md(home, store):
    session(home, store, "a thing #remember patterns: mine\n", "s1")
    assert not patterns_path(home).exists()
    assert "a thing #remember patterns: mine" in (home.memory_dir / "notes.md").read_text()


def test_distill_true_is_the_offline_distillation_from_the_cli(home, store, tmp_path):
    session(home, store, PAGE, "s1")
    cfg = make_config(tmp_path, home=str(home.root), memory={"distill": True, "patterns_days": 7})
    r = run_cli("--config", str(cfg), "distill", "--date", DAY.isoformat())
    assert r.returncode == 0, r.stderr
    assert r.stdout == (f"proposed: {path_for(home, DAY)} (offline, 0 tokens; 7 lines, 7 cited, "
                        "7 supported; 0 patterns)\n")
    (rec,) = [json.loads(x) for x in home.ledger.read_text().splitlines()
              if json.loads(x).get("kind") == "distill"]
    assert (rec["backend"], rec["bullets"], rec["cited"], rec["resolved"], rec["supported"]) == \
        ("offline", 7, 7, 7, 7)


def test_a_line_of_megabytes_is_quoted_from_its_start(home, store):
    # spaces and tags are what would make a regular expression backtrack for hours on a
    # line this long; it is classified from its first characters
    huge = "I decided to move the archive " + " " * 3_000_000 + "#remember x" + " \t" * 500_000 + "?"
    session(home, store, f"## Notes\n{huge}\n# " + "a " * 1_000_000 + "\n", "s1")
    out = offline(home, store)
    (b,) = bullets(out.path)
    assert b.startswith("- decision: \u201cI decided to move the archive \u2026\u201d \u2014 ")
    assert out.counts["supported"] == 1


def test_the_daemon_job_distills_offline_without_a_model(home, store, tmp_path):
    import time_machine

    from reverie.daemon import config, services
    from reverie.daemon.notify import Notifier

    session(home, store, PAGE, "s1")
    cfg = make_config(tmp_path, home=str(home.root), memory={"distill": "offline"})
    d = services.build(config.load(cfg, env={}), store=store, notifier=Notifier(None))
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        d.distill_pending()
    text = path_for(home, DAY).read_text(encoding="utf-8")
    assert "backend: offline" in text and "model: null" in text
    assert len(bullets(path_for(home, DAY))) == 7
    assert store.get_meta("distill.done") == "s1"


def test_casual_forms_are_found_and_a_line_without_a_form_is_not(home, store):
    session(home, store, "tomorrow: call Ada about the market stall\n"
                         "move the archive to the cellar? not sure yet\n"
                         "huh, the cellar floods in March. good to know\n"
                         "ok so: the newsletter stays weekly, final answer.\n", "s1")
    got = [(b.split(":", 1)[0][2:], quote(b)) for b in bullets(offline(home, store).path)]
    assert got == [("commitment", "call Ada about the market stall"),
                   ("question", "move the archive to the cellar? not sure yet"),
                   ("lesson", "huh, the cellar floods in March. good to know")]


def test_a_distillation_whose_ledger_line_was_lost_gets_it_at_the_next_run(home, store):
    session(home, store, PAGE, "s1")
    offline(home, store)
    lines = home.ledger.read_text().splitlines()
    home.ledger.write_text("\n".join(ln for ln in lines if '"kind": "distill"' not in ln) + "\n")
    assert offline(home, store) is None  # the diary is unchanged: not distilled again
    offline(home, store)
    recs = [json.loads(x) for x in home.ledger.read_text().splitlines()]
    assert [(r["kind"], r["supported"]) for r in recs if r.get("kind")] == [("distill", 7)]


def test_a_question_the_agent_means_to_answer_is_kept_and_an_exclamation_in_question_form_is_not(
        home, store):
    # written for this test, in words no bench voice uses
    asked = ["Should I rotate the API tokens monthly?",
             "How do we shard the photo archive without downtime?",
             "What if the backups moved to the cold bucket?",
             "Why does the nightly export fail on Sundays?",
             "Is it worth keeping two mirrors of the wiki?",
             "Could the scraper share one connection pool? not sure yet",
             "What if even the cold bucket fills up?"]  # "even" as a concession: still asked
    exclaimed = ["Who even opens the quarterly report?",
                 "Why on earth does the linter flag blank lines?",
                 "Who cares about the footer colours anyway?",
                 "Isn't it funny how the queue empties at noon?",
                 "The dashboard loads fast now, doesn't it?",
                 "The migration went fine, right?",
                 "Did the webhook retry? Nope.",
                 "Why did the deploy stall? Because the runner ran out of disk.",
                 "The invoice bot emailed the whole list again?!",
                 "What could possibly go wrong with a Friday release?"]
    mixed = "Decided to retire the old wiki mirror. Does anyone even visit it?"
    session(home, store, "## Notes\n" + "\n".join(asked + exclaimed + [mixed]) + "\n", "s1")
    got = [(b.split(":", 1)[0][2:], quote(b)) for b in bullets(offline(home, store).path)]
    assert got == [("decision", mixed)] + [("question", q) for q in asked]


def test_a_guess_about_the_past_is_no_commitment_and_a_question_told_is_not_the_agents(
        home, store):
    page = ["I must have misread the invoice totals yesterday.",  # a deduction
            "We must have two signatures on every payout.",  # an obligation
            "A reader asked whether the shop ships abroad?",  # someone else's question
            "Ada asked me whether the export is worth keeping?",  # put to the agent
            "I wonder whether the queue survives a restart?"]
    session(home, store, "## Notes\n" + "\n".join(page) + "\n", "s1")
    got = [(b.split(":", 1)[0][2:], quote(b)) for b in bullets(offline(home, store).path)]
    assert got == [("commitment", page[1]), ("question", page[3]), ("question", page[4])]


def test_code_and_tags_are_read_by_the_rule_consolidation_keeps(home, store):
    # working.md's convention has one reader (memory/working.py): what a sleep treats as
    # code or as a tag, distill does too. A backtick in a fence's info string makes it
    # no fence (CommonMark); a tilde fence is not closed by backticks.
    page = ("## Notes\n"
            "``` not`a fence\n"
            "Decided to ship on Friday.\n"
            "~~~~\n"
            "Decided to keep this inside code.\n"
            "```\n"
            "~~~\n"
            "Decided to stay in code as well.\n"
            "~~~~\n"
            "Decided to call the plumber #remember          house: about the tap\n"
            "Decided to mark keepers with `#remember` from now on.\n")  # code, not a tag
    session(home, store, page, "s1")
    got = [quote(b) for b in bullets(offline(home, store).path)]
    assert got == ["Decided to ship on Friday.", "Decided to call the plumber \u2026 about the tap",
                   "Decided to mark keepers with `#remember` from now on."]
    kept = (home.memory_dir / "house.md").read_text(encoding="utf-8")
    assert "call the plumber" in kept and "inside code" not in kept
