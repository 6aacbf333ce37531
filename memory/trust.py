"""Who could have written a file reverie trusts: OpenSSH's ``StrictModes``, for reverie.

What the untrusted side can write is never what the trusted side executes, trusts or
follows. A file is *trusted* by a process when neither it nor any folder on its path up to
``/`` can be changed by anyone but that process's user and root: each is owned by one of
them, and writable by group or others only where that cannot reach the file (a sticky
folder owned by root or the user, like ``/tmp``; a group that holds nobody but the user,
as with per-user groups). With ``agent_uid``, the agent's user is named too: it may not
own the file or a folder on its path, nor write them through one of its groups.

The daemon uses :func:`check_trusted_file` for its config, a ``defaults:`` file and every
template it renders; the command line uses :func:`root_refusal` so that root runs nothing
in a home, state folder or config another user can write.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Sequence
from pathlib import Path


class UntrustedFile(OSError):
    """A file reverie refuses to trust; ``str()`` is one line naming it and why."""

    def __init__(self, path: str | os.PathLike, reason: str, owner: int | None = None):
        super().__init__(0, reason, str(path))
        self.owner = owner

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"gid {gid}"


def agent_groups(uid: int) -> set[int]:
    """The gids of user ``uid``: its primary group and every group listing it."""
    try:
        pw = pwd.getpwuid(uid)
    except KeyError:
        return set()
    return {pw.pw_gid, *os.getgrouplist(pw.pw_name, pw.pw_gid)}


def _private_group(gid: int, uid: int) -> bool:
    """A group only ``uid`` is in (a per-user group): its write bit lets nobody else in."""
    try:
        pw = pwd.getpwuid(uid)
        gr = grp.getgrgid(gid)
    except KeyError:
        return False
    return gid == pw.pw_gid and set(gr.gr_mem) <= {pw.pw_name}


def _why(st: os.stat_result, me: int, agent_uid: int | None, agent_gids: set[int],
         what: str) -> str | None:
    mode = st.st_mode
    folder = stat.S_ISDIR(mode)
    if agent_uid is not None and st.st_uid == agent_uid:
        return f"the {what} is owned by the agent's user {user_name(agent_uid)}"
    if st.st_uid not in (0, me):
        return (f"the {what} is owned by {user_name(st.st_uid)}, not by "
                + ("root" if me == 0 else f"{user_name(me)} or root"))
    sticky = folder and mode & stat.S_ISVTX
    if mode & stat.S_IWOTH and not sticky:
        return f"the {what} is writable by every user (mode {stat.S_IMODE(mode):04o})"
    if mode & stat.S_IWGRP and not sticky:
        if agent_uid is not None and st.st_gid in agent_gids:
            return (f"the {what} is writable by the group {_group_name(st.st_gid)}, "
                    f"which the agent's user {user_name(agent_uid)} is in")
        if not _private_group(st.st_gid, me):
            return (f"the {what} is writable by the group {_group_name(st.st_gid)} "
                    f"(mode {stat.S_IMODE(mode):04o})")
    return None


def check_trusted_file(path: str | os.PathLike, agent_uid: int | None = None,
                       agent_gids: "set[int] | None" = None,
                       passed: "set[Path] | None" = None) -> None:
    """Refuse (UntrustedFile, one line) ``path`` when anyone but this process's user and
    root could change it: by owning it or a folder on its path, or through a write bit
    that reaches it. ``agent_uid``: the agent's user (``sessions.user``), whose groups are
    distrusted too (``agent_gids``: more groups of the agent, e.g. ``sessions.group``).
    ``path`` may be a folder reverie works in (a home, a state folder),
    checked the same way. A missing file is FileNotFoundError. ``passed``: folders
    already found trusted by an earlier call for the same users, skipped (and added to)."""
    me = os.geteuid()
    gids = (agent_groups(agent_uid) if agent_uid is not None else set()) | set(agent_gids or ())
    p = Path(os.path.abspath(path))
    lst = os.lstat(p)
    if stat.S_ISLNK(lst.st_mode) and (lst.st_uid not in (0, me) or lst.st_uid == agent_uid):
        raise UntrustedFile(p, f"refused: a symlink made by {user_name(lst.st_uid)}",
                            lst.st_uid)
    st = os.stat(p)
    why = _why(st, me, agent_uid, gids, "folder" if stat.S_ISDIR(st.st_mode) else "file")
    if why:
        raise UntrustedFile(p, f"refused: {why}", st.st_uid)
    # every folder above it: on the path as named (who could swap a link on it) and on the
    # real path (where a link on the way leads)
    folders = dict.fromkeys([*p.parents, *Path(os.path.realpath(p)).parents])
    for parent in folders:
        if passed is not None and parent in passed:
            continue
        st = os.stat(parent)
        why = _why(st, me, agent_uid, gids, "folder on its path")
        if why:
            raise UntrustedFile(p, f"refused: {why} ({parent})", st.st_uid)
        if passed is not None:
            passed.add(parent)


def root_refusal(paths: Sequence[str | os.PathLike]) -> UntrustedFile | None:
    """As root: the first of ``paths`` another user could change, else None (a path not
    there yet is judged by the folder it would be made in). Its ``owner`` is who to run
    the command as instead."""
    passed: set[Path] = set()  # the paths share most of their folders: each judged once
    for p in paths:
        q = Path(os.path.abspath(p))
        while not os.path.lexists(q) and q != q.parent:
            q = q.parent
        try:
            check_trusted_file(q, passed=passed)
        except FileNotFoundError:
            continue
        except UntrustedFile as e:
            return e
    return None
