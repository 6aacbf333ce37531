"""The morning page in a real browser: Debian's headless Chromium, driven by its own
flags (--dump-dom, --screenshot, console messages logged to stderr).

Skipped, with the reason shown, only where no chromium can be found (`.ci/run`
installs the `chromium` package).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from reverie.memory import atomic, clock
from reverie.memory.store import Store
from reverie.perception.page import render_page
from reverie.perception.serve import PageServer
from tests.test_page import NOW, TZ, XSS, fail, poll, spec, wake_and_sleep

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium on this machine (Debian: apt-get install -y chromium); "
                "the browser checks of the morning page did not run")


def browse(chromium: str, tmp: Path, url: str, *extra: str) -> tuple[str, list[str]]:
    """(stdout, stderr lines that speak of the page: console messages, network errors)."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS")}
    proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    noise = [ln for ln in proc.stderr.splitlines()
             if ":CONSOLE" in ln or "ERR_" in ln or "Refused" in ln]
    return proc.stdout, noise


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.fixture
def page(tmp_path: Path):
    """A home with a month of signals, a failure, items, sessions, a dream and a ledger."""
    from reverie.memory.home import Home

    home = Home.at(tmp_path / "home")
    home.root.mkdir()
    home.ensure()
    store = Store.open(home.db)
    store.set_meta("born", str(clock.to_ts(NOW - timedelta(days=61))))
    for k in range(30 * 8, 0, -1):  # every 3 hours for 30 days
        when = NOW - timedelta(hours=3 * k)
        if 20 <= k < 24:
            fail(store, "shop", when, "HTTP 503 Service Unavailable", 24 - k,
                 NOW - timedelta(hours=69))
        else:
            poll(store, "shop", when, karma=1200 + k % 17 * 3 - k // 4,
                 followers=300 + (240 - k) // 6)
        poll(store, "weather", when, temperature=6 + 5 * ((k % 8) - 4) / 4,
             condition="light rain" if k % 5 else "fog")
    store.record_run("news", NOW - timedelta(hours=1), ok=True,
                     state={"last_ok": clock.to_ts(NOW - timedelta(hours=1))}, items=[
        {"uid": "1", "title": "A letter arrived", "link": "https://example.org/1"},
        {"uid": "2", "title": XSS[0], "summary": XSS[1]}])
    wake_and_sleep(store, "s1", NOW - timedelta(days=1, hours=1), 95)
    store.record_wake("skipped", "nothing notable since the last wake",
                      scheduled=NOW - timedelta(hours=19), ts=NOW - timedelta(hours=19))
    wake_and_sleep(store, "s2", NOW - timedelta(hours=3), 40, reason="scheduled 04:30")
    dream = home.dream(NOW.astimezone(TZ).date())
    atomic.write_text(dream, "---\nbackend: offline\n---\n\nThe lake rose by 3 stones while "
                             "the fox counted letters.\n\n## Receipt\n\n- shop.karma: first "
                             "1200, last 1203\n")
    store.record_dream(date="2025-03-10", path="dreams/2025-03-10.md", backend="offline",
                       cycle_start=NOW - timedelta(days=1),
                       cycle_end=NOW, sha256="0")
    atomic.write_text(home.ledger, json.dumps({
        "session": "s1", "ended": "2025-03-09T09:35:00+01:00", "end_reason": "slept",
        "lines_in": 12, "promoted": 2, "carried": 1, "dropped": 9,
        "targets": {"memory/notes.md": 2}}) + "\n")
    specs = [spec("shop", every="3h"), spec("weather", "weather", every="3h"),
             spec("news", "feed")]
    render_page(home, store, specs, tz=TZ, now=NOW)
    yield home, store, specs
    store.close()


CHARTS = ["shop.followers", "shop.karma", "weather.temperature"]


def test_the_page_loads_from_a_file_with_the_dream_and_every_chart_and_no_console_message(
        chromium, page, tmp_path):
    home, _, _ = page
    dom, noise = browse(chromium, tmp_path, home.page.as_uri(), "--dump-dom")
    assert noise == []
    assert "The lake rose by 3 stones while the fox counted letters." in dom
    for signal in CHARTS:
        for window in ("7 days", "30 days"):
            assert re.search(rf"<title[^>]*>{re.escape(signal)} over the last {window}", dom)
    assert len(re.findall(r"<polyline ", dom)) == 6
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom and "<script" not in dom


def test_the_console_check_would_catch_a_refused_style(chromium, page, tmp_path):
    home, _, _ = page
    tampered = tmp_path / "tampered.html"
    tampered.write_text(home.page.read_text().replace("<style>", "<style>p{}", 1))
    _, noise = browse(chromium, tmp_path, tampered.as_uri(), "--dump-dom")
    assert any("Content Security Policy" in ln for ln in noise)


@pytest.mark.parametrize("name,width,height", [("phone", 390, 844), ("desktop", 1280, 900)])
def test_screenshots_at_phone_and_desktop_widths(chromium, page, tmp_path, name, width, height):
    home, _, _ = page
    shot = tmp_path / f"{name}.png"
    _, noise = browse(chromium, tmp_path, home.page.as_uri(), f"--screenshot={shot}",
                      f"--window-size={width},{height}")
    assert noise == []
    assert png_size(shot) == (width, height)
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one


def test_served_the_page_costs_exactly_one_request(chromium, page, tmp_path):
    home, _, specs = page
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), specs, TZ,
                     host="127.0.0.1", port=0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        dom, noise = browse(chromium, tmp_path, srv.url, "--dump-dom")
    finally:
        srv.shutdown()
        srv.server_close()
    assert noise == []
    assert "shop.karma" in dom
    assert srv.seen == [("GET", "/", 200)]
