"""P8: model tokens spent by the agent's day, against a local OpenAI-compatible server.

Hourly wakes (08:00-22:00) with ``skip_if_quiet``; the agent is a real process that asks
the model once per session (as an LLM agent does: ``AGENT_TOKENS`` a session). The
server, on 127.0.0.1, counts the ``usage.total_tokens`` it answers with. A warm-up day
comes first (the first wake of a home has no earlier wake to compare with); the figure is
the second day's spend.

- quiet day: the signals keep their values, no items arrive: the goal is 0 tokens.
- busy day: karma and a balance move every hour and posts arrive: reported.

The simulated day runs under a fake clock (time-machine); the agent process runs in real
time, and the runner reaps it before the next wake.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import Row, quiet_logs

UTC = timezone.utc
AGENT_TOKENS = 1800
DAY0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
WAKES = range(8, 23)  # hourly, 08:00-22:00

AGENT = """\
import json, sys, urllib.request
body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "what is new?"}]})
req = urllib.request.Request(sys.argv[1], data=body.encode(),
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
"""


class _Model(BaseHTTPRequestHandler):
    spent = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Model.lock:
            _Model.spent += AGENT_TOKENS
        body = json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "noted."}}],
            "usage": {"prompt_tokens": AGENT_TOKENS - 10, "completion_tokens": 10,
                      "total_tokens": AGENT_TOKENS}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _polls(store, t: datetime, busy: bool, hour: int) -> None:
    """One hour's polls: the same values on a quiet day; moving ones and posts on a busy one."""
    for m in range(0, 60, 15):
        ts = t + timedelta(minutes=m)
        step = hour * 4 + m // 15
        karma = 1284 + (step * 37 if busy else 0)
        balance = 1.25 + (0.4 * (step % 3) if busy else 0)
        store.record_run("moltbook", ts, ok=True, readings=[
            ("moltbook.karma", float(karma), None, None),
            ("moltbook.followers", 311.0, None, None)])
        store.record_run("wallet", ts, ok=True, readings=[("wallet.eth", balance, None, "ETH")])
        store.record_run("weather", ts, ok=True, readings=[
            ("weather.temperature", 6.0, None, "°C"), ("weather.condition", None, "overcast", None)])
    if busy:
        store.record_run("blog", t + timedelta(minutes=30), ok=True, items=[
            {"uid": f"{t:%d%H}", "title": f"Post at {t:%H}:30", "summary": "new words"}])


def _day(busy: bool, url: str, root: Path) -> tuple[int, int, int]:
    """(tokens spent on day 2, sessions started on day 2, wakes skipped on day 2)."""
    import time_machine

    from reverie.daemon.sessions import SessionRunner, SessionsOptions
    from reverie.memory.home import Home
    from reverie.memory.store import Store
    from reverie.perception.digest import notable_since

    label = "busy" if busy else "quiet"
    home = Home.at(root / label, root / f"{label}.state")
    home.ensure()
    agent = root / "agent.py"
    agent.write_text(AGENT, encoding="utf-8")
    opts = SessionsOptions(command=[sys.executable, str(agent), url],
                           wake=[f"0 {h} * * *" for h in WAKES], skip_if_quiet=True,
                           max_duration="30m", stop_timeout="5s")
    spent_before = started = skipped = 0
    with Store.open(home.db) as store, time_machine.travel(DAY0, tick=False) as traveller:
        runner = SessionRunner(home, store, opts, tz=UTC,
                               notable_since=lambda since, now: notable_since(store, since, now))
        for day in range(2):
            if day == 1:
                with _Model.lock:
                    spent_before = _Model.spent
            for hour in range(24):
                t = DAY0 + timedelta(days=day, hours=hour)
                traveller.move_to(t)
                # a quiet day is quiet every day; the warm-up day of the busy run is busy
                _polls(store, t, busy, day * 24 + hour)
                if hour in WAKES:
                    traveller.move_to(t + timedelta(minutes=59))
                    res = runner.wake(f"scheduled wake (0 {hour} * * *)",
                                      scheduled=t + timedelta(minutes=59), check_quiet=True)
                    if day == 1:
                        started += res.outcome == "started"
                        skipped += res.outcome == "skipped"
                    if res.outcome == "started":
                        deadline = time.monotonic() + 20
                        while runner.check() is None and time.monotonic() < deadline:
                            time.sleep(0.02)
                        if runner.current() is not None:
                            runner.sleep("bench: the agent did not finish")
    with _Model.lock:
        return _Model.spent - spent_before, started, skipped


def run(quick: bool) -> list[Row]:
    quiet_logs()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            q_tokens, q_started, q_skipped = _day(False, url, Path(tmp))
            b_tokens, b_started, b_skipped = _day(True, url, Path(tmp))
    finally:
        server.shutdown()
    wakes = len(WAKES)
    return [
        Row("P8", f"model tokens, quiet day: {wakes} hourly wakes, skip_if_quiet",
            f"{q_tokens} tokens ({q_started} sessions, {q_skipped} skipped)",
            f"{wakes * AGENT_TOKENS} (every wake, {AGENT_TOKENS} a session)", "-", "0",
            q_tokens == 0),
        Row("P8", f"model tokens, busy day: {wakes} hourly wakes, skip_if_quiet",
            f"{b_tokens} tokens ({b_started} sessions, {b_skipped} skipped)",
            f"{wakes * AGENT_TOKENS} (every wake, {AGENT_TOKENS} a session)",
            f"{b_tokens / (wakes * AGENT_TOKENS):.2f}x", "reported; wakes the agent",
            b_started > 0),
    ]


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run("--quick" in sys.argv))
