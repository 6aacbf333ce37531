"""Writing the morning dream: once per local date, its file, receipt, record and catch-up."""

import threading
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from reverie.perception.audit import audit, split_dream
from reverie.perception.dreams import DreamOptions
from reverie.perception.dreams.write import dream_day, due_dream_day, write_dream
from reverie.perception.dreams.offline import MAX_WORDS, MIN_WORDS

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def signals(store, start, hours=24):
    for h in range(hours):
        ts = start + timedelta(hours=h, minutes=30)
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.temperature", 4.0 + h * 0.5, None, "°C"),
            ("weather.condition", None, "fog" if h < 12 else "light rain", None)])
        store.record_run("moltbook", ts, ok=True, readings=[("moltbook.karma", 100 + h * 3, None, None)])


def write(home, store, now, **kw):
    return write_dream(home, store, DreamOptions(), day=dream_day(now, BERLIN), tz=BERLIN,
                       now=now, **kw)


NOW = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 05:00 in Berlin


def test_the_dream_file_has_front_matter_prose_and_a_receipt(home, store):
    signals(store, NOW - timedelta(hours=24))
    out = write(home, store, NOW)
    assert out.written and out.path == home.dreams_dir / "2026-06-10.md"
    meta, prose, _, receipt = split_dream(out.path.read_text())
    assert meta["date"] == "2026-06-10" and meta["backend"] == "offline"
    assert meta["cycle_start"] == "2026-06-09T05:00:00+02:00"
    assert meta["cycle_end"] == "2026-06-10T05:00:00+02:00"
    assert meta["fallback_reason"] is None and len(meta["digest_sha256"]) == 64
    assert MIN_WORDS <= len(prose.split()) <= MAX_WORDS
    assert "- moltbook.karma: first 100, last 169" in receipt
    assert "- weather.condition: fog -> light rain" in receipt


def test_the_written_dream_passes_the_audit(home, store):
    signals(store, NOW - timedelta(hours=24))
    report = audit(write(home, store, NOW).path, store)
    assert report.ok and report.record == "store"


def test_latest_points_at_the_new_dream_by_a_relative_link(home, store):
    out = write(home, store, NOW)
    assert home.latest_dream.is_symlink()
    assert str(home.latest_dream.readlink()) == "2026-06-10.md"
    assert home.latest_dream.read_text() == out.path.read_text()


def test_the_dream_is_recorded_in_the_store(home, store):
    write(home, store, NOW)
    row = store.dream("2026-06-10")
    assert row.path == "dreams/2026-06-10.md" and row.backend == "offline"
    assert row.cycle_end == NOW


def test_a_second_run_for_the_same_date_does_nothing(home, store):
    first = write(home, store, NOW)
    text = first.path.read_text()
    again = write(home, store, NOW + timedelta(minutes=1))
    assert not again.written and first.path.read_text() == text
    assert sorted(p.name for p in home.dreams_dir.iterdir()) == ["2026-06-10.md", "latest.md"]


def test_a_double_fire_at_the_same_instant_writes_one_dream(home, store):
    results = []
    ts = [threading.Thread(target=lambda: results.append(write(home, store, NOW))) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sum(r.written for r in results) == 1
    assert sorted(p.name for p in home.dreams_dir.iterdir()) == ["2026-06-10.md", "latest.md"]


def test_force_keeps_the_old_dream_as_a_numbered_file(home, store):
    old = write(home, store, NOW).path.read_text()
    signals(store, NOW, hours=1)
    forced = write(home, store, NOW + timedelta(hours=2), force=True)
    assert forced.written
    assert (home.dreams_dir / "2026-06-10.1.md").read_text() == old
    write(home, store, NOW + timedelta(hours=3), force=True)
    assert (home.dreams_dir / "2026-06-10.2.md").exists()


def test_the_next_cycle_starts_where_the_last_dream_ended(home, store):
    write(home, store, NOW)
    nxt = write(home, store, NOW + timedelta(days=1, minutes=7))
    meta, *_ = split_dream(nxt.path.read_text())
    assert meta["cycle_start"] == "2026-06-10T05:00:00+02:00"
    assert meta["cycle_end"] == "2026-06-11T05:07:00+02:00"


@pytest.mark.parametrize("night,hours", [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_the_nights_the_clocks_change_the_dream_is_dated_and_cut_correctly(home, store, night, hours):
    opts = DreamOptions()
    before = datetime(night.year, night.month, night.day - 1, 5, tzinfo=BERLIN)
    fire = datetime(night.year, night.month, night.day, 5, tzinfo=BERLIN)
    write_dream(home, store, opts, day=dream_day(before, BERLIN), tz=BERLIN, now=before)
    out = write_dream(home, store, opts, day=dream_day(fire, BERLIN), tz=BERLIN, now=fire)
    assert out.path.name == f"{night.isoformat()}.md"
    meta, *_ = split_dream(out.path.read_text())
    start, end = (datetime.fromisoformat(meta[k]) for k in ("cycle_start", "cycle_end"))
    assert end - start == timedelta(hours=hours)
    assert meta["cycle_end"].startswith(f"{night.isoformat()}T05:00:00")
    again = write_dream(home, store, opts, day=dream_day(fire, BERLIN), tz=BERLIN,
                        now=fire + timedelta(hours=1))
    assert not again.written


def test_a_dream_missed_while_the_daemon_was_down_is_due_at_start(home, store):
    opts = DreamOptions()  # 05:00, catch up within 12 h
    start = datetime(2026, 6, 10, 9, 30, tzinfo=BERLIN)
    assert due_dream_day(store, opts, tz=BERLIN, now=start) == date(2026, 6, 10)
    write_dream(home, store, opts, day=date(2026, 6, 10), tz=BERLIN, now=start)
    assert due_dream_day(store, opts, tz=BERLIN, now=start) is None


def test_a_dream_missed_longer_ago_than_catch_up_is_not_due(store):
    opts = DreamOptions(catch_up="2h")
    assert due_dream_day(store, opts, tz=BERLIN,
                         now=datetime(2026, 6, 10, 9, 30, tzinfo=BERLIN)) is None


def test_catch_up_on_the_spring_forward_morning_names_that_date(store):
    assert due_dream_day(store, DreamOptions(), tz=BERLIN,
                         now=datetime(2026, 3, 29, 7, 0, tzinfo=BERLIN)) == date(2026, 3, 29)


def test_an_empty_night_still_writes_a_dream_with_a_quiet_receipt(home, store):
    out = write(home, store, NOW)
    _, prose, _, receipt = split_dream(out.path.read_text())
    assert len(prose.split()) >= MIN_WORDS
    assert "a quiet night" in receipt


def test_latest_is_a_copy_where_symlinks_fail(home, store, monkeypatch):
    from reverie.memory import atomic

    def no_links(*a, **k):
        raise OSError("symlinks not supported")

    monkeypatch.setattr(atomic, "symlink", no_links)
    out = write(home, store, NOW)
    assert not home.latest_dream.is_symlink()
    assert home.latest_dream.read_text() == out.path.read_text()


def test_the_front_matter_is_valid_yaml(home, store):
    text = write(home, store, NOW).path.read_text()
    assert text.startswith("---\n")
    yaml.safe_load(text.split("---\n")[1])


def _weather_week(store, end) -> None:
    """Eight days of hourly temperature and wind readings up to ``end``."""
    for h in range(24 * 8):
        store.record_run("weather", end - timedelta(hours=h), ok=True, readings=[
            ("weather.temperature", 10 + (h % 7), None, "°C"),
            ("weather.wind_speed", 5 + (h % 11) * 2.5, None, "km/h")])


def test_a_dream_for_an_earlier_date_covers_that_night_not_the_last_24_hours(home, store):
    now = datetime(2026, 6, 20, 18, 0, tzinfo=UTC)
    _weather_week(store, now)
    opts = DreamOptions()
    write_dream(home, store, opts, day=date(2026, 6, 16), tz=BERLIN, now=now)
    write_dream(home, store, opts, day=date(2026, 6, 17), tz=BERLIN, now=now)
    row = store.dream("2026-06-17")
    assert row.cycle_end == datetime(2026, 6, 17, 5, 0, tzinfo=BERLIN)
    assert row.cycle_start == datetime(2026, 6, 16, 5, 0, tzinfo=BERLIN)


def test_rewriting_an_earlier_dream_leaves_latest_md_on_the_newest(home, store):
    now = datetime(2026, 6, 20, 18, 0, tzinfo=UTC)
    _weather_week(store, now)
    opts = DreamOptions()
    write_dream(home, store, opts, day=date(2026, 6, 20), tz=BERLIN, now=now)
    write_dream(home, store, opts, day=date(2026, 6, 18), tz=BERLIN, now=now)
    write_dream(home, store, opts, day=date(2026, 6, 18), tz=BERLIN, now=now, force=True)
    assert home.latest_dream.resolve().name == "2026-06-20.md"
