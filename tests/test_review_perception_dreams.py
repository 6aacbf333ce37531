"""Review fixes: past-date dreams, latest.md, and the offline dream's grammar."""

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from reverie.memory.home import Home
from reverie.memory.store import Store
from reverie.perception.digest import build_digest
from reverie.perception.dreams import DreamOptions
from reverie.perception.dreams.offline import compose
from reverie.perception.dreams.write import write_dream

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 20, 18, 0, tzinfo=UTC)


def _store(tmp_path, days=8):
    store = Store.open(tmp_path / ".reverie" / "reverie.db")
    for h in range(24 * days):
        ts = NOW - timedelta(hours=h)
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.temperature", 10 + (h % 7), None, "°C"),
            ("weather.wind_speed", 5 + (h % 11) * 2.5, None, "km/h")])
    return store


def _home(tmp_path):
    home = Home.at(tmp_path)
    home.ensure()
    return home


def test_a_dream_for_an_earlier_date_covers_that_night_not_the_last_24_hours(tmp_path):
    home, store = _home(tmp_path), _store(tmp_path)
    opts = DreamOptions()
    write_dream(home, store, opts, day=date(2026, 6, 16), tz=BERLIN, now=NOW)
    write_dream(home, store, opts, day=date(2026, 6, 17), tz=BERLIN, now=NOW)
    row = store.dream("2026-06-17")
    assert row.cycle_end == datetime(2026, 6, 17, 5, 0, tzinfo=BERLIN)
    assert row.cycle_start == datetime(2026, 6, 16, 5, 0, tzinfo=BERLIN)


def test_rewriting_an_earlier_dream_leaves_latest_md_on_the_newest(tmp_path):
    home, store = _home(tmp_path), _store(tmp_path)
    opts = DreamOptions()
    write_dream(home, store, opts, day=date(2026, 6, 20), tz=BERLIN, now=NOW)
    write_dream(home, store, opts, day=date(2026, 6, 18), tz=BERLIN, now=NOW)
    write_dream(home, store, opts, day=date(2026, 6, 18), tz=BERLIN, now=NOW, force=True)
    assert home.latest_dream.resolve().name == "2026-06-20.md"


def _nights(tmp_path, n=40):
    store = _store(tmp_path)
    out = []
    for i in range(n):
        day = date(2026, 6, 1) + timedelta(days=i)
        start = NOW - timedelta(hours=24 + (i % 5))
        dg = build_digest(store, start, NOW)
        out.append(compose(dg, day)[0])
    return out


def test_warmth_and_cold_are_said_only_of_a_temperature(tmp_path):
    for prose in _nights(tmp_path):
        for m in re.finditer(r"(warmer than it should be|[Hh]eat gathers|[Hh]eat gathered|"
                             r"[Tt]he warmth climb|breath;|[Tt]he cold arrive)[^.]*", prose):
            assert "km/h" not in m.group(0), m.group(0)


def test_articles_agree_with_the_sound_of_the_next_word():
    from reverie.perception.dreams.offline import _article

    assert _article("hourglass") == "an"
    assert _article("amber") == "an"
    assert _article("upside-down") == "an"
    assert _article("unicorn") == "a"
    assert _article("lantern") == "a"


def test_no_dream_says_a_before_a_vowel_or_an_hourglass_wrongly(tmp_path):
    for prose in _nights(tmp_path):
        assert not re.search(r"\b[Aa] (hourglass|amber|ochre|ink|upside|echoing|enormous)", prose), prose


def test_a_plural_signal_name_takes_a_plural_verb(tmp_path):
    store = Store.open(tmp_path / "r.db")
    for h, n in enumerate([10, 12, 19, 25]):
        store.record_run("blog", NOW - timedelta(hours=30 - h * 8), ok=True,
                          readings=[("blog.total_items", n, None, "items")])
    dg = build_digest(store, NOW - timedelta(hours=24), NOW)
    for i in range(30):
        prose = compose(dg, date(2026, 6, 1) + timedelta(days=i))[0]
        assert not re.search(r"total items (swells|presses|falls|stays|touches|holds)\b", prose), prose


def test_a_feed_new_items_count_dropping_back_to_zero_is_not_notable(tmp_path):
    store = Store.open(tmp_path / "r.db")
    store.record_run("blog", NOW - timedelta(hours=3), ok=True,
                      readings=[("blog.new_items", 2, None, "items")])
    store.record_run("blog", NOW - timedelta(hours=1), ok=True,
                      readings=[("blog.new_items", 0, None, "items")])
    dg = build_digest(store, NOW - timedelta(hours=2), NOW)
    assert dg.notable == []


def test_a_chart_range_never_reads_minus_zero():
    from reverie.perception.text import distinct

    assert distinct(-0.3, 16.9) == ("0", "17")
    assert distinct(-1.2, 16.9) == ("-1", "17")
