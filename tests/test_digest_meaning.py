"""Notability that means something: a change against the signal's own usual movement in its
unit, never a percent of degrees or of a percent reading; only a weather source is the sky."""

from datetime import datetime, timedelta, timezone

from reverie.perception.digest import build_digest
from reverie.perception.dreams.llm import signal_figures
from reverie.perception.sources import SourceSpec

UTC = timezone.utc
T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
END = T0 + timedelta(hours=24)


def poll(store, source, at, readings):
    store.record_run(source, at, ok=True, readings=readings)


def _daily(store, signal, values, unit=None):
    for d, v in enumerate(values):
        at = T0 - timedelta(days=len(values) - d) + timedelta(hours=1)
        poll(store, signal.split(".")[0], at, [(signal, v, None, unit)])


def test_a_temperature_change_is_told_in_degrees_never_in_percent(store):
    poll(store, "weather", T0 - timedelta(hours=2), [("weather.apparent_temperature", -4.8, None, "°C")])
    poll(store, "weather", T0 + timedelta(hours=5), [("weather.apparent_temperature", -12.7, None, "°C")])
    dg = build_digest(store, T0, END)
    s = dg.signal("weather.apparent_temperature")
    assert s.change_pct is None and s.change == -7.9
    assert [n.text for n in dg.notable] == ["apparent temperature fell 7.9 °C (-4.8 °C -> -12.7 °C)"]
    assert "%" not in signal_figures(s)  # nor handed to the model


def test_a_percent_reading_moves_by_points(store):
    poll(store, "weather", T0 - timedelta(hours=2), [("weather.relative_humidity", 62, None, "%")])
    poll(store, "weather", T0 + timedelta(hours=5), [("weather.relative_humidity", 95, None, "%")])
    dg = build_digest(store, T0, END)
    assert dg.signal("weather.relative_humidity").change_pct is None
    assert [n.text for n in dg.notable] == ["relative humidity rose 33 points (62 % -> 95 %)"]


def test_a_cloud_cover_from_five_to_one_hundred_is_no_1900_percent(store):
    poll(store, "weather", T0 - timedelta(hours=2), [("weather.cloud_cover", 5, None, "%"),
                                                     ("weather.precipitation", 0.1, None, "mm")])
    poll(store, "weather", T0 + timedelta(hours=5), [("weather.cloud_cover", 100, None, "%"),
                                                     ("weather.precipitation", 2.0, None, "mm")])
    dg = build_digest(store, T0, END)
    assert all("%" not in n.text.split("(")[0] for n in dg.notable)
    assert dg.signal("weather.precipitation").change_pct is None


def test_a_compost_heap_at_sixty_degrees_is_not_the_sky_unless_the_config_says_so(store):
    poll(store, "compost", T0 + timedelta(hours=1), [("compost.temperature", 61.0, None, "°C")])
    heap = SourceSpec(name="compost", type="command")
    assert build_digest(store, T0, END, sources=[heap]).signal("compost.temperature").kind == "other"
    assert build_digest(store, T0, END).signal("compost.temperature").kind == "other"
    said = SourceSpec(name="compost", type="command", kind="weather")
    assert build_digest(store, T0, END, sources=[said]).signal("compost.temperature").kind == "weather"


def test_one_more_fork_on_a_quiet_repository_does_not_lead_the_night(store):
    _daily(store, "repo.forks", [31, 31, 31, 31, 31, 31, 31, 31], None)
    _daily(store, "wallet.balance", [22.4, 22.5, 22.3, 22.6, 22.4, 22.5, 22.3, 22.5], "SOL")
    poll(store, "repo", T0 + timedelta(hours=3), [("repo.forks", 32, None, None)])
    poll(store, "wallet", T0 + timedelta(hours=3), [("wallet.balance", 20.1, None, "SOL")])
    dg = build_digest(store, T0, END, sources=[
        SourceSpec(name="repo", type="http_json", kind="reputation"),
        SourceSpec(name="wallet", type="wallet")])
    assert dg.lead().signal == "wallet.balance"
    assert [n.signal for n in dg.notable if n.what == "change"] == ["wallet.balance"]


def test_a_wobble_within_the_usual_noise_is_not_beyond_it(store):
    _daily(store, "wallet.balance", [22.4, 22.5, 22.3, 22.6, 22.4, 22.5, 22.3, 22.5], "SOL")
    poll(store, "wallet", T0 + timedelta(hours=3), [("wallet.balance", 22.51, None, "SOL")])
    s = build_digest(store, T0, END).signal("wallet.balance")
    assert s.change and not s.beyond_noise


def test_the_model_is_handed_a_humidity_change_in_points(store):
    poll(store, "weather", T0 - timedelta(hours=2), [("weather.relative_humidity", 63, None, "%")])
    poll(store, "weather", T0 + timedelta(hours=5), [("weather.relative_humidity", 92, None, "%")])
    said = signal_figures(build_digest(store, T0, END).signal("weather.relative_humidity"))
    assert "change +29 points from 63" in said and "+29 %" not in said
