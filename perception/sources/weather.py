"""weather: the current weather from Open-Meteo (no key needed)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from reverie.perception import http
from reverie.perception.http import HttpOptions
from reverie.perception.sources import BaseSource, Context, Reading, Result, SourceError

DEFAULT_URL = "https://api.open-meteo.com/v1/forecast"

# our field name -> (Open-Meteo variable, unit when the response gives none, metric / imperial)
VARIABLES = {
    "temperature": ("temperature_2m", "°C", "°F"),
    "apparent_temperature": ("apparent_temperature", "°C", "°F"),
    "precipitation": ("precipitation", "mm", "inch"),
    "wind_speed": ("wind_speed_10m", "km/h", "mph"),
    "cloud_cover": ("cloud_cover", "%", "%"),
    "humidity": ("relative_humidity_2m", "%", "%"),
}

WMO_CODES = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "freezing fog",
    51: "light drizzle",
    53: "drizzle",
    55: "dense drizzle",
    56: "light freezing drizzle",
    57: "dense freezing drizzle",
    61: "light rain",
    63: "rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "heavy freezing rain",
    71: "light snow",
    73: "snow",
    75: "heavy snow",
    77: "snow grains",
    80: "light rain showers",
    81: "rain showers",
    82: "violent rain showers",
    85: "light snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with light hail",
    99: "thunderstorm with heavy hail",
}


def condition(code: Any) -> str | None:
    """Words for a WMO weather code (as Open-Meteo reports it)."""
    if isinstance(code, bool) or not isinstance(code, (int, float)):
        return None
    return WMO_CODES.get(int(code), f"weather code {int(code)}")


class Weather(BaseSource):
    """Current weather from Open-Meteo: temperature, wind, rain, clouds, humidity, condition.

    Signals: temperature, apparent_temperature, precipitation, wind_speed, cloud_cover,
    humidity (with units) and `condition` in words ("light rain"). `url` can point at a
    self-hosted Open-Meteo or any server that answers the same way.

    ```yaml
    - name: weather
      type: weather
      latitude: 52.52
      longitude: 13.41
      units: metric        # or imperial (°F, mph, inch)
      every: 30m
    ```
    """

    type_name: ClassVar[str] = "weather"

    class Options(HttpOptions):
        url: str = Field(default=DEFAULT_URL, description="the Open-Meteo-compatible endpoint")
        latitude: float = Field(ge=-90, le=90,
                                description="where: latitude in degrees (-90 to 90)")
        longitude: float = Field(ge=-180, le=180,
                                 description="where: longitude in degrees (-180 to 180)")
        units: Literal["metric", "imperial"] = Field(default="metric",
                                                     description="metric or imperial")

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def _url(self) -> str:
        o = self.options
        current = ",".join([v for v, _, _ in VARIABLES.values()] + ["weather_code"])
        query = f"latitude={o.latitude}&longitude={o.longitude}&current={current}&timezone=UTC"
        if o.units == "imperial":
            query += "&temperature_unit=fahrenheit&wind_speed_unit=mph&precipitation_unit=inch"
        return o.url + ("&" if "?" in o.url else "?") + query

    def fetch(self, ctx: Context) -> Result:
        o = self.options
        resp = http.fetch(self._url(), timeout=ctx.timeout, headers=o.headers,
                          max_bytes=o.max_bytes, secrets=ctx.secrets)
        doc = resp.json()
        current = doc.get("current") if isinstance(doc, dict) else None
        if not isinstance(current, dict):
            raise SourceError(f"no current weather in the response from {resp.host}")
        units = doc.get("current_units") if isinstance(doc.get("current_units"), dict) else {}
        metric = o.units == "metric"

        result = Result()
        for field, (var, metric_unit, imperial_unit) in VARIABLES.items():
            value = current.get(var)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                unit = units.get(var) or (metric_unit if metric else imperial_unit)
                result.readings.append(Reading(field, value=float(value), unit=unit))
            else:
                result.field_errors[field] = f"no {var} in the response"
        words = condition(current.get("weather_code"))
        if words:
            result.readings.append(Reading("condition", text=words))
        else:
            result.field_errors["condition"] = "no weather_code in the response"
        if not result.readings:
            raise SourceError(f"no current weather values in the response from {resp.host}")
        return result
