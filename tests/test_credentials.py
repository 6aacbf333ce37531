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


def _kubelet_secret(folder, values: dict[str, str]) -> None:
    """A Secret as kubelet mounts it: the files in a timestamped folder, ``..data`` a
    link to it, and each key a link through ``..data``."""
    folder.mkdir()
    real = folder / "..2026_12_07_22_00_00.123456789"
    real.mkdir()
    for name, value in values.items():
        (real / name).write_text(value)
    os.symlink(real.name, folder / "..data")
    for name in values:
        os.symlink(f"..data/{name}", folder / name)


def test_a_kubernetes_secret_mounted_as_the_credentials_directory_is_read(
        write_config, tmp_path, httpserver):
    creds = tmp_path / "creds"
    _kubelet_secret(creds, {"API_TOKEN": TOKEN + "\n"})
    httpserver.expect_request("/me", headers={"Authorization": f"Bearer {TOKEN}"}) \
        .respond_with_json({"agent": {"karma": 3}})
    cfg = _config(write_config, httpserver.url_for("/me"))
    r = run_cli("--config", str(cfg), "poll", env=reverie_env(CREDENTIALS_DIRECTORY=str(creds)),
                process=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(httpserver.log) == 1


def test_a_credential_link_that_leads_out_of_the_directory_is_refused(write_config, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    outside = tmp_path / "elsewhere"
    outside.write_text("not-a-credential-9981\n")
    os.symlink(outside, creds / "API_TOKEN")
    cfg = _config(write_config, "http://127.0.0.1:9/me")
    r = run_cli("--config", str(cfg), "check-config", process=True,
                env=reverie_env(CREDENTIALS_DIRECTORY=str(creds), API_TOKEN="from-env-xyz"))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"{creds}/API_TOKEN: cannot read the credential API_TOKEN: "
                                f"refused: a symlink that leads out of {creds}")
    assert "not-a-credential" not in r.stdout + r.stderr


def test_a_link_through_a_kubelet_style_folder_that_leaves_it_is_refused(write_config, tmp_path):
    # ..data itself pointing elsewhere: every hop is followed, only the end counts
    creds = tmp_path / "creds"
    creds.mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "API_TOKEN").write_text("leaked-9981")
    os.symlink(tmp_path / "other", creds / "..data")
    os.symlink("..data/API_TOKEN", creds / "API_TOKEN")
    cfg = _config(write_config, "http://127.0.0.1:9/me")
    r = run_cli("--config", str(cfg), "check-config",
                env=reverie_env(CREDENTIALS_DIRECTORY=str(creds)))
    assert r.returncode == 2
    assert "refused: a symlink that leads out of" in r.stderr and "leaked" not in r.stderr
