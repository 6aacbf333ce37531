"""`reverie status` and `reverie state` read the config's facts from a snapshot a full load
left in the home, and only while it matches the file: what they show is always what the
file says now, a broken file is still reported, and the snapshot holds no secret."""

from __future__ import annotations

import json
import os
import stat

from reverie.memory.home import Home
from tests.conftest import reverie_env, run_cli

SNAPSHOT = "config.snapshot.json"  # in the home's state folder
CONFIG = """\
home: ./home
timezone: UTC
sources:
  - name: karma
    type: http_json
    url: http://127.0.0.1:9/api
    headers: {Authorization: "Bearer ${KARMA_TOKEN}"}
    fields: {karma: agent.karma}
    every: 15m
  - {name: posts, type: files, path: posts, every: 30m}
dream: {at: "0 5 * * *"}
"""
TOKEN = "s3cret-token-value-42"


def _cli(tmp_path, *args):
    return run_cli("--config", str(tmp_path / "reverie.yaml"), *args,
                   env=reverie_env(KARMA_TOKEN=TOKEN), cwd=tmp_path)


def _configured(tmp_path, text=CONFIG):
    (tmp_path / "reverie.yaml").write_text(text, encoding="utf-8")
    Home.at(tmp_path / "home").state.mkdir(parents=True, exist_ok=True)
    r = _cli(tmp_path, "check-config")
    assert r.returncode == 0, r.stderr
    return Home.at(tmp_path / "home").state / SNAPSHOT


def _source_names(tmp_path):
    r = _cli(tmp_path, "status", "--json")
    assert r.returncode == 3, r.stderr
    return [s["name"] for s in json.loads(r.stdout)["sources"]]


def test_a_full_load_leaves_a_private_snapshot_without_secret_values(tmp_path):
    snap = _configured(tmp_path)
    assert stat.S_IMODE(snap.stat().st_mode) == 0o600
    text = snap.read_text(encoding="utf-8")
    assert TOKEN not in text and "Authorization" not in text
    assert [s["name"] for s in json.loads(text)["sources"]] == ["karma", "posts"]


def test_status_from_the_snapshot_says_what_a_full_load_says(tmp_path):
    snap = _configured(tmp_path)
    fast = _cli(tmp_path, "status", "--json")
    snap.unlink()
    full = _cli(tmp_path, "status", "--json")
    a, b = json.loads(fast.stdout), json.loads(full.stdout)
    a.pop("now"), b.pop("now")
    assert (fast.returncode, a, fast.stderr) == (full.returncode, b, full.stderr)


def test_an_edited_config_is_read_again_not_taken_from_the_snapshot(tmp_path):
    _configured(tmp_path)
    cfg = tmp_path / "reverie.yaml"
    st = cfg.stat()
    # same size and the same mtime: only the content tells
    cfg.write_text(CONFIG.replace("name: posts", "name: notes"), encoding="utf-8")
    os.utime(cfg, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _source_names(tmp_path) == ["karma", "notes"]


def test_a_config_broken_since_the_snapshot_is_still_reported(tmp_path):
    _configured(tmp_path)
    (tmp_path / "reverie.yaml").write_text(CONFIG.replace("every: 30m", "every: often"),
                                           encoding="utf-8")
    for command in ("status", "state"):
        r = _cli(tmp_path, command)
        assert r.returncode == 2 and "sources[1].every" in r.stderr and "often" in r.stderr, r.stderr


def test_a_snapshot_the_agent_forged_is_not_believed(tmp_path):
    snap = _configured(tmp_path)
    doc = json.loads(snap.read_text(encoding="utf-8"))
    doc["sources"][0]["name"] = "evil\x1b[2J"  # the key still matches the file
    snap.write_text(json.dumps(doc), encoding="utf-8")
    assert _source_names(tmp_path) == ["karma", "posts"]
    doc["sources"][0]["name"] = "karma"
    doc["home"] = "/"
    snap.write_text(json.dumps(doc), encoding="utf-8")
    r = _cli(tmp_path, "status", "--json")
    assert json.loads(r.stdout)["home"] == str((tmp_path / "home").resolve())


def test_a_schedule_from_the_environment_gets_no_snapshot(tmp_path):
    snap = _configured(tmp_path, CONFIG.replace('at: "0 5 * * *"', 'at: "${DREAM_AT:-0 5 * * *}"'))
    assert not snap.exists()


def test_a_check_does_not_create_a_home(tmp_path):
    (tmp_path / "reverie.yaml").write_text(CONFIG, encoding="utf-8")
    assert _cli(tmp_path, "check-config").returncode == 0
    assert not (tmp_path / "home").exists()


def test_the_configs_warnings_are_shown_once_from_the_snapshot_too(tmp_path):
    _configured(tmp_path, CONFIG.replace(
        "dream:", "  - {name: clock, type: command, argv: [date], every: 1h}\ndream:"))
    for command in ("status", "state"):
        r = _cli(tmp_path, command)
        assert r.stderr.count("argv: is deprecated, rename it to command:") == 1, r.stderr


def test_a_file_changed_while_it_was_loaded_gets_no_snapshot(tmp_path, monkeypatch):
    from reverie.daemon import config, snapshot

    snap = _configured(tmp_path)
    snap.unlink()
    monkeypatch.setenv("KARMA_TOKEN", TOKEN)
    cfg = tmp_path / "reverie.yaml"
    real_write = snapshot.write

    def edited_meanwhile(loaded, var_locs, text):  # an editor saves between parse and write
        cfg.write_text(CONFIG.replace("name: posts", "name: notes"), encoding="utf-8")
        real_write(loaded, var_locs, text)

    monkeypatch.setattr(snapshot, "write", edited_meanwhile)
    config.load(cfg)
    assert not snap.exists()
    assert _source_names(tmp_path) == ["karma", "notes"]
