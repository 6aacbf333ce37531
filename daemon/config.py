"""reverie.yaml: loading, ${VAR} interpolation, validation, one-line errors with lines.

Every problem becomes one line ``reverie.yaml:14: sources[2].every: invalid duration
'5 minutes'``: pydantic's error path is mapped back to the YAML node it came from
through the marks of ``yaml.compose``.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reverie.daemon.sessions import SessionsOptions
from reverie.memory import clock
from reverie.memory.home import Home
from reverie.perception import sources as source_types
from reverie.perception.dreams import DreamOptions
from reverie.perception.sources import COMMON_KEYS, SourceSpec
from reverie.perception.types import Duration, PositiveDuration

CONFIG_NAME = "reverie.yaml"


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
    # openai: after consolidation, propose a summary of the day's diary into memory/
    # (uses the `dream:` model settings; see perception/distill.py)
    distill: Literal["openai"] | None = None


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    home: Path
    timezone: str = Field(default_factory=clock.system_zone_name)
    sources: list[SourceSpec] = []
    perception: PerceptionOptions = PerceptionOptions()
    dream: DreamOptions = DreamOptions()
    sessions: SessionsOptions = SessionsOptions()
    memory: MemoryOptions = MemoryOptions()

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

    @property
    def home(self) -> Home:
        return Home.at(self.config.home)

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


# -- locating the file --------------------------------------------------------------

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
        raise ConfigError([f"{shown}: cannot read the environment file: {e.__class__.__name__}"
                           f"{': ' + e.strerror if getattr(e, 'strerror', None) else ''}"])
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


def _fmt_msg(err: dict) -> str:
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

def load(path: str | os.PathLike, env: dict[str, str] | None = None, *,
         need_secrets: bool = True) -> Loaded:
    """Load and validate; raise ConfigError with one line per problem.

    ``need_secrets=False`` is for commands that only read the home (status, state, page,
    audit, serve): a value whose ${VAR} is unset is left out, as if never written, and a
    source whose options then fail is kept by name without valid options (nothing polls it
    there). ``home`` and the other keys reading needs still report an unset variable."""
    path = Path(path)
    shown = str(path)
    env = dict(os.environ) if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{shown}: no such config file (create one with `reverie init`)"])
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{shown}: cannot read: {e.__class__.__name__}: {e}"])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError([f"{shown}:{line}: invalid YAML: {' '.join(str(problem).split())}"])
    except RecursionError:
        raise ConfigError([f"{shown}:1: invalid YAML: nested too deeply"]) from None
    shape = _shape_problem(root)
    if shape:
        raise ConfigError([f"{shown}:{shape}"])
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{shown}:1: the config must be a mapping of keys (home:, sources:, ...)"])

    problems: list[str] = []
    warnings: list[str] = []
    used: dict[str, str] = {}
    unset: dict[tuple, str] = {}  # where a ${VAR} was left unset (need_secrets=False) -> VAR
    interpolated: list[tuple[str, str]] = []  # (as written, as interpolated)

    def walk(value: Any, loc: tuple) -> Any:
        if isinstance(value, str):
            try:
                out = _interpolate(value, env, used)
            except _MissingVar as m:
                if not need_secrets:
                    unset[loc] = m.args[0]
                    return _UNSET
                problems.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: "
                                f"environment variable {m.args[0]} is not set")
                return value
            if out != value:
                interpolated.append((value, out))
            return out
        if isinstance(value, dict):
            items = ((k, walk(v, (*loc, k))) for k, v in value.items())
            return {k: v for k, v in items if v is not _UNSET}
        if isinstance(value, list):
            return [v for v in (walk(v, (*loc, i)) for i, v in enumerate(value)) if v is not _UNSET]
        return value

    data = walk(data, ())

    def scrub(msg: str) -> str:
        # An error may quote a value that came from ${VAR}: show it as written instead
        # (the placeholder), then take out any value still left, in its quoted forms too.
        for raw, out in interpolated:
            msg = msg.replace(repr(out), repr(raw))
        for value in sorted(used.values(), key=len, reverse=True):
            if len(value) >= 4:
                for form in {value, repr(value)[1:-1], value.encode("unicode_escape").decode()}:
                    msg = msg.replace(form, "***")
        return msg

    def unset_var(loc: tuple) -> str | None:
        for where, var in unset.items():
            if loc[:len(where)] == where or where[:len(loc)] == loc and len(loc) >= 2:
                return var
        return None

    def report(err: dict, prefix: tuple = (), allowed: Any = None) -> None:
        loc = (*prefix, *err["loc"])
        var = unset_var(loc)
        if var is not None:
            msg = f"environment variable {var} is not set"
        else:
            msg = _fmt_msg(err)
            if err.get("type") == "extra_forbidden":
                msg += _did_you_mean(str(loc[-1]), allowed if allowed is not None
                                     else _keys_at(Config, loc[:-1]))
        problems.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: {scrub(msg)}")

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
                            lenient=lambda loc: unset_var(loc) is not None)
        if spec is not None:
            specs.append(spec)
    data = {**data, "sources": []}

    if "home" in data and isinstance(data["home"], str):
        home = Path(data["home"]).expanduser()
        if not home.is_absolute():
            home = (path.parent / home).resolve()
        data["home"] = home

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
            problems.append(f"{shown}:{_key_line(root, ('sources',))}: sources: {scrub(str(e))}")
    if problems:
        raise ConfigError(problems)
    assert cfg is not None
    return Loaded(cfg, path, _secret_forms(used.values()), sorted(used), warnings,
                  sorted(set(unset.values())))


def _close(key: str, allowed: Any) -> str:
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
                 root: yaml.Node | None, lenient=lambda loc: False) -> SourceSpec | None:
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
            errors = [err for err in e.errors() if not lenient((*loc, *err["loc"]))]
            if errors:
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
    """The JSON Schema of reverie.yaml (sources as their common keys plus any options)."""
    schema = Config.model_json_schema(mode="validation")
    schema["title"] = "reverie.yaml"
    schema.setdefault("$defs", {})
    variants = []
    for name in sorted(source_types.available()):
        try:
            cls = source_types.get(name)
        except Exception:
            continue
        opts = cls.Options.model_json_schema()
        props = {k: v for k, v in SourceSpec.model_json_schema().get("properties", {}).items()
                 if k != "options"}
        props.update(opts.get("properties", {}))
        props["type"] = {"const": name}
        for d, v in opts.get("$defs", {}).items():
            schema["$defs"].setdefault(d, v)
        variants.append({"type": "object", "title": f"source: {name}",
                         "properties": props,
                         "required": ["name", "type", *opts.get("required", [])],
                         "additionalProperties": False})
    schema["properties"]["sources"] = {"type": "array", "items": {"oneOf": variants}}
    return schema


__all__ = ["Config", "ConfigError", "Loaded", "load", "resolve_path", "summary", "json_schema",
           "Duration", "Literal"]
