"""/metrics and /healthz of `reverie serve` (its server) and the daemon's own listener,
scraped and parsed with prometheus_client's parser while a real daemon polls local servers."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reverie.daemon import config
from reverie.memory import clock
from reverie.memory.ledger import Ledger
from reverie.memory.store import Store
from reverie.perception.serve import PageServer
from tests.conftest import chat_completion, reverie_env, run_cli, start_cli, wait_for
from reverie.memory.home import Home

SOURCE_FAMILIES = {"reverie_source_up", "reverie_source_last_success_timestamp_seconds",
                   "reverie_source_consecutive_failures", "reverie_source_polls",
                   "reverie_source_failures", "reverie_source_poll_duration_seconds"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def scrape(base: str) -> dict:
    """The families /metrics answers, by name."""
    status, ctype, body = get(base + "metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), body
    return {f.name: f for f in text_string_to_metric_families(body)}


def value(families: dict, sample: str, **labels: str) -> float | None:
    """The value of the sample ``sample`` with exactly ``labels`` (None when absent)."""
    family = sample
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        if family.endswith(suffix) and family[: -len(suffix)] in families:
            family = family[: -len(suffix)]
    for s in families[family].samples if family in families else ():
        if s.name == sample and s.labels == labels:
            return s.value
    return None


@pytest.fixture
def world(tmp_path, write_config, httpserver):
    """A config with a good source and a failing one on a local server; ``extra`` YAML is
    appended. Processes it starts are stopped at the end."""
    httpserver.expect_request("/good").respond_with_json({"agent": {"karma": 7}})
    httpserver.expect_request("/bad").respond_with_data("down", status=500)
    procs: list[subprocess.Popen] = []

    def make(extra: str = "", every: str = "1s"):
        cfg = write_config(textwrap.dedent(f"""
            home: ./home
            timezone: UTC
            sources:
              - {{name: good, type: http_json, url: "{httpserver.url_for('/good')}",
                  fields: {{karma: agent.karma}}, every: {every}}}
              - {{name: bad, type: http_json, url: "{httpserver.url_for('/bad')}",
                  fields: {{karma: agent.karma}}, every: {every}}}
        """).lstrip("\n") + extra)  # extra starts at line 8
        (tmp_path / "home").mkdir(exist_ok=True)
        return cfg, tmp_path / "home"

    def daemon(cfg, home, **env):
        p = start_cli("--config", str(cfg), "--log-format", "json", "run",
                      env=reverie_env(**env))
        procs.append(p)
        from reverie.daemon import config

        state = config.load(cfg, need_secrets=False).home.state  # name: moves it
        assert wait_for(lambda: (state / "control.sock").exists(), 20), "daemon did not start"
        return p

    def serve(cfg, process: bool = False):
        """The base URL of what `reverie serve` serves for ``cfg``: the command itself
        (``process``), or its server on a thread of this process (the same PageServer,
        without an interpreter's start)."""
        if process:
            port = free_port()
            p = start_cli("--config", str(cfg), "serve", "--port", str(port))
            procs.append(p)
            base = f"http://127.0.0.1:{port}/"
            assert wait_for(lambda: _answers(base), 20), "serve did not start"
            return base
        loaded = config.load(cfg, need_secrets=False)
        loaded.home.ensure()
        Store.open(loaded.home.db).close()  # as the command does: the store exists
        server = PageServer(loaded.home, lambda: Store.open(loaded.home.db, readonly=True),
                            loaded.config.sources, loaded.tz, port=0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        servers.append(server)
        return server.url

    servers: list = []
    make.daemon, make.serve, make.httpserver = daemon, serve, httpserver
    yield make
    for server in servers:
        server.shutdown()
        server.server_close()
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _answers(base: str) -> bool:
    try:
        get(base + "healthz")
        return True
    except OSError:
        return False


def stop(p: subprocess.Popen) -> None:
    p.terminate()
    assert p.wait(timeout=20) == 0


def requests_to(httpserver, path: str) -> int:
    return sum(1 for req, _ in httpserver.log if req.path == path)


def test_metrics_while_the_daemon_polls_show_each_source_up_or_down(world):
    cfg, home = world()
    daemon = world.daemon(cfg, home)
    base = world.serve(cfg)
    m = wait_for(lambda: (f := scrape(base)) and value(f, "reverie_source_up", source="good") == 1
                 and (value(f, "reverie_source_failures_total", source="bad") or 0) >= 2 and f, 30)
    assert m, "the daemon never polled both sources"
    assert value(m, "reverie_source_up", source="bad") == 0
    assert value(m, "reverie_source_consecutive_failures", source="bad") >= 2
    assert value(m, "reverie_source_failures_total", source="good") == 0
    now = clock.to_ts(clock.now())
    assert now - 30 < value(m, "reverie_source_last_success_timestamp_seconds", source="good") <= now
    assert value(m, "reverie_source_last_success_timestamp_seconds", source="bad") is None
    assert value(m, "reverie_healthy") == 1
    assert 0 <= value(m, "reverie_scheduler_heartbeat_age_seconds") < 30
    assert SOURCE_FAMILIES <= set(m)
    assert all(f.documentation for f in m.values())
    stop(daemon)


def test_poll_counters_equal_the_requests_the_local_server_received(world):
    cfg, home = world()
    daemon = world.daemon(cfg, home)
    base = world.serve(cfg)
    assert wait_for(lambda: requests_to(world.httpserver, "/good") >= 3
                    and requests_to(world.httpserver, "/bad") >= 2, 30)
    stop(daemon)  # no poll in flight: the record and the server's log are final
    m = scrape(base)
    good, bad = (requests_to(world.httpserver, p) for p in ("/good", "/bad"))
    assert value(m, "reverie_source_polls_total", source="good") == good
    assert value(m, "reverie_source_polls_total", source="bad") == bad
    assert value(m, "reverie_source_failures_total", source="bad") == bad
    assert value(m, "reverie_source_poll_duration_seconds_count", source="good") == good
    assert value(m, "reverie_source_poll_duration_seconds_bucket", source="good", le="+Inf") == good
    assert 0 < value(m, "reverie_source_poll_duration_seconds_sum", source="good") < 10 * good


@pytest.fixture
def notify_sink(tmp_path):
    """A datagram socket standing in for systemd's, read continuously."""
    path = tmp_path / "notify.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(0.2)
    done = threading.Event()

    def drain() -> None:
        while not done.is_set():
            try:
                s.recv(4096)
            except (socket.timeout, OSError):
                pass

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    yield path
    done.set()
    t.join(2)
    s.close()


def test_healthz_is_200_while_the_daemon_beats_and_503_once_its_heartbeat_stops(world,
                                                                                 notify_sink):
    cfg, home = world(every="1h")
    # systemd's watchdog at 4 s (pinged every 2 s) makes the daemon beat every second:
    # stale after 3 s, when the daemon itself stops pinging the watchdog
    daemon = world.daemon(cfg, home, NOTIFY_SOCKET=str(notify_sink), WATCHDOG_USEC="4000000")
    base = world.serve(cfg)
    status, ctype, body = get(base + "healthz")
    assert (status, body.startswith("ok: heartbeat ")) == (200, True), body
    assert ctype.startswith("text/plain")
    daemon.send_signal(signal.SIGSTOP)  # the scheduler stops beating
    try:
        late = wait_for(lambda: (a := get(base + "healthz"))[0] == 503 and a, 10)
        assert late, "healthz never noticed the stopped heartbeat"
        _, _, body = late
        assert body.endswith("\n") and "\n" not in body[:-1]
        assert body.startswith("unhealthy: heartbeat ") and "old (stale after 3s): " in body
        assert value(scrape(base), "reverie_healthy") == 0
    finally:
        daemon.send_signal(signal.SIGCONT)
    assert wait_for(lambda: get(base + "healthz")[0] == 200, 10), "healthz did not recover"
    stop(daemon)


def test_healthz_before_any_daemon_ran_is_503_no_heartbeat(world):
    cfg, _ = world()
    base = world.serve(cfg)
    assert get(base + "healthz")[::2] == (
        503, "unhealthy: no heartbeat: the daemon has never run on this home\n")
    assert value(scrape(base), "reverie_healthy") == 0


def counters(families: dict) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for name in SOURCE_FAMILIES - {"reverie_source_up", "reverie_source_consecutive_failures",
                                           "reverie_source_last_success_timestamp_seconds"}
            for s in families[name].samples}


def test_counters_do_not_go_down_when_retention_deletes_old_polls(world):
    cfg, home = world(every="1h")
    base = world.serve(cfg)  # makes the store
    db = Home.at(home).state / "reverie.db"
    now = clock.now()
    with Store.open(db) as store:
        for day in range(100, 0, -1):  # one poll a day for 100 days, every 7th failing
            store.record_run("good" if day % 3 else "bad", now - timedelta(days=day),
                             ok=day % 7 != 0, error=None if day % 7 else "HTTP 500",
                             duration=0.02 * (day % 40))
    before = counters(scrape(base))
    assert before[("reverie_source_polls_total", (("source", "good"),))] == 67
    assert before[("reverie_source_failures_total", (("source", "bad"),))] == 4  # days 21, 42, 63, 84
    with Store.open(db) as store:
        removed = store.apply_retention(now - timedelta(days=30))
        store.record_run("good", now, ok=True, duration=0.02)
    with sqlite3.connect(db) as c:
        assert removed == 70 and c.execute("SELECT COUNT(*) FROM polls").fetchone()[0] == 31
    after = counters(scrape(base))  # the same server: it had counted up to the old rows
    fresh = counters(scrape(world.serve(cfg)))  # a new one counts from the store alone
    key = ("reverie_source_polls_total", (("source", "good"),))
    assert after[key] == fresh[key] == before[key] + 1
    for k, v in before.items():
        assert after[k] >= v and fresh[k] == pytest.approx(after[k]), k


def test_a_poll_retention_deletes_before_any_scrape_saw_it_is_still_counted(world):
    cfg, home = world(every="1h")
    base = world.serve(cfg)
    db = Home.at(home).state / "reverie.db"
    now = clock.now()
    with Store.open(db) as store:
        for _ in range(3):
            store.record_run("good", now - timedelta(days=100), ok=True, duration=0.1)
    assert value(scrape(base), "reverie_source_polls_total", source="good") == 3
    with Store.open(db) as store:  # the clock was wrong for one poll: it is old at once
        store.record_run("good", now - timedelta(days=100), ok=True, duration=0.1)
        store.record_run("good", now, ok=True, duration=0.1)
        assert store.apply_retention(now - timedelta(days=30)) == 4
    assert value(scrape(base), "reverie_source_polls_total", source="good") == 5


def test_the_daemons_own_listener_serves_the_same_families(world):
    port = free_port()
    cfg, home = world(f"metrics: {{listen: \"127.0.0.1:{port}\"}}\n")
    daemon = world.daemon(cfg, home)
    own = f"http://127.0.0.1:{port}/"
    assert wait_for(lambda: _answers(own), 20), "the daemon's listener did not answer"
    assert wait_for(lambda: value(scrape(own), "reverie_source_up", source="good") == 1, 20)
    base = world.serve(cfg, process=True)  # the command itself
    # the same reverie_ families; the daemon's listener alone adds its process's own
    # (process_*, python_*: `reverie serve` is another process)
    mine = {k: f for k, f in scrape(own).items() if k.startswith("reverie_")}
    served = scrape(base)
    assert not [k for k in served if not k.startswith("reverie_")]
    assert {(f.name, f.type, f.documentation) for f in mine.values()} == \
           {(f.name, f.type, f.documentation) for f in served.values()}
    assert {(s.name, tuple(sorted(s.labels.items()))) for f in mine.values() for s in f.samples} == \
           {(s.name, tuple(sorted(s.labels.items()))) for f in served.values() for s in f.samples}
    assert get(own + "healthz")[0] == 200
    assert get(own)[0] == 404  # the page is `reverie serve`'s alone
    stop(daemon)
    with pytest.raises(OSError):
        get(own + "metrics")


@pytest.mark.parametrize("listen", ["0.0.0.0:9464", "[::]:9464", "192.0.2.1:9464"])
def test_a_non_loopback_listen_address_is_a_one_line_config_error(world, listen):
    cfg, _ = world(f"metrics:\n  listen: \"{listen}\"\n")
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 2
    host = listen.rpartition(":")[0].strip("[]")
    assert r.stderr.splitlines() == [
        f"{cfg}:9: metrics.listen: {host} is not a loopback address: metrics would be open "
        "to the network (set metrics.allow_remote: true if that is meant)"]


def test_allow_remote_lets_the_listener_take_any_address(world):
    cfg, _ = world("metrics: {listen: \"0.0.0.0:9464\", allow_remote: true}\n")
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("listen", ["9464", "127.0.0.1:99999", "::1:9464", "127.0.0.1:"])
def test_a_listen_address_that_is_not_host_and_port_is_a_config_error(world, listen):
    cfg, _ = world(f"metrics:\n  listen: \"{listen}\"\n")
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 2
    [line] = r.stderr.splitlines()
    assert line.startswith(f"{cfg}:9: metrics.listen: ")


AGENT = """
import os, sys, time
with open(os.environ["REVERIE_WORKING"], "a") as f:
    f.write("## Log\\nplain note\\nkeep this #remember\\n")
time.sleep(float(open(sys.argv[1]).read()))
"""


def test_sessions_and_consolidated_lines_match_the_store_and_the_ledger(world, tmp_path):
    agent, seconds = tmp_path / "agent.py", tmp_path / "seconds"
    agent.write_text(AGENT)
    seconds.write_text("60")
    cfg, home = world(f"""sessions:
  command: [{sys.executable}, {agent}, {seconds}]
  max_duration: 1m
  stop_timeout: 2s
""", every="1h")
    base = world.serve(cfg)
    waker = start_cli("--config", str(cfg), "wake")
    try:
        assert wait_for(lambda: value(scrape(base), "reverie_session_active") == 1, 20)
        # the session is on; its agent has written once its lines are in working.md
        working = home / "working.md"
        assert wait_for(lambda: working.exists() and "#remember" in working.read_text(), 20)
        r = run_cli("--config", str(cfg), "sleep", timeout=30)
        assert r.returncode == 0, r.stderr
        waker.wait(timeout=30)
    finally:
        if waker.poll() is None:
            waker.kill()
    seconds.write_text("0.2")
    r = run_cli("--config", str(cfg), "wake")
    assert r.returncode == 0, r.stderr
    m = scrape(base)
    assert value(m, "reverie_session_active") == 0
    assert value(m, "reverie_sessions_total", end_reason="slept") == 1
    assert value(m, "reverie_sessions_total", end_reason="exited") == 1
    with sqlite3.connect(Home.at(home).state / "reverie.db") as c:
        seconds = c.execute("SELECT SUM(ended - started) FROM sessions").fetchone()[0]
    assert value(m, "reverie_session_seconds_total") == pytest.approx(seconds)
    ledger = [json.loads(x) for x in (home / "memory" / "ledger.jsonl").read_text().splitlines()]
    assert value(m, "reverie_consolidations_total") == len(ledger) == 2
    for fate in ("promoted", "carried", "dropped", "late"):
        assert value(m, "reverie_consolidation_lines_total", fate=fate) == \
            sum(rec[fate] for rec in ledger), fate
    assert value(m, "reverie_consolidation_lines_total", fate="promoted") == 2


def test_lines_the_agent_forged_into_the_ledger_are_not_counted(world):
    cfg, home = world(every="1h")
    base = world.serve(cfg)
    real = Ledger(session="s1", date="2026-01-01", started="", ended="", end_reason="exited",
                  lines_in=5, archived=5, promoted=2, carried=1, dropped=2, late=0,
                  targets={}, sha256={}, diary="")
    (home / "memory").mkdir(exist_ok=True)
    (home / "memory" / "ledger.jsonl").write_text("\n".join([
        real.to_json(), real.to_json(),  # the same session twice counts once
        "not json", '["a list"]', '{"session": "s2", "promoted": -5}',
        '{"session": "s3", "promoted": 1e308}', '{"session": "s4", "dropped": true}',
        "\x00\xff"]) + "\n")
    m = scrape(base)
    assert value(m, "reverie_consolidations_total") == 1
    assert [value(m, "reverie_consolidation_lines_total", fate=f)
            for f in ("promoted", "carried", "dropped", "late")] == [2, 1, 2, 0]


def test_a_fifo_in_place_of_the_ledger_leaves_out_its_counts_and_never_hangs(world):
    cfg, home = world(every="1h")
    base = world.serve(cfg)
    (home / "memory").mkdir(exist_ok=True)
    import os

    os.mkfifo(home / "memory" / "ledger.jsonl")
    m = scrape(base)
    assert "reverie_consolidations" not in m and "reverie_source_polls" in m


def test_a_dream_that_fell_back_is_counted_with_the_tokens_the_model_spent(world, tmp_path):
    httpserver = world.httpserver
    # a reply stating a figure the record lacks is refused twice: the offline dream is written
    httpserver.expect_request("/v1/chat/completions").respond_with_json(chat_completion(
        "I counted 8123 voices in a station where nobody spoke. " * 10, tokens=42))
    cfg, home = world(f"dream: {{backend: openai, base_url: '{httpserver.url_for('/v1')}', "
                      "model: m, timeout: 5s}\n", every="1h")
    base = world.serve(cfg)
    assert value(scrape(base), "reverie_dream_fallbacks_total") == 0
    r = run_cli("--config", str(cfg), "dream", env=reverie_env(OPENAI_API_KEY="sk-local-test"))
    assert r.returncode == 1, r.stderr
    m = scrape(base)
    calls = requests_to(httpserver, "/v1/chat/completions")
    assert calls >= 1
    assert value(m, "reverie_dreams_total", backend="offline") == 1
    assert value(m, "reverie_dream_fallbacks_total") == 1
    assert value(m, "reverie_model_tokens_today", purpose="dream") == 42 * calls
    assert value(m, "reverie_model_tokens_total", purpose="dream") == 42 * calls
    now = clock.to_ts(clock.now())
    assert now - 60 < value(m, "reverie_dream_last_timestamp_seconds") <= now


def test_commands_that_serve_no_metrics_never_import_prometheus_client(world):
    cfg, _ = world()
    code = ("import sys; from reverie.daemon.cli import main; "
            f"codes = [main(['--config', {str(cfg)!r}, c]) for c in ('check-config', 'status')]; "
            "print(codes, 'prometheus_client' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=reverie_env(), timeout=60, cwd=Path(cfg).parent)
    assert r.stdout.splitlines()[-1] == "[0, 3] False", r.stdout + r.stderr


def test_a_listen_port_already_taken_is_logged_and_the_daemon_runs_on(world):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg, home = world(f"metrics: {{listen: \"127.0.0.1:{port}\"}}\n", every="1h")
        daemon = world.daemon(cfg, home)
        base = world.serve(cfg)
        assert wait_for(lambda: get(base + "healthz")[0] == 200, 20)
        assert daemon.poll() is None
        daemon.terminate()
        _, err = daemon.communicate(timeout=20)
    assert daemon.returncode == 0
    [line] = [json.loads(x) for x in err.splitlines()
              if x.startswith("{") and "metrics.listen_failed" in x]
    assert f"cannot listen on 127.0.0.1:{port}" in line["error"]


def test_healthz_is_503_at_once_after_a_clean_stop_and_200_again_after_a_start(world):
    cfg, home = world(every="1h")
    daemon = world.daemon(cfg, home)
    base = world.serve(cfg)
    assert wait_for(lambda: get(base + "healthz")[0] == 200, 10), get(base + "healthz")
    stop(daemon)  # SIGTERM: a clean stop, seconds before the last beat would go stale
    status, _, body = get(base + "healthz")
    assert status == 503, body
    assert body.startswith("unhealthy: the daemon was stopped at ") and body.count("\n") == 1
    assert value(scrape(base), "reverie_healthy") == 0
    again = world.daemon(cfg, home)
    assert wait_for(lambda: get(base + "healthz")[0] == 200, 10), get(base + "healthz")
    stop(again)
