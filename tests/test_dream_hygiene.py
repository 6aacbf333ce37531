"""Prose hygiene a reader notices at once, and the lead of a fresh home's first dream.

The reader's checks are the dream bench's (bench/dreams_bench.py ``defects``): each defect
class below is one a `reverie demo` dream once showed. The world is the demo's second
round, in a store with no history (so no usual movement is known for any signal).
"""

import importlib.util
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from reverie.perception.digest import build_digest
from reverie.perception.dreams.offline import amount, compose
from reverie.perception.sources import SourceSpec

_spec = importlib.util.spec_from_file_location(
    "dreams_bench", Path(__file__).resolve().parent.parent / "bench" / "dreams_bench.py")
world = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(world)

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
DATES = [date(2026, 12, 1) + timedelta(days=k) for k in range(24)]


@pytest.mark.parametrize("bad, good, kind", [
    ("Thunder shook the glass tunnel .", "Thunder shook the glass tunnel.",
     "space before punctuation"),
    ("My karma, a lifeguard said, said 1603.", "My karma, a lifeguard said, stood at 1603.",
     "verb twice in a clause"),
    ("The night split open, thunderstorm, and thunder shook the tunnel.",
     "The night split open with a thunderstorm, and thunder shook the tunnel.", "bare condition"),
    ("The desert went from overcast turning light rain, 5 degrees.",
     "The sky over the desert went from overcast to a thunderstorm, then light rain, 5 degrees.",
     "from without to"),
])
def test_the_hygiene_check_marks_each_defect_class_and_passes_its_correction(bad, good, kind):
    assert any(d.startswith(kind) for d in world.defects(bad)), world.defects(bad)
    assert world.defects(good) == []


def _demo_world(store):
    """The demo's first two rounds: a storm, the wallet down 40 %, karma +319, two posts."""
    r1, r2, r3 = T0 + timedelta(hours=1), T0 + timedelta(hours=3), T0 + timedelta(hours=6)
    for ts, cond, temp in ((r1, "overcast", 6.4), (r2, "thunderstorm", 5.5), (r3, "light rain", 4.8)):
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.condition", None, cond, None), ("weather.temperature", temp, None, "°C")])
    for ts, bal, karma, followers, unread, posts in ((r1, 1.25, 1284, 310, 2, 1),
                                                    (r2, 0.752, 1603, 341, 4, 3)):
        store.record_run("wallet", ts, ok=True, readings=[("wallet.balance", bal, None, "ETH")])
        store.record_run("moltbook", ts, ok=True, readings=[
            ("moltbook.karma", karma, None, None), ("moltbook.followers", followers, None, None),
            ("moltbook.unread", unread, None, None)])
        store.record_run("posts", ts, ok=True, readings=[("posts.count", posts, None, "files")])
    specs = [SourceSpec(name="weather", type="weather"), SourceSpec(name="wallet", type="wallet"),
             SourceSpec(name="moltbook", type="moltbook"), SourceSpec(name="posts", type="files")]
    return build_digest(store, T0, T0 + timedelta(hours=24), sources=specs)


def test_without_history_the_wallets_forty_percent_fall_leads_over_a_bigger_percent_in_posts(store):
    dg = _demo_world(store)
    assert dg.signal("posts.count").change_pct == 200.0  # the biggest raw percent
    assert dg.lead().signal == "wallet.balance"
    ranked = [n.signal for n in sorted(dg.notable, key=lambda n: -n.score) if n.what == "change"]
    assert ranked.index("moltbook.karma") < ranked.index("posts.count")


def test_a_fresh_homes_dream_says_the_wallets_fall_in_its_first_paragraph_every_night(store):
    dg = _demo_world(store)
    for day in DATES:
        first = compose(dg, day)[0].split("\n\n")[0]
        assert amount(0.752, "ETH") in first and re.search(r"\b40%", first), (day, first)


def test_a_change_of_weather_is_said_from_one_condition_to_the_next_in_order(store):
    dg = _demo_world(store)
    for day in DATES:
        prose = compose(dg, day)[0]
        said = re.search(r"overcast[^.]*?thunderstorm[^.]*?light rain", prose)
        assert said, (day, prose)
        assert not re.search(r"\bfrom overcast (?!(to|into) a thunderstorm)", prose), prose


def test_the_demo_worlds_dreams_have_no_prose_defects(store):
    dg = _demo_world(store)
    names = [s.signal for s in dg.signals]
    for day in DATES:
        prose = compose(dg, day)[0]
        assert world.defects(prose, names) == [], (day, prose)


def test_a_long_change_of_weather_is_told_by_its_start_its_worst_and_its_end(store):
    for h, cond in enumerate(["light snow", "fog", "light snow", "thunderstorm", "light snow",
                              "clear sky"]):
        store.record_run("weather", T0 + timedelta(hours=h + 1), ok=True,
                         readings=[("weather.condition", None, cond, None)])
    dg = build_digest(store, T0, T0 + timedelta(hours=24))
    for day in DATES:
        prose = compose(dg, day)[0]
        told = re.search(r"light snow[^.;]*?thunderstorm[^.;]*?clear sky", prose)
        assert told and "fog" not in told.group(0), (day, prose)
        assert not re.search(r"light snow\W+(?:\w+\W+){0,2}light snow", prose), prose
