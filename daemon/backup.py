"""`reverie backup` and `reverie restore`: one archive of an agent, taken while it runs.

The archive is a tar.gz laid out relative to nothing on the machine it came from:

    manifest.json        what it is (see MANIFEST_FORMAT): the reverie version, the agent's
                         name, when, the layout below, the record's row counts, what was left out
    state/reverie.db     the record, copied through SQLite's online backup API (one consistent
                         snapshot while the daemon writes on; never a copy of a live WAL file)
    state/...            reverie's other files of its own (session logs), regular files only
    home/...             the home's files: regular files and symlinks (stored as links,
                         never followed), read without blocking, within a byte and file budget
    config/NAME          the config, when it lives outside the home
    defaults/NAME        its `defaults:` file, for reference (a restore uses the one in place)

The home is hostile input: a FIFO, a device or a socket is left out and named in the
manifest; a file that changes while it is read is archived as far as it was read. A
restore trusts the archive no more: every member's path is checked (no absolute path, no
``..``, nothing outside home/, state/ and config/, links only relative and inside the
home) before a byte is written, and it writes only into an empty home and state folder
that no daemon holds.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import shutil
import socket
import stat
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, AbstractSet, Any, Callable, Iterator

from reverie.daemon import __version__
from reverie.memory import atomic, clock
from reverie.memory.errors import one_line

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "reverie-backup/1"
HOME, STATE, CONFIG, DEFAULTS = "home", "state", "config", "defaults"
RECORD = f"{STATE}/reverie.db"
MAX_BYTES = 4 * 1024 ** 3  # of the home's and state folder's files, the record aside
MAX_FILES = 200_000  # entries walked (files, folders, links)
_CHUNK = 1024 * 1024
# reverie's own files in the state folder that are not copied as files: the record goes
# through the backup API; locks and the socket belong to a running process; the binding
# (the home this folder belongs to) and the config snapshots name the old home and config,
# and the restored home writes its own
_NOT_FILES = ("reverie.db", "reverie.db-wal", "reverie.db-shm", "reverie.db-journal",
              "reverie.lock", "home", "config.snapshot.json", "running.snapshot.json")
_NOT_SUFFIXES = (".lock", ".sock")


class BackupError(Exception):
    """A backup or restore that cannot go on; ``str()`` is one line."""


class Refused(BackupError):
    """A restore refused before anything was written (bad usage: exit 2)."""


def state_folder(home: Any) -> Path:
    """The folder of reverie's own files (the record, lock, socket, session logs)."""
    state = getattr(home, "state", None)
    return Path(state) if state is not None else Path(home.db).parent


@dataclass
class Outcome:
    path: Path
    files: int = 0
    bytes: int = 0
    left_out: list[dict] = field(default_factory=list)
    record: dict[str, int] = field(default_factory=dict)


# -- backup ---------------------------------------------------------------------------------


def backup(loaded: Any, target: str | os.PathLike, *, max_bytes: int = MAX_BYTES,
           max_files: int = MAX_FILES) -> Outcome:
    """Write the archive of ``loaded``'s agent to ``target`` atomically (0600: it holds the
    config and the record)."""
    from reverie.memory.store import Store, StoreError

    home = loaded.home
    state = state_folder(home)
    target = Path(target).expanduser().absolute()
    out = Outcome(target)
    if not home.db.exists():
        raise BackupError(f"{home.db}: no record to back up (run `reverie init` or start "
                          "the daemon first)")
    budget = _Budget(max_bytes, max_files)
    with tempfile.TemporaryDirectory(prefix=".reverie-backup.", dir=target.parent) as tmp:
        copy = Path(tmp) / "reverie.db"
        try:
            store = Store.open(home.db, readonly=True)
            try:
                out.record = store.backup_into(copy)
            finally:
                store.close()
        except StoreError as e:
            raise BackupError(str(e)) from None
        config_member = _config_member(loaded.path, home.root)
        with atomic.streaming(target, mode=atomic.SECRET_MODE) as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
                tar.add(copy, arcname=RECORD, recursive=False, filter=_plain_owner)
                # not the state folder again (inside the home before the record moved out),
                # nor this backup's own files when it is written into the home
                skip_home = {state} if _within(state, home.root) else set()
                skip_home |= {Path(tmp), target}
                for member, path in _walk(state, STATE, budget, out, skip_names=_NOT_FILES,
                                                  skip_suffixes=_NOT_SUFFIXES):
                    _add(tar, member, path, budget, out)
                for member, path in _walk(home.root, HOME, budget, out, skip=skip_home,
                                          skip_temp=(target.parent, f".{target.name}.")):
                    _add(tar, member, path, budget, out)
                if config_member.startswith(CONFIG + "/"):
                    _add(tar, config_member, Path(loaded.path), budget, out)
                defaults = getattr(loaded, "defaults", None)
                if defaults is not None:
                    _add(tar, f"{DEFAULTS}/{Path(defaults).name}", Path(defaults), budget, out)
                manifest = {
                    "format": MANIFEST_FORMAT, "reverie": __version__, "agent": loaded.name,
                    "created": clock.now().isoformat(timespec="seconds"),
                    "host": socket.gethostname(),
                    "layout": {"home": HOME + "/", "state": STATE + "/", "record": RECORD,
                               "config": config_member},
                    "from": {"home": str(home.root), "state": str(state),
                             "config": str(Path(loaded.path).absolute()),
                             "defaults": str(defaults) if defaults is not None else None},
                    "record": out.record, "files": out.files, "bytes": out.bytes,
                    "left_out": out.left_out,
                }
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(data), 0o600, int(clock.now().timestamp())
                tar.addfile(info, io.BytesIO(data))
    return out


def _config_member(config_path: Path, home_root: Path) -> str:
    p = Path(config_path).absolute()
    try:
        return f"{HOME}/{p.resolve().relative_to(home_root).as_posix()}"
    except ValueError:
        return f"{CONFIG}/{p.name}"


def _within(p: Path, root: Path) -> bool:
    return p == root or root in p.parents


class _Budget:
    def __init__(self, max_bytes: int, max_files: int):
        self.bytes, self.files = max_bytes, max_files


def _walk(root: Path, prefix: str, budget: _Budget, out: Outcome, *,
          skip: AbstractSet[Path] = frozenset(), skip_names: tuple[str, ...] = (),
          skip_suffixes: tuple[str, ...] = (), skip_temp: tuple[Path, str] | None = None
          ) -> Iterator[tuple[str, Path]]:
    """(member name, path) of every entry under ``root``, folders first, without
    following a link and without recursion (a tree may be deeper than Python's stack)."""
    if not root.is_dir() or root.is_symlink():
        return
    stack = [(root, prefix)]
    while stack:
        folder, name = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            out.left_out.append({"path": name, "why": f"unreadable folder: {err.strerror or err}"})
            continue
        subfolders = []
        for e in entries:
            member = f"{name}/{e.name}"
            path = Path(e.path)
            if path in skip or (folder == root and (e.name in skip_names
                                                    or e.name.endswith(skip_suffixes))):
                continue
            if skip_temp and folder == skip_temp[0] and e.name.startswith(skip_temp[1]):
                continue  # the archive being written (atomic.streaming's temporary file)
            budget.files -= 1
            if budget.files < 0:
                out.left_out.append({"path": member, "why": "over the file count budget"})
                return
            if e.is_dir(follow_symlinks=False):
                yield member, path
                subfolders.append((path, member))
            else:
                yield member, path
        stack.extend(reversed(subfolders))


def _plain_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # uids mean nothing on the machine a backup is restored on
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode &= 0o777
    return info


def _add(tar: tarfile.TarFile, member: str, path: Path, budget: _Budget, out: Outcome) -> None:
    try:
        st = os.lstat(path)
    except OSError as e:
        out.left_out.append({"path": member, "why": e.strerror or str(e)})
        return
    info = tarfile.TarInfo(member)
    info.mode, info.mtime = st.st_mode & 0o777, int(st.st_mtime)
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        return
    if stat.S_ISLNK(st.st_mode):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
        tar.addfile(info)
        return
    if not stat.S_ISREG(st.st_mode):
        from reverie.memory.safe_read import _kind

        out.left_out.append({"path": member, "why": f"{_kind(st.st_mode)}, not a regular file"})
        return
    from reverie.memory.safe_read import open_regular

    try:
        fd = open_regular(path)  # no link followed, no FIFO opened (it changed since lstat)
    except OSError as e:
        out.left_out.append({"path": member, "why": str(e) if e.filename is None
                             else (e.strerror or str(e))})
        return
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > budget.bytes:
            out.left_out.append({"path": member, "why": f"{size} bytes: over the byte budget "
                                 f"({budget.bytes} bytes left)"})
            return
        budget.bytes -= size
        info.size = size
        reader = _Exactly(f, size)
        tar.addfile(info, reader)
        if reader.short:
            out.left_out.append({"path": member, "why": f"shrank while read: archived the "
                                 f"first {size - reader.short} bytes, padded"})
    out.files += 1
    out.bytes += size


class _Exactly(io.RawIOBase):
    """``size`` bytes of a file that the agent may truncate or grow while it is read: what
    tar declared in the header is what goes in (a shrunk file is padded with NULs)."""

    def __init__(self, f: IO[bytes], size: int):
        self.f, self.left, self.short = f, size, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.f.read(n) if n else b""
        if len(data) < n:
            self.short += n - len(data)
            data += b"\0" * (n - len(data))
        self.left -= len(data)
        return data


# -- restore --------------------------------------------------------------------------------


@dataclass
class Restored:
    home: Path
    state: Path
    config: Path
    files: int
    record: dict[str, int]


def restore(archive: str | os.PathLike, home_dir: str | os.PathLike, *,
            state_dir: str | os.PathLike | None = None, config_to: str | os.PathLike | None = None,
            echo: Callable[[str], None] = lambda s: None) -> Restored:
    from reverie.daemon import config as config_mod
    from reverie.daemon.lock import HomeLock
    from reverie.memory.store import Store, StoreError

    archive = Path(archive)
    target = Path(home_dir).expanduser().absolute()
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError, EOFError) as e:
        raise Refused(f"{archive}: not a reverie backup ({one_line(e)})") from None
    with tar:
        try:
            members = tar.getmembers()
        except (OSError, tarfile.TarError, EOFError) as e:
            raise Refused(f"{archive}: damaged archive ({one_line(e)})") from None
        manifest = _read_manifest(tar, members, archive)
        _check_members(members, archive)
        _check_room(members, archive, target)
        layout = manifest["layout"]
        names = {m.name: m for m in members}
        config_member = layout.get("config")
        if config_member not in names:
            raise Refused(f"{archive}: the config ({config_member}) is not in the archive")
        outside = not config_member.startswith(HOME + "/")
        if outside and config_to is None:
            raise Refused(f"{archive}: the agent's config lived outside its home "
                          f"({manifest['from']['config']}): say where to put it with --config-to FILE")
        if not outside:
            config_path = target / config_member[len(HOME) + 1:]
        else:
            assert config_to is not None  # refused above
            config_path = Path(config_to).expanduser().absolute()
        text = _extract_bytes(tar, names[config_member]).decode("utf-8", errors="replace")
        text = _rewrite_config(text, target, state_dir,
                               Path(manifest["from"].get("config") or config_path).parent)

        # where the record goes: what the restored config says, read as reverie reads it
        with tempfile.TemporaryDirectory(prefix=".reverie-restore.") as tmp:
            probe = Path(tmp) / config_path.name
            probe.write_text(text, encoding="utf-8")
            probe.chmod(0o600)
            try:
                loaded = config_mod.load(probe, need_secrets=False)
            except config_mod.ConfigError as e:
                hint = ""
                if manifest["from"].get("defaults") and ": defaults: " in e.problems[0]:
                    hint = (f" (a copy is in the archive as {DEFAULTS}/"
                            f"{Path(manifest['from']['defaults']).name}: put it back first)")
                raise Refused(f"{archive}: its config does not load here: "
                              f"{e.problems[0]}{hint}") from None
            rhome = loaded.home
            state = state_folder(rhome)
        if rhome.root != target.resolve():
            raise Refused(f"{archive}: the restored config points at {rhome.root}, not {target}")
        held = HomeLock.holder(rhome.lock) if rhome.lock.exists() else None
        if held is not None:
            raise Refused(f"{target}: a reverie daemon (pid {held}) runs on this home: stop it "
                          "first; a restore never writes under a running daemon")
        for folder, what in ((target, "home"), (state, "state folder")):
            if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
                hint = " or give --state-dir DIR" if what == "state folder" else ""
                raise Refused(f"{folder}: the {what} to restore into is not empty (restore "
                              f"into a new folder{hint}; nothing was written)")
        if outside and config_path.exists():
            raise Refused(f"{config_path}: already exists (nothing was written)")

        # every check passed: write
        target.mkdir(parents=True, exist_ok=True)
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        state.chmod(0o700)
        files = 0
        links = []
        for m in members:
            if m.name in (MANIFEST, config_member) or m.name.startswith(
                    (CONFIG + "/", DEFAULTS + "/")):
                continue
            top, _, rel = m.name.partition("/")
            base = target if top == HOME else state
            if not rel:
                continue
            if m.name == RECORD:
                dest = Path(rhome.db)
            else:
                dest = base / rel
            if m.isdir():
                dest.mkdir(parents=True, exist_ok=True, mode=0o700)
                dest.chmod((m.mode & 0o777) | 0o700)
            elif m.issym():
                links.append((dest, m.linkname))
            else:
                _write_member(tar, m, dest)
                files += 1
        for dest, linkname in links:  # last: no file above was written through one
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(linkname, dest)
        mode = int(names[config_member].mode & 0o777) or atomic.SECRET_MODE
        atomic.write_text(config_path, text, mode=mode)
    try:
        store = Store.open(rhome.db)
        try:
            counts = store.row_counts()
        finally:
            store.close()
    except StoreError as e:
        raise BackupError(f"restored record unusable: {e}") from None
    want = manifest.get("record") or {}
    differ = [t for t, n in want.items() if counts.get(t) != n]
    if differ:
        raise BackupError(f"{rhome.db}: the restored record differs from the backup's in "
                          f"{', '.join(differ)} (rows {', '.join(f'{counts.get(t)} != {want[t]}' for t in differ)})")
    return Restored(target, state, config_path, files, counts)


def _read_manifest(tar: tarfile.TarFile, members: list[tarfile.TarInfo], archive: Path) -> dict:
    m = next((m for m in members if m.name == MANIFEST and m.isreg()), None)
    if m is None or m.size > 16 * 1024 * 1024:
        raise Refused(f"{archive}: not a reverie backup (no {MANIFEST})")
    try:
        manifest = json.loads(_extract_bytes(tar, m))
    except ValueError:
        raise Refused(f"{archive}: {MANIFEST}: not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise Refused(f"{archive}: {MANIFEST}: not a {MANIFEST_FORMAT} archive")
    layout = manifest.get("layout")
    if not isinstance(layout, dict) or layout.get("record") != RECORD:
        raise Refused(f"{archive}: {MANIFEST}: unknown layout {layout!r}")
    return manifest


def _check_members(members: list[tarfile.TarInfo], archive: Path) -> None:
    """Refuse the whole archive when any member would land outside the restore's folders:
    an absolute path, a ``..``, a top folder other than home/, state/, config/, a hard
    link, a device or FIFO, a link that is absolute or leads out of the home."""
    seen = set()
    for m in members:
        name = m.name
        bad = None
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or "\0" in name:
            bad = "an absolute or odd path"
        elif any(p in ("", ".", "..") for p in parts):
            bad = "a '..', '.' or empty part"
        elif name != MANIFEST and parts[0] not in (HOME, STATE, CONFIG, DEFAULTS):
            bad = "outside home/, state/, config/ and defaults/"
        elif name in seen:
            bad = "twice in the archive"
        elif m.issym():
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
            if (parts[0] != HOME or m.linkname.startswith("/")
                    or not target.startswith(HOME + "/")):
                bad = f"a link out of the home (-> {m.linkname!r})"
        elif not (m.isreg() or m.isdir()):
            bad = "not a file, folder or symlink"
        elif parts[0] in (CONFIG, DEFAULTS) and (len(parts) != 2 or not m.isreg()):
            bad = "not a config file"
        if bad:
            raise Refused(f"{archive}: member {name!r}: {bad}; nothing was written")
        seen.add(name)


def _check_room(members: list[tarfile.TarInfo], archive: Path, target: Path) -> None:
    """Refuse before writing an archive that would not fit: more members than a backup
    writes, or more bytes than the target's file system has free."""
    if len(members) > MAX_FILES + 1000:
        raise Refused(f"{archive}: {len(members)} members, more than a backup writes "
                      f"({MAX_FILES}); nothing was written")
    need = sum(m.size for m in members if m.isreg())
    folder = target
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if need > free:
        raise Refused(f"{archive}: {need} bytes to restore, {free} free under {folder}; "
                      "nothing was written")


def _extract_bytes(tar: tarfile.TarFile, m: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(m)
    if f is None:
        raise Refused(f"{m.name}: not a file")
    with f:
        return f.read()


def _write_member(tar: tarfile.TarFile, m: tarfile.TarInfo, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if dest.parent.is_symlink() or dest.exists() or dest.is_symlink():
        raise BackupError(f"{dest}: already there (a restore writes only new files)")
    src = tar.extractfile(m)
    assert src is not None
    with src, atomic.streaming(dest, mode=(m.mode & 0o777) or atomic.FILE_MODE) as f:
        shutil.copyfileobj(src, f, _CHUNK)
    os.utime(dest, (m.mtime, m.mtime))


def _rewrite_config(text: str, home: Path, state_dir: str | os.PathLike | None,
                    was_in: Path) -> str:
    """The config's ``home:`` (and ``state_dir:``) pointed at the restore's folders, and a
    relative ``defaults:`` made absolute (from ``was_in``, where the config was): the
    shared file is used where it is, never restored over. The rest of the text, comments
    included, as it was."""
    import yaml

    try:
        root = yaml.compose(text)
    except yaml.YAMLError as e:
        raise Refused(f"the archive's config is not YAML: {one_line(e)}") from None
    if not isinstance(root, yaml.MappingNode):
        raise Refused("the archive's config is not a mapping of keys")
    spans: dict[str, tuple[int, int]] = {}
    for k, v in root.value:
        if isinstance(k, yaml.ScalarNode) and k.value in ("home", "state_dir", "defaults"):
            if not isinstance(v, yaml.ScalarNode):
                raise Refused(f"the archive's config: {k.value}: not a plain value")
            spans[k.value] = (v.start_mark.index, v.end_mark.index)
    if "home" not in spans:
        raise Refused("the archive's config has no home:")
    home_key_end = spans["home"][1]
    edits = {"home": json.dumps(str(home))}
    if "defaults" in spans:
        a, b = spans["defaults"]
        raw = yaml.safe_load(text[a:b])
        if isinstance(raw, str) and not Path(raw).expanduser().is_absolute():
            edits["defaults"] = json.dumps(str(was_in / raw))
    if state_dir is not None:
        edits["state_dir"] = json.dumps(str(Path(state_dir).expanduser().absolute()))
    for key in sorted(edits, key=lambda k: -spans.get(k, (home_key_end, 0))[0]):
        # from the end of the text back, so that each span is still where it was
        if key in spans:
            a, b = spans[key]
            text = text[:a] + edits[key] + text[b:]
        else:  # state_dir: written on the line after home:
            nl = text.find("\n", home_key_end)
            nl = len(text) if nl < 0 else nl
            text = text[:nl] + f"\n{key}: {edits[key]}" + text[nl:]
    return text


__all__ = ["backup", "restore", "BackupError", "Refused", "MANIFEST_FORMAT", "state_folder"]
