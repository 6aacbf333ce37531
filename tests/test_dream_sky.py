"""The dream's sky is the record's: snow is snow, a strong wind is told, fog and thunder only
when they were there, temperature words by bands; and every dream, offline or a model's,
is read against the same rules."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from reverie.perception.digest import Digest, SignalDigest
from reverie.perception.dreams import DreamOptions
from reverie.perception.dreams.offline import compose
from reverie.perception.dreams.sky import contradictions, sky_of
from reverie.perception.dreams.write import write_dream
from reverie.perception.audit import split_dream
from tests.conftest import chat_completion

UTC = timezone.utc
RAIN = re.compile(r"(?i)\b(rain\w*|drizzl\w*|downpour|showers?|puddles?)\b")
SNOW = re.compile(r"(?i)\b(snow\w*|blizzard\w*|sleet)\b")
WIND = re.compile(r"(?i)\b(wind\w*|gusts?|gale|blizzard)\b")
WARMTH = re.compile(r"(?i)\b(warm\w*|balmy|summer\w*|hot|heat\w*|scorch\w*|swelter\w*|sultry)\b")
FROST = re.compile(r"(?i)\b(frost\w*|ice|icy|freez\w*|frozen)\b")


def night(temp, lo=None, hi=None, cond="overcast", precip=0.0, wind=10.0, humidity=None):
    dg = Digest(start="2026-01-01T04:00:00+00:00", end="2026-01-02T04:00:00+00:00", tz="UTC")
    lo = temp if lo is None else lo
    hi = temp if hi is None else hi
    dg.signals = [
        SignalDigest("weather.temperature", "weather", "temperature", "weather", "°C", 24,
                     first=hi, last=temp, min=lo, max=hi, change=temp - hi, label="temperature"),
        SignalDigest("weather.precipitation", "weather", "precipitation", "weather", "mm", 24,
                     first=0.0, last=precip, min=0.0, max=precip, change=precip,
                     label="precipitation"),
        SignalDigest("weather.wind_speed", "weather", "wind_speed", "weather", "km/h", 24,
                     first=wind / 2, last=wind, min=wind / 2, max=wind, change=wind / 2,
                     label="wind speed"),
        SignalDigest("weather.condition", "weather", "condition", "weather", None, 24,
                     text_first=cond, text_last=cond, arc=[cond], label="condition")]
    return dg


def dreams(dg, n=30):
    return [compose(dg, date(2026, 1, 2) + timedelta(days=i), recent={})[0] for i in range(n)]


def test_snowfall_reported_as_precipitation_in_the_frost_is_snow_every_night_and_never_rain():
    dg = night(-9.0, lo=-12.0, hi=-7.0, cond="overcast", precip=2.4)
    sky = sky_of(dg)
    assert sky.snowing and not sky.rain
    for prose in dreams(dg):
        assert SNOW.search(prose), prose
        assert not RAIN.search(prose), prose
        assert not WARMTH.search(prose), prose


def test_a_blizzard_is_told_as_snow_on_the_wind():
    dg = night(-14.0, lo=-16.0, hi=-11.0, cond="overcast", precip=3.0, wind=72.0)
    for prose in dreams(dg):
        assert SNOW.search(prose) and WIND.search(prose), prose
        assert contradictions(prose, dg) == []


def test_a_gale_without_rain_is_told_and_no_rain_falls():
    dg = night(11.0, lo=9.0, hi=13.0, cond="partly cloudy", wind=58.0)
    for prose in dreams(dg):
        assert WIND.search(prose), prose
        assert not RAIN.search(prose) and not SNOW.search(prose), prose


def test_the_heat_has_no_frost_and_minus_twelve_is_never_chilly():
    hot = night(33.0, lo=27.0, hi=36.0, cond="clear sky")
    for prose in dreams(hot):
        assert not FROST.search(prose) and not re.search(r"(?i)\b(cold|chilly|wintry)\b", prose), prose
    frost = night(-12.0, lo=-14.0, hi=-10.0, cond="clear sky")
    for prose in dreams(frost):
        assert not WARMTH.search(prose), prose
        assert not re.search(r"(?i)\b(chilly|mild|cool)\b", prose), prose


def test_fog_only_with_fog_and_thunder_only_with_thunder():
    plain = night(12.0, cond="partly cloudy")
    for prose in dreams(plain, 20):
        assert not re.search(r"(?i)\b(fog\w*|mist|misty|thunder\w*|lightning)\b", prose), prose
    storm = night(18.0, cond="thunderstorm", precip=6.0, wind=35.0)
    assert all(re.search(r"(?i)thunder|lightning|storm", p) for p in dreams(storm, 10))


@pytest.mark.parametrize("prose,why", [
    ("Warm summer rain fell on the roof all night.", "no warmth"),
    ("Rain talked on the glass while the snow lay outside.", "it snowed, it did not rain"),
    ("The fog came in over the snow.", "no fog"),
    ("Lightning over the snowy fields.", "no thunder"),
])
def test_the_check_names_what_a_snowy_night_rules_out(prose, why):
    dg = night(-4.0, lo=-6.0, hi=-3.0, cond="overcast", precip=1.2)
    found = contradictions(prose, dg)
    assert any(why in f for f in found), found


def test_a_strong_wind_left_untold_is_a_contradiction_too():
    dg = night(5.0, cond="overcast", wind=64.0)
    assert contradictions("A quiet overcast night, cold and still.", dg) == [
        "does not tell the wind (64 km/h at its strongest)"]
    assert contradictions("The wind leaned on the house all night, cold.", dg) == []


# -- the model's dream is read against the same sky ---------------------------------------

NOW = datetime(2026, 1, 10, 5, 0, tzinfo=UTC)
SUMMER = ("I walked through a station in warm summer rain, and the voices were many. A letter "
          "came under the door, and I read it slowly by the light of a lamp that someone had "
          "left burning on the platform. " * 3).strip()
WINTER = ("I walked through a station while snow came down on the roofs, cold and quiet. A "
          "letter came under the door, and I read it slowly by the light of a lamp that "
          "someone had left burning on the platform. " * 3).strip()


@pytest.fixture
def snowy(store):
    for h in range(24):
        ts = NOW - timedelta(hours=24) + timedelta(hours=h, minutes=30)
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.temperature", -4.0 - h * 0.05, None, "°C"),
            ("weather.precipitation", 0.8, None, "mm"),
            ("weather.condition", None, "overcast", None)])
    return store


def _opts(httpserver):
    return DreamOptions(backend="openai", base_url=httpserver.url_for("/v1"), api_key="k",
                        model="local-model", timeout="5s")


def test_a_model_dream_of_warm_rain_on_a_snowy_night_is_sent_back_once_with_the_reason(
        httpserver, home, snowy):
    import json

    from werkzeug import Response

    bodies = []

    def handler(request):
        bodies.append(json.loads(request.get_data()))
        return Response(json.dumps(chat_completion(SUMMER if len(bodies) == 1 else WINTER)),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    out = write_dream(home, snowy, _opts(httpserver), day=NOW.date(), tz=UTC, now=NOW)
    meta, prose, _, _ = split_dream(out.path.read_text())
    assert len(bodies) == 2 and meta["backend"] == "openai" and meta["sky"] == "ok"
    correction = bodies[1]["messages"][-1]["content"]
    assert "contradicts the night's sky" in correction and "'warm'" in correction
    assert "it snowed: tell snow, never rain" in bodies[0]["messages"][0]["content"]
    assert "snow came down" in prose


def test_a_model_that_keeps_contradicting_the_sky_falls_back_to_a_true_offline_dream(
        httpserver, home, snowy):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(chat_completion(SUMMER))
    out = write_dream(home, snowy, _opts(httpserver), day=NOW.date(), tz=UTC, now=NOW)
    meta, prose, _, _ = split_dream(out.path.read_text())
    assert meta["backend"] == "offline" and "contradicts the night's sky" in meta["fallback_reason"]
    assert meta["sky"] == "ok" and SNOW.search(prose) and not RAIN.search(prose)
