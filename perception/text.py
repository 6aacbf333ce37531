"""How reverie writes things for a person: durations, numbers, figures, times, clean lines.

Every view (state.md, the morning page, `reverie status`, poll lines, log fields, the
digest and the dreams' plain figures) formats through these few functions, so one value
reads the same everywhere. Nothing here imports the rest of reverie.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

MAX_VALUE_TEXT = 80  # a text reading is shown as a label, not a document

# -- durations --------------------------------------------------------------------------


def duration(value: timedelta | float) -> str:
    """A duration as a user writes one in the config: "1m", "1h30m", "2d", "0s"; parses back
    to the same value. Under a minute a fraction stays a fraction ("0.5s", "2.5s")."""
    s = value.total_seconds() if isinstance(value, timedelta) else float(value)
    s = max(0.0, s)
    if s < 60 and s != int(s):
        return f"{s:.3g}s"
    n = int(s)
    if n == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if n >= size:
            out.append(f"{n // size}{unit}")
            n %= size
    return "".join(out)


def age(span: timedelta | float) -> str:
    """A compact, rounded-down span (or seconds) for "ago" and "in": 35s, 4m, 2h, 1h05m,
    3d, 2d5h."""
    s = max(0, int(span.total_seconds() if isinstance(span, timedelta) else span))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m:02d}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d{h}h" if h else f"{d}d"


# -- numbers and figures ------------------------------------------------------------------

def number(v: float) -> str:
    """A reading as stored: every digit it has (up to 6 decimals), no exponent for
    ordinary magnitudes, integers without ".0"."""
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if abs(v) >= 1e6 or abs(v) < 1e-4:
        return f"{v:.6g}"
    return f"{v:.6f}".rstrip("0").rstrip(".")


def figure(x: float | int | None) -> str:
    """A figure as prose and digests say it: no exponent, no thousands separator, few
    decimals (1 from 100, 2 from 1, else 4); "?" for none."""
    if x is None:
        return "?"
    x = float(x)
    if abs(x - round(x)) < 1e-9 and abs(x) < 1e15:
        return str(int(round(x)))
    a = abs(x)
    d = 1 if a >= 100 else 2 if a >= 1 else 4
    s = f"{x:.{d}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def distinct(lo: float, hi: float) -> tuple[str, str]:
    """``lo`` and ``hi`` (a chart's range) with as many decimals as it takes to tell them
    apart."""
    if lo == hi:
        return number(lo), number(hi)
    for d in range(7):
        # -0.3 rounds to "-0": a chart's axis should say 0
        a, b = (t.lstrip("-") if float(t) == 0 else t for t in (f"{lo:.{d}f}", f"{hi:.{d}f}"))
        if a != b:
            return a, b
    return number(lo), number(hi)


def byte_size(n: int) -> str:
    """A size as a cap is written: "1 GiB", "5 MiB", "64 KiB", "1000 bytes" (memory/_plan.py
    has its own copy: memory cannot import perception)."""
    for unit, k in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= k and n % k == 0:
            return f"{n // k} {unit}"
    return f"{n} bytes"


def plural(n: int, word: str, many: str | None = None) -> str:
    """ "1 failure", "3 failures"."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


# Count units sources use (files, feed) and a user may name (files' `unit`): "1 file"
# reads right, "1 files" does not. Measures (MiB, °C, ETH) have no plural to undo.
_SINGULAR = {
    "files": "file", "items": "item", "words": "word", "posts": "post", "entries": "entry",
    "lines": "line", "pages": "page", "notes": "note", "messages": "message",
    "comments": "comment", "followers": "follower", "points": "point", "stars": "star",
    "issues": "issue", "commits": "commit", "letters": "letter", "dreams": "dream",
    "days": "day", "hours": "hour", "minutes": "minute", "seconds": "second",
}


def unit_for(value: float | None, unit: str | None) -> str:
    """``unit`` as it reads after ``value``: a known plural count unit is singular for
    exactly 1 (or -1, as in a change of "-1 item")."""
    if not unit:
        return ""
    if value is not None and abs(value) == 1:
        return _SINGULAR.get(unit, unit)
    return unit


def with_unit(value: float, unit: str | None) -> str:
    """``value`` formatted, followed by its unit when it has one: "3 files", "1 file"."""
    u = unit_for(value, unit)
    return number(value) + (f" {u}" if u else "")


def reading(o: Any) -> str:
    """A reading (anything with ``value``, ``text``, ``unit``) as a person reads it."""
    if o.value is not None:
        return with_unit(o.value, o.unit)
    return clean(o.text or "", MAX_VALUE_TEXT)


def change(cur: Any, prev: Any | None) -> str:
    """The change from reading ``prev`` to ``cur`` as a reader wants it: "+12 words",
    "-0.5 °C", "±0", "same", "was rain", "new"."""
    if prev is None:
        return "new"
    if cur.value is not None and prev.value is not None:
        d = cur.value - prev.value
        if abs(d) < 1e-12 * max(1.0, abs(cur.value)):
            return "±0"
        return ("+" if d > 0 else "-") + with_unit(abs(d), cur.unit)
    if (cur.text or "") == (prev.text or "") and cur.value == prev.value:
        return "same"
    return "was " + reading(prev)


# -- instants ---------------------------------------------------------------------------

class Times:
    """Instants (UTC timestamps or aware datetimes) in one zone: ISO for programs, short
    text for people."""

    def __init__(self, tz: Any):
        self.tz = tz

    @staticmethod
    def _dt(ts: float | datetime) -> datetime:
        return ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, timezone.utc)

    def iso(self, ts: float | datetime | None) -> str | None:
        if ts is None:
            return None
        return self._dt(ts).astimezone(self.tz).isoformat(timespec="seconds")

    def text(self, ts: float | datetime, fmt: str = "%a %Y-%m-%d %H:%M") -> str:
        return self._dt(ts).astimezone(self.tz).strftime(fmt)

    def moment(self, ts: float | datetime) -> str:
        """An instant as people read it, with its zone: ``Mon 2026-12-07 23:42 CET``."""
        local = self._dt(ts).astimezone(self.tz)
        return f"{local:%a %Y-%m-%d %H:%M} {zone_label(local)}"


def zone_label(local: datetime) -> str:
    """The zone of an aware datetime the one way reverie writes it for people (state.md,
    the page, `reverie status`, notifications): its abbreviation (``CET``, ``CEST``,
    ``UTC``), or ``UTC+04:00`` where the zone has none (tzdata then writes ``+04``) or
    the datetime carries only an offset."""
    abbr = local.tzname() or ""
    if abbr.isalpha():
        return abbr
    off = local.utcoffset() or timedelta(0)
    sign, secs = ("-", -off) if off < timedelta(0) else ("+", off)
    h, m = divmod(int(secs.total_seconds()) // 60, 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


# -- text hygiene -----------------------------------------------------------------------

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_MD_SPECIAL = re.compile(r"([\\`|\[\]<>])")
_BREAKS = "\t\n\r\v\f\x85\u2028\u2029"


def clean(text: Any, limit: int | None = None, *, squeeze: bool = True) -> str:
    """One line of plain text: terminal escapes and control/format characters gone,
    whitespace collapsed (unless not ``squeeze``), cut at ``limit`` characters."""
    s = _ANSI.sub("", str(text))
    s = "".join(" " if ch in _BREAKS else ch for ch in s
                if ch in _BREAKS or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    if squeeze:
        s = " ".join(s.split())
    if limit and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def md_escape(text: str) -> str:
    """``text`` (already one clean line) safe inside a Markdown table cell or list item."""
    s = _MD_SPECIAL.sub(r"\\\1", text)
    if s and s[0] in "#>":
        s = "\\" + s
    return s


def safe_link(link: Any) -> str | None:
    """An absolute http(s) URL that cannot break out of ``<…>``; anything else is dropped
    (a relative ``../`` or ``javascript:`` link in a feed is not a place to send a reader)."""
    if not link:
        return None
    s = clean(link, 2000).replace(" ", "")
    try:
        parts = urlsplit(s)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(s, safe=":/?#@!$&'()*+,;=%~-._")
