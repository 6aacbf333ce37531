"""The night's sky as the record has it, and the check that a dream does not contradict it.

One set of rules serves both ends: the offline dream picks no phrase they rule out
(:meth:`Sky.forbidden`), and every dream, offline or a model's, is read against them
(:func:`contradictions`): a model's dream that contradicts the sky is sent back once with
the reason, then falls back, as for an unbacked figure.

- Snow is snow: a snow condition (a WMO snow code's words), or precipitation while the
  air was at or below ~1 °C, is snow and never rain; rain is told only when it rained.
- Wind from about 40 km/h up is told; a gale or a blizzard is never told below it.
- Fog only with fog, thunder and lightning only with thunder.
- Temperature words by bands: frost below 0 °C, cold below ~8, mild, warm above ~18, hot
  above ~28; never warmth in the cold or frost in the heat.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

SNOW_AT = 1.0  # °C: precipitation at or below this falls as snow
WINDY_KMH = 40.0  # from here the wind is told
_SPEED = {"km/h": 1.0, "kmh": 1.0, "m/s": 3.6, "mph": 1.609, "kn": 1.852, "kt": 1.852}

# the words of each kind of weather, as a reader finds them
RAIN = r"rain\w*|drizzl\w*|puddles?|downpours?|(?<!snow )showers?|monsoon|raincoats?"
SNOW = r"snow\w*|sleet\w*|blizzards?|sledges?|snowflakes?"
FOG = r"fog\w*|mist|mists|misty|haze|hazy"
THUNDER = r"thunder\w*|lightning|thunderclaps?"
STORM = r"storms?|stormy"
GALE = r"gales?|gale-force|howling|blizzards?"
WIND = r"wind\w*|gales?|gusts?|gusting|howl\w*|blizzards?|draughts?|storms?"
WARM = r"warm\w*|balmy|summer\w*|sun-baked|sultry|sweat\w*"
HOT = r"hot|heat\w*|scorch\w*|swelter\w*|baking|blazing"
FROST = r"frost\w*|ice|icy|icicles?|freez\w*|frozen|rime"
COLD = r"cold|chilly|wintry|winter\w*|shiver\w*|numb\w*|bitter"


def _rx(words: str) -> re.Pattern:
    return re.compile(rf"(?i)(?<!\w)({words})(?!\w)")


@dataclass
class Sky:
    cond: str | None = None
    arc: list[str] = field(default_factory=list)
    temp_c: float | None = None  # the last reading of the air's temperature
    temp_min: float | None = None
    temp_max: float | None = None
    temp_said: str | None = None
    precip: bool = False
    rain: bool = False  # rain may be told (it rained: a rain condition or warm precipitation)
    snow: bool = False  # snow may be told
    snowing: bool = False  # snow is the night's weather: it must be told, never rain
    fog: bool = False
    storm: bool = False  # thunder
    wind_kmh: float | None = None
    clear: bool = False
    signals: list[str] = field(default_factory=list)

    @property
    def wind(self) -> bool:
        return (self.wind_kmh or 0) >= WINDY_KMH

    @property
    def band(self) -> str | None:
        """frost, cold, mild, warm or hot: the night's temperature as a person feels it."""
        t = self.temp_c
        if t is None:
            return None
        return ("frost" if t < 0 else "cold" if t < 8 else "mild" if t < 18
                else "warm" if t < 28 else "hot")

    def ruled_out(self) -> list[tuple[str, str]]:
        """(word alternation, why) for every kind of weather word the record rules out."""
        out = []
        if not self.rain:
            out.append((RAIN, "it snowed, it did not rain" if self.snowing
                        else "no rain in the record"))
        if not self.snow:
            out.append((SNOW, "no snow in the record"))
        if not self.fog:
            out.append((FOG, "no fog in the record"))
        if not self.storm:
            out.append((THUNDER, "no thunder in the record"))
            if not self.wind:
                out.append((STORM, "no storm in the record"))
        if not self.wind:
            out.append((GALE, "no gale in the record (wind under 40 km/h)"))
        hi = self.temp_max if self.temp_max is not None else self.temp_c
        lo = self.temp_min if self.temp_min is not None else self.temp_c
        if hi is None or hi < 10:
            out.append((WARM, "no warmth: " + self._said("hi")))
        if hi is None or hi < 22:
            out.append((HOT, "no heat: " + self._said("hi")))
        if lo is None or lo > 3:
            out.append((FROST, "no frost: " + self._said("lo")))
        if lo is not None and lo >= 18:
            out.append((COLD, "no cold: " + self._said("lo")))
        return out

    def _said(self, which: str) -> str:
        t = self.temp_max if which == "hi" else self.temp_min
        if t is None:
            t = self.temp_c
        if t is None:
            return "the record has no temperature"
        return f"the air was at {'most' if which == 'hi' else 'least'} {t:.0f} °C"

    def forbidden(self) -> re.Pattern:
        """Words whose imagery the night's record contradicts (for picking phrases)."""
        words = [w for w, _ in self.ruled_out()]
        return _rx("|".join(words)) if words else re.compile(r"(?!x)x")

    def air(self) -> str:
        """The pool of air words for the night's temperature band."""
        return f"air.{self.band or 'mild'}"


def _temperature(sd) -> bool:
    unit = (sd.unit or "").strip()
    return unit in ("°C", "°F") or sd.field.lower() in ("temperature", "temp", "temperature_2m")


def _celsius(x: float | None, unit: str | None) -> float | None:
    if x is None:
        return None
    return (x - 32) * 5 / 9 if (unit or "").strip() == "°F" else x


def sky_of(dg, rng: random.Random | None = None) -> Sky:
    """The night's sky from the digest's weather signals."""
    sky = Sky()
    # the air's own temperature before any "apparent" or "feels like" one
    order = sorted(dg.signals, key=lambda s: (s.field.lower() not in ("temperature", "temp",
                                                                        "temperature_2m"),
                                              "apparent" in s.field.lower()))
    for sd in order:
        if sd.kind != "weather":
            continue
        f = sd.field.lower()
        if not sd.numeric and sd.text_last and sky.cond is None:
            sky.cond = " ".join(sd.text_last.lower().split())[:40]
            sky.arc = [" ".join(a.lower().split())[:40] for a in sd.arc]
            sky.signals.append(sd.signal)
        elif sd.numeric and _temperature(sd) and sky.temp_c is None:
            sky.temp_c = _celsius(sd.last, sd.unit)
            sky.temp_min = _celsius(sd.min, sd.unit)
            sky.temp_max = _celsius(sd.max, sd.unit)
            sky.temp_said = degrees(sd.last, rng)
            sky.signals.append(sd.signal)
        elif sd.numeric and any(w in f for w in ("precip", "rain", "snow", "shower")) \
                and (sd.max or 0) > 0:
            sky.precip = True
            if "snow" in f:
                sky.snow = sky.snowing = True
        elif sd.numeric and ("wind" in f or "gust" in f):
            k = _SPEED.get((sd.unit or "km/h").strip().lower(), 1.0)
            v = (sd.max or 0) * k
            sky.wind_kmh = max(sky.wind_kmh or 0.0, v)
    texts = " ".join(sky.arc or [sky.cond or ""])
    snow_text = bool(re.search(r"snow|sleet|blizzard", texts))
    rain_text = bool(re.search(r"rain|drizzle|(?<!snow )shower|thunder", texts))
    lo = sky.temp_min if sky.temp_min is not None else sky.temp_c
    hi = sky.temp_max if sky.temp_max is not None else sky.temp_c
    cold_precip = sky.precip and lo is not None and lo <= SNOW_AT
    warm_precip = sky.precip and (hi is None or hi > SNOW_AT)
    sky.snow = sky.snow or snow_text or cold_precip
    sky.rain = rain_text or (warm_precip and not snow_text and not sky.snowing)
    # the night's precipitation as one thing: snow when it fell in the cold
    mid = None if lo is None or hi is None else (lo + hi) / 2
    sky.snowing = sky.snowing or snow_text or (cold_precip and not rain_text and
                                               (mid is None or mid <= SNOW_AT or not sky.rain))
    if sky.snowing and not rain_text and (hi is None or hi <= SNOW_AT + 2):
        sky.rain = False
    sky.fog = bool(re.search(r"fog|mist", texts))
    sky.storm = "thunder" in texts
    sky.clear = bool(re.search(r"clear|sun", texts)) and not sky.precip
    return sky


def degrees(t: float, rng: random.Random | None = None) -> str:
    """A temperature as said: "3 below zero", "3 degrees of frost", "12 degrees"."""
    n = int(math.floor(abs(t) + 0.5))
    if n == 0:
        return "around zero"
    deg = f"degree{'s' if n != 1 else ''}"
    if t < 0:
        ways = [f"{n} below zero", f"{n} {deg} of frost", f"{n} {deg} below zero"]
    else:
        ways = [f"{n} {deg}", f"{n} {deg} above zero"] if t < 10 else [f"{n} {deg}"]
    return rng.choice(ways) if rng else ways[0]


# "no rain", "not a drop of rain": no weather; "fell like rain": a simile, no weather either
_NEGATED = re.compile(r"(?i)\b(no|not|without|never|nor|like|as if|as though)\s+(?:\w+\s+)?$")


def contradictions(prose: str, dg, sky: Sky | None = None, *, keep: tuple[str, ...] = ()
                   ) -> list[str]:
    """Why the prose contradicts the night's sky (empty when it does not).

    The record's own condition words ("light rain" said as it is) and quotations (a feed
    title, the agent's own words) are not the dream's sky; a word negated just before it
    ("no rain") or a simile ("fell like rain") says no weather. ``keep`` are more phrases to leave out of the reading
    (the agent's own places and motifs, which it may name whatever the weather)."""
    sky = sky or sky_of(dg)
    said = re.sub(r"\u201c[^\u201d]*\u201d|\"[^\"]*\"", " ", prose or "")
    for c in sorted({*sky.arc, sky.cond or "", *keep}, key=len, reverse=True):
        if c:
            said = re.sub(re.escape(c), " ", said, flags=re.I)
    out: list[str] = []
    for words, why in sky.ruled_out():
        for m in _rx(words).finditer(said):
            if _NEGATED.search(said[max(0, m.start() - 30):m.start()]):
                continue
            out.append(f"says {m.group(0)!r}, but {why}")
            break
    if sky.wind and not _rx(WIND).search(said):
        out.append(f"does not tell the wind ({sky.wind_kmh:.0f} km/h at its strongest)")
    if sky.snowing and not _rx(SNOW).search(prose or ""):
        out.append("does not tell the snow")
    return out


def sky_words(sky: Sky) -> list[str]:
    """The true sky as plain instructions for a model: what to tell and what never to."""
    out = []
    if sky.snowing:
        out.append("it snowed: tell snow, never rain")
    elif sky.rain:
        out.append("it rained")
    elif not sky.snow:
        out.append("no rain and no snow: a dry night")
    if sky.wind:
        out.append(f"a strong wind, up to {sky.wind_kmh:.0f} km/h: tell the wind")
    out.append("fog" if sky.fog else "no fog or mist")
    out.append("thunder and lightning" if sky.storm else "no thunder, no lightning, no storm"
               if not sky.wind else "no thunder, no lightning")
    if sky.band:
        out.append({"frost": "frost: below zero, no warmth of any kind",
                    "cold": "cold: no warmth, no heat",
                    "mild": "mild: neither warm nor frosty",
                    "warm": "warm: no frost, no ice",
                    "hot": "hot: no frost, no ice, no cold"}[sky.band]
                   + f" ({sky.temp_c:.0f} °C at the end of the night)")
    return out
