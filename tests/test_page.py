"""The morning page (perception/page.py) and its server (perception/serve.py).

Pages are rendered from a real SQLite store filled through the Store API, and read
back with the standard library's HTML parser, the way a browser would see them.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import threading
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reverie.memory import atomic, clock
from reverie.memory.home import Home
from reverie.memory.store import Observation, Store
from reverie.perception.page import CHART_POINTS, render_page
from reverie.perception.serve import PageServer, bind_warning
from reverie.perception.sources import SourceSpec

UTC = timezone.utc
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 10, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


# -- reading the page back -----------------------------------------------------------

class Page(HTMLParser):
    """Tags, attributes and text of a rendered page, plus every SVG with its title."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.svgs: list[dict] = []
        self._in_title = False
        self._stack: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "svg":
            self.svgs.append({"attrs": a, "title": "", "polylines": [], "fails": [],
                              "circles": []})
        elif self.svgs and "svg" in self._stack:
            svg = self.svgs[-1]
            if tag == "polyline":
                svg["polylines"].append(a["points"])
            elif tag == "rect" and a.get("class") == "fail":
                svg["fails"].append(a)
            elif tag == "circle":
                svg["circles"].append(a)
            elif tag == "title" and self._stack[-1] == "svg":
                self._in_title = True
        if tag not in ("meta", "br", "hr", "img", "input", "link"):  # void elements
            self._stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        while self._stack:
            if self._stack.pop() == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title and self.svgs:
            self.svgs[-1]["title"] += data

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def chart(self, signal: str, window: str) -> dict:
        found = [s for s in self.svgs if s["title"].startswith(f"{signal} {window}")]
        assert len(found) == 1, [s["title"] for s in self.svgs]
        return found[0]


def points(svg: dict) -> list[tuple[float, float]]:
    (pts,) = svg["polylines"]
    return [tuple(map(float, p.split(","))) for p in pts.split()]


# -- a world to render -----------------------------------------------------------------

@pytest.fixture
def world(tmp_path: Path):
    home = Home.at(tmp_path / "home")
    home.root.mkdir()
    home.ensure()
    store = Store.open(home.db)
    store.set_meta("born", str(clock.to_ts(NOW - timedelta(days=61))))
    yield home, store
    store.close()


def spec(name: str, type_: str = "http_json", every: str = "30m") -> SourceSpec:
    return SourceSpec(name=name, type=type_, every=every)


def poll(store: Store, source: str, when: datetime, ok: bool = True, error: str | None = None,
         **values) -> None:
    readings = []
    for field, v in values.items():
        if isinstance(v, str):
            readings.append((f"{source}.{field}", None, v, None))
        else:
            readings.append((f"{source}.{field}", float(v), None, None))
    state = ({"last_ok": clock.to_ts(when), "consecutive_failures": 0, "failing_since": None}
             if ok else None)
    store.record_run(source, when, ok=ok, error=error, readings=readings if ok else [],
                     state=state)


def fail(store: Store, source: str, when: datetime, error: str, in_a_row: int,
         since: datetime) -> None:
    store.record_run(source, when, ok=False, error=error, state={
        "consecutive_failures": in_a_row, "failing_since": clock.to_ts(since),
        "last_error": error, "last_error_ts": clock.to_ts(when)})


def render(home: Home, store: Store, specs: list[SourceSpec]) -> tuple[str, Page]:
    path = render_page(home, store, specs, tz=TZ, now=NOW)
    assert path == home.page
    html = path.read_text("utf-8")
    return html, Page(html)


def wake_and_sleep(store: Store, sid: str, start: datetime, minutes: int, how: str = "slept",
                   reason: str = "scheduled 08:00") -> None:
    store.record_wake("started", reason, scheduled=start, session_id=sid, ts=start)
    store.start_session(sid, start, 1234, reason)
    store.end_session(sid, start + timedelta(minutes=minutes), how, 0)


# -- charts ------------------------------------------------------------------------------

def test_a_chart_draws_each_reading_in_time_order_and_scale(world):
    home, store = world
    values = [3, 1, 4, 1, 5, 9, 2, 6]
    times = [NOW - timedelta(hours=20 - 2 * i) for i in range(len(values))]
    for t, v in zip(times, values):
        poll(store, "shop", t, karma=v)
    _, page = render(home, store, [spec("shop")])

    pts = points(page.chart("shop.karma", "since Sun 11:30"))
    assert len(pts) == len(values)
    # x is proportional to time, y a decreasing linear function of the value
    t0, x0 = clock.to_ts(times[0]), pts[0][0]
    dx_dt = (pts[-1][0] - x0) / (clock.to_ts(times[-1]) - t0)
    ymin = min(y for _, y in pts)
    dy_dv = (pts[5][1] - pts[1][1]) / (values[5] - values[1])  # 9 vs 1
    assert dx_dt > 0 and dy_dv < 0
    for (x, y), t, v in zip(pts, times, values):
        assert x == pytest.approx(x0 + dx_dt * (clock.to_ts(t) - t0), abs=0.11)
        assert y == pytest.approx(pts[1][1] + dy_dv * (v - 1), abs=0.11)
    assert ymin == pts[5][1]  # the highest value is drawn highest


def test_a_chart_ends_at_the_current_value_and_says_it(world):
    home, store = world
    for i, v in enumerate([10, 12, 11]):
        poll(store, "shop", NOW - timedelta(hours=3 - i), karma=v)
    _, page = render(home, store, [spec("shop")])
    svg = page.chart("shop.karma", "since")
    assert (float(svg["circles"][0]["cx"]), float(svg["circles"][0]["cy"])) == points(svg)[-1]
    assert "from 10 to 12" in svg["title"] and "now 11" in svg["title"]


def test_charts_of_a_busy_signal_hold_at_most_200_points(world):
    home, store = world
    start = NOW - timedelta(days=30)
    store.add_observations(  # 30 days every 5 minutes
        Observation("busy", "busy.n", start + timedelta(seconds=300 * k), k % 97, None, None)
        for k in range(1, 8641))
    _, page = render(home, store, [spec("busy", every="5m")])
    for window in ("over the last 7 days", "over the last 30 days"):
        pts = points(page.chart("busy.n", window))
        assert 150 <= len(pts) <= CHART_POINTS
        assert [x for x, _ in pts] == sorted(x for x, _ in pts)


def test_a_signal_younger_than_a_week_gets_one_chart_of_its_whole_history(world):
    home, store = world
    poll(store, "shop", NOW - timedelta(days=2), karma=1)
    poll(store, "shop", NOW - timedelta(days=1), karma=2)
    poll(store, "old", NOW - timedelta(days=9), n=1)
    poll(store, "old", NOW - timedelta(hours=1), n=2)
    _, page = render(home, store, [spec("shop"), spec("old")])
    titles = [s["title"].split(": ")[0] for s in page.svgs]
    assert titles == ["shop.karma since Sat 07:30", "old.n over the last 7 days",
                      "old.n over the last 30 days"]
    x0, x1 = (x for x, _ in points(page.chart("shop.karma", "since")))
    assert x0 < 15 and 140 < x1 < 160  # two days of history, the last reading a day ago


def test_failing_periods_are_shaded_where_they_happened(world):
    home, store = world
    for h in range(48, 0, -1):
        when = NOW - timedelta(hours=h)
        if 30 >= h > 24:  # six hours of failures
            fail(store, "shop", when, "HTTP 503", 31 - h, NOW - timedelta(hours=30))
        else:
            poll(store, "shop", when, karma=h)
    _, page = render(home, store, [spec("shop", every="1h")])
    svg = page.chart("shop.karma", "since")
    (band,) = svg["fails"]
    pts = points(svg)
    # the band runs from the first failed poll (h=30) to the first good one after (h=24)
    x_of = {48 - i: x for i, (x, _) in enumerate(pts[:18])}  # h=48..31
    step = x_of[47] - x_of[48]
    assert float(band["x"]) == pytest.approx(x_of[31] + step, abs=0.2)
    assert float(band["width"]) == pytest.approx(6 * step, abs=0.2)
    assert "failing period" in svg["title"]


def test_a_source_still_failing_is_shaded_up_to_now(world):
    home, store = world
    poll(store, "shop", NOW - timedelta(hours=5), karma=1)
    fail(store, "shop", NOW - timedelta(hours=2), "timeout", 1, NOW - timedelta(hours=2))
    fail(store, "shop", NOW - timedelta(hours=1), "timeout", 2, NOW - timedelta(hours=2))
    _, page = render(home, store, [spec("shop", every="1h")])
    (band,) = page.chart("shop.karma", "since")["fails"]
    assert float(band["x"]) + float(band["width"]) == pytest.approx(294.0, abs=0.2)


def test_a_source_with_only_text_signals_shows_its_values_without_charts(world):
    home, store = world
    poll(store, "sky", NOW - timedelta(hours=3), condition="fog")
    poll(store, "sky", NOW - timedelta(hours=1), condition="light rain")
    _, page = render(home, store, [spec("sky")])
    assert "sky.condition light rain" in page.all_text
    assert not [s for s in page.svgs if s["title"].startswith("sky.")]
    assert not any(t == "polyline" for t, _ in page.tags)


def test_change_since_the_last_wake_is_shown_next_to_the_value(world):
    home, store = world
    poll(store, "shop", NOW - timedelta(hours=3), karma=100)
    wake_and_sleep(store, "s1", NOW - timedelta(hours=2), 30)
    poll(store, "shop", NOW - timedelta(hours=1), karma=107)
    _, page = render(home, store, [spec("shop")])
    assert "shop.karma 107 +7 since wake" in page.all_text


def test_the_change_since_wake_carries_the_signal_unit(world):
    home, store = world
    store.record_run("posts", NOW - timedelta(hours=3), ok=True,
                     readings=[("posts.words", 30.0, None, "words")])
    wake_and_sleep(store, "s1", NOW - timedelta(hours=2), 30)
    store.record_run("posts", NOW - timedelta(hours=1), ok=True,
                     readings=[("posts.words", 42.0, None, "words")])
    _, page = render(home, store, [spec("posts", "files")])
    assert "posts.words 42 words +12 words since wake" in page.all_text


# -- escaping ------------------------------------------------------------------------------

def test_hostile_text_from_feeds_signals_and_the_agent_renders_as_text(world):
    home, store = world
    evil = " ".join(XSS)
    store.record_run("news", NOW - timedelta(hours=1), ok=True, items=[
        {"uid": "1", "title": XSS[0], "link": "javascript:alert(1)", "summary": XSS[1]},
        {"uid": "2", "title": XSS[1], "link": 'https://example.org/"><script>x</script>'}],
        readings=[("news.headline", None, evil, None)])
    fail(store, "shop", NOW - timedelta(minutes=5), f"HTTP 500: {evil}", 1, NOW)
    store.record_wake("skipped", f"nothing notable {evil}", ts=NOW - timedelta(hours=3))
    wake_and_sleep(store, "s1", NOW - timedelta(hours=2), 10, reason=evil)
    dream = home.dream(NOW.astimezone(TZ).date())
    atomic.write_text(dream, f"---\ndate: x\n---\n\n# {XSS[0]}\n\nI dreamt of {evil}.\n\n"
                             f"## Receipt\n\n- news.headline: {evil}\n")
    store.record_dream(date="2025-03-10", path=str(dream.relative_to(home.root)),
                       backend=XSS[1], model=XSS[0], fallback_reason=evil, cycle_start=clock.from_ts(0.0),
                       cycle_end=NOW, sha256="0")
    atomic.write_text(home.ledger, json.dumps({"session": evil, "targets": {evil: 1},
                                               "ended": "x", "lines_in": 1}) + "\n" + evil + "\n")

    html, page = render(home, store, [spec("news", "feed"), spec("shop")])
    tags = {t for t, _ in page.tags}
    assert "script" not in tags and "img" not in tags
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
    assert not [a for t, a in page.tags if t == "a" and "javascript" in a.get("href", "")]
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8
    text = page.all_text
    for where in ("I dreamt of", "news.headline", "HTTP 500:", "nothing notable",
                  "session"):
        assert f"{where} {XSS[0]}" in text or f"{where}: {XSS[0]}" in text, where


def test_a_link_that_would_break_its_attribute_is_escaped(world):
    home, store = world
    store.record_run("news", NOW - timedelta(hours=1), ok=True, items=[
        {"uid": "1", "title": "ok", "link": 'https://example.org/a"onmouseover="x'}])
    _, page = render(home, store, [spec("news", "feed")])
    (link,) = [a for t, a in page.tags if t == "a" and a.get("href", "").startswith("https")]
    assert set(link) == {"href", "rel"}


# -- the parts, in order ----------------------------------------------------------------------

def test_an_empty_store_renders_a_page_that_says_so(world):
    home, store = world
    html, page = render(home, store, [])
    text = page.all_text
    for expected in ("No dream yet", "No readings yet", "Nothing new", "No sources are configured",
                     "No sessions or wakes", "Nothing consolidated yet"):
        assert expected in text
    assert html.startswith("<!doctype html>")


def test_sections_come_in_the_order_a_person_reads_them(world):
    home, store = world
    _, page = render(home, store, [spec("shop")])
    heads = [a["id"] for t, a in page.tags if t == "h2"]
    assert heads == ["h-dream", "h-signals", "h-new", "h-sources", "h-sessions", "h-ledger"]


def test_the_dream_shows_its_prose_date_and_backend_with_the_receipt_folded(world):
    home, store = world
    path = home.dream(NOW.astimezone(TZ).date())
    atomic.write_text(path, "---\ndate: '2025-03-10'\nbackend: openai\n---\n\n"
                            "The lake was\nlower by 3 stones.\n\nA second scene.\n\n"
                            "## Receipt\n\n- lake.level: first 10, last 7\n")
    store.record_dream(date="2025-03-10", path="dreams/2025-03-10.md", backend="openai",
                       model="gpt-4.1-mini", cycle_start=NOW - timedelta(days=1),
                       cycle_end=NOW, sha256="0")
    html, page = render(home, store, [])
    text = page.all_text
    assert "2025-03-10 · written by openai (gpt-4.1-mini)" in text
    assert "The lake was lower by 3 stones. A second scene." in text
    receipt = re.search(r"<details>(.*?)</details>", html, re.S).group(1)
    assert "lake.level: first 10, last 7" in receipt
    assert "lake.level" not in html.replace(receipt, "")


def test_the_receipt_is_a_list_without_markdown_syntax(world):
    home, store = world
    path = home.dream(NOW.astimezone(TZ).date())
    atomic.write_text(path, "---\ndate: '2025-03-10'\n---\n\nA quiet night.\n\n"
                            "## Receipt\n\n- posts.words words: first 18, last 44\n"
                            "- new items: 2 (inbox 2)\n  - inbox: A letter arrived\n"
                            "  - inbox: Welcome home\n")
    store.record_dream(date="2025-03-10", path="dreams/2025-03-10.md", backend="offline",
                       cycle_start=NOW - timedelta(days=1),
                       cycle_end=NOW, sha256="0")
    html, _ = render(home, store, [])
    folded = re.search(r"<details>(.*?)</details>", html, re.S).group(1)
    items = Page(folded)
    assert [t for t, _ in items.tags] == ["summary", "ul", "li", "li", "ul", "li", "li"]
    assert items.all_text == ("Receipt: the signals this dream came from "
                              "posts.words words: first 18, last 44 new items: 2 (inbox 2) "
                              "inbox: A letter arrived inbox: Welcome home")
    assert "##" not in folded and "- " not in items.all_text


def test_a_count_of_one_reads_in_the_singular_on_the_page(world):
    home, store = world
    store.record_run("posts", NOW - timedelta(hours=3), ok=True,
                     readings=[("posts.count", 2.0, None, "files")])
    wake_and_sleep(store, "s1", NOW - timedelta(hours=2), 30)
    store.record_run("posts", NOW - timedelta(hours=1), ok=True,
                     readings=[("posts.count", 1.0, None, "files")])
    _, page = render(home, store, [spec("posts", "files")])
    assert "posts.count 1 file -1 file since wake" in page.all_text


def test_a_fallback_dream_says_the_model_failed(world):
    home, store = world
    atomic.write_text(home.dream(NOW.date()), "A quiet night.\n")
    store.record_dream(date="2025-03-10", path="dreams/2025-03-10.md", backend="offline",
                       fallback_reason="timeout after 60s", cycle_start=clock.from_ts(0.0),
                       cycle_end=NOW, sha256="0")
    _, page = render(home, store, [])
    assert "The model failed (timeout after 60s)" in page.all_text


def test_only_items_new_since_the_last_wake_are_listed(world):
    home, store = world
    store.record_run("news", NOW - timedelta(hours=5), ok=True,
                     items=[{"uid": "old", "title": "Old news"}])
    wake_and_sleep(store, "s1", NOW - timedelta(hours=4), 30)
    store.record_run("news", NOW - timedelta(hours=1), ok=True,
                     items=[{"uid": "new", "title": "Fresh news", "link": "https://e.org/n"}])
    _, page = render(home, store, [spec("news", "feed")])
    text = page.all_text
    assert "Fresh news" in text and "Old news" not in text
    assert "New since the last wake (Mon 03:30)" in text


def test_source_health_has_a_row_per_source(world):
    home, store = world
    poll(store, "fine", NOW - timedelta(minutes=10), n=1)
    poll(store, "old", NOW - timedelta(hours=5), n=1)
    fail(store, "down", NOW - timedelta(minutes=5), "connection refused", 3,
         NOW - timedelta(hours=1))
    specs = [spec("fine"), spec("old"), spec("down"), spec("new")]
    _, page = render(home, store, specs)
    rows = re.findall(r"<tr><th scope=\"row\">(\w+).*?status-(\w+)", render_page(
        home, store, specs, tz=TZ, now=NOW).read_text(), re.S)
    assert rows == [("fine", "ok"), ("old", "stale"), ("down", "failing"), ("new", "waiting")]
    text = page.all_text
    assert "3 failed polls in a row since Mon 03-10 06:30 (1h ago) connection refused" in text


def test_the_timeline_shows_sessions_and_wakes_not_taken_with_their_reasons(world):
    home, store = world
    day1 = datetime(2025, 3, 9, 7, 0, tzinfo=UTC)  # 08:00 Berlin
    wake_and_sleep(store, "s1", day1, 95, how="slept")
    store.record_wake("skipped", "nothing notable since the last wake",
                      scheduled=day1 + timedelta(hours=6), ts=day1 + timedelta(hours=6))
    store.record_wake("missed", "the daemon was not running at 2025-03-10 08:00",
                      scheduled=NOW - timedelta(minutes=30), ts=NOW - timedelta(minutes=20))
    _, page = render(home, store, [])
    text = page.all_text
    assert "24h 07:00 missed — the daemon was not running at 2025-03-10 08:00" in text
    assert ("24h 08:00 woke until 09:35 (1h35m), slept — scheduled 08:00"
            " 14:00 skipped — nothing notable since the last wake") in text
    days = [s for s in page.svgs if "session(s)" in s["title"]]
    assert [d["title"] for d in days] == ["Mon 10 Mar: 0 session(s), 1 wake(s) not taken",
                                          "Sun 9 Mar: 1 session(s), 1 wake(s) not taken"]


def test_the_ledger_shows_its_last_lines_newest_first(world):
    home, store = world
    lines = [json.dumps({"session": f"s{i}", "ended": f"2025-03-0{i}T23:00:00+01:00",
                         "end_reason": "slept", "lines_in": 10 + i, "promoted": 1,
                         "carried": 2, "dropped": 7 + i, "late": 0,
                         "targets": {"memory/notes.md": 1}}) for i in range(1, 10)]
    atomic.write_text(home.ledger, "\n".join(lines) + "\n")
    _, page = render(home, store, [])
    found = re.findall(r"session (s\d)", page.all_text)
    assert found == ["s9", "s8", "s7", "s6", "s5", "s4", "s3", "s2"]
    assert "19 lines in: 1 promoted (memory/notes.md 1), 2 carried, 16 dropped" in page.all_text


def test_the_policy_pins_the_pages_own_style_and_allows_nothing_else(world):
    home, store = world
    html, page = render(home, store, [])
    (csp,) = [a["content"] for t, a in page.tags
              if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert csp.startswith("default-src 'none'; ")
    assert f"style-src 'sha256-{digest}';" in csp and "unsafe" not in csp
    assert not [a for _, a in page.tags if "style" in a]  # style="" would be refused
    assert not [a for _, a in page.tags if "src" in a]


def test_every_chart_has_an_accessible_title(world):
    home, store = world
    poll(store, "shop", NOW - timedelta(hours=1), karma=1, followers=2)
    wake_and_sleep(store, "s1", NOW - timedelta(hours=2), 30)
    _, page = render(home, store, [spec("shop")])
    assert len(page.svgs) == 3  # two young signals, one day of sessions
    for svg in page.svgs:
        assert svg["attrs"]["role"] == "img" and svg["title"].strip()


# -- the server ------------------------------------------------------------------------------

@pytest.fixture
def server(world):
    home, store = world
    poll(store, "shop", NOW - timedelta(hours=1), karma=41)
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), [spec("shop")], TZ,
                     host="127.0.0.1", port=0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv, store
    srv.shutdown()
    srv.server_close()


def request(srv: PageServer, method: str, path: str, headers: dict | None = None):
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=5)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def test_the_server_answers_the_page_with_a_strict_policy(server):
    srv, _ = server
    resp, body = request(srv, "GET", "/")
    assert resp.status == 200 and b"shop.karma" in body
    assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
    assert resp.getheader("X-Content-Type-Options") == "nosniff"
    csp = resp.getheader("Content-Security-Policy")
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert csp.endswith("frame-ancestors 'none'")
    assert request(srv, "GET", "/morning.html")[1] == body


def test_head_answers_headers_only(server):
    srv, _ = server
    resp, body = request(srv, "HEAD", "/")
    assert resp.status == 200 and body == b"" and int(resp.getheader("Content-Length")) > 1000


@pytest.mark.parametrize("path", ["/.reverie/reverie.db", "/perception/state.md", "/../etc/passwd",
                                  "/morning.html/x", "/reverie.yaml", "/morning.html.bak"])
def test_nothing_else_from_the_home_is_served(server, path):
    srv, _ = server
    resp, body = request(srv, "GET", path)
    assert resp.status == 404 and b"only the morning page" in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_the_server_is_read_only(server, method):
    srv, _ = server
    resp, _ = request(srv, method, "/")
    assert resp.status == 405 and resp.getheader("Allow") == "GET, HEAD"


def test_a_request_for_another_host_name_is_refused_on_loopback(server):
    srv, _ = server
    assert request(srv, "GET", "/", {"Host": "attacker.example:8765"})[0].status == 403
    assert request(srv, "GET", "/", {"Host": "localhost:8765"})[0].status == 200


def test_the_page_is_rendered_again_when_the_store_is_newer(server):
    srv, store = server
    assert b"41" in request(srv, "GET", "/")[1]
    poll(store, "shop", clock.now(), karma=97531)
    assert b"97531" in request(srv, "GET", "/")[1]


def test_binding_beyond_loopback_comes_with_a_warning():
    assert bind_warning("127.0.0.1") is None
    assert bind_warning("::1") is None and bind_warning("localhost") is None
    assert "every network interface" in bind_warning("0.0.0.0")
    assert "192.168.1.5" in bind_warning("192.168.1.5") and "no password" in bind_warning("::")


def test_a_chart_range_never_reads_minus_zero():
    from reverie.perception.text import distinct

    assert distinct(-0.3, 16.9) == ("0", "17")
    assert distinct(-1.2, 16.9) == ("-1", "17")
