"""Source types: the contract every source follows, and the registry.

A source type is a class with a pydantic ``Options`` model (its own config keys, extra
keys forbidden) and one method, ``fetch(ctx)``, that returns a :class:`Result` or raises
:class:`SourceError` with a one-line message. Scheduling, retries, backoff, storage and
rendering are not a source's business (see ``reverie.perception.poll``).

Third-party types register under the entry-point group ``reverie.sources``::

    [project.entry-points."reverie.sources"]
    mytype = "mypkg.mysource:MySource"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from reverie.perception.errors import SourceError  # noqa: F401 - the plugin API's name for it
from reverie.perception.health import nominal_interval


@dataclass(frozen=True)
class Reading:
    field: str  # without the source prefix: 'karma' becomes signal '<source>.karma'
    value: float | None = None
    text: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Item:
    uid: str
    title: str
    link: str | None = None
    published: datetime | None = None
    summary: str = ""


@dataclass
class Result:
    readings: list[Reading] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the run succeeded, with caveats
    field_errors: dict[str, str] = field(default_factory=dict)  # one field failed, not the run
    not_modified: bool = False  # a conditional GET answered 304: nothing was parsed


@dataclass
class Context:
    """What a source gets for one run."""

    home: Path
    timeout: float  # seconds, the source's whole budget
    now: datetime  # aware UTC
    state: dict[str, Any]  # persisted across runs (etag, last_modified, seen ids); mutate in place
    secrets: tuple[str, ...] = ()  # values to keep out of error messages


class Source(Protocol):
    type_name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]

    def __init__(self, name: str, options: BaseModel) -> None: ...

    def fetch(self, ctx: Context) -> Result: ...


class BaseSource:
    """What every built-in type shares: its name and its validated options. Third-party
    types may inherit it too; only the Source protocol above is required."""

    def __init__(self, name: str, options: BaseModel) -> None:
        self.name = name
        self.options = options


BUILTINS = {
    "weather": "reverie.perception.sources.weather:Weather",
    "http_json": "reverie.perception.sources.http_json:HttpJson",
    "wallet": "reverie.perception.sources.wallet:Wallet",
    "moltbook": "reverie.perception.sources.moltbook:Moltbook",
    "feed": "reverie.perception.sources.feed:Feed",
    "files": "reverie.perception.sources.files:Files",
    "command": "reverie.perception.sources.command:Command",
    "system": "reverie.perception.sources.system:System",
}


def _load(ref: str) -> type[Source]:
    module, _, attr = ref.partition(":")
    return getattr(import_module(module), attr)


def available() -> dict[str, str]:
    """Every type name with where it comes from ('built-in' or the entry point's value)."""
    out = {name: "built-in" for name in BUILTINS}
    for ep in entry_points(group="reverie.sources"):
        out.setdefault(ep.name, ep.value)
    return out


def get(type_name: str) -> type[Source]:
    """The class of a source type; KeyError when there is none by that name."""
    if type_name in BUILTINS:
        return _load(BUILTINS[type_name])
    for ep in entry_points(group="reverie.sources"):
        if ep.name == type_name:
            return ep.load()
    raise KeyError(type_name)


def summary(cls: type) -> str:
    """The first line of a type's docstring, for ``reverie sources``."""
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


# -- the common part of every `sources:` entry ------------------------------------

from datetime import timedelta  # noqa: E402

from pydantic import ConfigDict, Field, model_validator  # noqa: E402

from pydantic import field_validator  # noqa: E402

from reverie.perception.types import Cron, Name, PositiveDuration  # noqa: E402

# what a signal means to the agent (see perception/digest.py)
KINDS = ("money", "reputation", "work", "items", "weather", "health", "host", "other")


class SourceSpec(BaseModel):
    """One entry of `sources:`: the keys every type shares, and the type's own options."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: Name = Field(description="the source's name: lowercase letters, digits, '_' and '-'; "
                                   "signals are <name>.<field>")
    type: str = Field(description="the source type (`reverie sources` lists them)")
    every: PositiveDuration | None = Field(default=None,
                                           description="how often it runs (default 1h unless "
                                                       "`cron` is given)")
    cron: Cron | None = Field(default=None,
                              description="run at these times instead of `every` (cron, in "
                                          "`timezone`)")
    jitter: PositiveDuration | None = Field(default=None,
                                            description="random delay added to each run "
                                                        "(default: 10% of `every`, at most 5m)")
    timeout: PositiveDuration = Field(default=timedelta(seconds=10),
                                      description="the whole run's time bound")
    enabled: bool = Field(default=True, description="false: configured but never polled")
    # what the signals mean to the agent (the dream's subjects and imagery): one kind or
    # label for the whole source, or one per field ({karma: reputation})
    kind: Any = Field(default=None,
                      description="what its signals mean to the agent (money, reputation, "
                                  "work, items, weather, health, host, other): one kind, or "
                                  "{field: kind}")
    label: Any = Field(default=None,
                       description="how a person names its signals (default from source and "
                                   "field): one label, or {field: label}")
    # an instance of the type's Options model
    options: Any = Field(default=None, description="the type's own options")

    @field_validator("kind", "label")
    @classmethod
    def _meaning(cls, v: Any, info: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, dict):
            bad = [k for k, x in v.items() if not isinstance(k, str) or not isinstance(x, str)]
            if bad:
                raise ValueError(f"{bad[0]!r}: expected text")
            values = list(v.values())
        elif isinstance(v, str):
            values = [v]
        else:
            raise ValueError(f"expected one {info.field_name} or a mapping field: {info.field_name}")
        if info.field_name == "kind":
            for x in values:
                if x not in KINDS:
                    raise ValueError(f"unknown kind {x!r} (use one of: {', '.join(KINDS)})")
        return v

    @model_validator(mode="after")
    def _schedule(self) -> "SourceSpec":
        if self.every and self.cron:
            raise ValueError("give `every` or `cron`, not both")
        if not self.every and not self.cron:
            self.every = timedelta(hours=1)
        return self

    @property
    def effective_jitter(self) -> float:
        """Seconds of random delay added to each run."""
        if self.jitter is not None:
            return self.jitter.total_seconds()
        if self.every is None:
            return 0.0
        return min(self.every.total_seconds() * 0.1, 300.0)

    @property
    def interval(self) -> float:
        """Nominal seconds between runs (for cron sources, a day): the health rule's
        interval, in seconds for the scheduler."""
        return nominal_interval(self.every).total_seconds()


COMMON_KEYS = frozenset(SourceSpec.model_fields) - {"options"}
