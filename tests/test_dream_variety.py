"""Variety: thirty nights that do not read like one night said thirty times (issue 12, point 5).

The world and the reader's measures are the dream bench's (bench/dreams_bench.py).
"""

import importlib.util
import re
from pathlib import Path

import pytest

from reverie.perception.dreams import _phrases
from reverie.perception.dreams.offline import compose, referents, runs

_spec = importlib.util.spec_from_file_location(
    "dreams_bench", Path(__file__).resolve().parent.parent / "bench" / "dreams_bench.py")
world = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(world)

OWN = {"the green ferry": "the ferry", "my grandmother's radio": "the radio",
       "the tall lighthouse": "the lighthouse"}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    out = world.write_nights(tmp_path_factory.mktemp("month") / "home")
    yield out
    out[0]["store"].close()


def test_self_bleu_4_over_thirty_nights_is_at_most_035(nights):
    assert world.self_bleu([world.tokens(n["prose"]) for n in nights]) <= 0.35


def test_the_plain_python_self_bleu_agrees_with_nltks(nights):
    nltk = pytest.importorskip("nltk.translate.bleu_score")
    assert nltk is not None
    toks = [world.tokens(n["prose"]) for n in nights[:8]]
    assert abs(world._self_bleu_plain(toks) - world.self_bleu(toks)) < 1e-6


def test_a_thing_is_named_whole_first_then_by_its_head_noun_or_its_name():
    assert referents("the green ferry") == ["the green ferry", "the ferry"]
    assert referents("my grandmother's radio") == ["my grandmother's radio", "the radio"]
    assert referents("a coil of rope") == ["a coil of rope", "the coil"]
    assert referents("a room key on a wooden fob") == ["a room key on a wooden fob", "the key"]
    assert referents("Ink the cat") == ["Ink the cat", "Ink", "the cat"]
    assert referents("Wren") == ["Wren"]
    assert referents("the levers") == ["the levers"]


def test_after_the_opening_the_agents_motifs_are_also_called_by_their_short_names(nights):
    shortened = 0
    for n in nights:
        opening, rest = re.split(r"(?<=\.) ", n["prose"], maxsplit=1)
        for whole, short in OWN.items():
            if whole in opening.lower():
                shortened += short in re.sub(re.escape(whole), " ", rest.lower())
    assert shortened >= 5


def test_the_labels_are_not_always_said_with_the_same_words_around_them(nights):
    # "the wallet balance is ...", "my karma settles at ...": the words around a label vary
    around = []
    for n in nights:
        ws = world.tokens(n["prose"])
        around += [" ".join(ws[max(i - 2, 0):i + 2]) for i, w in enumerate(ws)
                   if w in ("karma", "balance")]
    assert len(around) >= 20
    assert len(set(around)) >= 0.8 * len(around)


def test_every_kind_of_subject_has_several_sentence_frames():
    for pool in ("open", "sky", "money.up", "money.down", "money.small", "reputation.up",
                 "reputation.down", "work.up", "sessions", "items.one", "close"):
        assert len(_phrases.T[pool]) >= 2, pool


def test_the_dryness_memory_rests_the_runs_of_words_of_recent_nights(nights):
    n = nights[5]
    fresh = compose(n["digest"], n["day"], recent={})[0]
    rested = compose(n["digest"], n["day"], recent={k: 1 for k in runs(fresh)})[0]
    assert len(runs(rested) & runs(fresh)) < 0.3 * len(runs(fresh))


def test_the_dryness_memory_rests_the_three_word_runs_of_recent_nights_too(nights):
    # the joints between a frame's parts ("awake a fair while", "into a clear sky") are
    # three words long: resting only those still makes a different dream
    n = nights[12]
    fresh = compose(n["digest"], n["day"], recent={})[0]
    rested = compose(n["digest"], n["day"], recent={k: 1 for k in runs(fresh, 3)})[0]
    assert len(runs(rested, 3) & runs(fresh, 3)) < 0.3 * len(runs(fresh, 3))


def test_a_counted_figure_and_its_verb_agree(nights):
    for n in nights:
        text = n["prose"]
        assert not re.search(r"\b(?:a single|one|a lone) (?:voice|page) (?:join|leave|rise|gather|"
                             r"arrive|sing|call|start|drift|slip|fall|go|turn|lie|wait|hang)\b", text)
        assert not re.search(r"\b(?:[2-9]|\d\d+|two|three|four|five|six|seven|eight|nine) "
                             r"(?:voices|pages) (?:joins|leaves|rises|gathers|arrives|sings|calls|"
                             r"starts|drifts|slips|falls|goes|turns|lies|waits|hangs)\b", text)
