"""home/morning.html: the agent's night and world on one self-contained page.

Inline CSS and inline SVG only: no script, no font, no image from anywhere, so the page
opens from ``file://`` and under a Content-Security-Policy that allows nothing but its
own stylesheet (pinned by its sha256 in a ``<meta>``; the server sends the same policy).

Everything a feed, a source or the agent wrote goes through Jinja2's autoescape: a
hostile title renders as text. Charts are drawn from points the store aggregates (at
most ``CHART_POINTS`` per chart), so the cost does not grow with the poll rate.

This module puts the page together and renders it under its policy; each section of the
page changes for its own reason and is built in its own room: ``_page_sources`` (readings,
charts, health), ``_page_charts`` (a chart's geometry), ``_page_day`` (the week's sessions
and wakes), ``_page_dream`` (the night), ``_page_memory`` (the distilled day, the ledger).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reverie.memory import atomic, clock
from reverie.memory.home import Home
from reverie.memory.store import Store, StoreError
from reverie.perception import templating
from reverie.perception._page_charts import CHART_H, CHART_PAD, CHART_POINTS, CHART_W, chart
from reverie.perception._page_day import SESSION_DAYS, _sessions
from reverie.perception._page_dream import MAX_DREAM_BYTES, _dream, receipt_items
from reverie.perception._page_memory import (DISTILLED_BULLETS, LEDGER_LINES, LEDGER_TAIL_BYTES,
                                             PATTERN_BULLETS, _distilled, _ledger)
from reverie.perception._page_sources import FAILURE_SPANS, WINDOWS, _health, _signals
from reverie.perception.sources import SourceSpec
from reverie.perception.state import ITEMS_PER_SOURCE, item_group
from reverie.perception.text import Times, age, clean

TEMPLATE = "page.html.j2"

# the names callers and tests have always imported from here
__all__ = ["CHART_H", "CHART_PAD", "CHART_POINTS", "CHART_W", "DISTILLED_BULLETS", "FAILURE_SPANS",
           "LEDGER_LINES", "LEDGER_TAIL_BYTES", "MAX_DREAM_BYTES", "PATTERN_BULLETS",
           "SESSION_DAYS", "TEMPLATE", "WINDOWS", "PageError", "build_page_context", "chart",
           "default_template", "page_csp", "receipt_items", "render_html", "render_page",
           "style_hashes"]

_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S | re.I)


class PageError(Exception):
    """The page could not be rendered (a broken user template); one line."""


# -- the policy -------------------------------------------------------------------------

def style_hashes(html: str) -> list[str]:
    """CSP source expressions for every inline ``<style>`` of ``html``."""
    out = []
    for m in _STYLE.finditer(html):
        digest = hashlib.sha256(m.group(1).encode("utf-8")).digest()
        out.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return out


def page_csp(html: str, *, header: bool = False) -> str:
    """The page's Content-Security-Policy: its own styles, ``data:`` images, nothing else.
    ``frame-ancestors`` only works as a header, so the ``<meta>`` leaves it out."""
    styles = " ".join(style_hashes(html)) or "'none'"
    policy = (f"default-src 'none'; style-src {styles}; img-src data:; base-uri 'none'; "
              "form-action 'none'")
    return policy + ("; frame-ancestors 'none'" if header else "")


# -- the context ------------------------------------------------------------------------

def build_page_context(home: Home, store: Store, specs: list[SourceSpec], *, tz: ZoneInfo,
                       now: datetime | None = None) -> dict:
    now = now or clock.now()
    T = Times(tz)
    specs = [s for s in specs if s.enabled]
    wake = store.last_wake()
    born_meta = store.get_meta("born")  # read only: the page never stamps the store
    born = clock.from_ts(float(born_meta)) if born_meta else None

    ctx: dict[str, Any] = {
        "now": {"at": T.iso(now), "text": T.moment(now),
                "date": T.text(now, "%A %-d %B %Y")},
        "timezone": str(tz),
        "day": ((now.astimezone(tz).date() - born.astimezone(tz).date()).days + 1
                if born else None),
        "wake": {"at": T.iso(wake), "text": T.text(wake, "%a %H:%M"),
                 "ago": age(now - wake)} if wake else None,
        "dream": _dream(home, store, T),
    }
    ctx.update(_signals(store, specs, now, wake, T))
    since = wake or now - timedelta(days=1)
    groups = store.items_by_source(since, now, per_source=ITEMS_PER_SOURCE)
    ctx["items"] = {
        "title": (f"New since the last wake ({T.text(wake, '%a %H:%M')})" if wake
                  else "New in the last 24 hours (no wake yet)"),
        "sources": [item_group(s.name, groups[s.name].count, groups[s.name].newest, T) for s in specs if s.name in groups],
    }
    ctx["health"] = _health(specs, store, ctx.pop("_latest"), now, T)
    ctx["sessions"] = _sessions(store, now, tz, T)
    ctx["ledger"] = _ledger(home, T)
    ctx["distilled"] = _distilled(home, now.astimezone(tz).date())
    return ctx


# -- rendering ----------------------------------------------------------------------

def default_template() -> str:
    return resources.files("reverie.perception").joinpath("templates", TEMPLATE).read_text("utf-8")


def render_html(context: dict, template: Path | None = None) -> str:
    """The page's HTML, its CSP ``<meta>`` pinned to the hash of its own styles."""
    try:
        source = templating.read(template) if template else default_template()
    except OSError as e:
        raise PageError(f"{template}: cannot read the template: {e.strerror}") from None
    where = str(template) if template else TEMPLATE
    # The policy names the styles' hash, known only once they are rendered: a token
    # nobody can guess stands in for it (hostile text cannot forge it).
    token = f"@@style-hash-{secrets.token_hex(8)}@@"
    try:
        html = templating.render("page", source, {**context, "csp": token},
                                 untrusted=template is not None, where=where)
    except templating.RenderFailure as e:
        if e.bounds:  # abandoned over a bound (logged once): our page instead
            html = templating.render("page", default_template(), {**context, "csp": token},
                                     untrusted=False)
        elif e.lineno is not None:
            raise PageError(f"{where}:{e.lineno}: {e.message}") from None
        else:
            raise PageError(f"{where}: {e.type_name}: {e.message}") from None
    return html.replace(token, page_csp(html), 1)


def render_page(home: Home, store: Store, specs: list[SourceSpec], *, tz: ZoneInfo,
                now: datetime | None = None, template: Path | None = None) -> Path:
    """Write home/morning.html atomically; returns its path."""
    try:
        context = build_page_context(home, store, specs, tz=tz, now=now)
    except StoreError as e:
        raise PageError(f"cannot read the store: {clean(e, 200)}") from None
    atomic.write_text(home.page, render_html(context, template))
    return home.page
