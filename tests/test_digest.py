"""The cycle's digest over a known store: exact figures."""

from datetime import datetime, timedelta, timezone

import pytest

from reverie.perception.digest import NotableRules, build_digest, classify, notable_since

UTC = timezone.utc
T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)  # the cycle starts here
END = T0 + timedelta(hours=24)


def poll(store, source, at, readings=(), ok=True, items=()):
    store.record_poll(source, at, ok=ok, readings=readings, items=items,
                      error=None if ok else "boom")


def karma(store, at, v):
    poll(store, "moltbook", at, [("moltbook.karma", v, None, None)])


def test_numeric_signal_has_first_last_min_max_and_change_from_the_reading_before_the_cycle(store):
    karma(store, T0 - timedelta(hours=8), 100)  # the last evening poll
    karma(store, T0 + timedelta(hours=1), 90)   # the overnight drop
    karma(store, T0 + timedelta(hours=5), 120)
    karma(store, T0 + timedelta(hours=9), 110)
    s = build_digest(store, T0, END).signal("moltbook.karma")
    assert (s.first, s.last, s.min, s.max, s.before) == (90, 110, 90, 120, 100)
    assert s.change == 10 and s.change_pct == 10.0
    assert s.n == 3 and s.kind == "voices"


def test_without_an_earlier_reading_the_change_is_measured_from_the_first_of_the_cycle(store):
    karma(store, T0 + timedelta(hours=1), 50)
    karma(store, T0 + timedelta(hours=2), 40)
    s = build_digest(store, T0, END).signal("moltbook.karma")
    assert s.before is None and s.change == -10 and s.change_pct == -20.0


def test_an_overnight_drop_is_notable(store):
    karma(store, T0 - timedelta(hours=3), 200)
    karma(store, T0 + timedelta(hours=2), 150)
    dg = build_digest(store, T0, END)
    assert [n.what for n in dg.notable] == ["change"]
    assert dg.notable[0].text == "moltbook.karma fell 25% (200 -> 150)"


def test_a_change_under_the_threshold_is_not_notable_unless_the_signal_has_its_own(store):
    karma(store, T0 - timedelta(hours=3), 100)
    karma(store, T0 + timedelta(hours=2), 105)
    assert build_digest(store, T0, END).notable == []
    rules = NotableRules(signals={"moltbook.karma": 2})
    assert [n.what for n in build_digest(store, T0, END, rules=rules).notable] == ["change"]


def test_a_new_thirty_day_high_and_low_are_notable(store):
    for d in range(1, 20):
        poll(store, "weather", T0 - timedelta(days=d), [("weather.temperature", 10 + d % 3, None, "°C")])
    poll(store, "weather", T0 + timedelta(hours=1), [("weather.temperature", 14.5, None, "°C")])
    poll(store, "weather", T0 + timedelta(hours=9), [("weather.temperature", 8.25, None, "°C")])
    dg = build_digest(store, T0, END)
    s = dg.signal("weather.temperature")
    assert s.high30 and s.low30 and s.unit == "°C" and s.kind == "weather"
    texts = [n.text for n in dg.notable]
    assert "weather.temperature: new high of 14.5 °C" in texts
    assert "weather.temperature: new low of 8.25 °C" in texts


def test_a_text_signal_keeps_its_arc_over_the_cycle(store):
    for h, c in enumerate(["clear sky", "clear sky", "fog", "light rain", "light rain"]):
        poll(store, "weather", T0 + timedelta(hours=h + 1), [("weather.condition", None, c, None)])
    s = build_digest(store, T0, END).signal("weather.condition")
    assert (s.text_first, s.text_last) == ("clear sky", "light rain")
    assert s.arc == ["clear sky", "fog", "light rain"] and s.last is None


def test_readings_outside_the_cycle_are_left_out(store):
    karma(store, T0 - timedelta(minutes=1), 1)
    karma(store, END + timedelta(minutes=1), 2)
    assert build_digest(store, T0, END).signals == []


def test_new_items_are_counted_per_source_and_their_titles_capped(store):
    items = [{"uid": f"u{i}", "title": f"Post {i}", "summary": "s"} for i in range(5)]
    poll(store, "blog", T0 + timedelta(hours=1), items=items)
    dg = build_digest(store, T0, END, rules=NotableRules(items_cap=3))
    assert dg.items_total == 5 and dg.items_by_source == {"blog": 5}
    assert len(dg.items) == 3
    assert "blog: 5 new items" in [n.text for n in dg.notable]


def test_a_source_that_started_failing_and_one_that_recovered(store):
    poll(store, "wallet", T0 - timedelta(hours=1))
    poll(store, "wallet", T0 + timedelta(hours=1), ok=False)
    poll(store, "wallet", T0 + timedelta(hours=2), ok=False)
    poll(store, "feed", T0 - timedelta(hours=1), ok=False)
    poll(store, "feed", T0 + timedelta(hours=1))
    dg = build_digest(store, T0, END)
    doors = {d.source: d for d in dg.doors}
    assert doors["wallet"].started_failing and doors["wallet"].failed == 2
    assert doors["feed"].stopped_failing
    texts = [n.text for n in dg.notable]
    assert "wallet: started failing (2 of 2 polls failed)" in texts
    assert "feed: recovered (0 of 1 polls failed)" in texts


def test_sessions_in_the_cycle_are_counted_with_their_minutes(store):
    store.start_session("a", T0 + timedelta(hours=3), 1, "wake")
    store.end_session("a", T0 + timedelta(hours=4, minutes=30), "slept", 0)
    store.start_session("b", T0 + timedelta(hours=23, minutes=40), 2, "wake")  # still running
    assert build_digest(store, T0, END).sessions == {"count": 2, "minutes": 110}


def test_file_counts_are_collected(store):
    poll(store, "posts", T0 + timedelta(hours=1), [("posts.count", 12, None, None),
                                                   ("posts.words", 3400, None, None)])
    assert build_digest(store, T0, END).files == {"posts.count": 12, "posts.words": 3400}


def test_the_digest_is_json_serialisable_and_its_hash_stable(store):
    import json

    karma(store, T0 + timedelta(hours=1), 7)
    a, b = build_digest(store, T0, END), build_digest(store, T0, END)
    json.dumps(a.to_dict())
    assert a.sha256() == b.sha256() and len(a.sha256()) == 64
    karma(store, T0 + timedelta(hours=2), 8)
    assert build_digest(store, T0, END).sha256() != a.sha256()


def test_notable_since_is_empty_on_a_quiet_night_and_one_line_per_event_otherwise(store):
    karma(store, T0 - timedelta(hours=1), 100)
    karma(store, T0 + timedelta(hours=1), 101)
    assert notable_since(store, T0, END) == []
    karma(store, T0 + timedelta(hours=2), 300)
    assert notable_since(store, T0, END) == ["moltbook.karma rose 200% (100 -> 300)"]


@pytest.mark.parametrize("signal,unit,kind", [
    ("weather.temperature", "°C", "weather"), ("weather.condition", None, "weather"),
    ("wallet.balance", "ETH", "balance"), ("sol.value", "SOL", "balance"),
    ("moltbook.karma", None, "voices"), ("moltbook.followers", None, "voices"),
    ("mail.unread", None, "voices"), ("blog.new_items", None, "letters"),
    ("posts.count", None, "files"), ("posts.words", None, "files"),
    ("api.failures", None, "doors"), ("system.load", None, "other"),
])
def test_signals_are_classified_by_field_name_and_unit(signal, unit, kind):
    assert classify(signal, unit) == kind
