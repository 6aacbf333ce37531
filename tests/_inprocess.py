"""Run ``reverie.daemon.cli.main(argv)`` in the test's process as if it were its own:
its environment, working directory, stdin/stdout/stderr, and afterwards the process's
logging, secrets, clock and signal handlers as they were before."""

from __future__ import annotations

import faulthandler
import io
import logging
import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path

_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def run_main(argv: list[str], env: dict[str, str], cwd: Path | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess:
    """``timeout``: a command that hangs ends the test run with every thread's stack
    (what a fresh process's timeout would have caught) rather than hanging it."""
    from reverie.daemon import cli, logs
    from reverie.memory import _log, clock

    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    saved_secrets = logs.secret_values()
    saved_clock = clock.current()
    saved_signals = {s: signal.getsignal(s) for s in _SIGNALS}
    structlog_config = _structlog_config()
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace",
                                  write_through=True)
    os.environ.clear()
    os.environ.update(env)
    faulthandler.dump_traceback_later(timeout, exit=True, file=sys.__stderr__)
    try:
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # what a fresh process would print on its way out
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        return subprocess.CompletedProcess(["reverie", *argv], code,
                                           out.getvalue().decode("utf-8", "replace"),
                                           err.getvalue().decode("utf-8", "replace"))
    finally:
        faulthandler.cancel_dump_traceback_later()
        sys.stdin, sys.stdout, sys.stderr = streams
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved_logging[0]:
            root.addHandler(h)
        root.setLevel(saved_logging[1])
        _log.defer(None)
        logs.set_secrets(saved_secrets)
        clock.install(saved_clock)
        for s, h in saved_signals.items():
            signal.signal(s, h)
        _restore_structlog(structlog_config)


def _structlog_config():
    if "structlog" not in sys.modules:
        return None
    import structlog

    return structlog.get_config()


def _restore_structlog(config) -> None:
    if "structlog" not in sys.modules:
        return
    import structlog

    if config is None:
        structlog.reset_defaults()
    else:
        structlog.configure(**config)
