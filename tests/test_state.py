"""perception/state.md and state.json for a known store, line by line."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from reverie.memory import atomic, clock
from reverie.memory.home import Home
from reverie.perception import state as state_mod
from reverie.perception.sources import SourceSpec
from reverie.perception.state import StateRenderer, render_state

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 5, 14, 7, 30, tzinfo=timezone.utc)  # 09:30 in Berlin
H = timedelta(hours=1)
D = timedelta(days=1)

HOSTILE_TITLE = "Break | the\ntable\r\n# Heading `code` \x1b[31mred\x1b[0m \x07bell"


@pytest.fixture
def rhome(home: Home) -> Home:
    """The shared home (conftest.py), whose ``store`` these tests also use."""
    return home


SPECS = [
    SourceSpec(name="weather", type="weather", every="30m"),
    SourceSpec(name="wallet", type="wallet", every="1h"),
    SourceSpec(name="blog", type="feed", every="1h"),
    SourceSpec(name="posts", type="files", every="1h"),
    SourceSpec(name="moltbook", type="http_json", every="15m"),
    SourceSpec(name="old", type="system", every="1h", enabled=False),
]


def ok(store, source, at, readings=(), items=()):
    store.record_run(source, at, ok=True, readings=readings, items=items,
                     state={"consecutive_failures": 0, "failing_since": None,
                            "last_ok": clock.to_ts(at)})


@pytest.fixture
def known(store, rhome):
    return populate(store, rhome)


def populate(store, rhome):
    """A week of a small world, seen at NOW."""
    store.set_meta("born", str(clock.to_ts(NOW - 61 * D - 3 * H)))  # day 62
    store.record_wake("started", "scheduled", ts=NOW - 2 * H)
    store.record_dream(date="2024-05-14", path=str(rhome.dream(NOW.date())), backend="offline",
                       cycle_start=NOW - D, cycle_end=NOW - 3 * H,
                       sha256="0" * 64)
    start = NOW - 7 * D
    for d in range(8):  # one reading a day: 10 °C rising to 17 °C
        at = start - timedelta(minutes=4) + d * D
        ok(store, "weather", at, [("weather.temperature", 10.0 + d, None, "°C"),
                                  ("weather.condition", None, "clear", None)])
        if d == 6:
            ok(store, "weather", NOW - 3 * H, [("weather.temperature", 16.5, None, "°C")])
    ok(store, "weather", NOW - timedelta(minutes=4),
       [("weather.condition", None, "rain | sun\n# x \x1b[2J", None)])

    ok(store, "wallet", NOW - 6 * H, [("wallet.balance", 1.5, None, "ETH")])
    for i in range(3):
        at = NOW - 5 * H + i * H
        store.record_run("wallet", at, ok=False, error="HTTP 500 from rpc",
                         state={"consecutive_failures": i + 1,
                                "failing_since": clock.to_ts(NOW - 5 * H),
                                "last_error": "HTTP 500 from https://rpc.invalid/ | retry\nlater",
                                "last_error_ts": clock.to_ts(at)})

    ok(store, "blog", NOW - 3 * H, [("blog.new", 1.0, None, None)],
       [{"uid": "old", "title": "Before the wake", "link": "https://blog.invalid/old"}])
    items = [{"uid": f"p{i}", "title": f"Post {i}", "link": f"https://blog.invalid/{i}",
              "published": NOW - 90 * timedelta(minutes=1) + i * timedelta(minutes=5),
              "summary": "words " * 40 if i == 11 else ""} for i in range(12)]
    items.append({"uid": "evil", "title": HOSTILE_TITLE, "link": "../../etc/passwd",
                  "published": NOW - 10 * timedelta(minutes=1), "summary": "a|b"})
    ok(store, "blog", NOW - H, [("blog.new", 13.0, None, None)], items)

    ok(store, "posts", NOW - 20 * timedelta(minutes=1),
       [("posts.count", 834.0, None, "files"), ("posts.words", 12345.0, None, "words")])
    for d in range(3):  # started three days ago, flat
        ok(store, "moltbook", NOW - 3 * D + d * D - 2 * H, [("moltbook.karma", 1284.0, None, None)])
    ok(store, "old", NOW - H, [("old.load", 0.5, None, None)])
    return store


EXPECTED = """\
# Perception

- Now: Tue 2024-05-14 09:30 CEST (Europe/Berlin)
- Day 62 (since 2024-03-14)
- Last wake: Tue 2024-05-14 07:30, 2h ago
- Latest dream: dreams/2024-05-14.md
- Files: posts.count 834 files, posts.words 12345 words

## Signals

| Signal | Now | Since wake | 24 h | 7 days | Age |
|---|---|---|---|---|---|
| weather.condition | rain \\| sun # x | was clear | was clear |  | 4m |
| weather.temperature | 17 °C | +0.5 °C | +1 °C | ▁▁▂▂▃▃▄▄▄▅▅▆▆▇▇█ | 4m |
| wallet.balance | 1.5 ETH | ±0 | new | ···············▄ | 6h |
| blog.new | 13 | +12 | new | ···············▄ | 1h |
| posts.count | 834 files | new | new | ···············▄ | 20m |
| posts.words | 12345 words | new | new | ···············▄ | 20m |
| moltbook.karma | 1284 | ±0 | ±0 | ········▄▄▄▄▄▄▄▄ | 1d2h |

## New since the last wake (Tue 07:30)

### blog (13 new)

- 05-14 09:20 Break \\| the table # Heading \\`code\\` red bell — a\\|b
- 05-14 08:55 Post 11 — words words words words words words words words words words words words words words words words words words words words words words words words words words wor… <https://blog.invalid/11>
- 05-14 08:50 Post 10 <https://blog.invalid/10>
- 05-14 08:45 Post 9 <https://blog.invalid/9>
- 05-14 08:40 Post 8 <https://blog.invalid/8>
- 05-14 08:35 Post 7 <https://blog.invalid/7>
- 05-14 08:30 Post 6 <https://blog.invalid/6>
- 05-14 08:25 Post 5 <https://blog.invalid/5>
- 05-14 08:20 Post 4 <https://blog.invalid/4>
- 05-14 08:15 Post 3 <https://blog.invalid/3>
- … and 3 more

## Sources failing or stale

| Source | Status | Since | Last error | Last good |
|---|---|---|---|---|
| wallet | failing (3 in a row) | 05-14 04:30 (5h ago) | HTTP 500 from https://rpc.invalid/ \\| retry later | 6h ago: balance 1.5 ETH |
| moltbook | stale | 05-13 07:30 (1d2h ago) |  | 1d2h ago: karma 1284 |
"""


def render(rhome, store, specs=SPECS, **kw):
    render_state(rhome, store, specs, tz=BERLIN, now=NOW, **kw)
    return rhome.state_md.read_text("utf-8")


def test_state_md_for_a_known_store_line_by_line(rhome, known):
    got = render(rhome, known).splitlines()
    want = EXPECTED.splitlines()
    for i, (g, w) in enumerate(zip(got, want), 1):
        assert g == w, f"line {i}"
    assert len(got) == len(want)


def _table_rows(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    i = lines.index(header)
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def _cells(row: str) -> int:
    # an unescaped pipe is a cell boundary
    n, i = 0, 0
    while i < len(row):
        if row[i] == "\\":
            i += 2
            continue
        n += row[i] == "|"
        i += 1
    return n - 1


def test_hostile_text_cannot_break_a_table_or_start_a_heading(rhome, store):
    evil = "# owned | x\n| a | b |\n\x1b]0;title\x07\u202eevil`"
    ok(store, "weather", NOW - H, [("weather.condition", None, evil, None)])
    store.record_run("wallet", NOW - H, ok=False, error=evil,
                     state={"consecutive_failures": 1, "failing_since": clock.to_ts(NOW - H),
                            "last_error": evil, "last_error_ts": clock.to_ts(NOW - H)})
    text = render(rhome, store, SPECS[:2])
    header = "| Signal | Now | Since wake | 24 h | 7 days | Age |"
    [row] = _table_rows(text, header)
    assert row == ("| weather.condition | \\# owned \\| x \\| a \\| b \\| evil\\` | — | new |  | 1h |")
    [problem] = _table_rows(text, "| Source | Status | Since | Last error | Last good |")
    assert _cells(problem) == 5
    assert "\\# owned \\| x \\| a \\| b \\| evil\\`" in problem
    assert not any(line.startswith("# owned") for line in text.splitlines())
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text


def test_only_absolute_web_links_are_shown_for_items(rhome, store):
    ok(store, "blog", NOW - H, items=[
        {"uid": "1", "title": "relative", "link": "../../etc/passwd"},
        {"uid": "2", "title": "script", "link": "javascript:alert(1)"},
        {"uid": "3", "title": "spaces", "link": "https://b.invalid/a b>c|d"}])
    text = render(rhome, store, [SPECS[2]])
    items = [line for line in text.splitlines() if line.startswith("- 05-14")]
    assert items == ["- 05-14 08:30 spaces <https://b.invalid/ab%3Ec%7Cd>",
                     "- 05-14 08:30 script", "- 05-14 08:30 relative"]


def test_state_json_holds_the_same_content_with_local_iso_times(rhome, known):
    text = render(rhome, known)
    data = json.loads(rhome.state_json.read_text("utf-8"))
    assert data["now"]["at"] == "2024-05-14T09:30:00+02:00"
    assert data["day"] == 62
    assert data["wake"] == {"at": "2024-05-14T07:30:00+02:00", "text": "Tue 2024-05-14 07:30",
                            "ago": "2h"}
    assert data["dream"] == "dreams/2024-05-14.md"
    rows = _table_rows(text, "| Signal | Now | Since wake | 24 h | 7 days | Age |")
    assert [s["signal"] for s in data["signals"]] == [r.split(" | ")[0][2:] for r in rows]
    temp = next(s for s in data["signals"] if s["signal"] == "weather.temperature")
    assert (temp["value"], temp["unit"], temp["since_wake"], temp["day_change"]) == (
        17.0, "°C", "+0.5 °C", "+1 °C")
    assert temp["at"] == "2024-05-14T09:26:00+02:00"
    blog = data["items"]["sources"][0]
    assert (blog["source"], blog["count"], len(blog["entries"]), blog["more"]) == ("blog", 13, 10, 3)
    assert blog["entries"][0]["title"] == "Break | the table # Heading `code` red bell"
    assert blog["entries"][0]["link"] is None
    assert [(p["source"], p["status"]) for p in data["problems"]] == [
        ("wallet", "failing (3 in a row)"), ("moltbook", "stale")]
    assert data["problems"][0]["since"] == "2024-05-14T04:30:00+02:00"


def test_before_any_wake_the_header_says_so_and_items_cover_the_last_day(rhome, store):
    store.set_meta("born", str(clock.to_ts(NOW - 2 * H)))
    ok(store, "blog", NOW - 30 * H, [("blog.new", 1.0, None, None)],
       [{"uid": "a", "title": "Yesterday's", "link": None}])
    ok(store, "blog", NOW - H, [("blog.new", 2.0, None, None)],
       [{"uid": "b", "title": "Today's", "link": None}])
    text = render(rhome, store, [SPECS[2]])
    assert "- Last wake: none yet" in text.splitlines()
    assert "- Latest dream: none yet" in text.splitlines()
    assert "## New in the last 24 h (no wake yet)" in text
    assert "| blog.new | 2 | — | +1 | ·············▁▁█ | 1h |" in text.splitlines()
    assert "Today's" in text and "Yesterday's" not in text


def test_an_empty_store_says_there_is_nothing_yet(rhome, store):
    lines = render(rhome, store, SPECS[:1]).splitlines()
    assert "No readings yet." in lines
    assert "Nothing new." in lines
    assert "| weather | no reading yet |  |  | never |" in lines


def test_a_user_template_replaces_the_layout_with_the_same_context(rhome, known, tmp_path):
    tpl = tmp_path / "mine.md.j2"
    tpl.write_text("Day {{ day }}\n{% for s in signals[:2] %}\n{{ s.signal }}={{ s.display }}\n"
                   "{% endfor %}\n{{ items.sources[0].entries[0].title }}\n", "utf-8")
    lines = render(rhome, known, template=tpl).splitlines()
    # printed values are escaped in a user's template too
    assert lines == ["Day 62", "weather.condition=rain \\| sun # x",
                     "weather.temperature=17 °C",
                     "Break \\| the table # Heading \\`code\\` red bell"]


def test_a_broken_user_template_is_one_clear_error_naming_it(rhome, known, tmp_path):
    tpl = tmp_path / "broken.md.j2"
    tpl.write_text("ok\n{% for x in %}\n", "utf-8")
    with pytest.raises(state_mod.StateError) as err:
        render(rhome, known, template=tpl)
    assert str(err.value).startswith(f"{tpl}:2: ")
    assert "\n" not in str(err.value)
    tpl.write_text("{{ no_such_thing.x }}\n", "utf-8")
    with pytest.raises(state_mod.StateError, match="no_such_thing"):
        render(rhome, known, template=tpl)


def test_both_files_are_written_atomically_and_no_temporary_file_is_left(
        rhome, known, monkeypatch):
    written = []
    real = atomic.write_text

    def spy(path, text, **kw):
        written.append(Path(path).name)
        return real(path, text, **kw)

    monkeypatch.setattr(state_mod.atomic, "write_text", spy)
    render(rhome, known)
    assert sorted(written) == ["state.json", "state.md"]
    assert sorted(p.name for p in rhome.perception_dir.iterdir()) == ["state.json", "state.md"]


# -- the renderer the daemon keeps ----------------------------------------------------

def test_the_renderer_renders_only_when_the_store_changed(rhome, known):
    r = StateRenderer(rhome, known, SPECS, BERLIN, min_interval=0)
    assert r.maybe_render(now=NOW) is True
    mtime = rhome.state_md.stat().st_mtime_ns
    assert r.maybe_render(now=NOW) is False
    ok(known, "posts", NOW, [("posts.count", 835.0, None, "files")])
    assert r.maybe_render(now=NOW) is True
    assert "posts.count 835 files" in rhome.state_md.read_text("utf-8")
    assert rhome.state_md.stat().st_mtime_ns >= mtime


def test_a_change_inside_the_quiet_interval_is_rendered_when_it_ends(rhome, known):
    r = StateRenderer(rhome, known, SPECS, BERLIN, min_interval=0.3)
    assert r.maybe_render() is True
    ok(known, "posts", NOW, [("posts.count", 900.0, None, "files")])
    assert r.maybe_render() is False  # too soon
    assert "posts.count 900 files" not in rhome.state_md.read_text("utf-8")
    deadline = time.monotonic() + 2
    while "posts.count 900 files" not in rhome.state_md.read_text("utf-8"):
        assert time.monotonic() < deadline, "the deferred render never came"
        time.sleep(0.02)
    r.close()


def test_render_forces_a_render(rhome, known):
    r = StateRenderer(rhome, known, SPECS, BERLIN)
    r.render(now=NOW)
    rhome.state_md.unlink()
    assert r.maybe_render(now=NOW) is False
    assert r.render(now=NOW) == rhome.state_md and rhome.state_md.exists()


def test_concurrent_calls_render_once(rhome, known):
    r = StateRenderer(rhome, known, SPECS, BERLIN, min_interval=60)
    results = []
    threads = [threading.Thread(target=lambda: results.append(r.maybe_render(now=NOW)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    r.close()


def test_a_failing_render_is_logged_once_and_never_raises(rhome, known, tmp_path):
    tpl = tmp_path / "broken.md.j2"
    tpl.write_text("{% if %}", "utf-8")
    r = StateRenderer(rhome, known, SPECS, BERLIN, template=tpl, min_interval=0)
    with capture_logs() as logs:
        assert r.maybe_render(now=NOW) is False
        ok(known, "posts", NOW, [("posts.count", 1.0, None, None)])
        assert r.maybe_render(now=NOW) is False
    assert [e["event"] for e in logs] == ["state.render_failed"]
    assert logs[0]["error"].startswith(f"{tpl}:1: ")


# -- reading it ---------------------------------------------------------------------------

def row(text: str, signal: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith(f"| {signal} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_changes_since_wake_and_over_a_day_carry_the_signal_unit(rhome, store):
    store.record_wake("started", "scheduled", ts=NOW - 2 * H)
    ok(store, "posts", NOW - D, [("posts.words", 20.0, None, "words")])
    ok(store, "posts", NOW - 3 * H, [("posts.words", 30.0, None, "words")])
    ok(store, "posts", NOW - H, [("posts.words", 42.0, None, "words")])
    signal, now, since_wake, day = row(render(rhome, store), "posts.words")[:4]
    assert (now, since_wake, day) == ("42 words", "+12 words", "+22 words")


def test_a_count_of_exactly_one_reads_in_the_singular(rhome, store):
    store.record_wake("started", "scheduled", ts=NOW - 2 * H)
    ok(store, "posts", NOW - 3 * H, [("posts.count", 2.0, None, "files"),
                                     ("posts.words", 1.0, None, "words")])
    ok(store, "posts", NOW - H, [("posts.count", 1.0, None, "files"),
                                 ("posts.words", 1.0, None, "words")])
    ok(store, "blog", NOW - H, [("blog.new_items", 1.0, None, "items")])
    text = render(rhome, store)
    assert row(text, "posts.count")[1:3] == ["1 file", "-1 file"]
    assert row(text, "posts.words")[1:3] == ["1 word", "±0"]
    assert row(text, "blog.new_items")[1] == "1 item"
    assert "- Files: posts.count 1 file, posts.words 1 word" in text


def test_a_measure_of_one_keeps_its_unit_and_other_counts_stay_plural(rhome, store):
    ok(store, "wallet", NOW - H, [("wallet.balance", 1.0, None, "ETH")])
    ok(store, "moltbook", NOW - H, [("moltbook.latency", 1.0, None, "ms")])
    ok(store, "posts", NOW - H, [("posts.words", 3.0, None, "words")])
    text = render(rhome, store)
    assert row(text, "wallet.balance")[1] == "1 ETH"
    assert row(text, "moltbook.latency")[1] == "1 ms"
    assert row(text, "posts.words")[1] == "3 words"
