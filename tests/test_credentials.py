"""${VAR} from systemd credentials (LoadCredential= puts files in $CREDENTIALS_DIRECTORY)."""

from __future__ import annotations

import os

from reverie.daemon import config
from tests.conftest import reverie_env, run_cli

TOKEN = "tok-from-a-credential-4711"


def _config(write_config, url: str):
    return write_config(f"""
        home: ./home
        timezone: UTC
        sources:
          - name: api
            type: http_json
            url: '{url}'
            headers: {{Authorization: "Bearer ${{API_TOKEN}}"}}
            fields: {{karma: agent.karma}}
            every: 1h
        """)


def test_a_var_is_read_from_the_credentials_directory_without_its_newline(write_config, tmp_path,
                                                                           httpserver):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "API_TOKEN").write_text(TOKEN + "\n")
    httpserver.expect_request("/me", headers={"Authorization": f"Bearer {TOKEN}"}) \
        .respond_with_json({"agent": {"karma": 3}})
    cfg = _config(write_config, httpserver.url_for("/me"))
    r = run_cli("--config", str(cfg), "poll", env=reverie_env(CREDENTIALS_DIRECTORY=str(creds)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(httpserver.log) == 1


def test_a_credential_wins_over_the_environment_and_is_a_secret(write_config, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "API_TOKEN").write_text(TOKEN)
    cfg = _config(write_config, "http://127.0.0.1:9/me")
    loaded = config.load(cfg, env={"CREDENTIALS_DIRECTORY": str(creds), "API_TOKEN": "from-env-xyz"})
    assert loaded.config.sources[0].options.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN in loaded.secrets


def test_without_the_credential_the_environment_is_used(write_config, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    cfg = _config(write_config, "http://127.0.0.1:9/me")
    loaded = config.load(cfg, env={"CREDENTIALS_DIRECTORY": str(creds), "API_TOKEN": "from-env-xyz"})
    assert loaded.config.sources[0].options.headers["Authorization"] == "Bearer from-env-xyz"


def test_a_fifo_credential_is_refused_with_one_line_not_a_hang(write_config, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    os.mkfifo(creds / "API_TOKEN")
    cfg = _config(write_config, "http://127.0.0.1:9/me")
    r = run_cli("--config", str(cfg), "check-config", timeout=30,
                env=reverie_env(CREDENTIALS_DIRECTORY=str(creds)))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"{creds}/API_TOKEN: cannot read the credential API_TOKEN: "
                                "refused: a FIFO, not a regular file")


def test_reverie_state_refuses_a_fifo_at_state_md_at_once(write_config, tmp_path):
    # (issue 13: `reverie state` reads state.md the safe way, like every home file)
    cfg = write_config("home: ./home\ntimezone: UTC\n")
    assert run_cli("--config", str(cfg), "state", timeout=30).returncode == 0
    state_md = tmp_path / "home" / "perception" / "state.md"
    state_md.unlink()
    os.mkfifo(state_md)
    os.utime(state_md, (4e9, 4e9))  # newer than the store: not rendered over first
    r = run_cli("--config", str(cfg), "state", timeout=30)
    assert r.returncode == 1
    assert r.stderr.strip() == f"reverie: {state_md}: refused: a FIFO, not a regular file"
