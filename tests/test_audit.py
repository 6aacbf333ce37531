"""`reverie audit`: every number in a dream's prose against its record."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from reverie.memory.store import Store
from reverie.perception.audit import audit

UTC = timezone.utc
START = datetime(2026, 6, 9, 3, tzinfo=UTC)
END = START + timedelta(hours=24)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "r.db")
    s.record_run("weather", START - timedelta(hours=1), ok=True,
                  readings=[("weather.temperature", 6.0, None, "°C")])
    s.record_run("weather", START + timedelta(hours=2), ok=True,
                  readings=[("weather.temperature", 4.25, None, "°C")])
    s.record_run("moltbook", START + timedelta(hours=3), ok=True,
                  readings=[("moltbook.karma", 1284, None, None)])
    yield s
    s.close()


def dream(prose, receipt=""):
    return (f"---\ndate: '2026-06-10'\ncycle_start: '{START.isoformat()}'\n"
            f"cycle_end: '{END.isoformat()}'\n---\n\n{prose}\n\n## Receipt\n\n{receipt}")


def test_numbers_from_the_record_are_backed_within_the_rounding_shown(store):
    report = audit(dream("It was 4.25 °C, then 4.3, then 4 degrees, down 1.75 °C, and 1,284 voices sang."), store)
    assert [f.text for f in report.findings] == ["4.25", "4.3", "4", "1.75", "1,284"]
    assert report.ok and report.record == "store"


def test_an_invented_number_is_caught(store):
    report = audit(dream("The coins came to 977 and the air was 4.25 °C."), store)
    assert not report.ok
    assert [f.text for f in report.unbacked] == ["977"]


def test_a_rounding_finer_than_the_record_is_not_backed(store):
    assert not audit(dream("It was 4.3 °C, exactly 4.31."), store).ok


def test_numbers_in_the_front_matter_and_receipt_are_not_audited(store):
    report = audit(dream("Nothing but fog.", receipt="- weather.temperature: first 999"), store)
    assert report.findings == [] and report.ok


def test_without_the_cycle_in_the_store_the_receipt_is_the_record(tmp_path):
    empty = Store.open(tmp_path / "e.db")
    text = dream("The well held 12.5 and 7.", receipt="- wallet.balance: last 12.5")
    report = audit(text, empty)
    assert report.record == "receipt"
    assert [(f.text, f.backed) for f in report.findings] == [("12.5", True), ("7", False)]


def test_a_file_path_is_read_and_lines_are_numbered_as_in_the_file(store, tmp_path):
    p = tmp_path / "d.md"
    p.write_text(dream("First line.\n\nThe count was 55."))
    report = audit(str(p), store)
    line = p.read_text().split("\n").index("The count was 55.") + 1
    assert report.findings[0].line == line
    assert f"{p}:{line}: 55  UNBACKED" in report.format()
    assert report.format().splitlines()[-1].startswith(
        "1 number checked against the store: 1 unbacked; a random integer 1-100 would pass")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_is_audited_without_crashing(text):
    report = audit(text, None)
    report.format()
    assert isinstance(report.ok, bool)


def _with_title(store, title):
    store.record_run("blog", START + timedelta(hours=4), ok=True,
                      items=[{"uid": "t1", "title": title}])


def test_a_figure_in_an_untrusted_feed_title_backs_nothing_in_the_prose(store):
    _with_title(store, "What 999 ETH buys you")
    report = audit(dream("The well held 999 ETH and the karma was 1284."), store)
    assert [(f.text, f.backed) for f in report.findings] == [("999", False), ("1284", True)]


def test_a_quotation_of_the_title_may_carry_its_figure(store):
    _with_title(store, "What 999 ETH buys you")
    assert audit(dream("A letter said \u201cWhat 999 ETH buys you\u201d and nothing else."), store).ok
    assert not audit(dream("A letter said \u201c999 ETH for you\u201d."), store).ok


def test_number_words_are_read_and_checked(store):
    report = audit(dream("One by one, forty voices and one thousand two hundred and eighty-four."),
                   store)
    assert [(f.text, f.value, f.backed) for f in report.findings] == [
        ("forty", 40, False), ("one thousand two hundred and eighty-four", 1284, True)]


def test_a_figure_with_a_unit_needs_a_record_figure_of_that_unit(store):
    # 4.25 is a temperature: not a balance, not a percentage
    assert audit(dream("It was 4.25 °C, or 4 degrees."), store).ok
    assert not audit(dream("The purse held 4.25 ETH."), store).ok
    assert not audit(dream("It rose 4.25%."), store).ok
    # 6 -> 4.25 °C is no "29 %" fall: a temperature moves by degrees, never by percent
    assert not audit(dream("The air fell by about 29%."), store).ok
    assert audit(dream("The air fell by 1.75 degrees."), store).ok


def test_the_report_says_how_often_a_random_integer_would_pass(store):
    report = audit(dream("It was 4 degrees."), store)
    # the record's only count is karma's 1284: no integer 1-100 passes as a count
    assert report.chances == {"a count": 0.0, "N %": 0.0, "about N %": 0.0}
    assert report.format().endswith("a random integer 1-100 would pass as a count 0%, "
                                    'as "N %" 0%, as "about N %" 0% of the time')


# -- an audit that cannot be talked round -------------------------------------------------

@pytest.fixture
def night(tmp_path):
    """A typical night: a SOL wallet up 2.2 %, humidity 87-95 %, -4.4 °C, karma and stars."""
    s = Store.open(tmp_path / "n.db")
    s.record_run("w", START - timedelta(hours=1), ok=True, readings=[
        ("wallet.balance", 22.0, None, "SOL"), ("weather.temperature", -2.0, None, "°C"),
        ("weather.relative_humidity", 87, None, "%"), ("moltbook.karma", 1284, None, None),
        ("repo.stars", 45, None, None)])
    s.record_run("w", START + timedelta(hours=3), ok=True, readings=[
        ("wallet.balance", 22.49, None, "SOL"), ("weather.temperature", -4.4, None, "°C"),
        ("weather.relative_humidity", 95, None, "%"), ("moltbook.karma", 1330, None, None),
        ("repo.stars", 45, None, None)])
    yield s
    s.close()


@pytest.mark.parametrize("wrong", [
    "The wallet balance fell by 2.2%.",          # it rose
    "It was 4 degrees above zero.",              # -4.4 °C
    "A crowd of 22 stars gathered.",             # 22.49 SOL is no count of stars
    "The purse held 14k SOL.",                   # read as 14 000
    "The purse held a million SOL.",
    "The purse held 1.2M SOL.",
    "The stars doubled overnight.",              # 45 -> 45
    "I met the 57th star.",                      # an ordinal is a number
    "The forty-seventh voice was mine.",
    "The humidity grew by about 90%.",           # a reading backs no change
    "About 1400 voices sang.",                   # 1330 is not within 5 %
    "The karma fell by 46.",                     # it rose by 46
    "The air cooled by 120%.",                   # no percent of degrees
])
def test_a_wrong_sentence_of_every_kind_is_caught(night, wrong):
    report = audit(dream("A quiet harbour, and the tide came in. " + wrong), night)
    assert not report.ok, report.format()


@pytest.mark.parametrize("right", [
    "The wallet balance rose by 2.2%, to 22.49 SOL.",
    "It was 4 below zero, or 4.4 degrees of frost.",
    "The air held 95% humidity.",
    "About 1300 voices sang; the karma rose by 46.",
    "The karma came to 1,330, and 45 stars looked on.",
])
def test_the_same_kinds_said_truly_pass(night, right):
    report = audit(dream(right), night)
    assert report.ok, report.format()


def test_on_a_typical_night_a_random_figure_rarely_passes_in_any_form(night):
    report = audit(dream("The tide came in."), night)
    assert set(report.chances) == {"a count", "N %", "about N %"}
    assert all(p <= 0.10 for p in report.chances.values()), report.chances
    line = report.format().splitlines()[-1]
    assert "as a count" in line and 'as "N %"' in line and 'as "about N %"' in line
