"""reverie.daemon.conditions: wake_on conditions are parsed by a small grammar, never evaluated as code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reverie.daemon.conditions import parse_condition
from reverie.memory import clock
from reverie.memory.store import Store


NOW = clock.now().replace(microsecond=0)
SINCE = NOW - timedelta(hours=2)


def reading(store: Store, signal: str, value, ago: timedelta, text=None) -> None:
    source = signal.split(".")[0]
    store.record_run(source, NOW - ago, ok=True, readings=[(signal, value, text, None)])


@pytest.mark.parametrize("text, parts", [
    ("moltbook.unread > 0", ("moltbook.unread", False, ">", 0.0, False)),
    ("eth.balance change < -10%", ("eth.balance", True, "<", -10.0, True)),
    ("blog.new_items >= 1", ("blog.new_items", False, ">=", 1.0, False)),
    ("  host.load   change>=0.5 ", ("host.load", True, ">=", 0.5, False)),
    ("a.b.c != 3", ("a.b.c", False, "!=", 3.0, False)),
    ("w.temp <= -2.5", ("w.temp", False, "<=", -2.5, False)),
    ("w.temp==20", ("w.temp", False, "==", 20.0, False)),
])
def test_a_condition_is_a_signal_an_optional_change_an_operator_and_a_number(text, parts):
    c = parse_condition(text)
    assert (c.signal, c.change, c.op, c.threshold, c.percent) == parts


@pytest.mark.parametrize("text, message", [
    ("", "empty condition"),
    ("unread > 0", "'unread' is not a signal name"),
    ("moltbook.unread", "expected an operator (> >= < <= == !=) after 'moltbook.unread', got 'nothing'"),
    ("moltbook.unread >> 0", "expected a number after '>', got '>'"),
    ("moltbook.unread = 0", "unknown operator '=' (did you mean '=='?)"),
    ("moltbook.unread => 0", "unknown operator '=>' (did you mean '>='?)"),
    ("moltbook.unread > many", "expected a number after '>', got 'many'"),
    ("moltbook.unread > 0 and x", "unexpected 'and x' at the end"),
    ("moltbook.unread > 10%", "'%' applies only to a change"),
    ("eth.balance changes < 1", "expected an operator"),
    ("__import__('os').system('touch pwned') > 0", "is not a signal name"),
    ("eth.balance; rm -rf / > 0", "unexpected ';'"),
])
def test_a_malformed_condition_raises_a_clear_value_error(text, message):
    with pytest.raises(ValueError) as e:
        parse_condition(text)
    assert message in str(e.value)


def test_a_value_condition_compares_the_latest_reading(store):
    reading(store, "shop.unread", 0, timedelta(minutes=30))
    c = parse_condition("shop.unread > 0")
    assert c.evaluate(store, SINCE, NOW) is None
    reading(store, "shop.unread", 3, timedelta(minutes=1))
    assert c.evaluate(store, SINCE, NOW) == "shop.unread > 0 (shop.unread is 3)"


def test_a_change_condition_measures_from_the_value_at_the_last_wake(store):
    reading(store, "eth.balance", 100, timedelta(hours=3))   # the value at SINCE
    reading(store, "eth.balance", 95, timedelta(hours=1))
    c = parse_condition("eth.balance change < -10%")
    assert c.evaluate(store, SINCE, NOW) is None
    reading(store, "eth.balance", 88, timedelta(minutes=1))
    assert c.evaluate(store, SINCE, NOW) == \
        "eth.balance change < -10% (eth.balance 100 -> 88, -12.0%)"


def test_an_absolute_change_condition_uses_the_difference(store):
    reading(store, "host.load", 0.5, timedelta(hours=3))
    reading(store, "host.load", 2.0, timedelta(minutes=1))
    assert parse_condition("host.load change >= 1").evaluate(store, SINCE, NOW) == \
        "host.load change >= 1 (host.load 0.5 -> 2, +1.5)"


def test_a_signal_first_seen_after_the_last_wake_changes_from_its_first_reading(store):
    reading(store, "eth.balance", 100, timedelta(hours=1))
    reading(store, "eth.balance", 50, timedelta(minutes=1))
    assert parse_condition("eth.balance change < -10%").evaluate(store, SINCE, NOW)


def test_a_percent_change_from_zero_never_holds(store):
    reading(store, "eth.balance", 0, timedelta(hours=3))
    reading(store, "eth.balance", 5, timedelta(minutes=1))
    assert parse_condition("eth.balance change > 10%").evaluate(store, SINCE, NOW) is None


def test_new_items_counts_feed_items_first_seen_since_the_last_wake(store):
    store.record_run("blog", NOW - timedelta(hours=3), ok=True,
                      items=[{"uid": "old", "title": "Old"}])
    c = parse_condition("blog.new_items >= 1")
    assert c.evaluate(store, SINCE, NOW) is None
    store.record_run("blog", NOW - timedelta(minutes=5), ok=True,
                      items=[{"uid": "new", "title": "New"}])
    assert c.evaluate(store, SINCE, NOW) == "blog.new_items >= 1 (blog.new_items is 1)"


def test_a_signal_never_read_or_only_text_never_holds(store):
    reading(store, "weather.condition", None, timedelta(minutes=1), text="rain")
    assert parse_condition("nothing.here > 0").evaluate(store, SINCE, NOW) is None
    assert parse_condition("weather.condition != 0").evaluate(store, SINCE, NOW) is None


def test_a_reload_checks_the_wake_on_conditions_of_the_new_config(tmp_path):
    from reverie.daemon import config as config_mod
    from reverie.daemon import services
    from reverie.daemon.notify import Notifier
    from tests import _agent
    from tests.conftest import make_config

    sessions = {"command": _agent.command()}
    cfg = make_config(tmp_path, sessions=sessions)
    s = services.build(config_mod.load(cfg), notifier=Notifier(None))
    try:
        assert s.runner.conditions == []
        make_config(tmp_path, sessions={**sessions, "wake_on": ["host.load > 3"]})
        s.reload(config_mod.load(cfg))
        assert [c.text for c in s.runner.conditions] == ["host.load > 3"]
    finally:
        s.close()
