"""Loggers that import structlog when they first log.

Importing structlog costs about 40 ms (it brings asyncio), and the commands a person types
(``reverie status``, ``reverie state``) usually log nothing: they should not pay for it.
``reverie.daemon.logs`` leaves its configuration here when structlog is not loaded yet,
and the first logger used applies it before the first line is written.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

_pending: Callable[[], None] | None = None
_lock = threading.Lock()


def defer(apply: Callable[[], None] | None) -> None:
    """Run ``apply`` (structlog's configuration) just before the first line is logged;
    None forgets a deferred one (a configuration applied at once replaces it)."""
    global _pending
    with _lock:
        _pending = apply


def ready() -> None:
    """Apply a deferred configuration now, if there is one."""
    global _pending
    with _lock:
        apply, _pending = _pending, None
    if apply is not None:
        apply()


class LazyLogger:
    """Stands in for ``structlog.get_logger(name)`` until it is first used."""

    __slots__ = ("_name", "_log")

    def __init__(self, name: str):
        self._name = name
        self._log: Any = None

    def __getattr__(self, attr: str) -> Any:
        log = self._log
        if log is None:
            import structlog

            ready()
            log = self._log = structlog.get_logger(self._name)
        return getattr(log, attr)


def get(name: str) -> LazyLogger:
    return LazyLogger(name)


# module -> what to run once it is imported (see after_import)
_after: dict[str, Callable[[], None]] = {}


def after_import(module: str, then: Callable[[], None]) -> None:
    """Run ``then`` as soon as ``module`` is first imported, before whoever imports it
    gets it (a post-import hook; at once if it is imported already): how the stdlib's
    records are caught without importing ``logging`` in a command that never logs.
    A later call for the same module replaces the earlier ``then``."""
    import sys

    if module in sys.modules:
        then()
        return
    if not _after:
        sys.meta_path.insert(0, _AfterImport)
    _after[module] = then


class _AfterImport:
    """First on ``sys.meta_path`` while a hook waits: answers for those modules only,
    once each, with the spec the usual finder gives and its loader's ``exec_module``
    followed by the hook."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        import sys

        then = _after.pop(name, None)
        if then is None:
            return None
        if not _after:
            sys.meta_path.remove(_AfterImport)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        run = spec.loader.exec_module

        def exec_module(mod: Any) -> None:
            run(mod)
            then()

        setattr(spec.loader, "exec_module", exec_module)  # this spec's loader only
        return spec
