"""Running a source once: storage, health, timeouts, backoff, Retry-After, redaction."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import BaseModel
from structlog.testing import capture_logs

from reverie.memory.home import Home
from reverie.memory.store import SourceState
from reverie.perception import poll, sources
from reverie.perception.sources import Item, Reading, Result, SourceError, SourceSpec
from tests.conftest import wait_for

T0 = datetime(2024, 5, 14, 7, 0, tzinfo=timezone.utc)
RELEASE = threading.Event()  # hung test sources wait on this; set at teardown


class Scripted:
    """A test-only source doing what its options say."""

    type_name = "scripted"

    class Options(BaseModel):
        values: dict[str, float | str] = {}
        unit: str | None = None
        error: str | None = None
        crash: str | None = None
        retry_after: float | None = None
        hang: bool = False
        items: list[str] = []
        field_errors: dict[str, str] = {}
        warnings: list[str] = []
        remember: str | None = None

    calls: list[tuple[str, float]] = []

    def __init__(self, name: str, options: BaseModel):
        self.name, self.o = name, options

    def fetch(self, ctx):
        Scripted.calls.append((self.name, time.monotonic()))
        if self.o.hang:
            RELEASE.wait(30)
            return Result()
        if self.o.crash:
            raise ValueError(self.o.crash)
        if self.o.error:
            raise SourceError(self.o.error, retry_after=self.o.retry_after)
        if self.o.remember:
            ctx.state["runs"] = ctx.state.get("runs", 0) + 1
            ctx.state["etag"] = self.o.remember
        return Result(
            readings=[Reading(k, value=v, unit=self.o.unit) if isinstance(v, float)
                      else Reading(k, text=v) for k, v in self.o.values.items()],
            items=[Item(uid=u, title=f"title {u}", link=f"https://example.invalid/{u}")
                   for u in self.o.items],
            field_errors=dict(self.o.field_errors), warnings=list(self.o.warnings))


def fetching() -> list[str]:
    """The poller's fetch threads still running."""
    return [t.name for t in threading.enumerate() if t.name.startswith("fetch-") and t.is_alive()]


@pytest.fixture(autouse=True)
def scripted_type(monkeypatch):
    real = sources.get
    monkeypatch.setattr(sources, "get", lambda t: Scripted if t == "scripted" else real(t))
    Scripted.calls = []
    RELEASE.clear()
    yield
    RELEASE.set()
    # released fetch threads leave before the next test starts
    wait_for(lambda: not fetching(), timeout=5)


@pytest.fixture
def rhome(home: Home) -> Home:
    """The shared home (conftest.py), whose ``store`` these tests also use."""
    return home


def spec(name="src", timeout="2s", every="10m", **options) -> SourceSpec:
    return SourceSpec(name=name, type="scripted", every=every, timeout=timeout,
                      options=Scripted.Options(**options))


def run(s, rhome, store, now=T0, secrets=()):
    return poll.poll_source(s, home=rhome, store=store, now=now, secrets=secrets)


def test_a_successful_poll_stores_its_readings_under_the_source_name_and_an_ok_row(rhome, store):
    out = run(spec("weather", values={"temperature": 12.5, "condition": "light rain"}, unit=None),
              rhome, store)
    assert out.ok and out.error is None and out.skipped is None
    [temperature] = store.readings_at("weather.temperature", [T0])
    [condition] = store.readings_at("weather.condition", [T0])
    assert (temperature.value, temperature.ts) == (12.5, T0)
    assert condition.text == "light rain"
    [row] = store.polls_between(T0 - timedelta(seconds=1), T0)
    assert (row.source, row.ok, row.error) == ("weather", True, None)
    assert sorted(r[0] for r in out.readings) == ["weather.condition", "weather.temperature"]
    assert out.line() == "weather ok temperature=12.5 condition='light rain'"


def test_a_failure_stores_one_failed_row_with_a_one_line_error_and_marks_the_source_failing(
        rhome, store):
    out = run(spec(error="HTTP 500 from\nhttps://example.invalid/api"), rhome, store)
    assert not out.ok
    assert out.error == "HTTP 500 from https://example.invalid/api"
    [row] = store.polls_between(T0 - timedelta(seconds=1), T0)
    assert (row.ok, row.error) == (False, "HTTP 500 from https://example.invalid/api")
    assert store.signal_names() == []
    st = store.source_state("src")
    assert st.consecutive_failures == 1
    assert st.failing_since == T0
    assert st.last_error == "HTTP 500 from https://example.invalid/api"
    assert st.last_error_ts == T0


def test_an_unexpected_exception_is_a_failure_named_by_its_type(rhome, store):
    out = run(spec(crash="boom"), rhome, store)
    assert (out.ok, out.error) == (False, "ValueError: boom")


def test_an_unknown_source_type_is_a_failure_not_an_exception(rhome, store):
    s = SourceSpec(name="odd", type="no-such-type", every="1m")
    out = run(s, rhome, store)
    assert (out.ok, out.error) == (False, "unknown source type 'no-such-type'")
    assert store.source_state("odd").consecutive_failures == 1


def test_a_store_that_cannot_be_written_is_a_failed_outcome_not_an_exception(rhome, store):
    store.close()
    with capture_logs() as logs:
        out = run(spec(values={"x": 1.0}), rhome, store)
    assert not out.ok
    assert out.error.startswith(f"recording the poll failed: StoreError: {store.path}: ")
    assert [e["event"] for e in logs] == ["source.record_failed"]


def test_health_changes_are_logged_once_not_on_every_failure(rhome, store):
    bad, good = spec(error="refused"), spec(values={"x": 1.0})
    with capture_logs() as logs:
        for i in range(3):
            run(bad, rhome, store, now=T0 + timedelta(minutes=i))
        run(good, rhome, store, now=T0 + timedelta(minutes=5))
        run(good, rhome, store, now=T0 + timedelta(minutes=6))
    events = [(e["event"], e["log_level"]) for e in logs if e["event"].startswith("source.")]
    assert events == [("source.failing", "warning"), ("source.recovered", "info")]
    assert logs[0]["source"] == "src" and logs[0]["error"] == "refused"
    assert store.source_state("src").consecutive_failures == 0
    assert store.source_state("src").failing_since is None
    assert store.source_state("src").last_ok == T0 + timedelta(minutes=6)


def test_a_hanging_source_returns_after_its_timeout_as_a_failure(rhome, store):
    started = time.monotonic()
    out = run(spec(hang=True, timeout="0.3s"), rhome, store)
    elapsed = time.monotonic() - started
    assert elapsed < 0.3 + poll.grace(0.3) + 0.3
    assert (out.ok, out.error) == (False, "timed out after 0.3s")
    assert store.source_state("src").consecutive_failures == 1


def test_a_source_still_hung_from_its_last_run_is_skipped_not_started_again(rhome, store):
    s = spec(hang=True, timeout="0.2s")
    run(s, rhome, store)
    out = run(s, rhome, store, now=T0 + timedelta(minutes=1))
    assert out.skipped == "its previous run is still hung"
    assert len(Scripted.calls) == 1
    RELEASE.set()
    assert wait_for(lambda: not fetching(), timeout=5)
    assert run(s, rhome, store, now=T0 + timedelta(minutes=2)).skipped is None


def test_field_errors_are_a_warning_stored_with_an_ok_poll(rhome, store):
    with capture_logs() as logs:
        out = run(spec(values={"karma": 5.0}, field_errors={"followers": "no match for a.b"},
                       warnings=["bozo feed"]), rhome, store)
    assert out.ok
    assert out.warnings == ["followers: no match for a.b", "bozo feed"]
    [row] = store.polls_between(T0 - timedelta(seconds=1), T0)
    assert (row.ok, row.error) == (True, "followers: no match for a.b")
    assert store.source_state("src").consecutive_failures == 0
    assert [e["log_level"] for e in logs] == ["debug"]


def test_the_source_state_persists_between_runs_and_validators_reach_their_columns(
        rhome, store):
    s = spec(values={"x": 1.0}, remember='"abc"')
    run(s, rhome, store)
    run(s, rhome, store, now=T0 + timedelta(minutes=10))
    st = store.source_state("src")
    assert st.data["runs"] == 2
    assert st.etag == '"abc"'


def test_new_items_are_counted_once(rhome, store):
    s = spec(items=["a", "b"])
    assert run(s, rhome, store).new_items == 2
    assert run(spec(items=["b", "c"]), rhome, store, now=T0 + timedelta(minutes=1)).new_items == 1


# -- backoff and Retry-After ---------------------------------------------------------

def _state(failures, last_error_ts, retry_after=None):
    return SourceState("src", consecutive_failures=failures, last_error_ts=last_error_ts,
                       retry_after=retry_after)


@pytest.mark.parametrize("failures, factor", [(1, 2), (2, 4), (3, 8), (4, 8), (10, 8)])
def test_a_failing_source_waits_twice_as_long_per_failure_up_to_8_intervals(failures, factor):
    s = spec(every="10m")
    fires = [T0 + timedelta(minutes=10 * k) for k in range(1, 11)]
    ran = [k + 1 for k, t in enumerate(fires) if poll.should_run(s, _state(failures, T0), t)[0]]
    assert ran[0] == factor


def test_a_fire_landing_a_little_early_from_jitter_still_runs():
    s = spec(every="10m")
    assert poll.should_run(s, _state(1, T0), T0 + timedelta(minutes=19))[0]


def test_backoff_says_why_it_skips():
    ok, why = poll.should_run(spec(every="10m"), _state(2, T0), T0 + timedelta(minutes=10))
    assert not ok and why == "backing off after 2 failures: next try in 30m"


def test_a_success_resets_the_backoff(rhome, store):
    bad, good = spec(error="down"), spec(values={"x": 1.0})
    for i in range(3):
        run(bad, rhome, store, now=T0 + timedelta(minutes=i))
    assert not poll.should_run(good, store.source_state("src"), T0 + timedelta(minutes=20))[0]
    run(good, rhome, store, now=T0 + timedelta(hours=2))
    st = store.source_state("src")
    assert poll.should_run(good, st, T0 + timedelta(hours=2, minutes=10)) == (True, None)


def test_retry_after_from_the_source_is_honoured(rhome, store):
    out = run(spec(error="HTTP 429", retry_after=3600), rhome, store)
    assert out.retry_after == 3600
    st = store.source_state("src")
    assert st.retry_after == T0 + timedelta(hours=1)
    s = spec(every="1m")
    # backoff alone (1 failure, 1 min interval) would allow a run after 2 min
    assert poll.should_run(s, st, T0 + timedelta(minutes=30)) == (
        False, "Retry-After: next try in 30m")
    assert poll.should_run(s, st, T0 + timedelta(minutes=61))[0]


def test_a_cron_source_is_deferred_by_retry_after_but_not_backed_off():
    s = SourceSpec(name="c", type="scripted", cron="0 5 * * *")
    assert poll.should_run(s, _state(5, T0), T0 + timedelta(days=1))[0]
    assert not poll.should_run(s, _state(1, T0, T0 + timedelta(hours=25)),
                               T0 + timedelta(days=1))[0]


# -- secrets ---------------------------------------------------------------------

def test_secrets_are_redacted_from_stored_errors_and_logs(rhome, store):
    key = "sk-live/abc+123"
    s = spec(error=f"401 for https://example.invalid/?key=sk-live%2Fabc%2B123 token {key}")
    with capture_logs() as logs:
        out = run(s, rhome, store, secrets=(key,))
    stored = store.polls_between(T0 - timedelta(seconds=1), T0)[0].error
    for text in (out.error, stored, store.source_state("src").last_error, logs[0]["error"]):
        assert "abc" not in text
        assert text == "401 for https://example.invalid/?key=*** token ***"


# -- a round ---------------------------------------------------------------------

def test_a_round_with_hanging_sources_polls_the_healthy_ones_without_waiting_for_them(
        rhome, store, monkeypatch):
    monkeypatch.setattr(poll, "SLOW_AFTER", 0.2)
    specs = [spec(f"hung{i}", hang=True, timeout="0.5s") for i in range(6)]
    specs += [spec(f"ok{i}", values={"x": float(i)}, timeout="0.5s") for i in range(12)]
    started = time.monotonic()
    outs = poll.poll_round(specs, home=rhome, store=store, max_workers=4)
    elapsed = time.monotonic() - started
    assert [o.source for o in outs] == [s.name for s in specs]
    assert [o.ok for o in outs] == [False] * 6 + [True] * 12
    assert {o.error for o in outs[:6]} == {"timed out after 0.5s"}
    healthy_started = [t - started for name, t in Scripted.calls if name.startswith("ok")]
    # hung fetches holding every slot give them back after SLOW_AFTER, not at their timeout
    assert len(healthy_started) == 12
    assert max(healthy_started) < 0.2 + 0.3
    assert elapsed < 0.2 + 0.5 + poll.grace(0.5) + 0.4
    assert len(store.signal_names()) == 12


def test_a_round_of_healthy_sources_is_fast(rhome, store):
    specs = [spec(f"ok{i}", values={"x": 1.0}) for i in range(50)]
    started = time.monotonic()
    outs = poll.poll_round(specs, home=rhome, store=store)
    assert all(o.ok for o in outs)
    assert time.monotonic() - started < 2.0


def test_a_real_files_source_polls_into_the_store_and_the_state_file(rhome, store):
    from zoneinfo import ZoneInfo

    from reverie.perception.state import render_state

    (rhome.root / "posts").mkdir()
    for i in range(3):
        (rhome.root / "posts" / f"{i}.md").write_text("two words", "utf-8")
    s = SourceSpec(name="posts", type="files", every="1h",
                   options={"path": "posts", "glob": "*.md", "words": True, "unit": "posts"})
    out = poll.poll_source(s, home=rhome, store=store)
    assert out.line() == "posts ok count=3 posts words=6 words"
    render_state(rhome, store, [s], tz=ZoneInfo("Europe/Berlin"))
    assert "- Files: posts.count 3 posts, posts.words 6 words" in rhome.state_md.read_text("utf-8")
