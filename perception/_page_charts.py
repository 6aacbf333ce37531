"""A chart's geometry for the morning page: an inline SVG polyline through the readings,
the band of their range, and the failing periods shaded (no script, no image: the page's
policy allows nothing else)."""

from __future__ import annotations

from reverie.memory import clock
from reverie.memory.store import ChartPoint, FailureSpan
from reverie.perception.text import Times

CHART_POINTS = 200
CHART_W, CHART_H, CHART_PAD = 300.0, 84.0, 6.0


def chart(points: list[ChartPoint], fails: list[FailureSpan], start: float, end: float,
          T: Times, *, title: str) -> dict:
    """Geometry of one chart. ``points`` holds the last value, min and max per time bucket:
    the line goes through the last values, time on x, value on y (the window's min at
    the bottom); where a bucket held several readings a band shows their range; failing
    periods are shaded."""
    series = [(clock.to_ts(p.ts), p.value, p.lo, p.hi) for p in points]
    span = max(end - start, 1e-9)
    w, h, pad = CHART_W, CHART_H, CHART_PAD

    def x_of(ts: float) -> float:
        return pad + min(max((ts - start) / span, 0.0), 1.0) * (w - 2 * pad)

    lo = min((r[2] for r in series), default=0.0)
    hi = max((r[3] for r in series), default=0.0)

    def y_of(v: float) -> float:
        if hi == lo:
            return h / 2
        return h - pad - (v - lo) / (hi - lo) * (h - 2 * pad)

    xy = [(x_of(t), y_of(v)) for t, v, _, _ in series]
    band = ""
    if any(r[2] != r[3] for r in series):
        top = [f"{x_of(t):.1f},{y_of(b):.1f}" for t, _, _, b in series]
        bottom = [f"{x_of(t):.1f},{y_of(a):.1f}" for t, _, a, _ in reversed(series)]
        band = " ".join(top + bottom)
    # periods closer than a unit of width are one band: a flapping source is one shade
    merged: list[list] = []
    for f in fails:
        first, stop, n = clock.to_ts(f.first), clock.to_ts(f.stop) if f.stop else None, f.polls
        a, b = x_of(max(first, start)), x_of(stop if stop is not None else end)
        if merged and a - merged[-1][1] < 1.0:
            last = merged[-1]
            last[1], last[3], last[4] = max(b, last[1]), stop, last[4] + n
        else:
            merged.append([a, b, first, stop, n])
    bands = []
    for a, b, first, stop, n in merged:
        until = T.text(stop, "%m-%d %H:%M") if stop is not None else "now"
        bands.append({"x": f"{a:.1f}", "width": f"{max(b - a, 1.5):.1f}",
                      "title": f"failing from {T.text(first, '%m-%d %H:%M')} to {until}"
                               f" ({n} failed poll{'s' if n != 1 else ''})"})
    return {
        "title": title,
        "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in xy),
        "band": band,
        "last": {"x": f"{xy[-1][0]:.1f}", "y": f"{xy[-1][1]:.1f}"} if xy else None,
        "fails": bands,
        "count": len(series),
        "lo": lo if series else None,
        "hi": hi if series else None,
    }
