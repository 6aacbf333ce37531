"""The offline dream over thirty consecutive nights of a realistic world, read as a person would.

The world and the reader's checks are the dream bench's (bench/dreams_bench.py): the weather
with a thunderstorm, an ETH wallet that loses 40 % one night and whose RPC fails two nights,
Moltbook karma +313 one night, a blog, the agent's own posts and two sessions a day.
"""

import importlib.util
import re
from datetime import date
from pathlib import Path

import pytest

from reverie.perception.audit import audit
from reverie.perception.digest import Digest, SignalDigest
from reverie.perception.dreams import _phrases
from reverie.perception.dreams.offline import (MAX_WORDS, MIN_WORDS, amount, compose, persona,
                                               says)

_spec = importlib.util.spec_from_file_location(
    "dreams_bench", Path(__file__).resolve().parent.parent / "bench" / "dreams_bench.py")
world = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(world)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Thirty mornings through the real writer, with the persona's motifs in memory/."""
    out = world.write_nights(tmp_path_factory.mktemp("month") / "home")
    yield out
    out[0]["store"].close()


def first_paragraph(night):
    return night["prose"].split("\n\n")[0]


def test_the_wallets_forty_percent_night_leads_with_it_as_a_person_says_it(nights):
    night = nights[world.BIG_WALLET]
    assert night["digest"].lead().signal == "wallet.balance"
    first = first_paragraph(night)
    pct = night["digest"].signal("wallet.balance").change_pct
    assert -45 < pct < -35
    assert re.search(rf"\b(about )?{round(abs(pct))}%", first)
    assert re.search(r"\b(wallet|balance)\b", first)  # "the wallet balance", "my balance"
    assert amount(night["digest"].signal("wallet.balance").last, "ETH") in first


def test_the_karma_night_leads_with_the_313_new_voices(nights):
    night = nights[world.BIG_KARMA]
    change = night["digest"].signal("moltbook.karma").change
    assert 300 < change < 340  # +313 and that day's ordinary drift
    first = first_paragraph(night)
    assert f"{round(change)} voices" in first and "karma" in first


def test_the_thunderstorm_is_in_the_first_paragraph_of_its_night(nights):
    night = nights[world.STORM]
    assert night["digest"].lead().what == "storm"
    assert "thunderstorm" in first_paragraph(night)


def test_every_nights_biggest_event_is_in_its_first_paragraph(nights):
    placed = [world.lead_in_first_paragraph(n["prose"], n["digest"]) for n in nights]
    assert all(p is not False for p in placed)


def test_money_reputation_and_own_work_are_spoken_of_whenever_they_moved(nights):
    for n in nights:
        missing = [s for s in world.moved(n["digest"]) if not world.spoken(n["prose"], n["digest"], s)]
        assert missing == [], (n["day"], missing, n["prose"])


def test_the_weather_is_the_sky_of_every_dream(nights):
    for n in nights:
        sky = " ".join(n["prose"].split("\n\n")[0:1]).lower()
        assert n["digest"].signal("weather.condition").text_last.lower() in sky or any(
            c in sky for c in n["digest"].signal("weather.condition").arc), n["prose"]


def test_no_dream_says_what_its_record_contradicts(nights):
    for n in nights:
        assert world.contradictions(n["prose"], n["digest"]) == [], (n["day"], n["prose"])


def test_every_figure_in_thirty_dreams_is_backed_by_the_store(nights):
    checked = 0
    for n in nights:
        report = audit(n["path"], n["store"])
        assert report.ok and report.record == "store", report.format()
        checked += len(report.findings)
    assert checked >= 60  # the dreams do say figures


def test_thirty_dreams_have_no_prose_defects(nights):
    for n in nights:
        names = [s.signal for s in n["digest"].signals]
        assert world.defects(n["prose"], names) == [], (n["day"], n["prose"])
        assert MIN_WORDS <= len(n["prose"].split()) <= MAX_WORDS


def test_one_scene_its_motifs_open_the_dream_and_come_back_at_its_end(nights):
    for n in nights:
        paras = n["prose"].split("\n\n")
        opening = re.split(r"(?<=\.) ", paras[0])[0].lower()
        things = [m for m in ("the green ferry", "grandmother's radio", "the tall lighthouse",
                              "ink the cat")
                  + tuple(o.lower() for _, objs in _phrases.SETTINGS for o in objs)
                  if m in opening]
        assert things, opening
        # said whole, or by its short name ("the wheelchair", "Ink")
        names = [[w for w in t.split() if w not in ("a", "an", "the", "my", "your")]
                 for t in things]
        assert any(re.search(rf"\b({re.escape(ws[0])}|{re.escape(ws[-1])})\b", paras[-1].lower())
                   for ws in names if ws), (opening, paras[-1])


def test_the_agents_own_motifs_recur_across_nights(nights):
    own = ("green ferry", "grandmother's radio", "tall lighthouse", "ink the cat")
    with_own = [n for n in nights if any(m in n["prose"].lower() for m in own)]
    assert len(with_own) == len(nights)
    for m in own:
        assert sum(m in n["prose"].lower() for n in nights) >= 3, m


def test_consecutive_nights_share_little_and_no_setting(nights):
    toks = [world.tokens(n["prose"]) for n in nights]
    jac = [world.jaccard(a, b) for a, b in zip(toks, toks[1:])]
    assert sum(jac) / len(jac) <= 0.10 and max(jac) <= 0.15
    settings = [next(s for s, _ in _phrases.SETTINGS if s in n["prose"].lower()) for n in nights]
    assert all(a != b for a, b in zip(settings, settings[1:]))


def test_no_five_word_phrase_recurs_in_more_than_three_of_thirty_nights(nights):
    assert world.repeated_phrases([world.tokens(n["prose"]) for n in nights]) == []


def test_self_bleu_over_thirty_nights_stays_under_the_old_generators(nights):
    # the old generator measured 0.40-0.43 on a world like this; the goal is 0.35 (see bench)
    assert world.self_bleu([world.tokens(n["prose"]) for n in nights]) <= 0.40


def test_the_same_night_gives_the_same_dream(nights):
    n = nights[3]
    again = compose(n["digest"], n["day"], recent={})[0]
    assert again == compose(n["digest"], n["day"], recent={})[0]


def test_a_persona_can_ask_for_the_second_person():
    dg = Digest(start="2026-03-01T04:00:00+00:00", end="2026-03-02T04:00:00+00:00", tz="UTC")
    text = ("I am Wren.\npoint of view: second\n\n## Motifs\n- my paper boat\n- 42 tin cups\n"
            "- forty-two thieves\n")
    assert persona(text).motifs == ["my paper boat", "tin cups", "thieves"]
    for i in range(10):
        prose = compose(dg, date(2026, 3, 2 + i), persona_text=text)[0]
        assert not re.search(r"\b(I|my|me)\b", prose), prose
        assert any(m in prose for m in ("your paper boat", "tin cups", "thieves")), prose


def test_an_empty_night_still_dreams_without_a_figure():
    dg = Digest(start="2026-03-01T04:00:00+00:00", end="2026-03-02T04:00:00+00:00", tz="UTC")
    prose, keys, used = compose(dg, date(2026, 3, 2), recent={})
    assert MIN_WORDS <= len(prose.split()) <= MAX_WORDS
    assert used == [] and keys
    assert not re.search(r"\d", prose)


def _cold_dry_night(temp=-0.8):
    dg = Digest(start="2026-03-01T04:00:00+00:00", end="2026-03-02T04:00:00+00:00", tz="UTC")
    dg.signals = [
        SignalDigest("weather.temperature", "weather", "temperature", "weather", "°C", 5,
                     first=1.0, last=temp, min=temp, max=1.0, change=temp - 1.0,
                     label="temperature"),
        SignalDigest("weather.condition", "weather", "condition", "weather", None, 5,
                     text_first="clear sky", text_last="clear sky", arc=["clear sky"],
                     label="condition")]
    return dg


def test_a_cold_dry_clear_night_has_no_warmth_rain_or_fog_in_any_of_sixty_dreams():
    dg = _cold_dry_night()
    for i in range(60):
        prose = compose(dg, date(2026, 1, 1).fromordinal(date(2026, 1, 1).toordinal() + i))[0]
        assert not re.search(r"(?i)\b(warm\w*|heat|hot|rain\w*|drizzl\w*|fog\w*|mist\w*|"
                             r"thunder\w*|snow\w*)\b", prose), prose
        assert re.search(r"around zero|1 below zero|1 degree of frost|1 degree below zero", prose)


def test_every_verb_the_phrases_use_has_its_forms():
    used = {m for pool in _phrases.T.values() for e in pool
            for m in re.findall(r"\{(?:v|t|tp|n):([a-z_]+)\}", e)}
    assert used - set(_phrases.VERBS) == set()


def test_phrase_text_holds_no_digits_nor_number_words():
    words = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten|twenty|hundred)\b")
    for pools in (_phrases.T, _phrases.LEXICON):
        for entries in pools.values():
            for e in entries:
                assert not re.search(r"\d", e) and not words.search(e), e


def test_counts_are_said_in_words_when_small_and_never_as_zero():
    assert [says(n) for n in (1, 2, 9, 10, 313, 12400)] == ["one", "two", "nine", "10", "313",
                                                              "12,400"]
    assert amount(0.5981, "ETH") == "0.6 ETH" and amount(1.0234, "ETH") == "1.02 ETH"
    assert amount(0.004231, "ETH") == "0.0042 ETH" and amount(0, "ETH") == "nothing"


def test_a_title_with_figures_and_quotation_marks_is_quoted_and_passes_the_audit(tmp_path):
    from reverie.memory.store import Store
    from reverie.perception.digest import build_digest

    store = Store.open(tmp_path / "r.db")
    t0 = world.T0
    store.record_run("blog", t0 + world.timedelta(hours=2), ok=True, items=[
        {"uid": "a", "title": 'He said "999 ETH" at 4.5 \u201cpercent\u201d'}])
    dg = build_digest(store, t0, t0 + world.timedelta(days=1))
    quoted = 0
    for i in range(20):
        prose = compose(dg, date(2026, 3, 2 + i % 20))[0]
        text = f"---\ncycle_start: '{dg.start}'\ncycle_end: '{dg.end}'\n---\n\n{prose}\n"
        assert audit(text, store).ok, prose
        quoted += "999 ETH" in prose
    assert quoted  # the title was quoted on some nights, and that quotation was backed
    store.close()
