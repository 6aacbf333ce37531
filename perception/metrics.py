"""/metrics and /healthz: what reverie is doing, for Prometheus, Uptime Kuma and probes.

One collector (prometheus_client's Collector protocol: ``collect()`` yields metric
families) reads the store, and the consolidation ledger, at scrape time. `reverie serve`
(a separate, read-only process) and the daemon's own listener (daemon/metrics_listener.py)
both answer with it, so they show exactly the same thing, and nothing is counted twice
or lost between a daemon restart and the next scrape: the record is the store.

Health is the heartbeat's: the daemon's scheduler beats every few seconds (the interval
is in the store); /healthz is 200 while the last beat is younger than ``HEALTHY_BEATS``
intervals, the rule by which the daemon's own systemd watchdog stops trusting its
scheduler, and 503 with a one-line reason otherwise.

prometheus_client is imported here only when a scrape happens: commands that serve no
metrics never load it.
"""

from __future__ import annotations

import os
import platform
import socket
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import structlog

from reverie.memory import clock, safe_read
from reverie.memory.home import Home
from reverie.memory.ledger import sessions as ledger_sessions
from reverie.memory.store import POLL_BUCKETS, PollCounts, Store, StoreError
from reverie.perception import health
from reverie.perception.text import clean

log = structlog.get_logger("reverie.metrics")

HEALTHY_BEATS = 3  # missed beats before the heartbeat is stale (the watchdog's rule)
DEFAULT_BEAT = 10.0  # seconds, when the store does not say (a daemon from before metrics)
LEDGER_MAX_BYTES = 16 * safe_read.MiB
# the ledger's words for what became of a line of working.md besides its archiving in the
# diary (every line is archived): promoted into memory/, carried (kept) in working.md,
# dropped (only in the diary), or late (written after the snapshot, archived alone)
FATES = ("promoted", "carried", "dropped", "late")
# every label value reverie knows of is shown from the start (0), so that a rate or
# increase() sees the first event: a series that appears at 1 has no 0 before it
END_REASONS = ("exited", "slept", "timed out", "killed", "lost")
BACKENDS = ("offline", "openai")
PURPOSES = ("dream", "distill")
SIGNAL_SERIES_MAX = 500  # reverie_signal series at most; the rest are counted, not shown
_MAX_COUNT = 2 ** 53  # a ledger figure past this is not one reverie wrote

PLAIN = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, content type, body."""

    status: int
    content_type: str
    body: bytes


def _plain(status: int, line: str) -> Answer:
    return Answer(status, PLAIN, (line + "\n").encode())


@dataclass(frozen=True)
class LedgerTotals:
    """What the consolidation ledger adds up to: sessions, and their lines by fate."""

    consolidations: int
    lines: dict[str, int]  # by fate


class Metrics:
    """The collector and the two answers. ``store_factory`` opens a (read-only) store per
    scrape; ``specs`` returns the configured sources now (a reload may change them)."""

    def __init__(self, home: Home, store_factory: Callable[[], Store],
                 specs: Callable[[], list[Any]], *, agent: str | None = None,
                 signals: bool = True, process: bool = False):
        """``agent`` names the agent in reverie_agent_info (default: the home folder's
        name); ``signals`` exports the latest numeric readings as reverie_signal;
        ``process`` adds the process_* and python_* families of the process answering
        (the daemon's own listener: they describe the daemon)."""
        self.home, self.store_factory, self.specs = home, store_factory, specs
        self.agent = agent or home.root.name
        self.signals, self.process = signals, process
        self._host = socket.gethostname()
        self._process_collectors: list[Any] | None = None
        self._lock = threading.Lock()
        # poll totals up to a polls.id: a scrape reads only the polls recorded since
        self._polls: tuple[int, dict[str, PollCounts]] = (0, {})
        self._ledger: tuple[tuple, LedgerTotals | None] | None = None
        self._ledger_warned: str | None = None

    # -- the answers ------------------------------------------------------------------

    def exposition(self, accept: str | None = None) -> Answer:
        """/metrics in the format the client's Accept header asks for (Prometheus' text
        format unless it asks for OpenMetrics); 503 with one line if the store cannot
        be read."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept or "")
        try:
            return Answer(200, content_type, encoder(self))
        except (StoreError, OSError) as e:
            # the detail (a path, SQLite's words) is for the log; a scraper is told only this
            log.warning("metrics.unavailable", error=clean(e, 300))
            return _plain(503, "metrics unavailable: the record is unreadable")

    def health(self) -> Answer:
        """/healthz: 200 while the daemon's heartbeat is fresh, else 503; one line each."""
        try:
            store = self.store_factory()
            try:
                beat = store.metrics_heartbeat()
            finally:
                store.close()
        except (StoreError, OSError) as e:
            log.debug("health.unavailable", error=clean(e, 300))
            return _plain(503, "unhealthy: the record is unreadable")
        now = clock.to_ts(clock.now())
        if beat.at is None:
            return _plain(503, "unhealthy: no heartbeat: the daemon has never run on this home")
        if beat.stopped is not None:  # a clean stop says so at once, not when beats go stale
            return _plain(503, f"unhealthy: the daemon was stopped at "
                               f"{beat.stopped.isoformat(timespec='seconds')}")
        age = max(0.0, now - clock.to_ts(beat.at))
        limit = HEALTHY_BEATS * (beat.every or DEFAULT_BEAT)
        said = f"{age:.1f}" if age < 10 else f"{age:.0f}"
        if age > limit:
            return _plain(503, f"unhealthy: heartbeat {said}s old (stale after {limit:g}s): "
                               "the daemon is stopped or its scheduler is stuck")
        return _plain(200, f"ok: heartbeat {said}s old")

    # -- the collector (prometheus_client calls this) ----------------------------------

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                            HistogramMetricFamily)
        from prometheus_client.utils import floatToGoString

        now_dt = clock.now()
        now = clock.to_ts(now_dt)
        specs = [s for s in self.specs() if s.enabled]
        store = self.store_factory()
        try:
            with self._lock:
                upto, polls = self._polls
                snap = store.metrics(after_id=upto, day=now_dt.date().isoformat(),
                                     signals=SIGNAL_SERIES_MAX if self.signals else 0)
                if snap.polls.since:
                    polls = dict(polls)
                    for src, c in snap.polls.counts.items():
                        polls[src] = polls.get(src, PollCounts()) + c
                else:
                    polls = snap.polls.counts
                self._polls = (snap.polls.upto, polls)
            healths = health.sources_health(store, specs, now=now_dt)
        finally:
            store.close()

        # -- what is answering
        build = GaugeMetricFamily("reverie_build_info", "Always 1: the reverie version and "
                                  "the Python it runs on, as labels",
                                  labels=["version", "python"])
        build.add_metric([_version(), platform.python_version()], 1.0)
        info = GaugeMetricFamily("reverie_agent_info", "Always 1: which agent this is (the "
                                 "config's name:), its home and the host, as labels",
                                 labels=["agent", "home", "host"])
        info.add_metric([self.agent, str(self.home.root), self._host], 1.0)
        yield build
        yield info

        # -- sources
        up = GaugeMetricFamily("reverie_source_up",
                               "1 when the source's last poll succeeded, else 0 "
                               "(failing, backing off, or never polled)", labels=["source"])
        last = GaugeMetricFamily("reverie_source_last_success_timestamp_seconds",
                                 "When the source last gave a good reading (Unix time)",
                                 labels=["source"])
        streak = GaugeMetricFamily("reverie_source_consecutive_failures",
                                   "Failed polls in a row (0 once a poll succeeds)",
                                   labels=["source"])
        total = CounterMetricFamily("reverie_source_polls_total", "Polls of the source, "
                                    "good or failed", labels=["source"])
        failed = CounterMetricFamily("reverie_source_failures_total", "Failed polls of the "
                                     "source", labels=["source"])
        took = HistogramMetricFamily("reverie_source_poll_duration_seconds",
                                     "How long a poll of the source took", labels=["source"])
        for spec in specs:
            h = healths.get(spec.name)
            c = polls.get(spec.name, PollCounts())
            up.add_metric([spec.name], 1.0 if h and h.status in (health.OK, health.STALE)
                          else 0.0)
            if h and h.last_ok is not None:
                last.add_metric([spec.name], clock.to_ts(h.last_ok))
            streak.add_metric([spec.name], float(h.failures if h else 0))
            total.add_metric([spec.name], c.polls)
            failed.add_metric([spec.name], c.failures)
            took.add_metric([spec.name], [(floatToGoString(b), n)
                                          for b, n in zip(POLL_BUCKETS, c.buckets)]
                            + [("+Inf", c.durations)], sum_value=c.duration_sum)
        yield from (up, last, streak, total, failed, took)

        # -- dreams
        d = snap.dreams
        dreams = CounterMetricFamily("reverie_dreams_total", "Dreams written (one a night; "
                                     "a forced rewrite replaces its night's), by the backend "
                                     "that wrote them", labels=["backend"])
        for backend, n in sorted({**dict.fromkeys(BACKENDS, 0), **d.by_backend}.items()):
            dreams.add_metric([backend], n)
        yield dreams
        yield CounterMetricFamily("reverie_dream_fallbacks_total", "Dreams the offline backend "
                                  "wrote because the model failed", value=d.fallbacks)
        if d.last_written is not None:
            yield GaugeMetricFamily("reverie_dream_last_timestamp_seconds",
                                    "When the newest dream was written (Unix time)",
                                    value=clock.to_ts(d.last_written))

        # -- sessions
        s = snap.sessions
        yield GaugeMetricFamily("reverie_session_active", "1 while an agent session runs",
                                value=1.0 if s.active_since is not None else 0.0)
        ended = CounterMetricFamily("reverie_sessions_total", "Agent sessions ended, by how "
                                    "they ended (exited, slept, timed out, killed, lost, ...)",
                                    labels=["end_reason"])
        for reason, n in sorted({**dict.fromkeys(END_REASONS, 0), **s.ended}.items()):
            ended.add_metric([reason], n)
        yield ended
        running = (max(0.0, now - clock.to_ts(s.active_since)) if s.active_since is not None
                   else 0.0)
        yield CounterMetricFamily("reverie_session_seconds_total", "Time the agent spent in "
                                  "sessions, the running one included",
                                  value=s.ended_seconds + running)

        # -- consolidation (memory/ledger.jsonl)
        ledger = self._read_ledger()
        if ledger is not None:
            yield CounterMetricFamily("reverie_consolidations_total",
                                      "Sessions consolidated (lines in memory/ledger.jsonl)",
                                      value=ledger.consolidations)
            lines = CounterMetricFamily(
                "reverie_consolidation_lines_total",
                "Lines of working.md consolidated, by fate: every line is archived in the "
                "diary, and is also promoted into memory/, carried in working.md, or "
                "dropped; late ones were written after the snapshot", labels=["fate"])
            for fate in FATES:
                lines.add_metric([fate], ledger.lines.get(fate, 0))
            yield lines

        # -- the model
        t = snap.tokens
        spent = CounterMetricFamily("reverie_model_tokens_total", "Model tokens spent, by "
                                    "purpose", labels=["purpose"])
        today = GaugeMetricFamily("reverie_model_tokens_today", "Model tokens spent today "
                                  "(UTC day, the daily budget's), by purpose",
                                  labels=["purpose"])
        for purpose in sorted({*PURPOSES, *t.total}):
            spent.add_metric([purpose], t.total.get(purpose, 0))
            today.add_metric([purpose], t.today.get(purpose, 0))
        yield spent
        yield today

        # -- the scheduler
        beat = snap.heartbeat
        if beat.at is not None:
            age = max(0.0, now - clock.to_ts(beat.at))
            yield GaugeMetricFamily("reverie_scheduler_heartbeat_age_seconds",
                                    "Seconds since the daemon's scheduler last beat",
                                    value=age)
            fresh = age <= HEALTHY_BEATS * (beat.every or DEFAULT_BEAT) and beat.stopped is None
        else:
            fresh = False
        yield GaugeMetricFamily("reverie_healthy", "1 when /healthz answers 200 (the "
                                "heartbeat is fresh), else 0", value=1.0 if fresh else 0.0)
        if beat.at is not None:  # a time, not an age: alert on time() minus it
            yield GaugeMetricFamily("reverie_scheduler_heartbeat_timestamp_seconds",
                                    "When the daemon's scheduler last beat (Unix time)",
                                    value=clock.to_ts(beat.at))

        # -- the signals themselves
        if self.signals:
            sig = GaugeMetricFamily("reverie_signal", "The latest numeric reading of each "
                                    "signal (source.field), with its unit",
                                    labels=["source", "signal", "unit"])
            shown = snap.signals[:SIGNAL_SERIES_MAX]
            for o in shown:
                if o.value is not None:  # always: the snapshot holds numeric readings only
                    sig.add_metric([o.source, o.signal, o.unit or ""], o.value)
            yield sig
            yield GaugeMetricFamily("reverie_signal_series_capped", "1 when more signals "
                                    f"have numeric readings than the {SIGNAL_SERIES_MAX} "
                                    "reverie_signal series shown, else 0",
                                    value=1.0 if len(snap.signals) > len(shown) else 0.0)

        if self.process:
            yield from self._process_families()

    def _process_families(self) -> Iterator[Any]:
        """prometheus_client's own process_*, python_info and python_gc_* families."""
        if self._process_collectors is None:
            from prometheus_client import (CollectorRegistry, GCCollector, PlatformCollector,
                                           ProcessCollector)

            registry = CollectorRegistry()  # ours: never the library's global one
            for collector in (ProcessCollector, PlatformCollector, GCCollector):
                collector(registry=registry)
            self._process_collectors = [registry]
        for registry in self._process_collectors:
            yield from registry.collect()

    # -- the ledger ---------------------------------------------------------------------

    def _read_ledger(self) -> LedgerTotals | None:
        """Counts from memory/ledger.jsonl, re-read only when it changed; None when it
        cannot be read (the agent may have put anything there: it is read like any home
        file, capped, and a line that is not one reverie wrote is skipped)."""
        path = self.home.ledger
        try:
            fd = safe_read.open_regular(path)
        except FileNotFoundError:
            return LedgerTotals(0, {})
        except OSError as e:
            self._warn_ledger(e)
            return None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            with self._lock:
                if self._ledger is not None and self._ledger[0] == stamp:
                    return self._ledger[1]
            if st.st_size > LEDGER_MAX_BYTES:
                self._warn_ledger(safe_read.UnsafeFile(
                    path, f"refused: over the {LEDGER_MAX_BYTES // safe_read.MiB} MiB cap"))
                return None
            data = f.read(LEDGER_MAX_BYTES + 1)[:LEDGER_MAX_BYTES]
        ledger = _parse_ledger(data)
        with self._lock:
            self._ledger = (stamp, ledger)
        return ledger

    def _warn_ledger(self, e: OSError) -> None:
        why = clean(e, 300)
        if why != self._ledger_warned:  # once per reason, not once per scrape
            self._ledger_warned = why
            log.warning("metrics.ledger_unreadable", error=why)


def _version() -> str:
    # the installed distribution's (perception does not import the daemon's __version__)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reverie")
    except PackageNotFoundError:
        return "unknown"


def _parse_ledger(data: bytes) -> LedgerTotals:
    # a session's record as consolidation reads it (memory/ledger.py), counted when its
    # figures are ones reverie writes
    n, lines = 0, dict.fromkeys(FATES, 0)
    for rec in ledger_sessions(data).values():
        counts = {f: rec.get(f, 0) for f in FATES}
        if not all(type(v) is int and 0 <= v < _MAX_COUNT for v in counts.values()):
            continue
        n += 1
        for f, v in counts.items():
            lines[f] += v
    return LedgerTotals(n, lines)


__all__ = ["Answer", "Metrics", "HEALTHY_BEATS", "FATES"]
