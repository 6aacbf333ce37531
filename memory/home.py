"""The agent's home on disk: where every file lives, and ``reverie init``.

The home is the agent's and untrusted. reverie's own files (the record ``reverie.db``, its
lock, the control socket, session logs) live in a state directory outside it,
``Home.state``: ``state_dir:`` in the config, else the last folder of
``$STATE_DIRECTORY`` (systemd's ``StateDirectory=``), else
``${XDG_STATE_HOME:-~/.local/state}/reverie/<name>``. The state directory remembers the
home it belongs to (a file ``home`` in it), so two homes never share one record. A home
from before has its record in ``<home>/.reverie/``: it is moved to the state directory
once (:func:`_migrate`), resumably, following no link.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import re
import stat
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from reverie.memory import _log, atomic

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a frozen record without dataclasses' compiling (memory/_record.py)
    from reverie.memory._record import dataclass

log = _log.get("reverie.home")

OLD_PRIVATE = ".reverie"  # where the record lived inside the home before the state directory
BINDING = "home"  # the file in the state directory naming the home it belongs to
MIGRATING = ".migrating"  # present while a migration from <home>/.reverie is under way


class StateError(Exception):
    """The state directory cannot be used (one line for the user; exit 2)."""


def default_name(root: str | Path) -> str:
    """The agent's default name: the home folder's name, cut to the characters `name:` allows."""
    raw = re.sub(r"[^A-Za-z0-9._-]", "-", Path(root).name).lstrip("._-")[:64]
    return raw or "agent"


def default_state_dir(name: str) -> Path:
    """Where the record of the agent ``name`` lives when the config names no ``state_dir:``."""
    # systemd's StateDirectory= (the service units): its last folder, reverie/NAME after
    # the account's own reverie
    sd = os.environ.get("STATE_DIRECTORY", "").split(":")[-1]
    if sd and os.path.isabs(sd):
        return Path(sd)
    base = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        base = str(Path.home() / ".local" / "state")
    return Path(base) / "reverie" / name


@dataclass(frozen=True)
class Home:
    root: Path
    state: Path = None  # type: ignore[assignment]  # reverie's own files

    def __post_init__(self) -> None:
        if self.state is None:
            object.__setattr__(self, "state", default_state_dir(default_name(self.root)))

    @classmethod
    def at(cls, path: str | Path, state: str | Path | None = None) -> "Home":
        root = Path(path).expanduser().resolve()
        if state is None:
            return cls(root)
        return cls(root, Path(state).expanduser().absolute())

    # the agent's files
    @property
    def working(self) -> Path:
        return self.root / "working.md"

    @property
    def perception_dir(self) -> Path:
        return self.root / "perception"

    @property
    def state_md(self) -> Path:
        return self.perception_dir / "state.md"

    @property
    def state_json(self) -> Path:
        return self.perception_dir / "state.json"

    @property
    def dreams_dir(self) -> Path:
        return self.root / "dreams"

    @property
    def latest_dream(self) -> Path:
        return self.dreams_dir / "latest.md"

    def dream(self, day: date) -> Path:
        return self.dreams_dir / f"{day.isoformat()}.md"

    @property
    def diary_dir(self) -> Path:
        return self.root / "diary"

    def diary(self, day: date) -> Path:
        return self.diary_dir / f"{day.isoformat()}.md"

    @property
    def memory_dir(self) -> Path:
        return self.root / "memory"

    @property
    def ledger(self) -> Path:
        return self.memory_dir / "ledger.jsonl"

    @property
    def page(self) -> Path:
        return self.root / "morning.html"

    @property
    def taking_dir(self) -> Path:
        """Where consolidation renames working.md (and moves aside what is not a file): in
        the home, so the rename stays on its file system."""
        return self.root / ".consolidating"

    # reverie's own files, in the state directory
    @property
    def private(self) -> Path:
        return self.state

    @property
    def old_private(self) -> Path:
        return self.root / OLD_PRIVATE

    @property
    def db(self) -> Path:
        return self.private / "reverie.db"

    @property
    def lock(self) -> Path:
        return self.private / "reverie.lock"

    @property
    def socket(self) -> Path:
        return self.private / "control.sock"

    @property
    def sessions_dir(self) -> Path:
        return self.private / "sessions"

    def session_log(self, session_id: str) -> Path:
        return self.sessions_dir / f"{session_id}.log"

    def every_path(self) -> list[Path]:
        """What a command on this home may read, write or follow: the home and its
        folders, the state folder, and the record's files in both the old and the new
        place (root checks each before it acts: memory/trust.py)."""
        old = self.old_private
        return [self.root, self.perception_dir, self.dreams_dir, self.diary_dir,
                self.memory_dir, self.taking_dir, old, old / "sessions", old / "reverie.db",
                old / "reverie.lock", self.state, self.sessions_dir, self.db, self.lock]

    def inside(self, relative: str | Path) -> Path:
        """``relative`` resolved under the home; a path that escapes it is refused."""
        p = (self.root / relative).resolve()
        if p != self.root and self.root not in p.parents:
            raise ValueError(f"path {str(relative)!r} leaves the home {self.root}")
        return p

    def ensure(self) -> None:
        """Create the folders (never files) the daemon writes into, and open the state
        directory (moving an old ``.reverie/`` there first). A folder of reverie's that is
        a symlink is refused (UnsafeFile), never followed or chmodded."""
        from reverie.memory.safe_read import check_folder

        self.open_state()
        for d in (self.perception_dir, self.dreams_dir, self.diary_dir, self.memory_dir,
                  self.taking_dir):
            check_folder(d)
        for d in (self.perception_dir, self.dreams_dir, self.diary_dir, self.memory_dir,
                  self.taking_dir):
            d.mkdir(parents=True, exist_ok=True)
        _private_if_mine(self.taking_dir)  # a taken working.md is reverie's until archived

    def open_state(self) -> None:
        """Make the state directory ready: created 0700 (a symlinked or foreign-owned one
        is refused), bound to this home (a state directory of another home is refused),
        with the record of an old ``<home>/.reverie/`` moved in (resumed after a crash)."""
        if self.state == self.root or self.root in self.state.parents:
            raise StateError(f"state_dir: {self.state} is inside the home {self.root}, which "
                             "the agent can write; put it outside (e.g. ~/.local/state/reverie)")
        if self.state in self.root.parents:
            raise StateError(f"state_dir: {self.state} contains the home {self.root}; "
                             "give the record a folder of its own")
        _make_private_dir(self.state)
        bound = _read_binding(self.state)
        if bound is not None and bound != str(self.root):
            raise StateError(
                f"{self.state}: this state directory holds the record of the home {bound}, "
                f"not {self.root}; give this home its own (`state_dir:` or `name:` in its config)")
        lock_fd = os.open(self.state / ".migrate.lock",
                          os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            if os.path.lexists(self.state / MIGRATING) or (
                    bound is None and os.path.lexists(self.old_private)):
                _migrate(self)
            elif bound is not None and os.path.lexists(self.old_private):
                log.debug("state.old_record_ignored", old=str(self.old_private),
                          note="the state directory already holds this home's record")
            if bound is None:
                atomic.write_text(self.state / BINDING, str(self.root) + "\n", mode=0o600)
        finally:
            os.close(lock_fd)
        _make_private_dir(self.sessions_dir)


def _private_if_mine(path: Path) -> None:
    """Make the folder ``path`` 0700 when it is this user's (never through a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return  # check_folder already said what is wrong with it
    try:
        st = os.fstat(fd)
        if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def _make_private_dir(path: Path) -> None:
    """``path`` as a 0700 folder of this user: created (with its parents) if missing; a
    symlink, a non-folder or a folder of another user is refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise StateError(f"{path}: refused: not a plain folder (a symlink or a file); "
                             "reverie's state directory must be a real folder") from None
        raise StateError(f"{path}: cannot open the state directory: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise StateError(f"{path}: refused: owned by uid {st.st_uid}, not by this user "
                             f"(uid {os.geteuid()}); reverie's state directory must be its own")
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def _read_binding(state: Path) -> str | None:
    from reverie.memory import safe_read

    try:
        return safe_read.read_text(state / BINDING, max_bytes=64 * 1024).strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise StateError(f"{state / BINDING}: unreadable ({e}); it names the home this "
                         "state directory belongs to") from None


def _migrate(home: Home) -> None:
    """Move the record of ``<home>/.reverie/`` into the state directory, once.

    Each regular file is moved by rename (or, across file systems, copied, synced and put
    in place atomically, then unlinked): until its source is unlinked the source is the
    truth, so a crash at any point is resumed by running this again (the ``.migrating``
    marker says one is under way). Nothing is followed: a symlink, FIFO, socket or device
    in the old folder is removed unopened and named in the log; a symlinked ``.reverie``
    is refused."""
    old, state = home.old_private, home.state
    marker = state / MIGRATING
    try:
        st = os.lstat(old)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise StateError(f"{old}: refused: not a plain folder (a symlink?); reverie's old "
                         "record is never followed: remove it, or move a real record there")
    if st is not None:
        _refuse_if_old_daemon(old)
        if not os.path.lexists(marker):
            if os.path.lexists(state / "reverie.db"):
                raise StateError(f"both {old} and {state} hold a record of {home.root}; move "
                                 "one away (reverie never merges two records)")
            atomic.write_text(marker, str(old) + "\n", mode=0o600)
        _move_in_transit(home)
        moved, skipped = _move_tree(old, state)
        _remove_tree(old)
        log.warning("state.migrated", home=str(home.root), to=str(state), files=moved,
                    **({"not_moved": skipped} if skipped else {}))
    os.unlink(marker) if os.path.lexists(marker) else None
    atomic.fsync_dir(state)


_IN_TRANSIT = re.compile(r".*\.(taken|refused|working\.raw)")


def _move_in_transit(home: Home) -> None:
    """What a consolidation had taken into the old ``.reverie/sessions/`` (working.md, what
    it moved aside) goes where consolidation now looks for it, by rename, unopened."""
    from reverie.memory.safe_read import check_folder

    old = home.old_private / "sessions"
    if not stat.S_ISDIR(os.lstat(old).st_mode if os.path.lexists(old) else 0):
        return
    names = [n for n in sorted(os.listdir(old)) if _IN_TRANSIT.fullmatch(n)]
    if names:
        check_folder(home.taking_dir)
        home.taking_dir.mkdir(exist_ok=True)
    for n in names:
        os.replace(old / n, home.taking_dir / n)


def _refuse_if_old_daemon(old: Path) -> None:
    """A reverie of the old layout still running on this home holds .reverie/reverie.lock."""
    try:
        fd = os.open(old / "reverie.lock",
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return  # missing, or a link: nothing to ask
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            pid = os.pread(fd, 64, 0).decode(errors="replace").split()[:1] or ["?"]
            raise StateError(f"{old}: a reverie (pid {pid[0]}) still runs on this home's "
                             "old record; stop it, then start this one") from None
    finally:
        os.close(fd)


def _move_tree(src: Path, dst: Path) -> tuple[int, list[str]]:
    moved, skipped = 0, []
    for entry in sorted(os.listdir(src)):
        s, d = src / entry, dst / entry
        st = os.lstat(s)
        if stat.S_ISDIR(st.st_mode):
            _make_private_dir(d)
            m, sk = _move_tree(s, d)
            moved += m
            skipped += sk
        elif stat.S_ISREG(st.st_mode):
            if entry.endswith(".tmp") and entry.startswith("."):
                continue  # an atomic write a crash left half-done: never part of the record
            _move_file(s, d)
            moved += 1
        elif entry != "control.sock":  # a stale socket is remade at start
            skipped.append(f"{s.name} ({_kind(st.st_mode)})")
    return moved, skipped


def _kind(mode: int) -> str:
    from reverie.memory.safe_read import _kind as kind

    return kind(mode)


def _move_file(s: Path, d: Path) -> None:
    if os.path.lexists(d) and not stat.S_ISREG(os.lstat(d).st_mode):
        raise StateError(f"{d}: refused: not a regular file; the migration never writes through it")
    try:
        os.rename(s, d)
        return
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
    from reverie.memory import safe_read

    import shutil  # a migration's copy: not on the commands that only read a home

    fd = safe_read.open_regular(s)
    with os.fdopen(fd, "rb") as f:
        tmp_fd, tmp = atomic._mkstemp(d)
        try:
            with os.fdopen(tmp_fd, "wb") as out:
                shutil.copyfileobj(f, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, d)
        except BaseException:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            raise
    os.unlink(s)


def _remove_tree(path: Path) -> None:
    """Remove the emptied old folder: what is left (links, sockets, FIFOs, half-done
    temporary files) is unlinked, never opened or followed."""
    for entry in os.listdir(path):
        p = path / entry
        if stat.S_ISDIR(os.lstat(p).st_mode):
            _remove_tree(p)
        else:
            os.unlink(p)
    os.rmdir(path)


def _skeleton(name: str) -> str:
    from importlib import resources  # `init` alone: a reading command skips its imports

    return resources.files("reverie.memory").joinpath("skeleton", name).read_text(encoding="utf-8")


WORKING_TEMPLATE_NAME = "working.md"


@functools.cache  # package data: every consolidation and each day distilled compares with it
def working_template() -> str:
    return _skeleton(WORKING_TEMPLATE_NAME)


def init_home(path: "str | Path | Home", state: str | Path | None = None
              ) -> list[tuple[Path, str]]:
    """Create a home at ``path`` (its record in ``state``, default the default state
    folder). Never overwrites: returns (path, "created"|"kept") rows."""
    home = path if isinstance(path, Home) else Home.at(path, state)
    home.root.mkdir(parents=True, exist_ok=True)
    home.ensure()
    from reverie.memory import clock

    # the zone written out: a status or a wake never has to ask the machine (tzlocal)
    config = _skeleton("reverie.yaml").replace("{timezone}", clock.system_zone_name())
    if state is not None:
        config = config.replace(
            "\nhome: .", f"\nstate_dir: {home.state}   # reverie's own files (the record), "
                         "outside the home\nhome: .", 1)
    report: list[tuple[Path, str]] = []
    files = {
        home.root / "reverie.yaml": (config, atomic.SECRET_MODE),
        home.working: (working_template(), atomic.FILE_MODE),
        home.root / "feeds" / "local.xml": (_skeleton("local.xml"), atomic.FILE_MODE),
        home.memory_dir / "identity.md": (_skeleton("identity.md"), atomic.FILE_MODE),
        home.root / "posts" / "hello.md": (_skeleton("hello.md"), atomic.FILE_MODE),
    }
    for target, (text, mode) in files.items():
        if target.exists():
            report.append((target, "kept"))
        else:
            atomic.write_text(target, text, mode=mode)
            report.append((target, "created"))
    from reverie.memory.store import Store

    Store.open(home.db).close()
    report.append((home.db, "ready"))
    return report
