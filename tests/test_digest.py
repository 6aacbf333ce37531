"""The cycle's digest over a known store: exact figures."""

from datetime import datetime, timedelta, timezone

import pytest

from reverie.perception.digest import NotableRules, build_digest, classify, notable_since

UTC = timezone.utc
T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)  # the cycle starts here
END = T0 + timedelta(hours=24)


def poll(store, source, at, readings=(), ok=True, items=()):
    store.record_run(source, at, ok=ok, readings=readings, items=items,
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
    assert s.n == 3 and s.kind == "reputation" and s.label == "karma"


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
    assert dg.notable[0].text == "karma fell 25% (200 -> 150)"


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
    assert "temperature: new high of 14.5 °C" in texts
    assert "temperature: new low of 8.25 °C" in texts


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
    assert notable_since(store, T0, END) == ["karma rose 200% (100 -> 300)"]


@pytest.mark.parametrize("signal,unit,kind", [
    ("weather.temperature", "°C", "weather"), ("weather.condition", None, "weather"),
    ("wallet.balance", "ETH", "money"), ("sol.value", "SOL", "money"),
    ("moltbook.karma", None, "reputation"), ("moltbook.followers", None, "reputation"),
    ("mail.unread", None, "reputation"), ("blog.new_items", None, "items"),
    ("posts.count", None, "work"), ("posts.words", None, "work"),
    ("api.failures", None, "health"), ("system.load", None, "host"), ("x.ratio", None, "other"),
])
def test_without_a_config_signals_are_classified_by_field_name_and_unit(signal, unit, kind):
    assert classify(signal, unit) == kind


def spec(**kw):
    from reverie.perception.sources import SourceSpec

    return SourceSpec(**kw)


def test_a_source_type_gives_its_signals_their_kind_and_the_config_overrides_it(store):
    poll(store, "eth", T0 + timedelta(hours=1), [("eth.balance", 1.5, None, "ETH")])
    poll(store, "site", T0 + timedelta(hours=1), [("site.score", 7, None, None),
                                                  ("site.visits", 70, None, None)])
    poll(store, "essays", T0 + timedelta(hours=1), [("essays.count", 7, None, None)])
    sources = [spec(name="eth", type="wallet"),
               spec(name="site", type="http_json", kind={"score": "reputation"},
                    label={"score": "standing among peers"}),
               spec(name="essays", type="feed", kind="work")]
    dg = build_digest(store, T0, END, sources=sources)
    got = {s.signal: (s.kind, s.label) for s in dg.signals}
    assert got == {"eth.balance": ("money", "eth balance"),
                   "site.score": ("reputation", "standing among peers"),
                   "site.visits": ("other", "visits"),
                   "essays.count": ("work", "essays")}


def test_a_label_is_never_the_raw_signal_name(store):
    for sig in ("weather.wind_speed", "wallet.balance", "posts.count", "posts.words", "blog.total_items"):
        poll(store, sig.split(".")[0], T0 + timedelta(hours=1), [(sig, 1, None, None)])
    labels = {s.signal: s.label for s in build_digest(store, T0, END).signals}
    assert labels == {"weather.wind_speed": "wind speed", "wallet.balance": "wallet balance",
                      "posts.count": "posts", "posts.words": "words in posts",
                      "blog.total_items": "blog"}


def _daily(store, signal, values, unit=None):
    for d, v in enumerate(values):
        at = T0 - timedelta(days=len(values) - d) + timedelta(hours=1)
        poll(store, signal.split(".")[0], at, [(signal, v, None, unit)])


def test_a_change_is_notable_against_the_signals_own_usual_movement_not_raw_percent(store):
    # rain drifts a lot in percent every day; a wallet barely moves, then loses 5 %
    _daily(store, "weather.precipitation", [0.1, 0.7, 0.2, 0.9, 0.1, 0.6, 0.2, 0.8, 0.1], "mm")
    _daily(store, "wallet.balance", [1.0, 1.001, 0.999, 1.0, 1.002, 1.0, 0.999, 1.001, 1.0], "ETH")
    poll(store, "weather", T0 + timedelta(hours=3), [("weather.precipitation", 0.7, None, "mm")])
    poll(store, "wallet", T0 + timedelta(hours=3), [("wallet.balance", 0.95, None, "ETH")])
    dg = build_digest(store, T0, END)
    assert [n.signal for n in dg.notable if n.what == "change"] == ["wallet.balance"]
    assert dg.lead().signal == "wallet.balance"


def test_a_thunderstorm_is_an_event_and_can_lead_the_night(store):
    poll(store, "weather", T0 + timedelta(hours=2), [("weather.condition", None, "overcast", None)])
    poll(store, "weather", T0 + timedelta(hours=5), [("weather.condition", None, "thunderstorm", None)])
    dg = build_digest(store, T0, END)
    assert dg.lead().what == "storm" and dg.lead().text == "condition: thunderstorm"


def test_an_unknown_kind_in_the_config_is_one_clear_error():
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as e:
        spec(name="site", type="http_json", kind={"score": "coins"})
    assert e.value.errors()[0]["msg"] == (
        "Value error, unknown kind 'coins' (use one of: money, reputation, work, items, "
        "weather, health, host, other)")


def test_a_feed_new_items_count_dropping_back_to_zero_is_not_notable(store):
    now = datetime(2026, 6, 20, 18, 0, tzinfo=UTC)
    poll(store, "blog", now - timedelta(hours=3), [("blog.new_items", 2, None, "items")])
    poll(store, "blog", now - timedelta(hours=1), [("blog.new_items", 0, None, "items")])
    dg = build_digest(store, now - timedelta(hours=2), now)
    assert dg.notable == []
