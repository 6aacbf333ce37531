"""How the offline dream reads: percentages as prose writes them, nouns and verbs that agree,
articles that fit the next word, warmth and cold only of a temperature."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from reverie.memory.store import Store
from reverie.perception.audit import audit
from reverie.perception.digest import build_digest
from reverie.perception.dreams.offline import compose, fmt_pct

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
END = T0 + timedelta(days=1)
SINGULAR = r"voice|person|room|time|try|minute|page|word|letter|envelope|knock"
PLURAL = r"voices|people|rooms|times|tries|minutes|pages|words|letters|envelopes|knocks"


def _night(store: Store, hours: list[tuple[int, list, bool]]) -> None:
    for h, readings, ok in hours:
        for r in readings:
            store.record_run(r[0].split(".")[0], T0 + timedelta(hours=h), ok=ok, readings=[r])


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Forty nights over one digest where counts go 1 -> 0, 0 -> 1, karma below zero and
    the wallet gains 83 %."""
    store = Store.open(tmp_path_factory.mktemp("polish") / "r.db")
    before = [("moltbook.followers", 1, None, None), ("posts.count", 0, None, None),
              ("moltbook.karma", -5, None, None), ("wallet.balance", 6, None, "ETH")]
    after = [("moltbook.followers", 0, None, None), ("posts.count", 1, None, None),
             ("moltbook.karma", -12, None, None), ("wallet.balance", 11, None, "ETH")]
    _night(store, [(-2, before, True), (2, before, False), (6, after, True), (10, after, True)])
    dg = build_digest(store, T0, END)
    out = [compose(dg, date(2026, 3, 2) + timedelta(days=i), recent={})[0] for i in range(40)]
    yield store, dg, out
    store.close()


def test_a_percentage_has_one_decimal_below_ten_and_none_from_ten():
    assert fmt_pct(83.3333) == "83"
    assert fmt_pct(-4.237) == "4.2"
    assert fmt_pct(82.5) == "83"
    assert fmt_pct(9.96) == "10"
    assert fmt_pct(5.0) == "5"


def test_percentages_in_the_dream_read_as_prose_writes_them(nights):
    _, _, prose = nights
    shown = [m for p in prose for m in re.findall(r"([\d.]+)%", p)]
    assert shown, "no night showed a percentage"
    for figure in shown:
        assert re.fullmatch(r"\d+(\.\d)?", figure), figure
        assert float(figure) < 10 or "." not in figure, figure
    assert "83%" in " ".join(prose)


def test_rounded_percentages_are_still_backed_by_the_record(nights):
    store, dg, prose = nights
    for p in prose:
        text = f"---\ncycle_start: '{dg.start}'\ncycle_end: '{dg.end}'\n---\n\n{p}\n"
        report = audit(text, store)
        assert report.ok, report.format()


def test_counted_nouns_agree_with_their_number(nights):
    text = "\n".join(nights[2])
    assert re.findall(rf"(?<![\d.])-?1 ({PLURAL})\b", text) == []
    assert re.findall(rf"(?<![\d.])(?:0|[2-9]|\d\d+) ({SINGULAR})\b", text) == []
    assert re.search(r"\b(one page|a single voice)\b", text), "no singular count shown"


def test_a_negative_figure_is_never_a_count_of_voices_or_people(nights):
    text = "\n".join(nights[2])
    assert not re.search(r"-\d+ (voices?|people|person)\b", text)
    assert "below nothing" in text


def test_a_zero_is_said_in_words_or_not_at_all(nights):
    text = "\n".join(nights[2])
    assert not re.search(r"(?<![\d.,])0(?![.,]?\d)", text)
    assert "zero" in text


def test_a_sentence_that_opens_on_time_takes_no_second_lead(nights):
    text = "\n".join(nights[2])
    assert not re.search(r"\b(Then|Later|After that|Much later|Meanwhile),? (after|then|for|later)\b",
                         text, re.IGNORECASE)


def test_a_sky_that_ends_as_it_began_is_not_told_as_a_change(tmp_path):
    store = Store.open(tmp_path / "r.db")
    for h, cond in enumerate(["fog", "drizzle", "fog"]):
        store.record_run("weather", T0 + timedelta(hours=h + 1), ok=True,
                          readings=[("weather.condition", None, cond, None)])
    dg = build_digest(store, T0, END)
    for i in range(30):
        prose = compose(dg, date(2026, 3, 2) + timedelta(days=i), recent={})[0]
        assert not re.search(r"from fog to fog|fog at first, fog by the end|First fog, then fog",
                             prose, re.IGNORECASE), prose
    store.close()


def test_a_session_under_a_minute_is_told_as_only_a_moment(tmp_path):
    store = Store.open(tmp_path / "r.db")
    at = T0 + timedelta(hours=3)
    store.start_session("s1", at, None, "a wake")
    store.end_session("s1", at + timedelta(seconds=20), "exited", 0)
    dg = build_digest(store, T0, END)
    told = []
    for i in range(30):
        prose = compose(dg, date(2026, 3, 2) + timedelta(days=i), recent={})[0]
        assert not re.search(r"(?<!only )(for|all told|in all) a moment", prose), prose
        told += re.findall(r"[^.]*only for a moment[^.]*\.", prose)
    store.close()
    assert len(told) >= 25, told  # the session is the night's one event: nearly always told


WEEK_END = datetime(2026, 6, 20, 18, 0, tzinfo=UTC)


def _weather_week(store: Store) -> None:
    """Eight days of hourly temperature and wind readings up to WEEK_END."""
    for h in range(24 * 8):
        store.record_run("weather", WEEK_END - timedelta(hours=h), ok=True, readings=[
            ("weather.temperature", 10 + (h % 7), None, "°C"),
            ("weather.wind_speed", 5 + (h % 11) * 2.5, None, "km/h")])


def _weather_nights(store: Store, n: int = 40) -> list[str]:
    _weather_week(store)
    out = []
    for i in range(n):
        start = WEEK_END - timedelta(hours=24 + (i % 5))
        out.append(compose(build_digest(store, start, WEEK_END), date(2026, 6, 1) + timedelta(days=i))[0])
    return out


def test_warmth_and_cold_are_said_only_of_a_temperature(store):
    for prose in _weather_nights(store):
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


def test_no_dream_says_a_before_a_vowel_or_an_hourglass_wrongly(store):
    for prose in _weather_nights(store):
        assert not re.search(r"\b[Aa] (hourglass|amber|ochre|ink|upside|echoing|enormous)", prose), prose


def test_a_plural_signal_name_takes_a_plural_verb(store):
    for h, n in enumerate([10, 12, 19, 25]):
        store.record_run("blog", WEEK_END - timedelta(hours=30 - h * 8), ok=True,
                          readings=[("blog.total_items", n, None, "items")])
    dg = build_digest(store, WEEK_END - timedelta(hours=24), WEEK_END)
    for i in range(30):
        prose = compose(dg, date(2026, 6, 1) + timedelta(days=i))[0]
        assert not re.search(r"total items (swells|presses|falls|stays|touches|holds)\b", prose), prose
