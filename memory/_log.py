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
