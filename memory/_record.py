"""``record``: what ``@dataclass(frozen=True)`` gives the store's records (an __init__ with
the same parameters and defaults, a fresh ``field(default_factory=...)`` value per
instance, value equality, a hash of the fields, the same repr, FrozenInstanceError on
assignment, ``__post_init__``), made with one generated function per class.
dataclasses generates six per frozen class (each compiled from source), which cost every
`reverie status` about 8 ms for the store's records alone (bench P6); the status
snapshot's sources, health's records and memory/home.py's Home are made so too. Type
checkers see ``dataclass(frozen=True)`` and ``dataclasses.field`` themselves;
``dataclasses.fields`` and friends are not supported (nothing calls them on a record)."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")

_MISSING = object()


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Any):
        self.default, self.default_factory = default, default_factory


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING) -> Any:
    """``dataclasses.field`` for a record: a default, or a factory called per record.
    (Importing dataclasses imports inspect, a fifth of `reverie status`'s own time.)"""
    return _Field(default, default_factory)


def _frozen(message: str) -> Exception:
    from dataclasses import FrozenInstanceError  # the error a dataclass raises

    return FrozenInstanceError(message)


def record(cls: type[T]) -> type[T]:
    names = list(cls.__dict__.get("__annotations__", {}))
    params, body, env = [], [], {"_set": object.__setattr__, "_MISSING": _MISSING}
    for name in names:
        default = cls.__dict__.get(name, _MISSING)
        if isinstance(default, _Field):
            factory = default.default_factory
            if factory is _MISSING:  # field(default=...) or a bare field()
                default = default.default
                setattr(cls, name, default) if default is not _MISSING else delattr(cls, name)
            else:  # as dataclasses: no class attribute, a new value per instance
                delattr(cls, name)
                env[f"_f_{name}"] = factory
                params.append(f"{name}=_MISSING")
                body.append(f" _set(self, {name!r}, _f_{name}() if {name} is _MISSING "
                            f"else {name})")
                continue
        if default is _MISSING:
            if any("=" in p for p in params):
                raise TypeError(f"non-default argument {name!r} follows default argument")
            params.append(name)
        else:
            env[f"_d_{name}"] = default
            params.append(f"{name}=_d_{name}")
        body.append(f" _set(self, {name!r}, {name})")
    if "__post_init__" in cls.__dict__:  # as dataclasses: called last, with no arguments
        body.append(" self.__post_init__()")
    ns: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or " pass"), env, ns)
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    fields = tuple(names)

    def values(self: Any) -> tuple:
        return tuple(getattr(self, n) for n in fields)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in fields)
        return f"{self.__class__.__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        raise _frozen(f"cannot assign to field {name!r}")

    def __delattr__(self: Any, name: str) -> None:
        raise _frozen(f"cannot delete field {name!r}")

    methods: dict[str, Callable[..., Any]] = {
        "__init__": init, "__repr__": __repr__, "__eq__": __eq__, "__hash__": __hash__,
        "__setattr__": __setattr__, "__delattr__": __delattr__}
    for name, fn in methods.items():
        if name != "__init__":
            fn.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, fn)
    setattr(cls, "__match_args__", fields)
    return cls


def dataclass(*, frozen: bool) -> Callable[[type[T]], type[T]]:
    """``@dataclass(frozen=True)`` as records.py spells it (for type checkers, which see the
    real one), made by ``record``."""
    if not frozen:
        raise TypeError("record makes frozen records only")
    return record
