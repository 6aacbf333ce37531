"""Config errors stay one line and never echo a secret, whatever the values look like."""

from __future__ import annotations

import pytest

from tests.conftest import reverie_env, run_cli

SECRETS = ["sk-abc  def-secret", "sk-abc\tdef-secret", "  sk-abcdef-secret  ",
           "sk-abc\ndef-secret"]


@pytest.mark.parametrize("value", SECRETS, ids=["two-spaces", "tab", "padded", "newline"])
def test_a_var_value_with_whitespace_is_never_echoed_in_a_config_error(write_config, value):
    cfg = write_config("""
        home: ./home
        timezone: ${TZV}
        sources:
          - name: w
            type: weather
            latitude: ${LAT}
            longitude: 1
            every: 1h
        """)
    r = run_cli("--config", str(cfg), "check-config",
                env=reverie_env(TZV=value, LAT=value, OPENAI_API_KEY=value))
    assert r.returncode == 2
    out = r.stdout + r.stderr
    assert "timezone: unknown time zone '${TZV}'" in out, out
    squeezed = " ".join(value.split())
    for piece in ("sk-abc", "def-secret", squeezed):
        assert piece not in out, out


@pytest.mark.parametrize("key", ["home", "state_dir"])
def test_a_folder_under_an_unknown_users_tilde_is_one_config_line(write_config, tmp_path, key):
    folders = {"home": tmp_path / "home", key: '"~nosuchuser/x"'}
    cfg = write_config(f"timezone: UTC\nhome: {folders['home']}\n"
                       + (f"state_dir: {folders[key]}\n" if key == "state_dir" else ""))
    line = {"home": 2, "state_dir": 3}[key]
    for command in ("check-config", "status", "poll"):
        r = run_cli("--config", str(cfg), command)
        assert r.returncode == 2, (command, r.stdout, r.stderr)
        lines = (r.stdout + r.stderr).strip().splitlines()
        assert lines == [f"{cfg}:{line}: {key}: no user 'nosuchuser' to expand ~nosuchuser for "
                         "(write the path out)"], (command, lines)


def test_init_under_an_unknown_users_tilde_is_one_line():
    r = run_cli("init", "~nosuchuser/x")
    assert r.returncode == 2
    assert (r.stdout + r.stderr).strip().splitlines()[-1] == (
        "reverie init: ~nosuchuser/x: no such user's home to expand ~ in (write the path out)")
