"""The unit files as rendered, checked by systemd's own tools, and the install command."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reverie.daemon import systemd
from reverie.daemon.systemd import UnitError, render_instance_dropin, render_unit, systemd_group
from tests.conftest import unit_keys

REPO = Path(__file__).resolve().parent.parent
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
# verify exits 0 on unknown keys and bad values (it only logs "ignoring"): these lines are
# what makes a typo in a unit fail the test.
_PROBLEM = re.compile(r"Unknown (key|section|lvalue)|ignoring|Invalid|[Ff]ailed|not executable")


def _render(kind, tmp_path: Path, **kw) -> str:
    args = dict(executable=sys.executable, config=tmp_path / "reverie.yaml",
                home=tmp_path / "agent", user=None, stop_timeout_s=60.0)
    args.update(kw)
    return render_unit(kind, **args)


def _verify(unit: Path, *, user: bool = False) -> None:
    env = dict(os.environ)
    cmd = [ANALYZE]
    if user:
        # The user manager needs a runtime dir even to verify; give it a private one.
        runtime = unit.parent / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
        cmd.append("--user")
    cmd += ["verify", "--man=no", str(unit)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    output = (r.stdout + r.stderr).strip()
    problems = [line for line in output.splitlines() if _PROBLEM.search(line)]
    assert r.returncode == 0 and not problems, output


# -- the files ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["reverie.service", "reverie@.service", "reverie-user.service"])
def test_packaged_units_are_the_repository_units(name):
    assert (REPO / "daemon" / "units" / name).read_text() == (REPO / "systemd" / name).read_text()


@pytest.mark.parametrize("kind", ["system", "template", "user"])
def test_rendered_units_cap_the_memory_of_daemon_and_session(tmp_path, kind):
    keys = unit_keys(_render(kind, tmp_path))
    assert keys.get("MemoryMax") == ["2G"] and keys.get("MemoryHigh") == ["1536M"]


def test_example_env_file_sets_no_value_by_default():
    lines = (REPO / "systemd" / "reverie.env.example").read_text().splitlines()
    assert [ln for ln in lines if ln.strip() and not ln.startswith("#")] == []


# -- systemd-analyze ----------------------------------------------------------------

@needs_analyze
def test_verify_check_fails_on_an_unknown_key(tmp_path):
    unit = tmp_path / "reverie.service"
    unit.write_text(_render("system", tmp_path).replace("UMask=0027", "UMask=0027\nUMsk=0027"))
    with pytest.raises(AssertionError, match="Unknown key 'UMsk'"):
        _verify(unit)


@needs_analyze
def test_rendered_system_unit_passes_verify(tmp_path):
    unit = tmp_path / "reverie.service"
    unit.write_text(_render("system", tmp_path))
    _verify(unit)


@needs_analyze
def test_rendered_user_unit_passes_verify_in_the_user_manager(tmp_path):
    unit = tmp_path / "reverie.service"
    unit.write_text(_render("user", tmp_path))
    _verify(unit, user=True)


@needs_analyze
def test_rendered_template_instance_with_its_dropin_passes_verify(tmp_path):
    (tmp_path / "reverie@.service").write_text(_render("template", tmp_path))
    dropin = tmp_path / "reverie@agent.service.d" / "reverie.conf"
    dropin.parent.mkdir()
    dropin.write_text(render_instance_dropin(executable=sys.executable,
                                             config=tmp_path / "agent.yaml",
                                             home=tmp_path / "agent", stop_timeout_s=30))
    _verify(tmp_path / "reverie@agent.service")


@needs_analyze
def test_paths_with_spaces_reach_systemd_as_one_argument(tmp_path):
    bindir = tmp_path / "my bin"
    bindir.mkdir()
    (bindir / "reverie").symlink_to(sys.executable)
    unit = tmp_path / "reverie.service"
    unit.write_text(_render("system", tmp_path, executable=str(bindir / "reverie"),
                            config=tmp_path / "my 100% config.yaml", home=tmp_path / "my agent"))
    _verify(unit)  # verify checks that ExecStart's program exists: the quoting held
    execstart = unit_keys(unit.read_text())["ExecStart"][0]
    assert '"my 100%% config.yaml"' in execstart.replace(str(tmp_path) + "/", "")


@needs_analyze
@pytest.mark.parametrize("kind,name", [("system", "reverie.service"),
                                       ("template", "reverie@agent.service")])
def test_rendered_system_units_expose_at_most_2_5(tmp_path, kind, name):
    (tmp_path / systemd.UNIT_NAMES[kind]).write_text(_render(kind, tmp_path))
    r = subprocess.run([ANALYZE, "security", "--offline=yes", "--threshold=25",
                        str(tmp_path / name)], capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout)
    assert level, r.stdout + r.stderr
    assert r.returncode == 0 and float(level.group(1)) <= 2.5, r.stdout


# -- rendering ----------------------------------------------------------------------

def test_system_unit_is_a_notify_service_with_watchdog_and_a_reload_that_reports(tmp_path):
    keys = unit_keys(_render("system", tmp_path))
    assert keys["Type"] == ["notify"]
    assert keys["NotifyAccess"] == ["main"]
    assert keys["WatchdogSec"] == ["60"]
    assert keys["ExecReload"] == [f"{sys.executable} --config {tmp_path}/reverie.yaml reload"]
    assert keys["Restart"] == ["on-failure"]


def test_system_unit_runs_reverie_with_the_config_as_a_dedicated_account(tmp_path):
    keys = unit_keys(_render("system", tmp_path))
    assert keys["ExecStart"] == [f"{sys.executable} --config {tmp_path}/reverie.yaml run"]
    assert keys["User"] == ["reverie"]
    assert "DynamicUser" not in keys
    assert keys["ReadWritePaths"] == [f"{tmp_path}/agent"]


def test_run_as_account_is_configurable(tmp_path):
    assert unit_keys(_render("system", tmp_path, user="agent1"))["User"] == ["agent1"]


def test_stop_timeout_is_the_session_grace_plus_consolidation_margin(tmp_path):
    assert unit_keys(_render("system", tmp_path, stop_timeout_s=60))["TimeoutStopSec"] == ["90"]
    assert unit_keys(_render("user", tmp_path, stop_timeout_s=45.5))["TimeoutStopSec"] == ["76"]


def test_template_keeps_its_instance_specifiers(tmp_path):
    keys = unit_keys(_render("template", tmp_path))
    assert keys["ExecStart"] == [f"{sys.executable} --config /etc/reverie/%i.yaml run"]
    assert keys["EnvironmentFile"] == ["-/etc/reverie/%i.env"]


def test_user_unit_has_no_account_and_reads_secrets_from_the_config_dir(tmp_path):
    keys = unit_keys(_render("user", tmp_path))
    assert "User" not in keys
    assert keys["EnvironmentFile"] == ["-%E/reverie/reverie.env"]
    assert keys["WantedBy"] == ["default.target"]


def test_user_unit_refuses_an_account(tmp_path):
    with pytest.raises(UnitError):
        _render("user", tmp_path, user="reverie")


def test_dollar_in_a_path_is_not_a_variable(tmp_path):
    keys = unit_keys(_render("system", tmp_path, config=Path("/etc/re$HOME.yaml")))
    assert keys["ExecStart"][0].endswith('--config "/etc/re$$HOME.yaml" run')


def test_relative_program_is_refused(tmp_path):
    with pytest.raises(UnitError, match="absolute"):
        _render("system", tmp_path, executable="reverie")


def test_a_line_break_in_a_path_is_refused(tmp_path):
    with pytest.raises(UnitError, match="line break"):
        _render("system", tmp_path, home=Path("/srv/a\nExecStartPre=/bin/sh"))


# -- reverie systemd install ----------------------------------------------------------

def _install(tmp_path: Path, *args: str, obj: dict | None = None):
    home = tmp_path / "agent"
    home.mkdir(exist_ok=True)
    obj = obj or {"config_path": tmp_path / "reverie.yaml", "home": home,
                  "stop_timeout_s": 60.0}
    return CliRunner().invoke(systemd_group, ["install", *args], obj=obj)


def test_install_print_shows_the_unit_and_writes_nothing(tmp_path):
    r = _install(tmp_path, "--print", "--unit-dir", str(tmp_path / "units"))
    assert r.exit_code == 0, r.output
    assert r.output.startswith("# Rendered by `reverie systemd install`")
    assert f"--config {tmp_path}/reverie.yaml run" in r.output
    assert "next:" not in r.output
    assert not (tmp_path / "units").exists()


def test_install_writes_the_system_unit_and_prints_next_commands(tmp_path):
    r = _install(tmp_path, "--unit-dir", str(tmp_path / "units"))
    assert r.exit_code == 0, r.output
    unit = tmp_path / "units" / "reverie.service"
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert unit_keys(unit.read_text())["ReadWritePaths"] == [f"{tmp_path}/agent"]
    assert "systemctl daemon-reload" in r.output
    assert "systemctl enable --now reverie.service" in r.output
    assert "/etc/reverie/reverie.env" in r.output


def test_install_uses_the_reverie_beside_this_interpreter(tmp_path):
    _install(tmp_path, "--unit-dir", str(tmp_path / "units"))
    execstart = unit_keys((tmp_path / "units" / "reverie.service").read_text())["ExecStart"][0]
    program = execstart.split()[0]
    assert Path(program).parent == Path(sys.executable).parent
    assert execstart.split()[1:] in (["--config", f"{tmp_path}/reverie.yaml", "run"],
                                     ["-m", "reverie.daemon.cli", "--config", f"{tmp_path}/reverie.yaml", "run"])


def test_install_user_writes_reverie_service_to_the_user_unit_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    r = _install(tmp_path, "--user")
    assert r.exit_code == 0, r.output
    unit = tmp_path / "xdg" / "systemd" / "user" / "reverie.service"
    assert "User" not in unit_keys(unit.read_text())
    assert "systemctl --user enable --now reverie.service" in r.output
    assert "loginctl enable-linger" in r.output


def test_install_instance_writes_the_template_and_a_dropin_with_the_real_paths(tmp_path):
    r = _install(tmp_path, "--instance", "alice", "--unit-dir", str(tmp_path / "units"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "units" / "reverie@.service").is_file()
    dropin = unit_keys((tmp_path / "units" / "reverie@alice.service.d" / "reverie.conf").read_text())
    assert dropin["ExecStart"][1].endswith(f"--config {tmp_path}/reverie.yaml run")
    assert dropin["ReadWritePaths"] == [f"{tmp_path}/agent"]
    assert dropin["TimeoutStopSec"] == ["90"]
    assert "systemctl enable --now reverie@alice.service" in r.output


def test_install_refuses_an_instance_name_systemd_would_mangle(tmp_path):
    r = _install(tmp_path, "--instance", "my agent", "--print")
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and "instance name" in r.output


def test_install_warns_when_the_home_does_not_exist(tmp_path):
    obj = {"config_path": tmp_path / "c.yaml", "home": tmp_path / "nowhere", "stop_timeout_s": 5}
    r = _install(tmp_path, "--unit-dir", str(tmp_path / "units"), obj=obj)
    assert r.exit_code == 0
    assert "warning: the home" in r.output and "reverie init" in r.output


def test_install_accepts_lazily_loaded_values(tmp_path):
    obj = {"config_path": lambda: tmp_path / "c.yaml", "home": lambda: tmp_path / "agent",
           "stop_timeout_s": lambda: 10.0}
    r = _install(tmp_path, "--print", obj=obj)
    assert r.exit_code == 0, r.output
    assert "TimeoutStopSec=40" in r.output


def test_install_into_an_unwritable_dir_is_one_clear_line(tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/reverie-test")  # not writable even for root
    else:
        target = tmp_path / "ro"
        target.mkdir(mode=0o500)
    r = _install(tmp_path, "--unit-dir", str(target))
    assert r.exit_code == 1
    assert r.output.startswith("Error: cannot write ") and r.output.count("\n") == 1


def test_install_renders_without_the_secrets_the_config_names(tmp_path):
    # `sudo reverie systemd install` runs without the service's environment file: a unit
    # holds paths and a timeout, never a secret, so an unset ${VAR} is no reason to refuse.
    from tests.conftest import reverie_env, run_cli

    (tmp_path / "agent").mkdir()
    cfg = tmp_path / "reverie.yaml"
    cfg.write_text("home: ./agent\ntimezone: UTC\n"
                   "sessions: {command: [/bin/true], stop_timeout: 20s}\n"
                   "sources:\n  - name: api\n    type: http_json\n    url: http://127.0.0.1:9/x\n"
                   "    headers: {Authorization: 'Bearer ${API_TOKEN_UNSET_HERE}'}\n"
                   "    fields: {n: n}\n    every: 1h\n")
    env = reverie_env()
    env.pop("API_TOKEN_UNSET_HERE", None)
    assert run_cli("--config", str(cfg), "check-config", env=env).returncode == 2
    r = run_cli("--config", str(cfg), "systemd", "install", "--print", env=env)
    assert r.returncode == 0, r.stderr
    assert f"--config {cfg} run" in r.stdout and "TimeoutStopSec=50" in r.stdout
    assert f"ReadWritePaths={tmp_path}/agent" in r.stdout
    r = run_cli("--config", str(cfg), "systemd", "install", "--unit-dir", str(tmp_path / "u"),
                env=env)
    assert r.returncode == 0, r.stderr
    assert "TimeoutStopSec=50" in (tmp_path / "u" / "reverie.service").read_text()


# -- the agent as its own user (--agent-user) -----------------------------------------

def _security(unit: Path) -> float:
    r = subprocess.run([ANALYZE, "security", "--offline=yes", "--threshold=25", str(unit)],
                       capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout)
    assert level and r.returncode == 0, r.stdout + r.stderr
    return float(level.group(1))


def test_every_unit_delegates_its_cgroup_for_the_sessions(tmp_path):
    for kind in ("system", "template", "user"):
        keys = unit_keys(_render(kind, tmp_path))
        assert keys["Delegate"] == ["yes"], kind
        assert keys.get("ProtectControlGroups", ["no"]) == ["no"], kind  # =yes: read-only
    assert unit_keys(_render("system", tmp_path))["CapabilityBoundingSet"] == [""]
    assert unit_keys(_render("system", tmp_path))["AmbientCapabilities"] == [""]


@needs_analyze
def test_an_agent_user_unit_grants_setuid_and_setgid_only_and_exposes_at_most_2_5(tmp_path):
    unit = tmp_path / "reverie.service"
    unit.write_text(_render("system", tmp_path, agent_user="reverie-agent"))
    keys = unit_keys(unit.read_text())
    assert keys["CapabilityBoundingSet"] == ["CAP_SETUID CAP_SETGID"]
    assert keys["AmbientCapabilities"] == ["CAP_SETUID CAP_SETGID"]
    assert keys["NoNewPrivileges"] == ["yes"] and keys["UMask"] == ["0007"]
    _verify(unit)
    assert _security(unit) <= 2.5


@needs_analyze
def test_an_agent_user_instance_gets_the_capabilities_in_its_dropin_and_stays_at_2_5(tmp_path):
    (tmp_path / "reverie@.service").write_text(_render("template", tmp_path))
    dropin = tmp_path / "reverie@agent.service.d" / "reverie.conf"
    dropin.parent.mkdir()
    dropin.write_text(render_instance_dropin(executable=sys.executable,
                                             config=tmp_path / "agent.yaml",
                                             home=tmp_path / "agent", stop_timeout_s=30,
                                             agent_user="alice-agent"))
    assert unit_keys(dropin.read_text())["AmbientCapabilities"] == ["CAP_SETUID CAP_SETGID"]
    _verify(tmp_path / "reverie@agent.service")
    assert _security(tmp_path / "reverie@agent.service") <= 2.5


def test_install_agent_user_prints_the_accounts_the_group_and_the_layout(tmp_path):
    obj = {"config_path": tmp_path / "reverie.yaml", "home": tmp_path / "agent",
           "stop_timeout_s": 60.0, "agent_user": "reverie-agent"}
    r = _install(tmp_path, "--agent-user", "reverie-agent", "--run-as", "reverie-daemon-x",
                 "--unit-dir", str(tmp_path / "units"), obj=obj)
    assert r.exit_code == 0, r.output
    unit = unit_keys((tmp_path / "units" / "reverie.service").read_text())
    assert unit["AmbientCapabilities"] == ["CAP_SETUID CAP_SETGID"]
    home = tmp_path / "agent"
    for line in ["groupadd --system reverie-agent",
                 "useradd --system --home-dir /var/lib/reverie --shell /usr/sbin/nologin "
                 "reverie-daemon-x",
                 f"useradd --system --gid reverie-agent --home-dir {home} --no-create-home "
                 "--shell /usr/sbin/nologin reverie-agent",
                 "usermod --append --groups reverie-agent reverie-daemon-x",
                 f"install -d -o reverie-daemon-x -g reverie-agent -m 2770 {home}",
                 "-type d -exec chmod g+s {} +"]:
        assert line in r.output, line
    assert "warning" not in r.output


def test_install_agent_user_warns_when_the_config_runs_the_agent_otherwise(tmp_path):
    r = _install(tmp_path, "--agent-user", "reverie-agent", "--print")
    assert r.exit_code == 0
    r = _install(tmp_path, "--agent-user", "reverie-agent", "--unit-dir", str(tmp_path / "u"))
    assert "warning: the config's sessions.user is unset: set `sessions: {user: " \
           "reverie-agent}`" in r.output


def test_install_agent_user_is_refused_for_a_user_unit_or_the_daemons_own_account(tmp_path):
    r = _install(tmp_path, "--user", "--agent-user", "someone", "--print")
    assert r.exit_code == 2 and "--agent-user needs a system unit" in r.output
    r = _install(tmp_path, "--agent-user", "reverie", "--print")
    assert r.exit_code == 2 and "the daemon's own account" in r.output


def test_install_agent_user_warns_about_a_home_the_agent_cannot_reach(tmp_path):
    obj = {"config_path": tmp_path / "reverie.yaml", "home": Path("/var/lib/reverie/agent"),
           "stop_timeout_s": 60.0, "agent_user": "reverie-agent"}
    r = CliRunner().invoke(systemd_group, ["install", "--agent-user", "reverie-agent",
                                           "--unit-dir", str(tmp_path / "u")], obj=obj)
    assert r.exit_code == 0, r.output
    assert "warning: the agent cannot reach /var/lib/reverie/agent: /var/lib/reverie is the " \
           "daemon's (mode 0750); move the home, e.g. to /srv/reverie/agent" in r.output
