"""reverie.yaml: loading, ${VAR} interpolation, validation, one-line errors with lines.

Every problem becomes one line ``reverie.yaml:14: sources[2].every: invalid duration
'5 minutes'``: pydantic's error path is mapped back to the YAML node it came from
through the marks of ``yaml.compose``.
"""

from __future__ import annotations

import os
import re
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

def load(path: str | os.PathLike, env: dict[str, str] | None = None) -> Loaded:
    """Load and validate; raise ConfigError with one line per problem."""
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
    used: dict[str, str] = {}

    def walk(value: Any, loc: tuple) -> Any:
        if isinstance(value, str):
            try:
                return _interpolate(value, env, used)
            except _MissingVar as m:
                problems.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: "
                                f"environment variable {m.args[0]} is not set")
                return value
        if isinstance(value, dict):
            return {k: walk(v, (*loc, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*loc, i)) for i, v in enumerate(value)]
        return value

    data = walk(data, ())

    def report(err: dict, prefix: tuple = ()) -> None:
        loc = (*prefix, *err["loc"])
        problems.append(f"{shown}:{_key_line(root, loc)}: {_fmt_loc(loc)}: {_fmt_msg(err)}")

    # Each source's own keys are validated by its type's options model.
    raw_sources = data.get("sources")
    specs: list[SourceSpec] = []
    if raw_sources is not None and not isinstance(raw_sources, list):
        problems.append(f"{shown}:{_key_line(root, ('sources',))}: sources: expected a list")
        raw_sources = []
    for i, entry in enumerate(raw_sources or []):
        spec = _load_source(entry, (("sources", i)), report, problems, shown, root)
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
            problems.append(f"{shown}:{_key_line(root, ('sources',))}: sources: {e}")
    if problems:
        raise ConfigError(problems)
    assert cfg is not None
    return Loaded(cfg, path, _secret_forms(used.values()), sorted(used))


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


def _load_source(entry: Any, loc: tuple, report, problems: list[str], shown: str,
                 root: yaml.Node | None) -> SourceSpec | None:
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
                        f"unknown source type {type_name!r} (available: {names})")
        return None
    except Exception as e:  # a broken third-party plugin must not take the config down
        problems.append(f"{shown}:{_key_line(root, (*loc, 'type'))}: {_fmt_loc((*loc, 'type'))}: "
                        f"source type {type_name!r} failed to load: {e}")
        return None
    common = {k: v for k, v in entry.items() if k in COMMON_KEYS}
    own = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    ok = True
    options = None
    if cls is not None:
        try:
            options = cls.Options.model_validate(own)
        except ValidationError as e:
            ok = False
            for err in e.errors():
                report(err, loc)
    try:
        spec = SourceSpec.model_validate({**common, "options": options})
    except ValidationError as e:
        for err in e.errors():
            report(err, loc)
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
