"""weather: Open-Meteo current weather as signals with units, and the condition in words."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from _sources_fixtures import run, units, values
from reverie.perception.sources import SourceError, get
from reverie.perception.sources.weather import Weather, condition

# shaped like https://api.open-meteo.com/v1/forecast?...&current=... answers
OPEN_METEO = {
    "latitude": 52.52, "longitude": 13.419998, "generationtime_ms": 0.0479,
    "utc_offset_seconds": 0, "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 38.0,
    "current_units": {"time": "iso8601", "interval": "seconds", "temperature_2m": "°C",
                      "relative_humidity_2m": "%", "apparent_temperature": "°C",
                      "precipitation": "mm", "weather_code": "wmo code", "cloud_cover": "%",
                      "wind_speed_10m": "km/h"},
    "current": {"time": "2024-05-01T12:00", "interval": 900, "temperature_2m": 14.3,
                "relative_humidity_2m": 71, "apparent_temperature": 12.9, "precipitation": 0.4,
                "weather_code": 61, "cloud_cover": 100, "wind_speed_10m": 11.2},
}


def test_is_registered_as_weather():
    assert get("weather") is Weather


def test_current_weather_becomes_signals_with_units(server, ctx):
    server.expect_request("/v1/forecast", query_string={
        "latitude": "52.52", "longitude": "13.41",
        "current": "temperature_2m,apparent_temperature,precipitation,wind_speed_10m,cloud_cover,"
                   "relative_humidity_2m,weather_code",
        "timezone": "UTC"}).respond_with_json(OPEN_METEO)
    result = run(Weather, ctx, latitude=52.52, longitude=13.41, url=server.url_for("/v1/forecast"))
    assert values(result) == {"temperature": 14.3, "apparent_temperature": 12.9, "precipitation": 0.4,
                              "wind_speed": 11.2, "cloud_cover": 100, "humidity": 71,
                              "condition": "light rain"}
    assert units(result)["temperature"] == "°C" and units(result)["wind_speed"] == "km/h"
    assert result.field_errors == {}


def test_imperial_units_are_asked_for(server, ctx):
    doc = {**OPEN_METEO, "current_units": {**OPEN_METEO["current_units"], "temperature_2m": "°F"}}
    server.expect_request("/f", query_string={
        "latitude": "40.7", "longitude": "-74.0",
        "current": "temperature_2m,apparent_temperature,precipitation,wind_speed_10m,cloud_cover,"
                   "relative_humidity_2m,weather_code",
        "timezone": "UTC", "temperature_unit": "fahrenheit", "wind_speed_unit": "mph",
        "precipitation_unit": "inch"}).respond_with_json(doc)
    result = run(Weather, ctx, latitude=40.7, longitude=-74.0, units="imperial", url=server.url_for("/f"))
    assert units(result)["temperature"] == "°F"


def test_a_missing_variable_fails_that_signal_only(server, ctx):
    current = {k: v for k, v in OPEN_METEO["current"].items() if k != "cloud_cover"}
    server.expect_request("/f").respond_with_json({**OPEN_METEO, "current": current})
    result = run(Weather, ctx, latitude=1, longitude=2, url=server.url_for("/f"))
    assert "cloud_cover" not in values(result) and "cloud_cover" in result.field_errors
    assert values(result)["temperature"] == 14.3


def test_a_response_without_current_weather_fails(server, ctx):
    server.expect_request("/f").respond_with_json({"latitude": 1.0, "longitude": 2.0})
    with pytest.raises(SourceError, match=r"^no current weather in the response from 127\.0\.0\.1"):
        run(Weather, ctx, latitude=1, longitude=2, url=server.url_for("/f"))


def test_an_open_meteo_error_shows_its_reason(server, ctx):
    server.expect_request("/f").respond_with_json(
        {"error": True, "reason": "Cannot initialize WeatherVariable from invalid String value"},
        status=400)
    with pytest.raises(SourceError, match=r"^HTTP 400 from .*: Cannot initialize WeatherVariable"):
        run(Weather, ctx, latitude=1, longitude=2, url=server.url_for("/f"))


def test_an_html_page_fails_with_expected_json(server, ctx):
    server.expect_request("/f").respond_with_data("<html><body>captive portal</body></html>",
                                                  content_type="text/html")
    with pytest.raises(SourceError, match="^expected JSON, got text/html from"):
        run(Weather, ctx, latitude=1, longitude=2, url=server.url_for("/f"))


def test_a_hanging_server_times_out_within_the_budget(server, release, tmp_path):
    from _sources_fixtures import make_ctx

    server.expect_request("/f").respond_with_handler(lambda r: release.wait(5) and None)
    with pytest.raises(SourceError, match="^timed out after 0.5s"):
        run(Weather, make_ctx(tmp_path, timeout=0.5), latitude=1, longitude=2,
            url=server.url_for("/f"))


def test_connection_refused(ctx, closed_port_url):
    with pytest.raises(SourceError, match="^connection refused by 127.0.0.1"):
        run(Weather, ctx, latitude=1, longitude=2, url=closed_port_url)


def test_a_429_carries_retry_after(server, ctx):
    server.expect_request("/f").respond_with_data("", status=429, headers={"Retry-After": "60"})
    with pytest.raises(SourceError) as e:
        run(Weather, ctx, latitude=1, longitude=2, url=server.url_for("/f"))
    assert e.value.retry_after == 60


@pytest.mark.parametrize("code,words", [(0, "clear sky"), (3, "overcast"), (45, "fog"),
                                        (95, "thunderstorm"), (42, "weather code 42")])
def test_wmo_codes_read_as_words(code, words):
    assert condition(code) == words


def test_latitude_out_of_range_is_a_config_error():
    with pytest.raises(ValidationError):
        Weather.Options(latitude=123, longitude=0)


def test_common_keys_are_not_options():
    with pytest.raises(ValidationError):
        Weather.Options(latitude=1, longitude=2, every="30m")


def test_the_default_url_is_the_public_forecast_endpoint():
    assert Weather.Options(latitude=1, longitude=2).url == "https://api.open-meteo.com/v1/forecast"
