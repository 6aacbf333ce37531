"""``${VAR}`` interpolation and the secrets it reads: the environment, systemd's
credentials directory, environment files; which values are secrets and where a child's
environment may not name one."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from reverie.daemon._vars import NAME, VAR as _VAR
from reverie.daemon.config.errors import ConfigError
from reverie.daemon.config.nodes import _fmt_loc, _key_line


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
        if not eq or not re.fullmatch(NAME, key):
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
        if not self._dir or not re.fullmatch(NAME, name):
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
