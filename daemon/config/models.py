"""The config's models: reverie.yaml's top level (Config) and the option blocks that
live with it; Loaded is a validated config with what it was made from."""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from reverie.daemon.notify_options import NotifyOptions
from reverie.daemon.session_options import SessionsOptions
from reverie.memory import clock
from reverie.perception.dreams import DreamOptions
from reverie.perception.sources import SourceSpec
from reverie.perception.types import PositiveDuration

if typing.TYPE_CHECKING:
    from reverie.memory.home import Home


class PerceptionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(default=None,
                                 description="a Jinja2 file replacing state.md's layout "
                                             "(relative to the home)")
    retention: PositiveDuration = Field(default="90d", validate_default=True,
                                        description="how long raw observations are kept, "
                                                    "applied nightly")
    render_every: PositiveDuration = Field(default="5s", validate_default=True,
                                           description="at most one state.md rendering per "
                                                       "this interval")


class MemoryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    git: bool = Field(default=False,
                      description="commit the home to git after each consolidation")
    # after consolidation, distil the day's diary into memory/, every line citing its
    # sources: offline (extractive; `true` means offline) or openai (the `dream:` model
    # settings, checked, offline when it fails); see perception/distill.py
    distill: Literal["offline", "openai"] | None = Field(default=None, description=(
        "offline (or true) or openai: distil each day's diary into memory/, every line "
        "citing its diary lines"))
    patterns_days: int = Field(default=14, ge=2, le=366,
                               description="memory/patterns.md: what recurs over this many "
                                           "days")
    working_max: int = Field(default=16 * 1024 * 1024, ge=64 * 1024, le=1024 ** 3,
                             description="working.md is read up to this size (e.g. 16MiB); a "
                                         "larger one is kept whole, unread, in diary/")

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

    allow_remote: bool = Field(default=False,
                               description="true: let `listen` be an address other machines "
                                           "can reach")  # before listen: its validator reads it
    listen: str | None = Field(default=None,
                               description="host:port the daemon serves /metrics and /healthz "
                                           "on, e.g. 127.0.0.1:9464 (loopback unless "
                                           "allow_remote)")
    signals: bool = Field(default=True,
                          description="false: leave out reverie_signal (the latest numeric "
                                      "reading of each signal, up to 500 series)")

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

    home: Path = Field(description="the agent's home folder (relative paths are relative to "
                                   "this file)")
    # merged under this file's keys at load (with_defaults); always None once loaded
    defaults: str | None = Field(default=None,
                                 description="a YAML file of shared defaults, merged under "
                                             "this file's keys (maps key by key, sources by "
                                             "name)")
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                             description="the agent's name in notifications, metrics and the "
                                         "default state directory (default: the home folder's "
                                         "name)")
    state_dir: Path | None = Field(default=None,
                                   description="where reverie keeps its own files (the record, "
                                               "lock, control socket, session logs), outside "
                                               "the home; default $STATE_DIRECTORY under "
                                               "systemd, else "
                                               "${XDG_STATE_HOME:-~/.local/state}/reverie/<name>")
    timezone: str = Field(default_factory=clock.system_zone_name,
                          description="IANA zone for crons and human files (default: the "
                                      "system's zone)")
    sources: list[SourceSpec] = Field(default=[],
                                      description="what the agent perceives: one entry per "
                                                  "source (see `reverie sources`)")
    perception: PerceptionOptions = Field(default=PerceptionOptions(),
                                          description="how perception/state.md is rendered and "
                                                      "how long readings are kept")
    dream: DreamOptions = Field(default=DreamOptions(),
                                description="the nightly dream: when, which backend, the "
                                            "model's settings")
    sessions: SessionsOptions = Field(default=SessionsOptions(),
                                      description="the agent's wake/sleep sessions")
    memory: MemoryOptions = Field(default=MemoryOptions(),
                                  description="what happens to the home after consolidation")
    metrics: MetricsOptions = Field(default=MetricsOptions(),
                                    description="the daemon's own /metrics and /healthz "
                                                "listener (off until `listen`)")
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
