"""Logging: structlog configured once, for reverie's own logs and the stdlib's.

JSON lines when stderr is not a terminal (or under journald, where each line is
prefixed with its syslog priority ``<3>`` so ``journalctl -p err`` works), a console
renderer on a terminal. Exceptions are rendered as plain tracebacks without local
variables (locals are where secrets live). Secret-looking keys and the value of every
``${VAR}`` the config used are redacted from every line, by the one redaction model
(reverie.perception.redact).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Iterable

from reverie.memory import _log

if TYPE_CHECKING:
    from reverie.perception.redact import Redactor

_SYSLOG = {"critical": 2, "exception": 3, "error": 3, "warning": 4, "warn": 4, "info": 6,
           "debug": 7, "notset": 7}

# None until secrets are set or a line is logged: `reverie status` (no secrets, no log
# line) never imports the redaction model and what it imports (urllib.parse, json)
_redactor: Redactor | None = None


def _current() -> Redactor:
    global _redactor
    if _redactor is None:
        from reverie.perception.redact import Redactor

        _redactor = Redactor()
    return _redactor


def set_secrets(values: Iterable[str]) -> None:
    """Replace the set of values that must never be printed."""
    global _redactor
    from reverie.perception.redact import Redactor

    _redactor = Redactor(values)


def secret_values() -> tuple[str, ...]:
    """The values ``set_secrets`` was last given (those long enough to redact)."""
    return _current().secrets


def scrub(text: str) -> str:
    """``text`` with every known secret value replaced."""
    return _current().text(text)


def error_text(e: BaseException) -> str:
    """An exception as the one line a log or a message shows, secrets replaced."""
    from reverie.memory.errors import described

    return scrub(described(e))


def redact(_logger: Any, _name: str, event_dict: dict) -> dict:
    from reverie.perception.redact import REDACTED, is_secret_key

    redactor = _current()
    out = {}
    for k, v in event_dict.items():
        if k not in ("event", "level", "timestamp", "logger") and is_secret_key(k) and v:
            out[k] = REDACTED
        else:
            out[k] = redactor.value(v)
    return out


class _PriorityPrefix:
    """journald reads ``<N>`` at the start of a line as the syslog priority."""

    def __init__(self, renderer: Any):
        self._renderer = renderer

    def __call__(self, logger: Any, name: str, event_dict: dict) -> str:
        level = str(event_dict.get("level", "info")).lower()
        return f"<{_SYSLOG.get(level, 6)}>" + self._renderer(logger, name, event_dict)


class _FinalScrub:
    """Belt and braces: scrub the rendered line too (JSON escaping can split a value)."""

    def __init__(self, renderer: Any):
        self._renderer = renderer

    def __call__(self, logger: Any, name: str, event_dict: dict) -> str:
        return scrub(self._renderer(logger, name, event_dict))


def choose_format(fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if os.environ.get("JOURNAL_STREAM"):
        return "journal"
    return "console" if sys.stderr.isatty() else "json"


def configure(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    """Set up structlog and the stdlib root logger; safe to call again (reload, tests).

    While structlog is not imported yet, this waits for the first line logged (see
    reverie.memory._log): a command that logs nothing never imports it."""
    if "structlog" in sys.modules:
        _log.defer(None)
        _configure(level, fmt, stream)
    else:
        _log.defer(lambda: _configure(level, fmt, stream))
        # `logging` is imported by the first library that may log (not by `status`)
        _log.after_import("logging", _catch_first_record)


def _catch_first_record() -> None:
    """A library's record (stdlib logging) may come before reverie's first line: it
    configures structlog, then is passed on to the handler that configured."""
    import logging

    class FirstRecord(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _log.ready()
            for h in logging.getLogger().handlers:
                if h is not self:
                    h.handle(record)

    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(FirstRecord())


def _configure(level: str, fmt: str, stream: Any) -> None:
    import logging

    import structlog

    fmt = choose_format(fmt)
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,  # plain traceback text: no locals
        redact,
    ]
    if fmt == "console":
        renderer: Any = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
        if fmt == "journal":
            renderer = _PriorityPrefix(renderer)
    renderer = _FinalScrub(renderer)

    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Chatty libraries: their routine INFO lines are not the operator's business.
    for noisy in ("apscheduler", "urllib3", "httpx", "httpx2", "openai", "httpcore", "httpcore2"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    logging.getLogger("apscheduler.scheduler").addFilter(_ApschedulerFilter())
    logging.getLogger("apscheduler.executors.default").addFilter(_ApschedulerFilter())

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


class _ApschedulerFilter:
    """We log skipped (max_instances) and missed runs ourselves, once, with context.
    (A logging filter may be any object with this method.)"""

    def filter(self, record: Any) -> bool:
        msg = record.getMessage()
        return not ("maximum number of running instances reached" in msg
                    or "was missed by" in msg)


def get(name: str = "reverie") -> Any:
    return _log.get(name)


def new_job_context(**bindings: Any) -> None:
    """Start a job with a clean context: nothing from the previous job on this thread."""
    import structlog

    _log.ready()
    structlog.contextvars.clear_contextvars()
    if bindings:
        structlog.contextvars.bind_contextvars(**bindings)
