"""reverie.yaml: valid configs load; every problem is one line with its file and line."""

from __future__ import annotations

import re
import typing
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
    r = run_cli("--config", str(p), "check-config", process=True)  # what a shell sees
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


# -- did you mean ------------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    ("home: .\ntimzone: UTC\n", "2: timzone: unknown key (did you mean 'timezone'?)"),
    ("home: .\ndream: {bakend: offline}\n", "2: dream.bakend: unknown key (did you mean 'backend'?)"),
    ("home: .\nsources:\n  - {name: a, type: system, evrey: 5m}\n",
     "3: sources[0].evrey: unknown key (did you mean 'every'?)"),
    ("home: .\nsessions: {webhook: {url: 'http://127.0.0.1:1/', retires: 3}}\n",
     "2: sessions.webhook.retires: unknown key (did you mean 'retries'?)"),
    ("home: .\ncolour: blue\n", "2: colour: unknown key"),
])
def test_a_misspelt_key_says_which_key_was_meant(write_config, text, line):
    p = write_config(text)
    assert problems(p) == [f"{p}:{line}"]


# -- what checks is what runs ---------------------------------------------------------------

def test_a_duration_past_ten_years_is_refused_at_load(write_config):
    p = write_config(VALID.replace("every: 1h30m", "every: 99999999d"))
    assert problems(p) == [f"{p}:11: sources[1].every: invalid duration '99999999d': "
                           "more than 3650d"]


def test_a_cron_that_never_fires_is_refused_at_load(write_config):
    p = write_config(VALID.replace('"0 5 * * *"', '"0 0 31 2 *"'))
    assert problems(p) == [f"{p}:13: dream.at: invalid cron '0 0 31 2 *': never fires (no such date)"]


def test_status_on_a_never_firing_cron_is_one_line_exit_2(write_config):
    p = write_config(VALID.replace('"0 5 * * *"', '"0 0 31 2 *"'))
    r = run_cli("--config", str(p), "status")
    assert r.returncode == 2
    assert r.stderr.strip() == f"{p}:13: dream.at: invalid cron '0 0 31 2 *': never fires (no such date)"


def test_a_cron_on_29_february_is_accepted(write_config):
    loaded = config.load(write_config(VALID.replace('"0 5 * * *"', '"0 5 29 2 *"')), env={})
    assert loaded.config.dream.at == "0 5 29 2 *"


# -- secrets never printed ---------------------------------------------------------------

# Each config fails in one way, with the value coming from ${S}; one per kind of error line.
ERROR_KINDS = {
    "time zone": "home: .\ntimezone: '${S}'\n",
    "duration": "home: .\nsources:\n  - {name: a, type: system, every: '${S}'}\n",
    "duration, partly": "home: .\nsources:\n  - {name: a, type: system, every: '${S}m'}\n",
    "source cron": "home: .\nsources:\n  - {name: a, type: system, cron: '${S}'}\n",
    "source name": "home: .\nsources:\n  - {name: '${S}', type: system}\n",
    "source type": "home: .\nsources:\n  - {name: a, type: '${S}'}\n",
    "duplicate name": "home: .\nsources:\n  - {name: 'x${S}', type: system}\n"
                      "  - {name: 'x${S}', type: system}\n",
    "url": "home: .\nsources:\n  - {name: a, type: http_json, url: '${S}', fields: {k: a}}\n",
    "wallet address": "home: .\nsources:\n  - {name: a, type: wallet, chain: solana, address: '${S}'}\n",
    "feed path": "home: .\nsources:\n  - {name: a, type: feed, path: '../${S}'}\n",
    "command cwd": "home: .\nsources:\n  - {name: a, type: command, command: [x], cwd: '/${S}'}\n",
    "files path": "home: .\nsources:\n  - {name: a, type: files, path: '/${S}'}\n",
    "jmespath": "home: .\nsources:\n  - {name: a, type: http_json, url: 'http://127.0.0.1:1/', "
                "fields: {k: '${S}[['}}\n",
    "number": "home: .\nsources:\n  - {name: a, type: weather, latitude: '${S}', longitude: 1}\n",
    "dream cron": "home: .\ndream: {at: '${S}'}\n",
    "choice": "home: .\ndream: {backend: '${S}'}\n",
    "wake cron": "home: .\nsessions: {command: [x], wake: ['${S}']}\n",
    "active hours": "home: .\nsessions: {command: [x], active_hours: '${S}'}\n",
    "condition": "home: .\nsessions: {command: [x], wake_on: ['${S}']}\n",
    "webhook url": "home: .\nsessions: {webhook: {url: '${S}'}}\n",
    "retention": "home: .\nperception: {retention: '${S}'}\n",
    "mapping": "home: .\nsources:\n  - {name: a, type: http_json, url: 'http://127.0.0.1:1/', "
               "headers: '${S}', fields: {k: a}}\n",
}
SECRET_VALUES = ["s3cr3t-VALUE-xyz", "Zq", "it's\\é-s3cret\"x", "0 99 * * *"]


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_no_error_line_prints_a_value_from_an_env_variable(write_config, kind):
    p = write_config(ERROR_KINDS[kind])
    for secret in SECRET_VALUES:
        lines = problems(p, env={"S": secret})
        assert lines, kind
        for line in lines:
            assert re.match(rf"^{re.escape(str(p))}:\d+: \S+: .+$", line), line
            assert repr(secret) not in line and repr(secret)[1:-1] not in line, (kind, line)
            if len(secret) >= 4:
                assert secret not in line, (kind, line)


def test_an_error_on_an_interpolated_value_shows_it_as_written(write_config):
    p = write_config("home: .\ntimezone: '${ZONE}'\n")
    assert problems(p, env={"ZONE": "Mars/Base-7f3a9"}) == [
        f"{p}:2: timezone: unknown time zone '${{ZONE}}' (use an IANA name like Europe/Berlin)"]


def test_check_config_never_prints_an_interpolated_value(write_config):
    from tests.conftest import reverie_env

    p = write_config("home: .\nsources:\n  - {name: a, type: '${S}'}\n")
    r = run_cli("--config", str(p), "check-config", env=reverie_env(S="tok-9f8e7d6c5b"))
    assert r.returncode == 2
    assert "tok-9f8e7d6c5b" not in r.stderr + r.stdout
    assert r.stderr.startswith(f"{p}:3: sources[0].type: unknown source type '${{S}}'")


# -- loading without secrets ------------------------------------------------------------

SECRET_CONFIG = """
home: ./home
sources:
  - {name: api, type: http_json, url: "http://127.0.0.1:1/x", headers: {Authorization: "Bearer ${API_KEY}"}, fields: {k: a}}
  - {name: chain, type: wallet, chain: ethereum, url: "${RPC_URL}", address: "0x742d35Cc6634C0532925a3b844Bc454e4438f44e"}
dream: {backend: openai, api_key: "${OPENAI_API_KEY}"}
"""


def test_without_secrets_an_unset_variable_leaves_its_key_out(write_config):
    loaded = config.load(write_config(SECRET_CONFIG), env={}, need_secrets=False)
    assert [s.name for s in loaded.config.sources] == ["api", "chain"]
    assert loaded.config.sources[0].options.headers == {}
    assert loaded.config.dream.api_key is None
    assert loaded.unset_env == ["API_KEY", "OPENAI_API_KEY", "RPC_URL"]


def test_without_secrets_an_unset_home_is_still_an_error(write_config):
    p = write_config("home: ${AGENT_HOME}\n")
    with pytest.raises(config.ConfigError) as e:
        config.load(p, env={}, need_secrets=False)
    assert e.value.problems == [f"{p}:1: home: environment variable AGENT_HOME is not set"]


def test_without_secrets_other_mistakes_are_still_errors(write_config):
    p = write_config(SECRET_CONFIG.replace("fields: {k: a}", "fields: {k: a}, every: soon"))
    with pytest.raises(config.ConfigError) as e:
        config.load(p, env={}, need_secrets=False)
    assert e.value.problems == [f"{p}:3: sources[0].every: invalid duration 'soon' "
                                "(use e.g. 30s, 15m, 1h30m, 2d)"]


def test_with_secrets_every_unset_variable_is_one_line(write_config):
    p = write_config(SECRET_CONFIG)
    assert problems(p) == [
        f"{p}:3: sources[0].headers.Authorization: environment variable API_KEY is not set",
        f"{p}:4: sources[1].url: environment variable RPC_URL is not set",
        f"{p}:5: dream.api_key: environment variable OPENAI_API_KEY is not set"]


# -- systemd environment files ------------------------------------------------------------

def test_an_env_file_is_read_as_systemd_reads_it(tmp_path):
    f = tmp_path / "reverie.env"
    f.write_text("# comment\n; another\n\nPLAIN=abc\n  SPACED = a b  \n"
                 "DOUBLE=\"x \\\"y\\\" $z\"\nSINGLE='a \\n b'\nJOINED=one\\\ntwo\nEMPTY=\n")
    assert config.read_env_file(f) == {"PLAIN": "abc", "SPACED": "a b", "DOUBLE": 'x "y" $z',
                                       "SINGLE": "a \\n b", "JOINED": "onetwo", "EMPTY": ""}


def test_a_bad_env_file_line_names_its_line_never_its_value(tmp_path):
    f = tmp_path / "reverie.env"
    f.write_text("OK=1\nsecret-looking value\nKEY='unterminated s3cret\n")
    with pytest.raises(config.ConfigError) as e:
        config.read_env_file(f)
    assert e.value.problems == [f"{f}:2: not a KEY=VALUE line", f"{f}:3: KEY: unterminated quote"]


# -- the schema ---------------------------------------------------------------------------

def _properties(schema: dict):
    yield "reverie.yaml", schema
    for name, d in schema["$defs"].items():
        yield name, d
    for v in schema["properties"]["sources"]["items"]["oneOf"]:
        yield v["title"], v


def test_every_key_in_the_schema_has_a_description():
    missing = [f"{owner}.{k}" for owner, s in _properties(config.json_schema())
               for k, p in s.get("properties", {}).items() if not p.get("description")]
    assert missing == []


def test_the_schema_shows_durations_as_the_loader_reads_them():
    import json

    schema = config.json_schema()
    text = json.dumps(schema)
    assert '"format": "duration"' not in text and '"PT' not in text
    retention = schema["$defs"]["PerceptionOptions"]["properties"]["retention"]
    pattern = retention["anyOf"][0]["pattern"]
    for ok in ("30s", "15m", "1h", "2d", "1h30m"):
        assert re.match(pattern, ok)
    assert not re.match(pattern, "PT1M") and not re.match(pattern, "5 minutes!")
    assert retention["default"] == "90d"
    timeout = schema["properties"]["sources"]["items"]["oneOf"][0]["properties"]["timeout"]
    assert timeout["default"] == "10s"


def test_each_field_says_what_it_is_next_to_itself():
    # no table of descriptions far from the fields: a newcomer adding a key (or a source
    # type) writes its description in its own Field(description=...), where it is read
    from pydantic import BaseModel

    from reverie.perception import sources

    def models(annotation, seen):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in seen:
                seen.add(annotation)
                for info in annotation.model_fields.values():
                    models(info.annotation, seen)
        for arg in typing.get_args(annotation):
            models(arg, seen)
        return seen

    found: set = set()
    models(config.Config, found)
    for name in sources.available():
        models(sources.get(name).Options, found)
    missing = sorted(f"{m.__qualname__}.{k}" for m in found
                     for k, info in m.model_fields.items() if not info.description)
    assert len(found) > 10 and missing == []
