"""`defaults: PATH`: a shared file of defaults merged under a config's own keys (maps key by
key, sources by name), with every problem named at the file and line where it was written;
and click's shell completion, as the README documents it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reverie.daemon import config
from tests.conftest import reverie_env, run_cli

DEFAULTS = """\
timezone: Europe/Berlin
sources:
  - {name: host, type: system, every: 5m}
  - {name: news, type: feed, url: "https://example.org/feed.xml", every: 1h}
dream:
  at: "0 5 * * *"
  backend: offline
sessions:
  stop_timeout: 90s
  max_duration: 2h
"""


@pytest.fixture
def fleet(tmp_path):
    (tmp_path / "home").mkdir()
    d = tmp_path / "shared" / "defaults.yaml"
    d.parent.mkdir()
    d.write_text(DEFAULTS)

    def agent(text: str, defaults: str | None = None) -> Path:
        if defaults is not None:
            d.write_text(defaults)
        p = tmp_path / "ada.yaml"
        p.write_text(textwrap.dedent(text).lstrip("\n"))
        return p

    agent.defaults = d
    return agent


def test_the_files_own_keys_win_maps_merge_key_by_key_and_sources_by_name(fleet, tmp_path):
    cfg = fleet(f"""
        defaults: shared/defaults.yaml
        home: {tmp_path}/home
        name: ada
        sources:
          - {{name: news, every: 30m}}
          - {{name: posts, type: files, path: posts, every: 1h}}
        sessions:
          max_duration: 1h
        """)
    loaded = config.load(cfg)
    c = loaded.config
    assert c.timezone == "Europe/Berlin" and c.name == "ada"
    assert [(s.name, s.type, s.every.total_seconds()) for s in c.sources] == [
        ("host", "system", 300), ("news", "feed", 1800), ("posts", "files", 3600)]
    assert c.sources[1].options.url == "https://example.org/feed.xml"  # the defaults' url
    assert c.sessions.max_duration.total_seconds() == 3600  # mine
    assert c.sessions.stop_timeout.total_seconds() == 90  # the defaults', beside it
    assert c.dream.backend == "offline"
    assert loaded.defaults == tmp_path / "shared" / "defaults.yaml"
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 0 and "3 sources (host, news, posts)" in r.stdout, r.stderr


def test_a_problem_in_the_defaults_is_named_at_the_defaults_file_and_line(fleet, tmp_path):
    cfg = fleet(f"""
        defaults: shared/defaults.yaml
        home: {tmp_path}/home
        sources:
          - {{name: news, every: often}}
        """, defaults=DEFAULTS.replace("every: 5m", "every: bad").replace(
            "max_duration", "max_duraton"))
    r = run_cli("--config", str(cfg), "check-config")
    d = fleet.defaults
    assert r.returncode == 2
    assert sorted(r.stderr.strip().splitlines()) == sorted([
        f"{d}:3: sources[0].every: invalid duration 'bad' (use e.g. 30s, 15m, 1h30m, 2d)",
        f"{d}:10: sessions.max_duraton: unknown key (did you mean 'max_duration'?)",
        f"{cfg}:4: sources[1].every: invalid duration 'often' (use e.g. 30s, 15m, 1h30m, 2d)",
    ])


@pytest.mark.parametrize("defaults,said", [
    (None, "{cfg}:1: defaults: no such file {d}"),
    ("timezone: [\n", "{d}:2: invalid YAML: expected the node content, but found '<stream end>'"),
    ("- a list\n", "{d}:1: a defaults file must be a mapping of keys, like a config"),
    ("defaults: other.yaml\n", "{d}:1: defaults: a defaults file cannot name another "
                               "(one level only)"),
])
def test_a_defaults_file_that_cannot_serve_is_one_line_naming_it(fleet, tmp_path, defaults,
                                                                 said):
    cfg = fleet(f"defaults: shared/defaults.yaml\nhome: {tmp_path}/home\n", defaults=defaults)
    if defaults is None:
        fleet.defaults.unlink()
    r = run_cli("--config", str(cfg), "check-config")
    assert r.returncode == 2
    assert r.stderr.strip() == said.format(cfg=cfg, d=fleet.defaults)


def test_the_readme_shell_completion_line_prints_a_completion_script():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    line = next(x for x in readme.splitlines() if "_REVERIE_COMPLETE=bash_source" in x)
    assert line.strip().startswith("eval \"$(_REVERIE_COMPLETE=bash_source reverie)\"")
    env = reverie_env(_REVERIE_COMPLETE="bash_source")
    out = subprocess.run([sys.executable, "-m", "reverie.daemon.cli"], env=env,
                         capture_output=True, text=True).stdout
    assert "_reverie_completion()" in out and "complete " in out
    env = reverie_env(_REVERIE_COMPLETE="bash_complete", COMP_WORDS="reverie exp",
                      COMP_CWORD="1")
    out = subprocess.run([sys.executable, "-m", "reverie.daemon.cli"], env=env,
                         capture_output=True, text=True).stdout
    assert out.split() == ["plain,export"]
    assert os.environ.get("_REVERIE_COMPLETE") is None
