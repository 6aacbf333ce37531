"""The daemon trusts only what the agent cannot write (docs/security.md, "Modes").

The config decides what runs (a ``command`` source, the agent's own command line) and the
templates what renders: a config, a ``defaults:`` file or a template the agent's user
could change is refused with one line, sshd ``StrictModes``-style
(:func:`reverie.memory.trust.check_trusted_file`). With ``sessions.user`` the agent has a
user of its own, and that user and its groups are distrusted; without it (same-user mode)
the agent *is* the daemon's user, so the daemon says at start, once, what that mode cannot
protect, and still refuses a file that other users could write.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

from reverie.memory import _log, trust

log = _log.get("reverie.strict")

SAME_USER_LIMITS = (
    "the agent runs as reverie's own user (no sessions.user): it can stop the daemon, "
    "write the record in the state folder, and change the config and templates wherever "
    "this user can write them; run it as a user of its own for those (docs/security.md, Modes)")


def agent_uid(loaded: Any) -> int | None:
    """The uid of ``sessions.user`` (a name or a number), or None in same-user mode."""
    user = getattr(loaded.config.sessions, "user", None)
    if user is None or user == "":
        return None
    if isinstance(user, int) or str(user).isdigit():
        return int(user)
    try:
        return pwd.getpwnam(str(user)).pw_uid
    except KeyError:
        return None  # the config's own check names an unknown user


def agent_gids(loaded: Any) -> set[int]:
    """The gid of ``sessions.group`` when it names one (the agent writes through it)."""
    import grp

    group = getattr(loaded.config.sessions, "group", None)
    if group is None or group == "":
        return set()
    if isinstance(group, int) or str(group).isdigit():
        return {int(group)}
    try:
        return {grp.getgrnam(str(group)).gr_gid}
    except KeyError:
        return set()


def trusted_files(loaded: Any) -> list[Path]:
    """Every file of the operator's the daemon reads as instructions: the config and the
    templates it names (a ``defaults:`` file is checked where it is read)."""
    cfg = loaded.config
    files = [Path(loaded.path)]
    if loaded.state_template is not None:
        files.append(loaded.state_template)
    prompt = getattr(cfg.dream, "prompt_template", None)
    if prompt:
        p = Path(prompt).expanduser()
        files.append(p if p.is_absolute() else loaded.home.root / p)
    return files


def problems(loaded: Any) -> list[str]:
    """One line per file the agent's user (or anyone but this user and root) can write."""
    uid = agent_uid(loaded)
    gids = agent_gids(loaded) if uid is not None else set()
    out = []
    for f in trusted_files(loaded):
        try:
            trust.check_trusted_file(f, uid, gids)
        except FileNotFoundError:
            continue  # a missing template is its renderer's one line
        except trust.UntrustedFile as e:
            who = (f"the agent's user {trust.user_name(uid)}" if uid is not None
                   else "another user")
            out.append(f"{e}; reverie takes instructions from it, so {who} must not be able "
                       "to change it")
    return out


def announce_mode(loaded: Any) -> None:
    """Once at the daemon's start: which mode runs, and what same-user mode cannot protect."""
    uid = agent_uid(loaded)
    if uid is None:
        log.warning("mode.same_user", note=SAME_USER_LIMITS)
    else:
        log.info("mode.agent_user", agent_uid=uid, daemon_uid=os.geteuid())
