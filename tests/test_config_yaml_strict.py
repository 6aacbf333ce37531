"""What YAML silently tolerates that a user would not mean is an error with its line."""

from __future__ import annotations

import pytest

from reverie.daemon import config
from tests.conftest import make_config, run_cli


def test_a_duplicate_top_level_key_is_an_error_naming_both_lines(write_config):
    cfg = write_config("""
        home: home
        timezone: UTC
        timezone: Europe/Berlin
        """)
    out = run_cli("--config", str(cfg), "check-config")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == \
        [f"{cfg}:3: timezone: duplicate key (first at line 2)"]


def test_a_duplicate_key_inside_a_source_names_its_path(write_config):
    cfg = write_config("""
        home: home
        timezone: UTC
        sources:
          - {name: a, type: files, path: posts, every: 1h}
          - name: b
            type: files
            path: posts
            every: 1h
            every: 5m
        """)
    out = run_cli("--config", str(cfg), "check-config")
    assert out.returncode == 2
    assert f"{cfg}:9: sources[1].every: duplicate key (first at line 8)" in out.stderr
    assert "Traceback" not in out.stderr


def test_keys_overriding_a_yaml_merge_are_not_duplicates(write_config, tmp_path):
    (tmp_path / "home" / "posts").mkdir(parents=True)
    cfg = write_config("""
        home: home
        timezone: UTC
        base: &base {type: files, path: posts, every: 1h}
        sources:
          - <<: *base
            name: a
            every: 2h
        """)
    out = run_cli("--config", str(cfg), "check-config")
    assert "duplicate key" not in out.stderr


# -- YAML 1.2 core-schema scalars: what a word or a number says ---------------------------

def test_the_readmes_notify_on_key_is_a_key_not_a_boolean(write_config):
    cfg = write_config("""
        home: home
        timezone: UTC
        notify:
          urls: ["json://127.0.0.1:9/hook"]
          on: [source_failing, session_failed]
        """)
    (cfg.parent / "home").mkdir()
    out = run_cli("--config", str(cfg), "check-config")
    assert out.returncode == 0, out.stderr
    assert config.load(cfg, env={}).config.notify.on == ["source_failing", "session_failed"]


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n"])
def test_yaml_1_1_boolean_words_are_strings(word, tmp_path):
    cfg = make_config(tmp_path)
    text = cfg.read_text() + f"sources:\n  - {{name: {word}, type: system}}\n"
    cfg.write_text(text)
    names = [s.name for s in config.load(cfg, env={}).config.sources]
    assert names == [word]  # YAML 1.1 made it False: "invalid name False"


def test_a_word_read_as_a_string_is_refused_in_its_own_words(write_config):
    cfg = write_config("""
        home: home
        timezone: UTC
        sources:
          - {name: NO, type: system}
        """)
    (cfg.parent / "home").mkdir()
    out = run_cli("--config", str(cfg), "check-config")
    assert out.returncode == 2
    assert out.stderr.strip() == (f"{cfg}:4: sources[0].name: invalid name 'NO': use lowercase "
                                  "letters, digits, '_' and '-'")


@pytest.mark.parametrize("written, value", [("true", True), ("True", True), ("TRUE", True),
                                            ("false", False), ("False", False),
                                            ("FALSE", False)])
def test_true_and_false_in_any_yaml_1_2_case_are_booleans(written, value, tmp_path):
    cfg = make_config(tmp_path)
    cfg.write_text(cfg.read_text() + f"sources:\n  - {{name: a, type: system, enabled: {written}}}\n")
    assert config.load(cfg, env={}).config.sources[0].enabled is value


@pytest.mark.parametrize("written, value", [("010", 10), ("0o10", 8), ("0x10", 16), ("10", 10),
                                            ("+7", 7)])
def test_integers_are_decimal_unless_written_0o_or_0x(written, value, tmp_path):
    cfg = make_config(tmp_path)
    cfg.write_text(cfg.read_text() + f"sessions:\n  log_keep: {written}\n")
    assert config.load(cfg, env={}).config.sessions.log_keep == value


def test_yaml_1_2_keeps_lines_and_refuses_a_duplicate_on(write_config):
    cfg = write_config("""
        home: home
        timezone: UTC
        notify:
          on: [source_failing]
          urls: []
          on: [session_failed]
        """)
    out = run_cli("--config", str(cfg), "check-config")
    assert out.returncode == 2
    assert out.stderr.strip() == f"{cfg}:6: notify.on: duplicate key (first at line 4)"


def test_an_error_after_words_and_leading_zeros_names_its_own_line(write_config):
    cfg = write_config("""
        home: home
        timezone: UTC
        sources:
          - {name: no, type: system, every: 010}
          - {name: y, type: system, every: off}
        """)
    (cfg.parent / "home").mkdir()
    out = run_cli("--config", str(cfg), "check-config")
    assert out.returncode == 2
    assert out.stderr.strip() == (f"{cfg}:5: sources[1].every: invalid duration 'off' "
                                  "(use e.g. 30s, 15m, 1h30m, 2d)")


def test_the_home_a_config_names_is_read_as_a_1_2_string(tmp_path):
    cfg = tmp_path / "reverie.yaml"
    cfg.write_text("home: no\nsources: [\n")  # broken further down
    assert config.home_hint(cfg) == tmp_path / "no"
    cfg.write_text("home: off\n")
    assert config.home_hint(cfg) == tmp_path / "off"
