"""The few config facts `reverie status` and `reverie state` show, without the config models.

Building the validated config costs those commands most of their start (click, pydantic
and every options model, the cron checks; docs/performance.md, P6). After any successful
full load, :func:`write` records what they read (home, zone, each source's name, type and
schedule, the dream's time and backend, the session crons, the load's warnings) in
``<state dir>/config.snapshot.json``, keyed by the config file (resolved path, size,
mtime_ns, SHA-256 of its bytes), ``$HOME`` (``~`` in paths) and reverie's version. No value
from the environment is in it: a file whose facts depend on a ``${VAR}`` gets no snapshot.

:func:`read` finds the home from the file's top-level ``home:`` line (and the state
directory from its ``state_dir:`` and ``name:`` lines, or their defaults) and takes the snapshot
only when its key matches the file as it is now; anything else (no such line, a changed
file, a foreign or malformed snapshot) is None and the caller loads the config in full.
The home belongs to the untrusted agent, so the snapshot is checked as hostile input: it
may name only its own home, and every field has its expected type and form.

The daemon keeps a second copy, ``<state_dir>/running.snapshot.json``: the facts of
the config it runs (written at its start and at each good reload, whatever the file says
since). While the file on disk is invalid, status, state and page answer from it
(:func:`read_running`), with the file's problems beside them, instead of refusing to say
anything about a daemon that runs fine on its previous config.
"""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a frozen record without dataclasses' compiling (memory/_record.py)
    from reverie.memory._record import dataclass

from reverie.memory import bounded_json
from reverie.daemon import __version__
from reverie.daemon._toplevel import HOME as _HOME_LINE, folder, line as _line  # top-level lines
from reverie.daemon._vars import VAR as _VAR
from reverie.perception import names

CONFIG_NAME = "reverie.yaml"
NAME = "config.snapshot.json"
RUNNING = "running.snapshot.json"
SHAPE = 1
MAX_BYTES = 256 * 1024
_STATE_LINE = _line("state_dir")
_NAME_LINE = _line("name")
# what a snapshot's strings may hold, checked without compiling a pattern at every start
_TYPE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_CRON_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*/,?-")


def _printable(v: str) -> bool:
    return not any(c < "\x20" or "\x7f" <= c <= "\x9f" for c in v)


def _type(v: str) -> bool:
    return 0 < len(v) <= 64 and set(v) <= _TYPE_CHARS


def _cron(v: str) -> bool:
    fields = v.split(" ")
    return len(fields) == 5 and all(f and set(f) <= _CRON_CHARS for f in fields)


# -- locating the file (config.py re-exports these) ----------------------------------

def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "reverie" / CONFIG_NAME


def resolve_path(explicit: str | os.PathLike | None) -> Path:
    """--config, then $REVERIE_CONFIG, then ./reverie.yaml, then the user config dir."""
    if explicit:
        return Path(explicit)
    if os.environ.get("REVERIE_CONFIG"):
        return Path(os.environ["REVERIE_CONFIG"])
    here = Path(CONFIG_NAME)
    if here.exists():
        return here
    return user_config_path()


# -- the facts ----------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """What status reads of a source spec (the same attribute names)."""

    name: str
    type: str
    enabled: bool
    every: timedelta | None
    cron: str | None


class Facts:
    """Stands in for config.Loaded where status and state read it."""

    def __init__(self, config: Any, path: Path, warnings: list[str] | None = None,
                 state: Path | None = None):
        self.config = config
        self.path = path
        self.warnings: list[str] = warnings or []
        self.secrets: tuple[str, ...] = ()  # a snapshot holds none
        self.state = state
        # the problems of the file on disk, when these facts are the running daemon's
        self.config_errors: list[str] = []

    @property
    def home(self) -> Any:
        from reverie.memory.home import Home

        return Home.at(self.config.home, self.state)

    @property
    def tz(self) -> Any:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.config.timezone)


def _sha256(data: bytes) -> str:
    """The same digest as hashlib's, from the interpreter's own SHA-256: importing hashlib
    loads OpenSSL's, about 2 ms more of every `status` and `state`."""
    try:  # CPython 3.11 names it _sha256, 3.12 and later _sha2
        from _sha256 import sha256  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]
        except ImportError:
            from hashlib import sha256
    return str(sha256(data).hexdigest())


def _key(path: Path, data: bytes, st: os.stat_result) -> dict:
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": _sha256(data), "user_home": os.path.expanduser("~"),
            "reverie": __version__}


def _read_config(path: Path) -> tuple[bytes, os.stat_result] | None:
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None
            return f.read(), st
    except OSError:
        return None


def home_line(path: Path, text: str) -> Path | None:
    """The home a config's top-level ``home:`` line names (no ${VAR}), else None."""
    m = _HOME_LINE.search(text)
    if not m or _VAR.search(m.group(2)):
        return None
    return folder(path, m.group(2)).resolve()


def state_line(path: Path, text: str, home: Path) -> Path | None:
    """The state directory a config names (``state_dir:``, else the default for its
    ``name:`` or its home's name); None when a ${VAR} or a line this cannot read decides."""
    from reverie.memory.home import default_name, default_state_dir

    m = _STATE_LINE.search(text)
    if m:
        if _VAR.search(m.group(2)):
            return None
        return folder(path, m.group(2))
    if re.search(r"^(state_dir|name):", text, re.M) and not _NAME_LINE.search(text):
        return None
    n = _NAME_LINE.search(text)
    if n and _VAR.search(n.group(2)):
        return None
    return default_state_dir(n.group(2) if n else default_name(home))


def _var_in(loc: tuple) -> bool:
    """Whether a ${VAR} at ``loc`` changes a fact the snapshot keeps."""
    if not loc:
        return True
    if loc[0] in ("home", "timezone", "sessions", "state_dir", "name"):
        return True
    if loc[0] == "dream":
        return len(loc) < 2 or loc[1] in ("at", "backend")
    if loc[0] == "sources":
        return len(loc) < 3 or loc[2] in ("name", "type", "enabled", "every", "cron")
    return False


def write(loaded: Any, var_locs: list[tuple], text: str) -> None:
    """Record ``loaded``'s facts in its home, if the home's state folder exists (a check
    never creates the home) and none of them came from the environment. ``text`` is what
    the load parsed: a file changed since is left without a snapshot, never keyed to facts
    it does not say. Best effort: the snapshot is a shortcut, never needed."""
    if any(_var_in(loc) for loc in var_locs):
        return
    cfg = loaded.config
    home = Path(cfg.home).expanduser().resolve()
    folder = loaded.home.state
    facts = _doc_facts(loaded, home, folder)
    loaded._snapshot_facts = facts  # for keep_running: what this load said
    try:
        st = os.lstat(folder)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode) or (os.geteuid() == 0 and st.st_uid != 0):
        return  # root writes nothing into a folder of another user
    read = _read_config(Path(loaded.path))
    if read is None:
        return
    data, st = read
    try:
        if data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n") != text:
            return
    except UnicodeDecodeError:
        return
    doc = {"shape": SHAPE, "key": _key(Path(loaded.path), data, st), **facts}
    from reverie.memory import atomic

    try:
        if _current(folder / NAME) == doc:
            return
        atomic.write_text(folder / NAME, json.dumps(doc, ensure_ascii=False), mode=0o600)
    except OSError:
        pass


def _doc_facts(loaded: Any, home: Path, folder: Path) -> dict:
    cfg, s = loaded.config, loaded.config.sessions
    return {
        "home": str(home),
        "state": str(folder),
        "timezone": cfg.timezone if "timezone" in cfg.model_fields_set else None,
        "sources": [{"name": x.name, "type": x.type, "enabled": bool(x.enabled),
                     "every": x.every.total_seconds() if x.every else None, "cron": x.cron}
                    for x in cfg.sources],
        "dream": {"at": cfg.dream.at, "backend": cfg.dream.backend},
        "sessions": {"enabled": bool(s.enabled), "wake": list(s.wake), "sleep": list(s.sleep),
                     "max_duration": s.max_duration.total_seconds() if s.max_duration else None},
        "warnings": list(loaded.warnings),
    }


def keep_running(loaded: Any) -> None:
    """The daemon's start and each good reload: record the facts of the config it now
    runs, for status and state to answer from while the file on disk is invalid. A
    config whose facts came from ${VAR}s leaves none (and removes an older one: it would
    describe another config). Best effort, as :func:`write`."""
    facts = getattr(loaded, "_snapshot_facts", None)  # None: some came from ${VAR}s
    from reverie.memory import atomic

    path = loaded.home.state / RUNNING
    try:
        if facts is None:
            path.unlink(missing_ok=True)
        else:
            atomic.write_text(path, json.dumps({"shape": SHAPE, **facts}, ensure_ascii=False),
                              mode=0o600)
    except OSError:
        pass


def read_running(path: Path, home: Path | None) -> Facts | None:
    """The facts of the config the daemon of ``home`` runs (or ran last), else None."""
    if home is None:
        return None
    home = home.resolve()
    got = _read_config(path)
    if got is None:
        return None
    try:
        state = state_line(path, got[0].decode("utf-8"), home)
    except (UnicodeDecodeError, OSError, RuntimeError):
        return None
    if state is None:
        return None
    doc = _current(state / RUNNING)
    if not isinstance(doc, dict) or doc.get("shape") != SHAPE or doc.get("home") != str(home):
        return None
    if doc.get("state") != str(state):
        return None
    try:
        return _facts(doc, path)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _current(path: Path) -> dict | None:
    from reverie.memory import safe_read

    try:
        return bounded_json.loads(safe_read.read_bytes(path, max_bytes=MAX_BYTES))
    except (OSError, ValueError):
        return None


def read(path: Path) -> Facts | None:
    """The facts of the config at ``path`` from its home's snapshot, or None (load it)."""
    got = _read_config(path)
    if got is None:
        return None
    data, st = got
    try:  # RuntimeError: "~nosuchuser/x" (the full load says so in one line)
        text = data.decode("utf-8")
        home = home_line(path, text)
        state = state_line(path, text, home) if home is not None else None
    except (UnicodeDecodeError, OSError, RuntimeError):
        return None
    if state is None:
        return None
    doc = _current(state / NAME)
    if not isinstance(doc, dict) or doc.get("shape") != SHAPE or doc.get("home") != str(home):
        return None
    if doc.get("state") != str(state):
        return None
    if doc.get("key") != _key(path, data, st):
        return None
    try:
        return _facts(doc, path)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _text(v: Any, form: Callable[[str], bool] = _printable, none: bool = False) -> Any:
    if v is None and none:
        return None
    if not isinstance(v, str) or not form(v):
        raise ValueError(v)
    return v


def _seconds(v: Any) -> timedelta | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 3650 * 86400:
        raise ValueError(v)
    return timedelta(seconds=v)


def _flag(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(v)
    return v


def _crons(v: Any) -> list[str]:
    if not isinstance(v, list):
        raise ValueError(v)
    return [_text(c, _cron) for c in v]


def _facts(doc: dict, path: Path) -> Facts:
    from zoneinfo import ZoneInfo

    zone = _text(doc["timezone"], none=True)
    if zone is None:
        from reverie.memory import clock

        zone = clock.system_zone_name()
    ZoneInfo(zone)  # raises ValueError (ZoneInfoNotFoundError is one) when unknown
    sources = [Source(_text(x["name"], names.is_name), _text(x["type"], _type), _flag(x["enabled"]),
                      _seconds(x["every"]), _text(x["cron"], _cron, none=True))
               for x in doc["sources"]]
    if len({x.name for x in sources}) != len(sources):
        raise ValueError("two sources with one name")
    d, s = doc["dream"], doc["sessions"]
    cfg = SimpleNamespace(
        home=Path(doc["home"]), timezone=zone, sources=sources,
        dream=SimpleNamespace(at=_text(d["at"], _cron), backend=_text(d["backend"], _type)),
        sessions=SimpleNamespace(enabled=_flag(s["enabled"]), wake=_crons(s["wake"]),
                                 sleep=_crons(s["sleep"]),
                                 max_duration=_seconds(s["max_duration"])))
    warnings = doc["warnings"]
    if not isinstance(warnings, list):
        raise ValueError(warnings)
    return Facts(cfg, path, [_text(w) for w in warnings], state=Path(doc["state"]))
