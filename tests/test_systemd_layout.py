"""`reverie systemd install` and the service layout: the record in /var/lib/reverie/NAME
(StateDirectory=), the config in /etc/reverie/NAME.yaml out of the daemon's reach."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from reverie.daemon.systemd import systemd_group
from tests.conftest import make_config, run_cli, unit_keys


def _install(tmp_path: Path, *args: str, state_dir=None, name="alice"):
    home = tmp_path / "agent"
    home.mkdir(exist_ok=True)
    obj = {"config_path": tmp_path / "reverie.yaml", "home": home, "stop_timeout_s": 60.0,
           "state_dir": state_dir, "name": name}
    return CliRunner().invoke(systemd_group, ["install", *args], obj=obj)


def test_the_system_unit_keeps_the_record_in_its_state_directory(tmp_path):
    r = _install(tmp_path, "--print", state_dir=Path("/var/lib/reverie/alice"))
    assert r.exit_code == 0, r.output
    keys = unit_keys(r.output)
    assert keys["StateDirectory"] == ["reverie reverie/alice"]
    assert keys["ReadWritePaths"] == [f"{tmp_path}/agent"]


def test_a_record_outside_var_lib_is_made_writable_by_path(tmp_path):
    r = _install(tmp_path, "--print", state_dir=tmp_path / "records" / "alice")
    assert r.exit_code == 0, r.output
    keys = unit_keys(r.output)
    assert keys["StateDirectory"] == ["reverie"]
    assert keys["ReadWritePaths"] == [f"{tmp_path}/agent {tmp_path}/records/alice"]


def test_without_state_dir_the_unit_uses_var_lib_reverie_name_and_says_to_pin_it(tmp_path):
    r = _install(tmp_path, "--unit-dir", str(tmp_path / "units"))
    assert r.exit_code == 0, r.output
    keys = unit_keys((tmp_path / "units" / "reverie.service").read_text())
    assert keys["StateDirectory"] == ["reverie reverie/alice"]
    assert "names no state_dir: the service keeps the record in /var/lib/reverie/alice; " \
           "add `state_dir: /var/lib/reverie/alice`" in r.output


def test_an_instance_on_the_templates_record_adds_nothing_and_another_record_is_pinned(tmp_path):
    r = _install(tmp_path, "--instance", "alice", "--print",
                 state_dir=Path("/var/lib/reverie/alice"))
    assert r.exit_code == 0, r.output
    assert "StateDirectory=reverie reverie/%i" in r.output  # the template's own
    dropin = r.output.split("reverie.conf ---")[1]
    assert "StateDirectory" not in dropin
    r = _install(tmp_path, "--instance", "alice", "--print", state_dir=Path("/data/alice"))
    dropin = unit_keys(r.output.split("reverie.conf ---")[1])
    assert dropin["ReadWritePaths"] == [f"{tmp_path}/agent", "/data/alice"]


def test_install_warns_when_the_daemons_account_can_change_its_config(tmp_path):
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no nobody account")
    (tmp_path / "reverie.yaml").write_text("home: agent\n")
    if os.geteuid() == 0:
        os.chown(tmp_path / "reverie.yaml", nobody.pw_uid, nobody.pw_gid)
    r = _install(tmp_path, "--unit-dir", str(tmp_path / "units"), "--run-as", "nobody",
                 state_dir=Path("/var/lib/reverie/alice"))
    assert r.exit_code == 0, r.output
    assert f"{tmp_path}/reverie.yaml can be changed by nobody, the daemon's account: keep " \
           "it as /etc/reverie/NAME.yaml, root-owned" in r.output


def test_the_state_dir_key_reaches_install_through_the_cli(tmp_path):
    cfg = make_config(tmp_path, state_dir="/var/lib/reverie/bob")
    r = run_cli("--config", str(cfg), "systemd", "install", "--print")
    assert r.returncode == 0, r.stderr
    assert unit_keys(r.stdout)["StateDirectory"] == ["reverie reverie/bob"]


def test_the_service_default_reads_the_last_state_directory(monkeypatch, tmp_path):
    from reverie.memory.home import default_state_dir

    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/reverie:/var/lib/reverie/alice")
    assert default_state_dir("ignored") == Path("/var/lib/reverie/alice")
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_dir("bob") == tmp_path / "xdg" / "reverie" / "bob"
