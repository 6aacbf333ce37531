"""Unit files with the real paths filled in, and ``reverie systemd install``.

The units in the repository's ``systemd/`` are the canonical, human-readable files; the
package ships copies in ``daemon/units/``. Rendering replaces the values of a few keys
(ExecStart=, User=, ReadWritePaths=, TimeoutStopSec=) line by line, so every comment that
explains a setting survives into the installed unit.
"""

from __future__ import annotations

import getpass
import math
import os
import pwd
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import click


Kind = Literal["system", "template", "user"]

SOURCE_FILES: dict[str, str] = {
    "system": "reverie.service",
    "template": "reverie@.service",
    "user": "reverie-user.service",
}
# The name each kind is installed under (the user unit drops its "-user").
UNIT_NAMES: dict[str, str] = {
    "system": "reverie.service",
    "template": "reverie@.service",
    "user": "reverie.service",
}
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
DEFAULT_RUN_AS = "reverie"
# On top of the session's stop grace: time to record the session and consolidate
# working.md into the diary and memory before systemd's SIGKILL.
STOP_MARGIN_S = 30
UNIT_MODE = 0o644  # unit files are not secret; systemctl and the user manager read them
_TEMPLATE_CONFIG = "/etc/reverie/%i.yaml"  # a systemd specifier: must stay unescaped

_PLAIN_ARG = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
_INSTANCE = re.compile(r"^[A-Za-z0-9_.:-]+$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class UnitError(ValueError):
    """A value that cannot be written into a unit file."""


# -- rendering ----------------------------------------------------------------------

def unit_source(kind: Kind) -> str:
    """The packaged unit file for ``kind``, unrendered."""
    if kind not in SOURCE_FILES:
        raise UnitError(f"unknown unit kind {kind!r} (system, template or user)")
    from importlib import resources  # about 5 ms: `reverie --help` does not need it

    return resources.files("reverie.daemon").joinpath("units", SOURCE_FILES[kind]).read_text("utf-8")


def timeout_stop_s(stop_timeout_s: float) -> int:
    """TimeoutStopSec= for a session stop grace: the grace plus time to consolidate."""
    if stop_timeout_s < 0 or math.isnan(stop_timeout_s):
        raise UnitError(f"stop timeout must be 0 s or more, not {stop_timeout_s}")
    return math.ceil(stop_timeout_s + STOP_MARGIN_S)


# `--agent-user`: the daemon may switch to the agent's account (only to it: its seccomp
# filter, daemon/_seccomp.py) and nothing else; files it makes are the shared group's too.
AGENT_USER_CAPS = "CAP_SETUID CAP_SETGID"
AGENT_USER_UMASK = "0007"


def render_unit(kind: Kind, *, executable: str | Sequence[str], config: Path, home: Path,
                user: str | None, stop_timeout_s: float, state: Path | None = None,
                agent_user: str | None = None) -> str:
    """The unit for ``kind`` with real paths.

    ``executable`` is the program (a path) or the command that starts reverie (an argv
    prefix such as ``[sys.executable, "-m", "reverie.daemon.cli"]``); ``--config CONFIG run`` is
    appended. ``user`` is the account of a system or template unit (default
    ``reverie``) and must be None for the user unit. The template is shared by every
    instance, so it keeps ``/etc/reverie/%i.yaml`` and ignores ``config`` and ``home``:
    an instance's real paths go in :func:`render_instance_dropin`. The user unit ignores
    ``home`` (systemd 252's user manager cannot fence the file system anyway). ``state``
    is reverie's state folder (the record): under /var/lib it is a StateDirectory=,
    elsewhere one more ReadWritePaths=. ``agent_user`` (the agent under its own account)
    grants CAP_SETUID/CAP_SETGID; for the template that goes in the instance's drop-in.
    """
    command = _command(executable)
    values: dict[str, str] = {"TimeoutStopSec": str(timeout_stop_s(stop_timeout_s))}
    if agent_user is not None:
        if kind == "user":
            raise UnitError("--agent-user needs a system unit: a user manager cannot grant "
                            "the capabilities to switch users")
        _account(agent_user)
        if kind == "system":
            values.update(CapabilityBoundingSet=AGENT_USER_CAPS,
                          AmbientCapabilities=AGENT_USER_CAPS, UMask=AGENT_USER_UMASK)
    if kind == "user":
        if user is not None:
            raise UnitError("a user unit runs as the user who installs it: leave user unset")
        values["ExecStart"] = f"{command} --config {_exec_arg(str(config))} run"
    else:
        values["User"] = _account(user or DEFAULT_RUN_AS)
        if kind == "template":
            values["ExecStart"] = f"{command} --config {_TEMPLATE_CONFIG} run"
        else:
            values["ExecStart"] = f"{command} --config {_exec_arg(str(config))} run"
            values["ReadWritePaths"] = _path_value(home)
            if state is not None:
                rel = _state_directory(state)
                values["StateDirectory"] = "reverie" + (f" {rel}" if rel else "")
                if rel is None:
                    values["ReadWritePaths"] += f" {_path_value(state)}"
    values["ExecReload"] = values["ExecStart"].removesuffix(" run") + " reload"
    header = ("# Rendered by `reverie systemd install`: run it again after moving reverie, "
              "the config or the home.\n")
    return header + _substitute(unit_source(kind), values)


def _state_directory(state: Path) -> str | None:
    """``state`` as a StateDirectory= entry (relative to /var/lib), or None."""
    parts = Path(os.path.abspath(state)).parts
    if parts[:3] != ("/", "var", "lib") or len(parts) < 4:
        return None
    return _no_newline("/".join(parts[3:])).replace("%", "%%")


def render_instance_dropin(*, executable: str | Sequence[str], config: Path, home: Path,
                           stop_timeout_s: float | None = None, state: Path | None = None,
                           instance: str | None = None, agent_user: str | None = None) -> str:
    """A drop-in pinning one template instance to its real config, home, record and stop
    grace (a record other than the template's /var/lib/reverie/NAME is added here)."""
    command = _command(executable)
    text = (
        "# Rendered by `reverie systemd install --instance`: this agent's config and home.\n"
        "[Service]\n"
        "# An empty ExecStart= clears the template's before this one replaces it.\n"
        "ExecStart=\n"
        f"ExecStart={command} --config {_exec_arg(str(config))} run\n"
        "ExecReload=\n"
        f"ExecReload={command} --config {_exec_arg(str(config))} reload\n"
        f"ReadWritePaths={_path_value(home)}\n"
    )
    rel = _state_directory(state) if state is not None else None
    if state is not None and rel != f"reverie/{instance}":
        text += ("# reverie's record (state_dir:), not the template's /var/lib/reverie/NAME\n"
                 + (f"StateDirectory={rel}\n" if rel else f"ReadWritePaths={_path_value(state)}\n"))
    if stop_timeout_s is not None:
        text += f"TimeoutStopSec={timeout_stop_s(stop_timeout_s)}\n"
    if agent_user is not None:
        _account(agent_user)
        text += (f"# The agent runs as {agent_user}: switching to it (and only to it) needs these.\n"
                 f"CapabilityBoundingSet={AGENT_USER_CAPS}\n"
                 f"AmbientCapabilities={AGENT_USER_CAPS}\n"
                 f"UMask={AGENT_USER_UMASK}\n")
    return text


def _substitute(text: str, values: dict[str, str]) -> str:
    seen: dict[str, int] = {k: 0 for k in values}
    out = []
    for line in text.splitlines(keepends=True):
        key, eq, _ = line.partition("=")
        if eq and key in values:
            seen[key] += 1
            line = f"{key}={values[key]}\n"
        out.append(line)
    wrong = [k for k, n in seen.items() if n != 1]
    if wrong:  # a unit file edited out of step with this module: fail, never guess
        raise UnitError(f"the packaged unit must set {', '.join(wrong)} exactly once")
    return "".join(out)


def _no_newline(value: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise UnitError(f"{value!r} cannot go into a unit file (it holds a line break)")
    return value


def _exec_arg(arg: str) -> str:
    """One ExecStart= argument, quoted for systemd's command-line syntax."""
    _no_newline(arg)
    if not _PLAIN_ARG.match(arg):
        arg = '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    # % starts a specifier and $ a variable in ExecStart=; doubled, they are literal.
    return arg.replace("%", "%%").replace("$", "$$")


def _command(executable: str | Sequence[str]) -> str:
    argv = [executable] if isinstance(executable, (str, os.PathLike)) else list(executable)
    if not argv or not os.path.isabs(str(argv[0])):
        raise UnitError(f"ExecStart= needs an absolute program path, not {argv[:1]!r}")
    return " ".join(_exec_arg(str(a)) for a in argv)


def _path_value(path: Path) -> str:
    p = _no_newline(str(path))
    if not os.path.isabs(p):
        raise UnitError(f"the home must be an absolute path, not {p!r}")
    if '"' in p or "\\" in p:
        raise UnitError(f"the path {p!r} holds a quote or backslash; move the home")
    p = p.replace("%", "%%")
    return f'"{p}"' if any(c.isspace() for c in p) else p


def _account(name: str) -> str:
    if not _ACCOUNT.match(name):
        raise UnitError(f"{name!r} is not a user name systemd accepts")
    return name


# -- where things go ----------------------------------------------------------------

def reverie_command() -> list[str]:
    """How the unit should start this very reverie: the script beside the interpreter
    (a virtualenv's bin/reverie), else the interpreter running the CLI module."""
    script = Path(sys.executable).parent / "reverie"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "reverie.daemon.cli"]


def user_unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


# -- the command --------------------------------------------------------------------

class _Usage(click.ClickException):
    exit_code = 2


class _Failure(click.ClickException):
    exit_code = 1


def _obj(ctx: click.Context, key: str) -> Any:
    """A value the parent CLI put in ctx.obj; a zero-argument callable is called, so
    the parent can load the config lazily, only when this command needs it."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    if key not in obj:
        raise _Failure(f"reverie systemd: internal: ctx.obj lacks {key!r}")
    value = obj[key]
    return value() if callable(value) else value


@click.group("systemd")
def systemd_group() -> None:
    """Run reverie as a systemd service."""


@systemd_group.command("install")
@click.option("--user", "user_unit", is_flag=True,
              help="A user unit for `systemctl --user` (runs as you), not a system unit.")
@click.option("--instance", metavar="NAME",
              help="Install the template reverie@.service and pin instance NAME to this config.")
@click.option("--print", "print_only", is_flag=True,
              help="Print the unit instead of writing it.")
@click.option("--run-as", metavar="ACCOUNT", default=DEFAULT_RUN_AS, show_default=True,
              help="The account a system unit runs as.")
@click.option("--unit-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write here instead of /etc/systemd/system or ~/.config/systemd/user.")
@click.option("--agent-user", metavar="NAME",
              help="The agent runs as its own account NAME (sessions.user): grant the "
                   "daemon what switching to it needs and print how to create the accounts.")
@click.pass_context
def install(ctx: click.Context, user_unit: bool, instance: str | None, print_only: bool,
            run_as: str, unit_dir: Path | None, agent_user: str | None) -> None:
    """Render the unit with this reverie, config and home, write it, say what to run next."""
    if user_unit and instance:
        raise _Usage("--instance is for the system template; a user unit is one agent per user")
    if agent_user is not None and agent_user == run_as:
        raise _Usage(f"--agent-user {agent_user} is the daemon's own account (--run-as): "
                     f"the agent's must be another")
    if instance is not None and not _INSTANCE.match(instance):
        raise _Usage(f"instance name {instance!r}: use letters, digits, '.', '_', '-' or ':'")
    config = Path(_obj(ctx, "config_path")).expanduser().resolve()
    home = Path(_obj(ctx, "home")).expanduser().resolve()
    stop_s = float(_obj(ctx, "stop_timeout_s"))
    kind: Kind = "user" if user_unit else "template" if instance else "system"
    explicit, state = _state_for(ctx, kind, instance)
    command = reverie_command()
    try:
        unit = render_unit(kind, executable=command, config=config, home=home,
                           user=None if user_unit else run_as, stop_timeout_s=stop_s,
                           state=state, agent_user=agent_user)
        dropin = (render_instance_dropin(executable=command, config=config, home=home,
                                         stop_timeout_s=stop_s, state=state, instance=instance,
                                         agent_user=agent_user)
                  if instance else None)
    except UnitError as e:
        raise _Usage(str(e)) from None

    folder = unit_dir or (user_unit_dir() if user_unit else SYSTEM_UNIT_DIR)
    files = [(folder / UNIT_NAMES[kind], unit)]
    if instance and dropin:
        files.append((folder / f"reverie@{instance}.service.d" / "reverie.conf", dropin))

    if print_only:  # only the unit(s) on stdout, so `--print > file` works
        for i, (path, text) in enumerate(files):
            if len(files) > 1:
                click.echo(("\n" if i else "") + f"# --- {path} ---")
            click.echo(text, nl=False)
        return

    from reverie.memory import atomic  # tempfile and shutil: not for --help

    for path, text in files:
        try:
            atomic.write_text(path, text, mode=UNIT_MODE)
        except PermissionError:
            raise _Failure(f"cannot write {path}: permission denied "
                           f"(run it with sudo, or use --print)") from None
        except OSError as e:
            raise _Failure(f"cannot write {path}: {e.strerror or e}") from None
        click.echo(f"wrote {path}")

    warnings = (_warnings(kind, home, run_as) if agent_user is None else []) + \
        _layout_warnings(kind, config, state, explicit, run_as)
    if agent_user is not None:
        configured = (ctx.obj or {}).get("agent_user") if isinstance(ctx.obj, dict) else None
        configured = configured() if callable(configured) else configured
        if configured != agent_user:
            warnings.append(f"the config's sessions.user is {configured or 'unset'}: set "
                            f"`sessions: {{user: {agent_user}}}` so the agent runs as {agent_user}")
        if home.is_relative_to("/var/lib/reverie"):
            warnings.append(f"the agent cannot reach {home}: /var/lib/reverie is the daemon's "
                            f"(mode 0750); move the home, e.g. to /srv/reverie/{home.name}")
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    click.echo("next:")
    steps = (_agent_user_steps(run_as, agent_user, home) if agent_user is not None else [])
    for line in steps + _next_steps(kind, instance, run_as, home, skip_account=bool(steps)):
        click.echo(f"  {line}")


def _state_for(ctx: click.Context, kind: Kind, instance: str | None) -> tuple[bool, Path | None]:
    """(whether the config names state_dir:, the record's folder for the unit). A system
    unit's default is /var/lib/reverie/NAME: the installing root's own default means
    nothing to the service's account."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    if "state_dir" not in obj:
        return False, None
    explicit = _obj(ctx, "state_dir")
    if explicit:
        return True, Path(explicit)
    if kind == "user":
        return False, None
    return False, Path("/var/lib/reverie") / (instance or _obj(ctx, "name"))


def _layout_warnings(kind: Kind, config: Path, state: Path | None, explicit: bool,
                     run_as: str) -> list[str]:
    """Where the layout lets the daemon's account (and so a same-user agent) change
    what it trusts, or leaves commands run by hand looking for another record."""
    out: list[str] = []
    if kind == "user":
        return out
    if state is not None and not explicit:
        out.append(f"{config} names no state_dir: the service keeps the record in {state}; "
                   f"add `state_dir: {state}` so commands run by hand "
                   f"(sudo -u {run_as} reverie --config ...) find the same record")
    try:
        st = config.stat()
        uid = pwd.getpwnam(run_as).pw_uid
    except (OSError, KeyError):
        return out
    if st.st_uid == uid or st.st_mode & 0o002 or (st.st_mode & 0o020 and st.st_gid in
                                                  {pwd.getpwnam(run_as).pw_gid}):
        out.append(f"{config} can be changed by {run_as}, the daemon's account: keep it as "
                   f"/etc/reverie/NAME.yaml, root-owned, group {run_as}, mode 0640 "
                   "(docs/service.md)")
    return out


def _shell_quote(path: Path) -> str:
    return shlex.quote(str(path))


def _warnings(kind: Kind, home: Path, run_as: str) -> list[str]:
    out = []
    if not home.is_dir():
        out.append(f"the home {home} does not exist: run `reverie init {home}` first "
                   f"(systemd refuses to start a unit whose ReadWritePaths= is missing)")
    if kind != "user":
        try:
            account = pwd.getpwnam(run_as)
        except KeyError:
            return out  # the next steps say how to create it
        if home.is_dir() and home.stat().st_uid != account.pw_uid:
            out.append(f"{home} is not owned by {run_as}: the service cannot write it "
                       f"(chown -R {run_as}: {_shell_quote(home)})")
    return out


def _agent_user_steps(run_as: str, agent: str, home: Path) -> list[str]:
    """The accounts and the layout of the agent-as-its-own-user mode (docs/service.md): the
    home is the daemon's, shared with the agent through the agent's group (setgid folders,
    so whatever either makes stays in the group); reverie's own record stays the daemon's."""
    sudo = "" if os.geteuid() == 0 else "sudo "
    h = _shell_quote(home)
    # an old home's record (moved to state_dir at the first start) and the daemon's
    # consolidation folder stay the daemon's alone
    record = f"{_shell_quote(home / '.reverie')} -o -path {_shell_quote(home / '.consolidating')}"
    steps = ["# the accounts: the daemon's, and the agent's with its own group",
             f"{sudo}groupadd --system {agent}"]
    try:
        pwd.getpwnam(run_as)
    except KeyError:
        steps.append(f"{sudo}useradd --system --home-dir /var/lib/reverie "
                     f"--shell /usr/sbin/nologin {run_as}")
    steps += [
        f"{sudo}useradd --system --gid {agent} --home-dir {h} --no-create-home "
        f"--shell /usr/sbin/nologin {agent}",
        f"{sudo}usermod --append --groups {agent} {run_as}"
        "   # the daemon reaches the home through the group",
        "# the home: the daemon's, group-shared with the agent; folders setgid",
        f"{sudo}install -d -o {run_as} -g {agent} -m 2770 {h}",
        f"{sudo}find {h} \\( -path {record} \\) -prune -o -exec chown {run_as}:{agent} {{}} + "
        f"-exec chmod g+rwX,o-rwx {{}} +",
        f"{sudo}find {h} \\( -path {record} \\) -prune -o -type d -exec chmod g+s {{}} +",
        "# the record (state_dir) and the config stay out of the agent's reach: "
        f"owned by {run_as} (or root), never group {agent}",
    ]
    return steps


def _next_steps(kind: Kind, instance: str | None, run_as: str, home: Path, *,
                skip_account: bool = False) -> list[str]:
    sudo = "" if os.geteuid() == 0 else "sudo "
    if kind == "user":
        return [
            "systemctl --user daemon-reload",
            "systemctl --user enable --now reverie.service",
            f"{sudo}loginctl enable-linger {getpass.getuser()}   # keep it running after logout",
            "journalctl --user -u reverie -f -o cat",
            "# secrets (the ${VARS} of your config): ~/.config/reverie/reverie.env, mode 0600",
        ]
    unit = f"reverie@{instance}.service" if instance else "reverie.service"
    steps = []
    try:
        pwd.getpwnam(run_as)
    except KeyError:
        if not skip_account:  # the agent-user steps made it, and laid out the home
            steps.append(f"{sudo}useradd --system --home-dir /var/lib/reverie "
                         f"--shell /usr/sbin/nologin {run_as}")
            steps.append(f"{sudo}chown -R {run_as}: {_shell_quote(home)}")
    steps += [
        f"{sudo}systemctl daemon-reload",
        f"{sudo}systemctl enable --now {unit}",
        f"journalctl -u {unit} -f -o cat",
        f"# secrets (the ${{VARS}} of your config): /etc/reverie/{instance or 'reverie'}.env, "
        f"root-only, mode 0600",
    ]
    return steps
