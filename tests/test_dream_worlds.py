"""Thirty nights of three worlds the dream was not tuned on, read as their owners would.

The worlds are the dream bench's (bench/dreams_bench.py): a polar-winter gardener-poet with
its own places, a SOL wallet and a starred repository, whose snowfall arrives as
precipitation and who has blizzards; a warm-climate cook with heat, thunderstorms, Moltbook
and no wallet, whose places are named in its persona's prose, and a compost heap at 60 °C;
a temperate agent with ETH, Moltbook, short sessions and a feed that fails for three nights.
"""

import importlib.util
import re
from pathlib import Path

import pytest

from reverie.perception.audit import audit
from reverie.perception.dreams.sky import contradictions

_spec = importlib.util.spec_from_file_location(
    "dreams_bench", Path(__file__).resolve().parent.parent / "bench" / "dreams_bench.py")
world = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(world)
WORLDS = {w.name: w for w in world.WORLDS}
RAIN = re.compile(r"(?i)\b(rain\w*|drizzl\w*|downpour|showers?|puddles?)\b")
SNOW = re.compile(r"(?i)\b(snow\w*|blizzard\w*)\b")


@pytest.fixture(scope="module", params=sorted(WORLDS))
def month(request, tmp_path_factory):
    w = WORLDS[request.param]
    nights = world.write_world(tmp_path_factory.mktemp(w.name) / "home", w)
    yield w, nights
    nights[0]["store"].close()


def test_no_dream_contradicts_its_sky(month):
    w, nights = month
    for n in nights:
        assert contradictions(n["prose"], n["digest"]) == [], (n["day"], n["prose"])
        assert n["meta"]["sky"] == "ok"


@pytest.fixture(scope="module")
def polar(tmp_path_factory):
    nights = world.write_world(tmp_path_factory.mktemp("polar") / "home", WORLDS["polar"])
    yield nights
    nights[0]["store"].close()


def test_a_polar_month_hears_no_rain_and_every_blizzard_is_snow_on_the_wind(polar):
    for i, n in enumerate(polar):
        if i in (26,):  # the thaw night may rain
            continue
        assert not RAIN.search(n["prose"]), (n["day"], n["prose"])
    for i in (4, 5, 17):
        prose = polar[i]["prose"]
        assert SNOW.search(prose) and re.search(r"(?i)\bwind|gust|blizzard", prose), prose


def test_a_polar_month_is_set_in_the_agents_own_places_never_the_same_two_nights_running(polar):
    own = [p.lower() for p in world.WORLDS[0].persona.split("## Places")[1].split("- ")[1:]]
    own = [p.strip() for p in own]
    settings = [n["meta"]["setting"].lower() for n in polar]
    assert all(any(s == p or s in p or p in s for p in own) for s in settings), settings
    assert all(a != b for a, b in zip(settings, settings[1:]))


def test_a_warm_agents_places_come_from_its_persona_and_its_compost_is_not_the_sky(month):
    w, nights = month
    if w.name != "warm":
        pytest.skip("the warm world")
    settings = {n["meta"]["setting"].lower() for n in nights}
    assert settings <= {"the terrace", "the market in lisbon", "the kitchen", "the courtyard"}
    for n in nights:
        assert n["digest"].signal("compost.temperature").kind == "other"
        assert not re.search(r"\b(5\d|6\d) degrees\b", n["prose"])  # the heap is not the air


def test_each_dream_is_one_scene_with_at_most_one_other_place(month):
    w, nights = month
    for i, n in enumerate(nights):
        meta = dict(n["meta"], motifs=[*(n["meta"].get("motifs") or []),
                                       *((nights[i - 1]["meta"].get("motifs") or []) if i else [])])
        assert world.places_beyond(n["prose"], meta, w.persona) <= 1, n["prose"]


def test_at_most_three_exact_figures_a_dream_and_every_one_backed(month):
    w, nights = month
    for n in nights:
        assert world.exact_figures(n["prose"]) <= 3, n["prose"]
        assert audit(n["path"], n["store"]).ok


def test_no_sentence_without_a_job(month):
    w, nights = month
    for i, n in enumerate(nights):
        meta = dict(n["meta"], motifs=[*(n["meta"].get("motifs") or []),
                                       *((nights[i - 1]["meta"].get("motifs") or []) if i else [])])
        assert world.filler(n["prose"], meta) == [], n["prose"]


def test_the_agents_own_words_come_back_on_most_nights_and_feed_titles_on_few(month):
    w, nights = month
    own = sum(world.own_words_said(n["prose"], w) for n in nights)
    assert own >= 0.6 * len(nights)
    titles = [t.lower() for t in world.TITLES]
    quoted = sum(any(t in q.lower() for t in titles for q in re.findall(r"\u201c([^\u201d]*)\u201d",
                                                                      n["prose"]))
                 for n in nights)
    assert quoted <= len(nights) // 2
    for n in nights:
        qs = [q for q in re.findall(r"\u201c([^\u201d]*)\u201d", n["prose"])
              if any(t in q.lower() for t in titles)]
        assert len(qs) <= 1


def test_thirty_nights_do_not_read_like_one_night_said_thirty_times(month):
    # Self-BLEU-4 (each dream against the other 29): a month of dreams an owner reads on
    # a world nobody tuned for, the agent's own places and words included
    w, nights = month
    assert world.self_bleu([world.tokens(n["prose"]) for n in nights]) <= 0.30


def test_something_of_last_night_comes_back_on_some_nights(month):
    w, nights = month
    back = 0
    for prev, n in zip(nights, nights[1:]):
        motifs = [m.lower() for m in prev["meta"].get("motifs") or []]
        back += any(m in n["prose"].lower() for m in motifs)
    assert back >= 5


def test_money_reputation_and_work_are_spoken_of_when_they_moved_beyond_their_noise(month):
    w, nights = month
    for n in nights:
        for s in world.moved(n["digest"]):
            assert world.spoken(n["prose"], n["digest"], s), (s, n["prose"])


def test_a_move_within_its_noise_is_not_told(month):
    w, nights = month
    quiet = [(n, s) for n in nights for s in n["digest"].signals
             if s.kind == "money" and s.change and not s.beyond_noise
             and not any(x.signal == s.signal for x in n["digest"].notable)]
    from reverie.perception.dreams.offline import amount

    for n, s in quiet:
        assert amount(s.last, s.unit) not in n["prose"]


def test_no_wrong_sentence_added_to_a_real_dream_passes_the_audit(month):
    from reverie.perception.audit import Record, check
    from reverie.perception.digest import NotableRules, build_digest
    from datetime import datetime

    w, nights = month
    for n in nights[::3]:
        dg = n["digest"]
        rec = Record.of(build_digest(n["store"], datetime.fromisoformat(dg.start),
                                     datetime.fromisoformat(dg.end),
                                     rules=NotableRules(items_cap=10000)))
        for p in world.probes(dg):
            assert not check(n["prose"] + "\n" + p, rec).ok, p
