"""reverie.yaml: loading, validation, one-line errors with lines.

Every problem becomes one line ``reverie.yaml:14: sources[2].every: invalid duration
'5 minutes'``: pydantic's error path is mapped back to the YAML node it came from
through the marks of ``yaml.compose`` (nodes.py).
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from reverie.daemon import _toplevel, _yaml, snapshot
from reverie.daemon.notify_options import url_secrets
from reverie.daemon.config.defaults import _defaults_origin, with_defaults
from reverie.daemon.config.errors import ConfigError
from reverie.daemon.config.interpolation import (
    _UNSET, _VAR, _MissingVar, _WithCredentials, _env_secret_problems, _interpolate,
    _secret_forms)
from reverie.daemon.config.models import Config, Loaded
from reverie.daemon.config.nodes import (
    _duplicate_key, _fmt_loc, _key_line, _parse, _shape_problem)
from reverie.perception import sources as source_types
from reverie.perception.sources import COMMON_KEYS, SourceSpec
from reverie.memory.errors import described


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
        raise ConfigError([f"{shown}: cannot read: {described(e)}"])
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
            data["home"] = _toplevel.folder(path, data["home"])
        except RuntimeError:  # "~nosuchuser/x": no such user to expand
            problems.append(f"{shown}:{_key_line(root, ('home',))}: home: "
                            f"{_tilde_user(data['home'])}")
            data["home"] = Path("/")  # a stand-in: the config is refused with the line above
    if isinstance(data.get("state_dir"), str) and data["state_dir"]:
        try:
            data["state_dir"] = _toplevel.folder(path, data["state_dir"])
        except RuntimeError:  # as for home:
            problems.append(f"{shown}:{_key_line(root, ('state_dir',))}: state_dir: "
                            f"{_tilde_user(data['state_dir'])}")
            data["state_dir"] = Path("/")

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
        m = _toplevel.HOME.search(text)
        home = m.group(2) if m else None
    if not isinstance(home, str) or not home or _VAR.search(home):
        return None
    try:
        return _toplevel.folder(path, home)
    except RuntimeError:  # ~nosuchuser: load() says so in one line
        return None


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
