"""What YAML silently tolerates that a user would not mean is an error with its line."""

from __future__ import annotations

from tests.conftest import run_cli


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
