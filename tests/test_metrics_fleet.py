"""What a fleet needs from /metrics: which build and which agent answer, the daemon's own
process figures, every known label from the start, the heartbeat as a timestamp, and the
signals themselves, scraped from a real daemon and parsed with prometheus_client's parser."""

from __future__ import annotations

import platform
import socket
import time
from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

from reverie.memory.home import Home
from reverie.memory.store import Observation, Store
from reverie.perception.metrics import (BACKENDS, END_REASONS, FATES, SIGNAL_SERIES_MAX,
                                        Metrics)
from tests.conftest import run_cli, wait_for
from tests import test_metrics
from tests.test_metrics import _answers, free_port, scrape, value

world = test_metrics.world  # the same fixture: a good and a failing source on a local server


def test_the_daemons_listener_says_which_build_which_agent_and_its_own_process(world):
    port = free_port()
    # no dream at start: from 05:00 to 17:00 the default schedule's catch-up dreams at once
    cfg, home = world(f"metrics: {{listen: \"127.0.0.1:{port}\"}}\nname: ada\n"
                      "dream: {at: '0 5 1 1 *', catch_up: 0s}\n")
    world.daemon(cfg, home)
    own = f"http://127.0.0.1:{port}/"
    assert wait_for(lambda: _answers(own), 20)
    assert wait_for(lambda: value(scrape(own), "reverie_signal", source="good",
                                  signal="good.karma", unit="") == 7, 20)
    f = scrape(own)
    version = run_cli("--version").stdout.split()[-1]
    assert [(s.labels, s.value) for s in f["reverie_build_info"].samples] == [
        ({"version": version, "python": platform.python_version()}, 1.0)]
    assert [(s.labels, s.value) for s in f["reverie_agent_info"].samples] == [
        ({"agent": "ada", "home": str(home.resolve()), "host": socket.gethostname()}, 1.0)]
    # the daemon's own process (prometheus_client's collectors)
    assert value(f, "process_resident_memory_bytes") > 10e6
    assert abs(value(f, "process_start_time_seconds") - time.time()) < 120
    assert "python_info" in f and "python_gc_objects_collected" in f
    # the heartbeat as a time, not an age computed by the scrape
    assert abs(value(f, "reverie_scheduler_heartbeat_timestamp_seconds") - time.time()) < 30
    # every known label value is there before its first event, at 0
    for reason in END_REASONS:
        assert value(f, "reverie_sessions_total", end_reason=reason) == 0, reason
    for backend in BACKENDS:
        assert value(f, "reverie_dreams_total", backend=backend) == 0, backend
    for fate in FATES:
        assert value(f, "reverie_consolidation_lines_total", fate=fate) == 0, fate
    for purpose in ("dream", "distill"):
        assert value(f, "reverie_model_tokens_total", purpose=purpose) == 0, purpose
    assert value(f, "reverie_source_failures_total", source="good") == 0
    # every family says what it counts
    for name, family in f.items():
        if name.startswith("reverie_"):
            assert len(family.documentation.split()) >= 4, name


def test_serve_shows_no_process_figures_and_signals_false_leaves_out_the_signals(world):
    cfg, home = world("metrics: {signals: false}\n")
    base = world.serve(cfg, process=True)
    assert run_cli("--config", str(cfg), "poll").returncode == 1  # `bad` fails
    f = scrape(base)
    assert value(f, "reverie_source_polls_total", source="good") == 1
    assert "reverie_signal" not in f and "reverie_signal_series_capped" not in f
    assert not [n for n in f if n.startswith(("process_", "python_"))]
    cfg.write_text(cfg.read_text().replace("signals: false", "signals: true"))
    base = world.serve(cfg, process=True)
    assert value(scrape(base), "reverie_signal", source="good", signal="good.karma",
                 unit="") == 7


def test_reverie_signal_is_the_latest_number_of_each_signal_within_a_cap(tmp_path):
    home = Home.at(tmp_path)
    home.ensure()
    now = datetime.now(timezone.utc)
    with Store.open(home.db) as s:
        s.add_observations(
            [Observation("w", f"w.s{i:04d}", now - timedelta(minutes=5), float(i), None, "u")
             for i in range(SIGNAL_SERIES_MAX + 20)]
            + [Observation("w", "w.s0000", now, -1.5, None, "u"),
               Observation("x", "x.cond", now, None, "rain", None)])
    m = Metrics(home, lambda: Store.open(home.db, readonly=True), lambda: [])
    f = {x.name: x for x in text_string_to_metric_families(m.exposition().body.decode())}
    samples = f["reverie_signal"].samples
    assert len(samples) == SIGNAL_SERIES_MAX
    assert value(f, "reverie_signal", source="w", signal="w.s0000", unit="u") == -1.5
    assert value(f, "reverie_signal", source="w", signal="w.s0499", unit="u") == 499
    assert not [s for s in samples if s.labels["signal"] == "x.cond"]  # a text: not a gauge
    assert value(f, "reverie_signal_series_capped") == 1
