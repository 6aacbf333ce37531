"""reverie.yaml: valid configs load; every problem is one line with its file and line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reverie.daemon import config
from tests.conftest import run_cli

VALID = """
home: ./home
timezone: Europe/Berlin
sources:
  - name: posts
    type: files
    path: posts
    glob: "*.md"
    every: 15m
  - name: host
    type: system
    every: 1h30m
dream:
  at: "0 5 * * *"
"""


def problems(path, env=None) -> list[str]:
    with pytest.raises(config.ConfigError) as e:
        config.load(path, env=env or {})
    return e.value.problems


def test_a_valid_config_loads_with_durations_and_zone(write_config, tmp_path):
    loaded = config.load(write_config(VALID), env={})
    c = loaded.config
    assert c.home == (tmp_path / "home").resolve()
    assert c.timezone == "Europe/Berlin"
    assert [s.name for s in c.sources] == ["posts", "host"]
    assert c.sources[0].every == timedelta(minutes=15)
    assert c.sources[1].every == timedelta(hours=1, minutes=30)
    assert c.sources[0].options.glob == "*.md"


def test_an_invalid_duration_names_file_line_and_field(write_config):
    p = write_config(VALID.replace("every: 1h30m", "every: 5 minutes"))
    assert problems(p) == [f"{p}:11: sources[1].every: invalid duration '5 minutes' "
                           "(use e.g. 30s, 15m, 1h30m, 2d)"]


def test_an_unknown_key_is_an_error_at_its_line(write_config):
    p = write_config(VALID + "colour: blue\n")
    assert problems(p) == [f"{p}:14: colour: unknown key"]


def test_an_unknown_key_inside_a_source_is_an_error(write_config):
    p = write_config(VALID.replace("    glob: \"*.md\"", "    glob: \"*.md\"\n    globb: x"))
    assert problems(p) == [f"{p}:8: sources[0].globb: unknown key (did you mean 'glob'?)"]


def test_an_invalid_cron_is_caught_at_load(write_config):
    p = write_config(VALID.replace('"0 5 * * *"', '"0 25 * * *"'))
    (line,) = problems(p)
    assert line.startswith(f"{p}:13: dream.at: invalid cron '0 25 * * *'")


def test_an_unknown_time_zone_is_an_error(write_config):
    p = write_config(VALID.replace("Europe/Berlin", "Mars/Olympus"))
    assert problems(p) == [f"{p}:2: timezone: unknown time zone 'Mars/Olympus' "
                           "(use an IANA name like Europe/Berlin)"]


def test_an_unknown_source_type_lists_the_available_ones(write_config):
    p = write_config(VALID.replace("type: system", "type: sytsem"))
    (line,) = problems(p)
    assert line.startswith(f"{p}:10: sources[1].type: unknown source type 'sytsem' "
                           "(did you mean 'system'? available: ")
    assert "system" in line


def test_duplicate_source_names_are_refused(write_config):
    p = write_config(VALID.replace("name: host", "name: posts"))
    assert problems(p) == [f"{p}:3: sources: two sources are named 'posts'"]


def test_a_missing_required_key_points_at_its_parent(write_config):
    p = write_config("timezone: UTC\n")
    assert problems(p) == [f"{p}:1: home: required"]


def test_several_problems_are_all_reported_one_per_line(write_config):
    p = write_config(VALID.replace("every: 15m", "every: soon").replace("Europe/Berlin", "Nowhere"))
    out = problems(p)
    assert len(out) == 2
    assert all(l.startswith(f"{p}:") and "\n" not in l for l in out)


def test_broken_yaml_is_one_line_with_its_line(write_config):
    p = write_config("home: .\nsources: [\n  {name: a\n")
    (line,) = problems(p)
    assert line.startswith(f"{p}:")
    assert "invalid YAML" in line


def test_env_variables_are_interpolated_with_defaults(write_config):
    p = write_config("""
        home: ${AGENT_HOME}
        timezone: ${TZ_NAME:-UTC}
        sources:
          - {name: api, type: http_json, url: "http://127.0.0.1:1/x", headers: {Authorization: "Bearer ${API_KEY}"}, fields: {k: a}}
    """)
    loaded = config.load(p, env={"AGENT_HOME": "/tmp/agent", "API_KEY": "tok-123456"})
    assert str(loaded.config.home) == "/tmp/agent"
    assert loaded.config.timezone == "UTC"
    assert loaded.config.sources[0].options.headers["Authorization"] == "Bearer tok-123456"
    assert "tok-123456" in loaded.secrets


def test_a_missing_env_variable_is_named(write_config):
    p = write_config("""
        home: .
        sources:
          - {name: api, type: http_json, url: "http://127.0.0.1:1/x", headers: {Authorization: "Bearer ${API_KEY}"}, fields: {k: a}}
    """)
    assert problems(p) == [f"{p}:3: sources[0].headers.Authorization: "
                           "environment variable API_KEY is not set"]


def test_a_missing_file_is_one_line():
    assert problems("/nonexistent/reverie.yaml") == [
        "/nonexistent/reverie.yaml: no such config file (create one with `reverie init`)"]


def test_check_config_exits_2_with_one_line_and_no_traceback(write_config):
    p = write_config(VALID.replace("every: 1h30m", "every: 5 minutes"))
    r = run_cli("--config", str(p), "check-config")
    assert r.returncode == 2
    assert r.stderr.strip() == (f"{p}:11: sources[1].every: invalid duration '5 minutes' "
                                "(use e.g. 30s, 15m, 1h30m, 2d)")
    assert "Traceback" not in r.stderr + r.stdout


def test_check_config_summarises_a_valid_config(write_config):
    r = run_cli("--config", str(write_config(VALID)), "check-config")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok: home ")
    assert "2 sources (posts, host)" in r.stdout


def test_config_resolution_uses_REVERIE_CONFIG(write_config, tmp_path):
    from tests.conftest import reverie_env

    p = write_config(VALID)
    r = run_cli("check-config", env=reverie_env(REVERIE_CONFIG=str(p)), cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_config_schema_needs_no_config_file(tmp_path):
    import json

    r = run_cli("config", "schema", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    schema = json.loads(r.stdout)
    assert "home" in schema["properties"]
    kinds = {v["properties"]["type"]["const"] for v in schema["properties"]["sources"]["items"]["oneOf"]}
    assert {"weather", "feed", "files", "http_json", "wallet"} <= kinds


def test_the_readme_example_config_is_valid(tmp_path):
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Configuration", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    p = tmp_path / "reverie.yaml"
    p.write_text(block)
    loaded = config.load(p, env={"MOLTBOOK_API_KEY": "k-123456", "BASE_RPC_URL": "http://127.0.0.1:9/"})
    assert [s.name for s in loaded.config.sources] == ["weather", "moltbook", "wallet", "blog", "posts"]


def test_a_relative_state_template_is_found_in_the_home(write_config, tmp_path):
    loaded = config.load(write_config("home: ./home\nperception: {template: my-state.j2}\n"), env={})
    assert loaded.state_template == (tmp_path / "home" / "my-state.j2").resolve()
    assert config.load(write_config("home: ./home\n"), env={}).state_template is None
