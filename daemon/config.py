"""reverie.yaml: loading, ${VAR} interpolation, validation, one-line errors with lines.

Every problem becomes one line ``reverie.yaml:14: sources[2].every: invalid duration
'5 minutes'``: pydantic's error path is mapped back to the YAML node it came from
through the marks of ``yaml.compose``.
"""

from __future__ import annotations

import json
import os
import re
import typing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo,
                      field_validator)

from reverie.daemon import _yaml, snapshot
from reverie.daemon.alerts import NotifyOptions, url_secrets
from reverie.daemon.session_options import SessionsOptions
from reverie.memory import clock
from reverie.perception import sources as source_types
from reverie.perception.dreams import DreamOptions
from reverie.perception.sources import COMMON_KEYS, SourceSpec
from reverie.perception.types import Duration, PositiveDuration

if typing.TYPE_CHECKING:
    from reverie.memory.home import Home


class ConfigError(Exception):
    """One or more problems, each already one line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class PerceptionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str | None = None  # a Jinja2 file replacing state.md's layout
    retention: PositiveDuration = Field(default="90d", validate_default=True)
    render_every: PositiveDuration = Field(default="5s", validate_default=True)


class MemoryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    git: bool = False
    # after consolidation, distil the day's diary into memory/, every line citing its
    # sources: offline (extractive; `true` means offline) or openai (the `dream:` model
    # settings, checked, offline when it fails); see perception/distill.py
    distill: Literal["offline", "openai"] | None = None
    # the days memory/patterns.md looks back over for what recurs
    patterns_days: int = Field(default=14, ge=2, le=366)
    # working.md is read up to this at consolidation; a larger one is kept whole in diary/
    working_max: int = Field(default=16 * 1024 * 1024, ge=64 * 1024, le=1024 ** 3)

    @field_validator("distill", mode="before")
    @classmethod
    def _distill_on(cls, v: Any) -> Any:
        # `distill: true` is on without a model: the offline distillation
        return "offline" if v is True else None if v is False else v

    @field_validator("working_max", mode="before")
    @classmethod
    def _size(cls, v: Any) -> Any:
        return parse_size(v) if isinstance(v, str) else v


_SIZE = re.compile(r"\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*")
_UNITS = {None: 1, "B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}


def parse_size(text: str) -> int:
    """``16MiB``, ``512 KiB``, ``1048576``: a size in bytes (binary units only)."""
    m = _SIZE.fullmatch(text)
    if not m:
        raise ValueError(f"invalid size {text!r} (use e.g. 16MiB, 512KiB or a number of bytes)")
    return int(m.group(1)) * _UNITS[m.group(2)]


class MetricsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allow_remote: bool = False  # before listen: its validator reads it
    listen: str | None = None  # "127.0.0.1:9464": the daemon serves /metrics and /healthz there
    # the latest numeric reading of each signal as reverie_signal{source,signal,unit}
    signals: bool = True

    @field_validator("listen")
    @classmethod
    def _address(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        host, port = split_listen(v)
        from reverie.perception.serve import is_loopback

        if not is_loopback(host) and not info.data.get("allow_remote"):
            raise ValueError(f"{host} is not a loopback address: metrics would be open to the "
                             "network (set metrics.allow_remote: true if that is meant)")
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_listen(v: str) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"; ValueError with the reason."""
    host, sep, port = v.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"expected host:port with a port from 1 to 65535, like "
                         f"127.0.0.1:9464 (got {v!r})")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host or "[" in host or "]" in host:
        raise ValueError(f"write an IPv6 address in brackets, like [::1]:9464 (got {v!r})")
    return host, int(port)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    home: Path
    # merged under this file's keys at load (with_defaults); always None once loaded
    defaults: str | None = None
    # who is talking in notifications, metrics and the default state directory
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    state_dir: Path | None = None  # reverie's own files, outside the home (memory/home.py)
    timezone: str = Field(default_factory=clock.system_zone_name)
    sources: list[SourceSpec] = []
    perception: PerceptionOptions = PerceptionOptions()
    dream: DreamOptions = DreamOptions()
    sessions: SessionsOptions = SessionsOptions()
    memory: MemoryOptions = MemoryOptions()
    metrics: MetricsOptions = MetricsOptions()
    notify: NotifyOptions = Field(default=NotifyOptions(), description=(
        "notifications through Apprise: a source failing, a dream fallback, a session killed"))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like Europe/Berlin)")
        return v

    @field_validator("sources")
    @classmethod
    def _unique(cls, v: list[SourceSpec]) -> list[SourceSpec]:
        seen: set[str] = set()
        for s in v:
            if s.name in seen:
                raise ValueError(f"two sources are named {s.name!r}")
            seen.add(s.name)
        return v


@dataclass
class Loaded:
    """A validated config and what it was made from."""

    config: Config
    path: Path
    secrets: tuple[str, ...] = ()  # values interpolated from ${VAR}: never print them
    used_env: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # one line each, like problems
    unset_env: list[str] = field(default_factory=list)  # ${VAR}s left unset (need_secrets=False)
    defaults: Path | None = None  # the `defaults:` file merged under it, if any

    @property
    def home(self) -> Home:
        from reverie.memory.home import Home  # not needed to validate

        return Home.at(self.config.home, self.state_dir)

    @property
    def state_dir(self) -> Path:
        """`state_dir:`, else $STATE_DIRECTORY, else ${XDG_STATE_HOME:-~/.local/state}/reverie/<name>."""
        from reverie.memory.home import default_state_dir

        return self.config.state_dir or default_state_dir(self.name)

    @property
    def name(self) -> str:
        """The agent's name: `name:` in the config, else the home folder's name."""
        return self.config.name or agent_name(self.config.home)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.timezone)

    @property
    def state_template(self) -> Path | None:
        """perception.template as a path (relative ones are inside the home), or None."""
        t = self.config.perception.template
        if not t:
            return None
        p = Path(t).expanduser()
        return p if p.is_absolute() else self.home.root / p


def agent_name(home: Path) -> str:
    """The default name: the home folder's name, cut to the characters `name:` allows."""
    from reverie.memory.home import default_name

    return default_name(home)


# -- locating the file --------------------------------------------------------------

# resolve_path and user_config_path live in snapshot.py, which status and state import
# without this module
from reverie.daemon.snapshot import (  # noqa: E402,F401
    CONFIG_NAME, resolve_path, user_config_path)


# -- ${VAR} ----------------------------------------------------------------------------

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _MissingVar(Exception):
    pass


_UNSET = object()  # a value whose ${VAR} is unset, when secrets are not needed: the key is dropped


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them: '#' and ';' comment lines,
    blank lines, whitespace around keys and unquoted values dropped, "double quotes" with
    backslash escapes, 'single quotes' literal, a trailing backslash continuing the line.
    Raises ConfigError naming file:line, never a value (they are secrets)."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) else None  # never the bytes read
        raise ConfigError([f"{shown}: cannot read the environment file: {e.__class__.__name__}"
                           f"{': ' + why if why else ''}"])
    out: dict[str, str] = {}
    problems: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start, line = i + 1, lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        key, eq, rest = line.partition("=")
        key = key.strip()
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            problems.append(f"{shown}:{start}: not a KEY=VALUE line")
            continue
        value, quote, pending_ws = [], "", ""
        rest = rest.lstrip()
        while True:
            j = 0
            while j < len(rest):
                c = rest[j]
                if quote == "'":
                    if c == "'":
                        quote = ""
                    else:
                        value.append(c)
                elif quote == '"':
                    if c == '"':
                        quote = ""
                    elif c == "\\" and j + 1 < len(rest) and rest[j + 1] in '"\\`$':
                        j += 1
                        value.append(rest[j])
                    elif c == "\\" and j + 1 == len(rest):
                        break  # continues on the next line
                    else:
                        value.append(c)
                elif c in "'\"":
                    value.append(pending_ws)
                    pending_ws = ""
                    quote = c
                elif c == "\\" and j + 1 < len(rest):
                    j += 1
                    value.append(pending_ws + rest[j])
                    pending_ws = ""
                elif c == "\\":
                    break  # a trailing backslash: the value continues
                elif c.isspace():
                    pending_ws += c
                else:
                    value.append(pending_ws + c)
                    pending_ws = ""
                j += 1
            if j < len(rest) and i < len(lines):  # stopped at a continuation backslash
                rest = lines[i]  # backslash and newline vanish, as in systemd
                i += 1
                continue
            break
        if quote:
            problems.append(f"{shown}:{start}: {key}: unterminated quote")
            continue
        out[key] = "".join(value)
    if problems:
        raise ConfigError(problems)
    return out


CREDENTIAL_MAX = 64 * 1024  # a key, a token or a URL; not a file to slurp


class _WithCredentials(dict):
    """The environment, and over it systemd's credentials (``LoadCredential=``): a
    ``${VAR}`` is the file ``$CREDENTIALS_DIRECTORY/VAR`` when there is one, read as a
    plain file within a size cap, one trailing newline stripped."""

    def __init__(self, env: dict[str, str]):
        super().__init__(env)
        self._dir = env.get("CREDENTIALS_DIRECTORY") or ""
        self._read: dict[str, str | None] = {}

    def _credential(self, name: str) -> str | None:
        if not self._dir or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            return None
        if name not in self._read:
            from reverie.memory import safe_read

            path = Path(self._dir) / name
            try:
                raw = safe_read.read_bytes(_credential_file(self._dir, path),
                                           max_bytes=CREDENTIAL_MAX)
                value = raw.decode("utf-8")
            except FileNotFoundError:
                value = None
            except (OSError, UnicodeDecodeError) as e:
                why = e.strerror if isinstance(e, OSError) and e.strerror else e.__class__.__name__
                raise ConfigError([f"{path}: cannot read the credential {name}: {why}"]) from None
            self._read[name] = value.removesuffix("\n").removesuffix("\r") if value else value
        return self._read[name]

    def __contains__(self, name: object) -> bool:
        return (isinstance(name, str) and self._credential(name) is not None) or super().__contains__(name)

    def __getitem__(self, name: str) -> str:
        value = self._credential(name)
        return value if value is not None else super().__getitem__(name)


def _credential_file(folder: str, path: Path) -> Path:
    """The file a credential's name leads to. Kubernetes mounts a Secret as links
    (``VAR -> ..data/VAR``, ``..data -> ..2026_01_01_...``, swapped at once on update): a
    link is followed when it ends inside the credentials folder; one that leads out of it
    is refused, so the folder names only its own files."""
    import stat

    from reverie.memory.safe_read import UnsafeFile

    if not stat.S_ISLNK(os.lstat(path).st_mode):  # FileNotFoundError: no such credential
        return path
    target = Path(os.path.realpath(path))
    root = Path(os.path.realpath(folder))
    if target == root or root not in target.parents:
        raise UnsafeFile(path, f"refused: a symlink that leads out of {folder}")
    return target


def _interpolate(text: str, env: dict[str, str], used: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            used[name] = env[name]
            return env[name]
        if default is not None:
            return default
        raise _MissingVar(name)

    return _VAR.sub(sub, text)


# -- YAML positions ----------------------------------------------------------------------

def _node_at(root: yaml.Node | None, loc: tuple) -> tuple[yaml.Node | None, bool]:
    """The deepest node along ``loc`` and whether the whole path was found."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    node = v
                    break
            else:
                return node, False
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return node, False
        else:
            return node, False
    return node, True


def _key_line(root: yaml.Node | None, loc: tuple) -> int:
    """1-based line of the key at ``loc`` (or of its nearest existing parent)."""
    if not loc:
        return 1
    parent, found = _node_at(root, loc[:-1])
    if found and isinstance(parent, yaml.MappingNode):
        for k, _v in parent.value:
            if k.value == str(loc[-1]):
                return k.start_mark.line + 1
    if found and isinstance(parent, yaml.SequenceNode) and isinstance(loc[-1], int):
        if 0 <= loc[-1] < len(parent.value):
            return parent.value[loc[-1]].start_mark.line + 1
    node, _ = _node_at(root, loc)
    return (node.start_mark.line + 1) if node is not None else 1


def _fmt_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _duplicate_key(root: yaml.Node | None) -> str | None:
    """'LINE: path: duplicate key (first at line N)': YAML keeps the last of two equal
    keys without a word, and the first was as likely meant. Run after _shape_problem."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple]] = [(root, ())] if root is not None else []
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:  # an alias: walked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, (*loc, i)) for i, c in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                if key is not None and k.tag != _MERGE:
                    line = k.start_mark.line + 1
                    if key in first:
                        return (f"{line}: {_fmt_loc((*loc, key))}: duplicate key "
                                f"(first at line {first[key]})")
                    first[key] = line
                stack.append((v, (*loc, key)))
    return None


def _squeezed(value: str) -> str:
    """``value`` with each whitespace run as one space, as a one-line message shows it."""
    return re.sub(r"\s+", " ", value)


def _fmt_msg(err: Mapping[str, Any]) -> str:
    kind, msg = err.get("type", ""), err.get("msg", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        # Echo only plain scalars: a string may be a secret interpolated from ${VAR}.
        value = err.get("input")
        if isinstance(value, (int, float, bool)) or value is None and "input" in err:
            msg = f"{msg} (got {value!r})"
    return " ".join(msg.split())


MAX_VALUES = 100_000  # YAML aliases can make a small file stand for a huge (or endless) tree


def _shape_problem(root: yaml.Node | None) -> str | None:
    """'LINE: what is wrong' when aliases make the document recursive or too big to walk.

    Iterative, so neither a self-referencing alias nor deep nesting can blow the stack
    of the recursive walk that interpolates ${VAR}s."""
    if root is None:
        return None
    seen = 0
    open_ids: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            open_ids.discard(id(node))
            continue
        seen += 1
        if seen > MAX_VALUES:
            return (f"{node.start_mark.line + 1}: YAML aliases expand to more than "
                    f"{MAX_VALUES} values")
        if id(node) in open_ids:
            return f"{node.start_mark.line + 1}: a YAML alias refers to a value that contains it"
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for kv in node.value for n in kv]
        else:
            continue
        open_ids.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(children))
    return None


# -- loading ----------------------------------------------------------------------------

_MERGE = "tag:yaml.org,2002:merge"


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's nodes (their marks give the lines) and its data, from one parse
    unless a merge key (``<<``) is in it: constructing merges its keys into the nodes,
    and the lines of the problems are read from the nodes as written. Scalars are YAML
    1.2's (daemon/_yaml.py): ``on``/``no`` are strings, ``010`` is 10."""
    loader = _yaml.Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        if _has_merge(root):
            return root, _yaml.load(text)
        return root, loader.construct_document(root)
    finally:
        loader.dispose()


def _has_merge(root: yaml.Node) -> bool:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: walked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.tag == _MERGE:
                    return True
                stack += (k, v)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return False

def load(path: str | os.PathLike, env: dict[str, str] | None = None, *,
         need_secrets: bool = True) -> Loaded:
    """Load and validate; raise ConfigError with one line per problem.

    ``need_secrets=False`` is for commands that only read the home (status, state, page,
    audit, serve): a value whose ${VAR} is unset is left out, as if never written, and a
    source whose options then fail is kept by name without valid options (nothing polls it
    there). ``home`` and the other keys reading needs still report an unset variable."""
    path = Path(path)
    shown = str(path)
    env = _WithCredentials(dict(os.environ) if env is None else env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{shown}: no such config file (create one with `reverie init`)"])
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{shown}: cannot read: {e.__class__.__name__}: {e}"])
    try:
        root, data = _parse(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError([f"{shown}:{line}: invalid YAML: {' '.join(str(problem).split())}"])
    except RecursionError:
        raise ConfigError([f"{shown}:1: invalid YAML: nested too deeply"]) from None
    shape = _shape_problem(root) or _duplicate_key(root)
    if shape:
        raise ConfigError([f"{shown}:{shape}"])
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{shown}:1: the config must be a mapping of keys (home:, sources:, ...)"])
    defaults_path = None
    if "defaults" in data:
        assert isinstance(root, yaml.MappingNode)  # the document's data is a mapping
        root, data, defaults_path = with_defaults(path, root, data)

    problems: list[str] = []
    warnings: list[str] = []
    used: dict[str, str] = {}
    unset: dict[tuple, str] = {}  # where a ${VAR} was left unset (need_secrets=False) -> VAR
    interpolated: list[tuple[str, str]] = []  # (as written, as interpolated)
    var_locs: list[tuple] = []  # where a ${VAR} was (the snapshot leaves such files out)

    def walk(value: Any, loc: tuple) -> Any:
        if isinstance(value, str):
            try:
                out = _interpolate(value, env, used)
            except _MissingVar as m:
                # left out, so that what fails for want of it is said once, as this line
                unset[loc] = m.args[0]
                var_locs.append(loc)
                if need_secrets:
                    problems.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: "
                                    f"environment variable {m.args[0]} is not set")
                return _UNSET
            if out != value:
                interpolated.append((value, out))
            if _VAR.search(value):
                var_locs.append(loc)
            return out
        if isinstance(value, dict):
            items = ((k, walk(v, (*loc, k))) for k, v in value.items())
            return {k: v for k, v in items if v is not _UNSET}
        if isinstance(value, list):
            return [v for v in (walk(v, (*loc, i)) for i, v in enumerate(value)) if v is not _UNSET]
        return value

    problems += _env_secret_problems(data, root, shown)
    data = walk(data, ())

    def scrub(msg: str) -> str:
        # An error may quote a value that came from ${VAR}: show it as written instead
        # (the placeholder), then take out any value still left, in its quoted forms too.
        # A message has its whitespace runs squeezed to one space on the way (one line):
        # a value with whitespace is looked for squeezed too.
        for raw, out in sorted(interpolated, key=lambda ro: len(ro[1]), reverse=True):
            for o in dict.fromkeys((out, _squeezed(out))):
                msg = msg.replace(repr(o), repr(raw))
                if len(o) >= 4:
                    msg = msg.replace(o, raw)
        for value in sorted(used.values(), key=len, reverse=True):
            for v in dict.fromkeys((value, _squeezed(value), " ".join(value.split()))):
                if len(v) >= 4:
                    for form in {v, repr(v)[1:-1], v.encode("unicode_escape").decode()}:
                        msg = msg.replace(form, "***")
        return msg

    def unset_var(loc: tuple) -> str | None:
        for where, var in unset.items():
            if loc[:len(where)] == where or where[:len(loc)] == loc and len(loc) >= 2:
                return var
        return None

    def report(err: Mapping[str, Any], prefix: tuple = (), allowed: Any = None) -> None:
        loc = (*prefix, *err["loc"])
        var = unset_var(loc)
        if var is not None and need_secrets:
            return  # its "is not set" line is already there
        if var is not None:
            msg = f"environment variable {var} is not set"
        else:
            msg = _fmt_msg(err)
            if err.get("type") == "extra_forbidden":
                msg += _did_you_mean(str(loc[-1]), allowed if allowed is not None
                                     else _keys_at(Config, loc[:-1]))
        problems.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: {msg}")

    def warn(loc: tuple, msg: str) -> None:
        warnings.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: {msg}")

    # Each source's own keys are validated by its type's options model.
    raw_sources = data.get("sources")
    specs: list[SourceSpec] = []
    if raw_sources is not None and not isinstance(raw_sources, list):
        problems.append(f"{shown}:{_key_line(root, ('sources',))}: sources: expected a list")
        raw_sources = []
    for i, entry in enumerate(raw_sources or []):
        spec = _load_source(entry, ("sources", i), report, warn, problems, shown, root,
                            unset=lambda loc: unset_var(loc) is not None,
                            need_secrets=need_secrets)
        if spec is not None:
            specs.append(spec)
    data = {**data, "sources": []}

    if "home" in data and isinstance(data["home"], str):
        try:
            home = Path(data["home"]).expanduser()
        except RuntimeError:  # "~nosuchuser/x": no such user to expand
            problems.append(f"{shown}:{_key_line(root, ('home',))}: home: "
                            f"{_tilde_user(data['home'])}")
            home = Path("/")  # a stand-in: the config is refused with the line above
        if not home.is_absolute():
            home = (path.parent / home).resolve()
        data["home"] = home
    if isinstance(data.get("state_dir"), str) and data["state_dir"]:
        sd = Path(data["state_dir"]).expanduser()
        data["state_dir"] = sd if sd.is_absolute() else (path.parent / sd).resolve()

    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            report(err)
        cfg = None
    if cfg is not None:
        try:
            cfg = cfg.model_copy(update={"sources": specs})
            Config._unique(specs)
        except ValueError as e:
            problems.append(f"{shown}:{_key_line(root, ('sources',))}: sources: {e}")
    if defaults_path is not None:  # a key the defaults file wrote: its name and line
        assert root is not None  # with_defaults gave it
        problems = [_defaults_origin(p, shown, root) for p in problems]
        warnings[:] = [_defaults_origin(w, shown, root) for w in warnings]
    if problems:
        # every line, whoever wrote it: the file and line stay, values from ${VAR} go
        prefix = re.compile(rf"^(?:{re.escape(shown)}|{re.escape(str(defaults_path))}):\d+: ")
        raise ConfigError([m.group(0) + scrub(p[m.end():]) if (m := prefix.match(p)) else p
                           for p in problems])
    assert cfg is not None
    secrets = _secret_forms(used.values()) + url_secrets(cfg.notify.urls)  # URLs carry tokens
    loaded = Loaded(cfg, path, tuple(dict.fromkeys(secrets)), sorted(used), warnings,
                    sorted(set(unset.values())), defaults=defaults_path)
    if defaults_path is None:  # the snapshot is keyed to this file's text alone
        snapshot.write(loaded, var_locs, text)
    return loaded


def _env_secret_problems(data: Any, root: yaml.Node | None, shown: str) -> list[str]:
    """A child's environment (``sessions.env``, a source's ``env``) may not name a ``${VAR}``
    that another part of the config uses: that is a key of the daemon (the dream's, a
    source's header), and whatever a child holds the agent may read (issue 21)."""
    uses: dict[str, list[tuple]] = {}

    def collect(value: Any, loc: tuple) -> None:
        if isinstance(value, str):
            for m in _VAR.finditer(value):
                uses.setdefault(m.group(1), []).append(loc)
        elif isinstance(value, dict):
            for k, v in value.items():
                collect(v, (*loc, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                collect(v, (*loc, i))

    def in_env(loc: tuple) -> bool:
        return (loc[:2] == ("sessions", "env") or
                (len(loc) > 2 and loc[0] == "sources" and loc[2] == "env"))

    collect(data, ())
    out = []
    for name, locs in uses.items():
        elsewhere = [loc for loc in locs if not in_env(loc)]
        for loc in locs:
            if in_env(loc) and elsewhere:
                out.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: ${{{name}}} is a "
                           f"secret of {_fmt_loc(elsewhere[0])}: a child's environment may not "
                           f"name it (give the child a variable of its own)")
    return out


def home_hint(path: str | os.PathLike) -> Path | None:
    """The ``home:`` a config file names, read without validating the rest (so `reverie
    reload` can reach the daemon of a file it refuses); None when the file does not say."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        data = _yaml.load(text)
        home = data.get("home") if isinstance(data, dict) else None
    except (yaml.YAMLError, RecursionError):  # broken further down: the top-level line
        m = re.search(r"""^home:[ \t]*(["']?)([^"'#\n]+?)\1[ \t]*(#.*)?$""", text, re.M)
        home = m.group(2) if m else None
    if not isinstance(home, str) or not home or _VAR.search(home):
        return None
    try:
        p = Path(home).expanduser()
    except RuntimeError:  # ~nosuchuser: load() says so in one line
        return None
    return p if p.is_absolute() else (Path(path).parent / p).resolve()


def _tilde_user(value: str) -> str:
    user = value[1:].split("/", 1)[0]
    return (f"no user {user!r} to expand ~{user} for (write the path out)" if user else
            "cannot expand ~: this user has no home folder (write the path out)")


def _close(key: str, allowed: Any) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(allowed or ()), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _did_you_mean(key: str, allowed: Any) -> str:
    close = _close(key, allowed)
    return f" ({close[:-1]})" if close else ""


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation like ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _keys_at(model: type[BaseModel] | None, loc: tuple) -> set[str]:
    """The keys the model nested at ``loc`` (under ``model``) accepts."""
    for part in loc:
        if model is None:
            return set()
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        model = _model_in(info.annotation) if info is not None else None
    return set(model.model_fields) if model is not None else set()


_KEY_PART_LEN = 8  # shorter URL parts ('v1', 'mainnet') are not keys, and redacting them would garble logs


def _secret_forms(values: Any) -> tuple[str, ...]:
    """Each value, and for a URL the parts that carry its key (a path segment like
    Infura's /v3/<key>, a query value, a password): servers echo a path without the host."""
    out: list[str] = []
    for value in values:
        out.append(value)
        try:
            parts = urlsplit(value)
            password = parts.password
        except ValueError:
            continue
        if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
            continue
        found = [password or ""] + parts.path.split("/") + [v for _k, v in parse_qsl(parts.query)]
        out += [f for f in found if len(f) >= _KEY_PART_LEN]
    return tuple(dict.fromkeys(out))


def _load_source(entry: Any, loc: tuple, report, warn, problems: list[str], shown: str,
                 root: yaml.Node | None, unset=lambda loc: False,
                 need_secrets: bool = True) -> SourceSpec | None:
    if not isinstance(entry, dict):
        problems.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: "
                        "expected a mapping with name, type and options")
        return None
    type_name = entry.get("type")
    try:
        cls = source_types.get(str(type_name)) if type_name is not None else None
    except KeyError:
        names = ", ".join(sorted(source_types.available()))
        problems.append(f"{shown}:{_key_line(root, (*loc, 'type'))}: {_fmt_loc((*loc, 'type'))}: "
                        f"unknown source type {type_name!r} ({_close(str(type_name), source_types.available())}"
                        f"available: {names})")
        return None
    except Exception as e:  # a broken third-party plugin must not take the config down
        problems.append(f"{shown}:{_key_line(root, (*loc, 'type'))}: {_fmt_loc((*loc, 'type'))}: "
                        f"source type {type_name!r} failed to load: {e}")
        return None
    common = {k: v for k, v in entry.items() if k in COMMON_KEYS}
    own = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    # A key renamed in a type's options (command's argv: is now command:) still works, with a warning.
    for old, new in getattr(cls, "renamed_keys", {}).items():
        if old in own:
            if new in own:
                problems.append(f"{shown}:{_key_line(root, (*loc, old))}: {_fmt_loc((*loc, old))}: "
                                f"give {new}: only ({old}: is its old name)")
                return None
            warn((*loc, old), f"{old}: is deprecated, rename it to {new}:")
            own = {(new if k == old else k): v for k, v in own.items()}
    ok = True
    options = None
    if cls is not None:
        allowed = set(cls.Options.model_fields) | COMMON_KEYS
        try:
            options = cls.Options.model_validate(own)
        except ValidationError as e:
            errors = [err for err in e.errors() if not unset((*loc, *err["loc"]))]
            if errors or need_secrets:
                ok = False
                for err in errors:
                    report(err, loc, allowed if len(err["loc"]) == 1 else None)
            else:
                # Only keys whose ${VAR} is unset are wrong: keep the source by name for
                # the commands that read the record; nothing polls it there.
                options = cls.Options.model_construct(**own)
    try:
        spec = SourceSpec.model_validate({**common, "options": options})
    except ValidationError as e:
        for err in e.errors():
            report(err, loc, (set(cls.Options.model_fields) if cls else set()) | COMMON_KEYS)
        return None
    return spec if ok else None


def summary(loaded: Loaded) -> str:
    """One line: what this config sets up."""
    c = loaded.config
    enabled = [s for s in c.sources if s.enabled]
    parts = [f"home {c.home}", f"zone {c.timezone}",
             f"{len(enabled)} source{'s' if len(enabled) != 1 else ''}"
             + (f" ({', '.join(s.name for s in enabled)})" if enabled else ""),
             f"dream at '{c.dream.at}' ({c.dream.backend})"]
    s = c.sessions
    if s.enabled:
        parts.append(f"{len(s.wake)} wake time{'s' if len(s.wake) != 1 else ''}, "
                     f"{len(s.sleep)} sleep time{'s' if len(s.sleep) != 1 else ''}")
    else:
        parts.append("no agent sessions")
    return "ok: " + "; ".join(parts)


def json_schema() -> dict:
    """The JSON Schema of reverie.yaml (sources as their common keys plus any options),
    with a description for every key."""
    schema = Config.model_json_schema(mode="validation")
    schema["title"] = "reverie.yaml"
    schema.setdefault("$defs", {})
    _describe("Config", schema)
    variants = []
    for name in sorted(source_types.available()):
        try:
            entry, defs = _source_schema(name, source_types.get(name))
        except Exception:
            continue
        for d, v in defs.items():
            schema["$defs"].setdefault(d, v)
        variants.append(entry)
    for d, v in schema["$defs"].items():
        _describe(d, v)
    schema["$defs"].pop("SourceSpec", None)  # sources are the variants below
    sources_doc = schema["properties"]["sources"].get("description")
    schema["properties"]["sources"] = {"type": "array", "items": {"oneOf": variants},
                                       "description": sources_doc}
    return schema


__all__ = ["Config", "ConfigError", "Loaded", "load", "resolve_path", "summary", "json_schema",
           "Duration", "Literal"]


# -- help for editors and `reverie sources TYPE` ------------------------------------------
# Descriptions of the fields whose models live elsewhere (and share fields across source
# types), kept in one place so the schema describes every key; a field's own
# Field(description=...) wins. tests/test_config.py fails when a new field has none.

_DOCS: dict[str, str] = {
    "Config.home": "the agent's home folder (relative paths are relative to this file)",
    "Config.defaults": "a YAML file of shared defaults, merged under this file's keys "
                       "(maps key by key, sources by name)",
    "Config.name": "the agent's name in notifications, metrics and the default state "
                   "directory (default: the home folder's name)",
    "Config.state_dir": "where reverie keeps its own files (the record, lock, control socket, "
                        "session logs), outside the home; default $STATE_DIRECTORY under "
                        "systemd, else ${XDG_STATE_HOME:-~/.local/state}/reverie/<name>",
    "Config.timezone": "IANA zone for crons and human files (default: the system's zone)",
    "Config.sources": "what the agent perceives: one entry per source (see `reverie sources`)",
    "Config.perception": "how perception/state.md is rendered and how long readings are kept",
    "Config.dream": "the nightly dream: when, which backend, the model's settings",
    "Config.sessions": "the agent's wake/sleep sessions",
    "Config.memory": "what happens to the home after consolidation",
    "PerceptionOptions.template": "a Jinja2 file replacing state.md's layout (relative to the home)",
    "PerceptionOptions.retention": "how long raw observations are kept, applied nightly",
    "PerceptionOptions.render_every": "at most one state.md rendering per this interval",
    "Config.metrics": "the daemon's own /metrics and /healthz listener (off until `listen`)",
    "MetricsOptions.listen": "host:port the daemon serves /metrics and /healthz on, e.g. "
                             "127.0.0.1:9464 (loopback unless allow_remote)",
    "MetricsOptions.allow_remote": "true: let `listen` be an address other machines can reach",
    "MetricsOptions.signals": "false: leave out reverie_signal (the latest numeric reading "
                              "of each signal, up to 500 series)",
    "MemoryOptions.git": "commit the home to git after each consolidation",
    "MemoryOptions.distill": "offline (or true) or openai: distil each day's diary into "
                             "memory/, every line citing its diary lines",
    "MemoryOptions.patterns_days": "memory/patterns.md: what recurs over this many days",
    "MemoryOptions.working_max": "working.md is read up to this size (e.g. 16MiB); a larger "
                                 "one is kept whole, unread, in diary/",
    "DreamOptions.at": "when the night's dream is written (cron, in `timezone`)",
    "DreamOptions.backend": "offline (embedded, no network) or openai (any OpenAI-compatible server)",
    "DreamOptions.model": "the model name for the openai backend",
    "DreamOptions.base_url": "the OpenAI-compatible endpoint (default: OpenAI's)",
    "DreamOptions.api_key": "the endpoint's key; use ${VAR}, never the key itself",
    "DreamOptions.temperature": "sampling temperature for the model (0-2)",
    "DreamOptions.max_tokens": "the most tokens one dream may use",
    "DreamOptions.timeout": "how long a model request may take before the offline dream is written",
    "DreamOptions.max_tokens_per_day": "model budget per UTC day; past it the offline backend dreams",
    "DreamOptions.catch_up": "how late a missed dream is still written at start",
    "DreamOptions.persona": "the persona file the dream speaks from (relative to the home)",
    "DreamOptions.prompt_template": "a Jinja2 file replacing the model's prompt (relative to the home)",
    "DreamOptions.notable": "what makes a night's event worth a dream (and a wake)",
    "DreamOptions.dryness_nights": "how many past nights' phrases the offline dream avoids",
    "NotableRules.change_pct": "a change of at least this percent is notable",
    "NotableRules.signals": "per-signal thresholds ('<source>.<field>': percent; 0: any change)",
    "NotableRules.high_low_days": "a new high or low over this many days is notable",
    "NotableRules.items_cap": "at most this many new items per night in the digest",
    "NotableRules.usual_days": "days of history that set a signal's usual daily movement",
    "NotableRules.score": "a change this many times the usual daily movement is notable",
    "SessionsOptions.command": "the agent's command line: an argv list, never a shell string",
    "SessionsOptions.cwd": "the agent's working folder (default: the home)",
    "SessionsOptions.env": "the agent's environment beyond PATH, HOME, LANG, TZ (a ${VAR} another part of the config uses is refused)",
    "SessionsOptions.wake": "when the agent is woken (crons, in `timezone`)",
    "SessionsOptions.sleep": "when the agent is put to sleep (crons, in `timezone`)",
    "SessionsOptions.max_duration": "a session is ended after this long",
    "SessionsOptions.stop_timeout": "grace between SIGTERM and SIGKILL when a session ends",
    "SessionsOptions.active_hours": "e.g. '07:00-23:00': scheduled wakes outside it are skipped",
    "SessionsOptions.webhook": "POST to a URL instead of running `command`",
    "SessionsOptions.skip_if_quiet": "skip a scheduled wake when nothing notable changed since the last one",
    "SessionsOptions.wake_on": "conditions that wake the agent between scheduled times, "
                               "e.g. 'moltbook.unread > 0'",
    "SessionsOptions.wake_on_min_interval": "at most one `wake_on` wake per this interval",
    "SessionsOptions.missed_grace": "how late a missed wake still runs at start",
    "SessionsOptions.log_max_bytes": "the session log keeps at most this many bytes of the agent's output",
    "WebhookOptions.url": "the http(s) URL a wake POSTs to",
    "WebhookOptions.headers": "request headers (use ${VAR} for tokens)",
    "WebhookOptions.timeout": "how long the POST may take",
    "WebhookOptions.retries": "how often a failed POST is retried",
    "FieldSpec.path": "JMESPath into the JSON document",
    "FieldSpec.scale": "multiply the value by this (0.01: cents to euros)",
    "FieldSpec.unit": "the unit shown after the value",
    # every source entry
    "source.name": "the source's name: lowercase letters, digits, '_' and '-'; signals are <name>.<field>",
    "source.type": "the source type (`reverie sources` lists them)",
    "source.every": "how often it runs (default 1h unless `cron` is given)",
    "source.cron": "run at these times instead of `every` (cron, in `timezone`)",
    "source.jitter": "random delay added to each run (default: 10% of `every`, at most 5m)",
    "source.timeout": "the whole run's time bound",
    "source.enabled": "false: configured but never polled",
    "source.kind": "what its signals mean to the agent (money, reputation, work, items, "
                   "weather, health, host, other): one kind, or {field: kind}",
    "source.label": "how a person names its signals (default from source and field): "
                    "one label, or {field: label}",
    "source.options": "the type's own options",
    # options several types share
    "source.url": "the URL to fetch",
    "source.headers": "request headers (use ${VAR} for tokens; never sent to another host)",
    "source.max_bytes": "cap on the (decompressed) body",
    "source.fields": "signals to read: {signal: JMESPath} or {signal: {path, scale, unit}}",
    "source.unit": "the unit shown after the value",
    "source.path": "a file or folder inside the home",
    "command.command": "the program and its arguments, run without a shell",
    "command.field": "the signal's name for a plain number on stdout",
    "command.cwd": "the folder inside the home it runs in",
    "command.max_bytes": "cap on stdout",
    "feed.url": "the feed's URL (or give `path`)",
    "feed.path": "a feed file inside the home (or give `url`)",
    "feed.max_items": "at most this many entries are read per run",
    "files.glob": "which files count (a glob pattern)",
    "files.recursive": "count in subfolders too",
    "files.words": "also count the words in the files",
    "files.max_bytes": "words are counted in the first this many bytes of a file (default 4 MiB)",
    "http_json.method": "GET or POST (default: POST when `body` is given)",
    "http_json.body": "a JSON body to POST",
    "moltbook.url": "the Moltbook API endpoint",
    "moltbook.api_key": "your Moltbook API key; use ${VAR}",
    "system.path": "the folder whose disk is measured",
    "wallet.chain": "ethereum, solana or bitcoin",
    "wallet.address": "the address whose balance is read",
    "wallet.url": "the chain's JSON-RPC endpoint (required for ethereum; use ${VAR} for keyed URLs)",
    "wallet.symbol": "the unit shown (default: the chain's coin)",
    "weather.url": "the Open-Meteo-compatible endpoint",
    "weather.latitude": "where: latitude in degrees (-90 to 90)",
    "weather.longitude": "where: longitude in degrees (-180 to 180)",
    "weather.units": "metric or imperial",
}


def _doc(owner: str, key: str, field_schema: dict) -> str | None:
    """A field's description: the table's (type-specific before shared), else its own
    (which for a duration or cron is the generic text of its type)."""
    if owner.startswith("source: "):
        t = owner[len("source: "):]
        return (_DOCS.get(f"{t}.{key}") or _DOCS.get(f"source.{key}")
                or field_schema.get("description"))
    return _DOCS.get(f"{owner}.{key}") or field_schema.get("description")


_ISO = re.compile(r"^-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


def _describe(owner: str, schema: dict) -> None:
    for key, prop in schema.get("properties", {}).items():
        doc = _doc(owner, key, prop)
        if doc:
            prop["description"] = doc
        # a timedelta default comes out as ISO 8601 ('PT10S'), which the loader refuses
        default = prop.get("default")
        if isinstance(default, str) and len(default) > 1 and _ISO.match(default):
            from pydantic import TypeAdapter

            from reverie.perception.types import format_duration

            prop["default"] = format_duration(TypeAdapter(timedelta).validate_python(default))


def _source_schema(name: str, cls: type[source_types.Source]) -> tuple[dict, dict]:
    """A source type's entry (common keys plus its options) and the $defs it needs."""
    opts = cls.Options.model_json_schema()
    props = {k: v for k, v in SourceSpec.model_json_schema().get("properties", {}).items()
             if k != "options"}
    props.update(opts.get("properties", {}))
    props["type"] = {"const": name}
    title = f"source: {name}"
    entry = {"type": "object", "title": title, "properties": props,
             "required": ["name", "type", *opts.get("required", [])],
             "additionalProperties": False}
    _describe(title, entry)
    doc = (cls.__doc__ or "").strip()
    if doc:
        entry["description"] = doc.splitlines()[0]
    return entry, opts.get("$defs", {})


def describe_source_type(name: str) -> str:
    """`reverie sources TYPE`: the type's options (name, type, default, description) and
    the example from its docstring. KeyError when there is no such type."""
    import textwrap

    cls = source_types.get(name)
    entry, _defs = _source_schema(name, cls)
    required = set(entry["required"])
    rows = []
    for key, prop in entry["properties"].items():
        if key == "type":
            continue
        kind = _type_name(prop)
        if key in required:
            default = "required"
        elif "default" in prop:
            default = json.dumps(prop["default"]) if prop["default"] is not None else "none"
        else:
            default = "none"
        rows.append((key, kind, default, prop.get("description", "")))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    doc = textwrap.dedent((cls.__doc__ or "").strip("\n"))
    first, _, rest = doc.partition("\n")
    out = [f"{name}: {first.strip()}", "", "options:"]
    out += [f"  {k:{w[0]}}  {t:{w[1]}}  {d:{w[2]}}  {desc}".rstrip() for k, t, d, desc in rows]
    example = re.search(r"```yaml\n(.*?)```", textwrap.dedent(rest), re.S)
    if example:
        out += ["", "example:", textwrap.indent(example.group(1).rstrip(), "  ")]
    return "\n".join(out) + "\n"


def _type_name(prop: dict) -> str:
    if prop.get("examples") and "30s" in prop["examples"]:
        return "duration"
    if "pattern" in prop and "crontab" in prop.get("description", ""):
        return "cron"
    if "anyOf" in prop:
        kinds = [_type_name(p) for p in prop["anyOf"] if p.get("type") != "null"]
        return " | ".join(dict.fromkeys(kinds)) or "any"
    if "enum" in prop:
        return " | ".join(map(str, prop["enum"]))
    if "const" in prop:
        return json.dumps(prop["const"])
    if prop.get("type") == "array":
        return f"list of {_type_name(prop.get('items', {}))}"
    if prop.get("type") == "object":
        return "mapping"
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    return str(prop.get("type", "any"))


# -- defaults: PATH ---------------------------------------------------------------------------


def with_defaults(path: Path, root: yaml.MappingNode, data: dict
                  ) -> tuple[yaml.Node, dict, Path]:
    """The config ``data`` (parsed from ``path``, nodes ``root``) with its ``defaults:`` file
    merged under it: the file's own keys win, mappings merge key by key, recursively, and
    ``sources`` merge by name (a source named in both is the defaults' entry with the
    file's keys over it). The nodes are merged the same way and keep their marks, so a
    problem's line is where its key was written; the defaults file's nodes carry its name
    (see _defaults_origin). Problems with the defaults file itself raise ConfigError."""
    shown = str(path)
    where = f"{shown}:{_key_line(root, ('defaults',))}: defaults"
    raw = data.pop("defaults")
    root = _without_key(root, "defaults")
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError([f"{where}: expected the path of a YAML file of defaults"])
    if _VAR.search(raw):
        raise ConfigError([f"{where}: a ${{VAR}} is not read here; write the path itself"])
    dpath = Path(raw).expanduser()
    if not dpath.is_absolute():
        dpath = path.parent / dpath
    dshown = str(dpath)
    try:
        dtext = dpath.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{where}: no such file {dshown}"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{where}: cannot read {dshown}: {e.__class__.__name__}: {e}"]) from None
    try:
        droot, ddata = _parse(dtext)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError([f"{dshown}:{mark.line + 1 if mark else 1}: invalid YAML: "
                           f"{' '.join(str(problem).split())}"]) from None
    except RecursionError:
        raise ConfigError([f"{dshown}:1: invalid YAML: nested too deeply"]) from None
    shape = _shape_problem(droot) or _duplicate_key(droot)
    if shape:
        raise ConfigError([f"{dshown}:{shape}"])
    if ddata is None:
        return root, data, dpath
    if not isinstance(ddata, dict) or not isinstance(droot, yaml.MappingNode):
        raise ConfigError([f"{dshown}:1: a defaults file must be a mapping of keys, like a config"])
    if "defaults" in ddata:
        raise ConfigError([f"{dshown}:{_key_line(droot, ('defaults',))}: defaults: a defaults "
                           "file cannot name another (one level only)"])
    _name_marks(droot, dshown)
    node, merged = _merge(droot, ddata, root, data)
    return node, merged, dpath


def _without_key(root: yaml.MappingNode, key: str) -> yaml.MappingNode:
    return yaml.MappingNode(root.tag, [(k, v) for k, v in root.value if k.value != key],
                            root.start_mark, root.end_mark, root.flow_style)


def _name_marks(root: yaml.Node, name: str) -> None:
    """Mark every node of a defaults file as written there."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for mark in (node.start_mark, node.end_mark):
            if mark is not None:
                mark.name = name
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack += (k, v)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


def _merge(dnode: yaml.Node, dval: Any, fnode: yaml.Node, fval: Any,
           loc: tuple = ()) -> tuple[yaml.Node, Any]:
    """``fval`` over ``dval`` (and their nodes alike): see with_defaults."""
    if isinstance(dval, dict) and isinstance(fval, dict) and \
            isinstance(dnode, yaml.MappingNode) and isinstance(fnode, yaml.MappingNode):
        out = dict(dval)
        pairs = list(dnode.value)
        index = {str(k.value): i for i, (k, _) in enumerate(pairs)}
        fpairs = {str(k.value): (k, v) for k, v in fnode.value}
        for key, value in fval.items():
            k_node, v_node = fpairs.get(str(key), (None, None))
            if key in out and str(key) in index and v_node is not None:
                i = index[str(key)]
                merged_node, out[key] = _merge(pairs[i][1], out[key], v_node, value,
                                               (*loc, key))
                pairs[i] = (k_node, merged_node)
            else:
                out[key] = value
                if k_node is not None:
                    index[str(key)] = len(pairs)
                    pairs.append((k_node, v_node))
        return yaml.MappingNode(fnode.tag, pairs, fnode.start_mark, fnode.end_mark,
                                fnode.flow_style), out
    if loc == ("sources",) and isinstance(dval, list) and isinstance(fval, list) and \
            isinstance(dnode, yaml.SequenceNode) and isinstance(fnode, yaml.SequenceNode):
        return _merge_sources(dnode, dval, fnode, fval)
    return fnode, fval


def _merge_sources(dnode: yaml.SequenceNode, dval: list, fnode: yaml.SequenceNode,
                   fval: list) -> tuple[yaml.Node, list]:
    """Sources by name: the defaults' in their order (each with the file's entry of the same
    name over it), then the file's others in theirs."""
    def name(v: Any) -> Any:
        return v.get("name") if isinstance(v, dict) else None

    mine = {name(v): i for i, v in enumerate(fval) if name(v) is not None}
    out, nodes, used = [], [], set()
    for dn, dv in zip(dnode.value, dval):
        i = mine.get(name(dv))
        if i is not None and name(dv) is not None:
            n, v = _merge(dn, dv, fnode.value[i], fval[i], ("sources", "*"))
            used.add(i)
        else:
            n, v = dn, dv
        nodes.append(n)
        out.append(v)
    for i, (fn, fv) in enumerate(zip(fnode.value, fval)):
        if i not in used:
            nodes.append(fn)
            out.append(fv)
    return yaml.SequenceNode(fnode.tag, nodes, fnode.start_mark, fnode.end_mark,
                             fnode.flow_style), out


_PROBLEM = re.compile(r"^(?P<file>.*?):(?P<line>\d+): (?P<loc>[^:\s]+|\(top level\)): ")
_LOC_PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _defaults_origin(line: str, shown: str, root: yaml.Node) -> str:
    """``line`` (``FILE:N: loc: ...``) naming the defaults file instead of ``shown`` when the
    key at ``loc`` was written there (its node carries that file's name)."""
    m = _PROBLEM.match(line)
    if not m or m.group("file") != shown or m.group("loc") == "(top level)":
        return line
    loc = tuple(int(a) if a else b for a, b in _LOC_PART.findall(m.group("loc")))
    node = _written_at(root, loc)
    name = getattr(getattr(node, "start_mark", None), "name", None)
    if not name or name == shown or name.startswith("<"):
        return line
    return f"{name}:{m.group('line')}: {line[m.end('line') + 2:]}"


def _written_at(root: yaml.Node, loc: tuple) -> yaml.Node | None:
    """The key node of ``loc`` (or of its deepest existing parent): where it was written."""
    node, written = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    node, written = v, k
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and 0 <= part < len(node.value):
            node = written = node.value[part]
        else:
            break
    return written
