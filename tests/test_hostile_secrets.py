"""Secrets: values from ${VAR} in headers, RPC URLs, query strings and the model key,
through polls, a dream against a model server that echoes them back, a run of the daemon
and a session whose agent prints its environment. Afterwards not one secret value is in
any output line, state file, dream, diary, session log, memory file or the raw bytes of
the store (and its WAL).
"""

from __future__ import annotations

import json
import secrets as rnd
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import reverie_env, run_cli, start_cli, wait_for
from tests._harness import db_rows
from reverie.memory.home import Home


class _Echo(BaseHTTPRequestHandler):
    """Answers with everything it was sent: headers, path, body (the worst server)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *_a) -> None:
        pass

    def _reply(self, status: int, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(n) if n else b"")

    def _handle(self, body: bytes) -> None:
        echo = (f"{self.command} {self.path} " + " ".join(f"{k}: {v}" for k, v in self.headers.items())
                + " " + body.decode("utf-8", "replace"))
        if self.path.startswith("/ok"):
            # a 200 whose fields carry the secrets back as readings
            return self._reply(200, {"v": 7, "auth": self.headers.get("Authorization", ""),
                                     "path": self.path})
        if self.path.startswith("/rpc/"):
            return self._reply(200, {"jsonrpc": "2.0", "id": 1,
                                     "error": {"code": -32000, "message": f"bad project {echo}"}})
        if "chat/completions" in self.path:
            return self._reply(500, {"error": {"message": f"upstream failed: {echo}",
                                               "type": "server_error"}})
        return self._reply(404, {"message": f"no route: {echo}"})


@pytest.fixture
def echo():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


AGENT = r"""
import json, os, sys
env = dict(os.environ)
print("agent env:", json.dumps(env, sort_keys=True))
home = os.environ["REVERIE_HOME"]
with open(os.path.join(home, "agent-env-names.json"), "w") as f:
    json.dump(sorted(env), f)
with open(os.environ["REVERIE_WORKING"], "a") as f:
    f.write("\n## Keep\n")
    for k in sorted(env):
        f.write(f"- {k}={env[k]} #remember\n")
"""


def _make(tmp_path: Path, base: str) -> tuple[Path, dict[str, str], dict[str, str]]:
    s = {
        "HDR_TOKEN": "hdrtok-" + rnd.token_hex(12),
        "URL_KEY": "urlkey-" + rnd.token_hex(12),
        "RPC_KEY": "rpckey-" + rnd.token_hex(12),
        "MODEL_KEY": "sk-model-" + rnd.token_hex(12),
    }
    env = {"HDR_TOKEN": s["HDR_TOKEN"], "URL_KEY": s["URL_KEY"],
           "RPC_URL": f"{base}/rpc/{s['RPC_KEY']}", "MODEL_KEY": s["MODEL_KEY"]}
    agent = tmp_path / "agent.py"
    agent.write_text(AGENT)
    home = tmp_path / "home"
    cfg = tmp_path / "reverie.yaml"
    cfg.write_text(f"""\
home: {home}
timezone: Europe/Berlin
sources:
  - name: api
    type: http_json
    url: "{base}/ok/me"
    headers: {{Authorization: "Bearer ${{HDR_TOKEN}}", X-Api-Key: "${{URL_KEY}}"}}
    fields: {{v: v, auth: auth, path: path}}
    every: 1s
  - name: apifail
    type: http_json
    url: "{base}/fail/me?apikey=${{URL_KEY}}"
    headers: {{Authorization: "Bearer ${{HDR_TOKEN}}"}}
    fields: {{v: v}}
    every: 1s
  - name: okquery
    type: http_json
    url: "{base}/ok/q?apikey=${{URL_KEY}}"
    fields: {{path: path}}
    every: 1s
  - name: wallet
    type: wallet
    chain: ethereum
    url: "${{RPC_URL}}"
    address: "0x00000000219ab540356cBB839Cbe05303d7705Fa"
    every: 1s
  - name: rpcjson
    type: http_json
    url: "${{RPC_URL}}"
    body: {{jsonrpc: "2.0", id: 1, method: eth_blockNumber, params: []}}
    fields: {{block: result}}
    every: 1s
perception: {{render_every: 1s}}
dream:
  at: "0 5 1 1 *"
  backend: openai
  base_url: "{base}/v1"
  api_key: "${{MODEL_KEY}}"
  timeout: 5s
sessions:
  command: ["{sys.executable}", "{agent}"]
  max_duration: 20s
  stop_timeout: 2s
""")
    return cfg, env, s


def _findings(secret_values: dict[str, str], texts: dict[str, bytes]) -> list[str]:
    out = []
    for where, data in texts.items():
        for name, value in secret_values.items():
            if value.encode() in data:
                out.append(f"{name} in {where}")
    return out


def _home_files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*"))
            if p.is_file() and not p.is_socket()}


def test_no_secret_in_outputs_files_or_store_after_poll_dream_and_wake(tmp_path, echo):
    _leak_check(tmp_path, echo, with_run=False)


@pytest.mark.slow
def test_no_secret_in_outputs_files_or_store_after_poll_dream_run_and_wake(tmp_path, echo):
    _leak_check(tmp_path, echo, with_run=True)


def _leak_check(tmp_path: Path, echo: str, *, with_run: bool) -> None:
    cfg, env_vars, secret = _make(tmp_path, echo)
    env = reverie_env(**env_vars)
    outputs: dict[str, bytes] = {}

    def record(name: str, proc) -> None:
        outputs[f"{name} stdout"] = (proc.stdout or "").encode()
        outputs[f"{name} stderr"] = (proc.stderr or "").encode()

    c = "--config", str(cfg), "--log-level", "debug", "--log-format", "json"
    p = run_cli(*c, "poll", env=env)
    record("poll", p)
    assert p.returncode == 1, p.stderr  # apifail, wallet and rpcjson fail
    assert "apifail failed: HTTP 404" in p.stdout and "wallet failed: JSON-RPC error" in p.stdout

    p = run_cli(*c, "dream", "--backend", "openai", env=env)
    record("dream", p)
    assert p.returncode == 1, p.stderr  # a model was wanted: the fallback is a failure
    assert "offline dream instead: model server answered HTTP 500" in p.stderr

    if with_run:
        home = tmp_path / "home"
        seen = db_rows(home, "SELECT COUNT(*) FROM polls")[0][0]
        d = start_cli(*c, "run", env=env)
        # every source polled a few more times (each every 1 s) by the daemon itself
        wait_for(lambda: db_rows(home, "SELECT COUNT(*) FROM polls")[0][0] >= seen + 15, 60)
        d.terminate()
        out, err = d.communicate(timeout=40)
        outputs["run stdout"], outputs["run stderr"] = out.encode(), err.encode()
        assert d.returncode == 0, err[-2000:]
        assert "daemon.started" in err and "Traceback" not in err

    p = run_cli(*c, "wake", env=env, timeout=60)
    record("wake", p)
    assert p.returncode == 0, p.stdout + p.stderr

    home = tmp_path / "home"
    state = Home.at(home).state  # reverie's own files, outside the home
    files = {**_home_files(home),
             **{f"state/{k}": v for k, v in _home_files(state).items()}}
    assert "state/reverie.db" in files
    scanned = {**outputs, **files}
    # the distinctive parts too: a key can travel without its prefix or URL around it
    values = {**secret, "RPC_URL": env_vars["RPC_URL"]}
    found = _findings(values, scanned)

    agent_env = json.loads((home / "agent-env-names.json").read_text())
    leaked_names = sorted(set(env_vars) & set(agent_env))
    print(f"\nscanned {len(scanned)} outputs and files ({sum(map(len, scanned.values()))} bytes) "
          f"for {len(values)} secret values: {len(found)} findings {found}")
    print(f"secret env vars handed to the agent: {leaked_names}")
    assert "REVERIE_HOME" in agent_env and "PATH" in agent_env
    assert found == []
    assert leaked_names == []
    # they were there to leak: the server saw them, and readings came back redacted
    state = (home / "perception" / "state.json").read_text()
    assert "Bearer ***" in state
    diary = b"".join(files[k] for k in files if k.startswith("diary/"))
    assert b"REVERIE_HOME=" in diary  # the agent's env dump was archived, and scanned


def test_an_agent_gets_a_secret_only_when_sessions_env_names_it(tmp_path, echo):
    cfg, env_vars, secret = _make(tmp_path, echo)
    # a key of its own, named for it alone (a source's key is refused: tests/test_child_env.py)
    own = "agenttok-" + rnd.token_hex(12)
    cfg.write_text(cfg.read_text().replace(
        "  stop_timeout: 2s\n", "  stop_timeout: 2s\n  env: {AGENT_TOKEN: \"${AGENT_TOKEN}\"}\n"))
    p = run_cli("--config", str(cfg), "wake", env=reverie_env(**env_vars, AGENT_TOKEN=own),
                timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    home = tmp_path / "home"
    names = json.loads((home / "agent-env-names.json").read_text())
    assert "AGENT_TOKEN" in names and "HDR_TOKEN" not in names and "URL_KEY" not in names
    # what it printed of it is still kept out of the session log
    logs = b"".join(p.read_bytes() for p in Home.at(home).state.rglob("*.log"))
    assert logs and own.encode() not in logs
