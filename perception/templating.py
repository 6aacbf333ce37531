"""The one way reverie renders a template: Jinja2's immutable sandbox, bounded in time and memory.

Templates can live in the agent's home (``perception.template``, ``dream.prompt_template``,
the page's), and the agent is untrusted: a plain Jinja2 environment lets
``{{ cycler.__init__.__globals__.os.popen(...) }}`` run a command as reverie's user (as root
under ``sudo``). The sandbox refuses such attribute access with a SecurityError, which every
caller already reports as one line. Template files are read like any home file: regular files
only, never through a link, never blocking, within a cap, and not writable by others.

The sandbox bounds what a template may touch, not how long it runs or how much it allocates:
``{% for a in range(100000) %}{% for b in range(100000) %}`` runs for hours and
``{{ "x" * 1500000000 }}`` takes gigabytes. So a user's template renders in a short-lived
child (``python -I -m reverie.perception._render``) that caps its own address space
(``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``) before it renders anything, and the parent
kills it at a wall-clock deadline. A render over a bound raises :class:`RenderFailure` with
``bounds=True``; callers fall back to the built-in template and the source is not tried again
for ``RETRY_AFTER`` seconds (unless it changes), so a hostile template costs one deadline, not
one per poll. The built-in templates are ours and render in-process: the common case pays
nothing. The child's cost is bench row T1 (``python -m bench T1``: the built-in state
template with an empty store's context, both ways): 113 ms in a child against 6 ms
in-process on the shared 2-core dev machine (81 ms against 5.4 ms when it was quieter):
interpreter start and the Jinja2 import. Only a home that overrides a template pays it,
at most once per state render, and renders come at most every few seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from reverie.memory import _log, safe_read

log = _log.get("reverie.templating")

TEMPLATE_MAX_BYTES = 1024 * 1024
RENDER_DEADLINE = 5.0            # seconds of wall clock for one render of a user's template
RENDER_MEMORY = 512 * 1024 ** 2  # bytes of address space for the child that renders it
RENDER_OUTPUT_MAX = 16 * 1024 ** 2  # characters a rendered template may have
RETRY_AFTER = 600.0              # an abandoned template (same text) is not tried again before this

KINDS = ("state", "page", "prompt")


class RenderFailure(Exception):
    """A template failed: ``type_name`` and a one-line ``message``; ``lineno`` for a syntax
    error; ``bounds`` when it was abandoned over the deadline, memory or output cap."""

    def __init__(self, type_name: str, message: str, lineno: int | None = None,
                 bounds: bool = False):
        super().__init__(message)
        self.type_name, self.message, self.lineno, self.bounds = type_name, message, lineno, bounds


def _md_finalize(value: Any) -> Any:
    from reverie.perception.text import clean, md_escape

    if value is None:
        return ""
    if isinstance(value, str):
        # the context is clean already; this is for whatever a user's template prints
        return md_escape(clean(value, squeeze=False))
    return value


def environment(**options: Any):
    """A sandboxed Jinja2 environment (same options as ``jinja2.Environment``)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(**options)


def kind_environment(kind: str):
    """The environment each kind of template renders in (the same in the child)."""
    import jinja2

    if kind == "state":
        return environment(autoescape=False, finalize=_md_finalize,
                           undefined=jinja2.StrictUndefined, trim_blocks=True,
                           lstrip_blocks=True, keep_trailing_newline=True)
    if kind == "page":
        return environment(autoescape=True, undefined=jinja2.StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True)
    if kind == "prompt":
        return environment(autoescape=False, undefined=jinja2.StrictUndefined,
                           keep_trailing_newline=True)
    raise ValueError(f"no such template kind: {kind}")


def render_here(kind: str, source: str, context: dict) -> str:
    """Render in this process (our own templates); failures as :class:`RenderFailure`."""
    import jinja2

    from reverie.perception.text import clean

    try:
        return kind_environment(kind).from_string(source).render(**context)
    except jinja2.TemplateSyntaxError as e:
        raise RenderFailure(type(e).__name__, clean(e.message, 200), e.lineno) from None
    except MemoryError:
        raise RenderFailure("MemoryError", "over the memory bound", bounds=True) from None
    except Exception as e:  # a user's template can fail in any way; in one line
        raise RenderFailure(type(e).__name__, clean(e, 200)) from None


_abandoned: dict[str, tuple[float, str]] = {}
_abandoned_lock = threading.Lock()


def _key(kind: str, source: str) -> str:
    return hashlib.sha256(f"{kind}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()


def render(kind: str, source: str, context: dict, *, untrusted: bool,
           where: str = "template") -> str:
    """The rendered text. ``untrusted`` (a template from a file a user chose) renders in a
    bounded child; ours render here. Raises :class:`RenderFailure`."""
    if not untrusted:
        return render_here(kind, source, context)
    key = _key(kind, source)
    with _abandoned_lock:
        seen = _abandoned.get(key)
        if seen and time.monotonic() - seen[0] < RETRY_AFTER:
            raise RenderFailure("Abandoned", seen[1], bounds=True)
    try:
        return _render_in_child(kind, source, context)
    except RenderFailure as e:
        if e.bounds:
            with _abandoned_lock:
                if len(_abandoned) > 64:
                    _abandoned.clear()
                _abandoned[key] = (time.monotonic(), e.message)
            log.warning("template.abandoned", template=where, reason=e.message,
                        note="rendering the built-in template instead")
        raise


def _render_in_child(kind: str, source: str, context: dict) -> str:
    payload = pickle.dumps({"kind": kind, "source": source, "context": context,
                            "memory": RENDER_MEMORY, "cpu": int(RENDER_DEADLINE) + 1,
                            "output_max": RENDER_OUTPUT_MAX}, protocol=pickle.HIGHEST_PROTOCOL)
    argv = [sys.executable, "-I", "-m", "reverie.perception._render"]
    try:
        # argv list, no shell; an empty environment (-I ignores PYTHON* anyway): the child
        # gets no key; cwd / so nothing relative points into the home
        done = subprocess.run(argv, input=payload, capture_output=True, timeout=RENDER_DEADLINE,
                              env={"LC_ALL": "C.UTF-8"}, cwd="/", check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailure("Timeout", f"over the {RENDER_DEADLINE:g} s render deadline",
                            bounds=True) from None
    except OSError as e:
        raise RenderFailure("OSError", f"cannot start the renderer: {e.strerror or e}") from None
    out = done.stdout
    if out.startswith(b"ok\n"):
        return out[3:].decode("utf-8", "surrogatepass")
    if out.startswith(b"er\n"):
        try:
            err = json.loads(out[3:].decode("utf-8", "replace"))
            return_failure = RenderFailure(str(err["type"])[:80], str(err["message"])[:300],
                                           err.get("lineno"), bool(err.get("bounds")))
        except (ValueError, KeyError, TypeError):
            return_failure = RenderFailure("RenderError", "the renderer answered nonsense")
        raise return_failure
    # killed by a limit (SIGXCPU, SIGKILL) or died before it could say why
    if done.returncode < 0:
        raise RenderFailure("Killed", f"killed by signal {-done.returncode} "
                                      f"(over the CPU or memory bound)", bounds=True)
    raise RenderFailure("RenderError", f"the renderer exited with status {done.returncode}",
                        bounds=True)


def read(path: str | os.PathLike) -> str:
    """A template file's text; an OSError whose ``strerror`` says why it is refused."""
    fd = safe_read.open_regular(path)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_uid not in (os.geteuid(), 0):
            # its owner could change it: only we (or root) may decide what renders
            raise safe_read.UnsafeFile(path, f"refused: owned by uid {st.st_uid}, not by this "
                                             f"user (uid {os.geteuid()}) or root")
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise safe_read.UnsafeFile(path, "refused: writable by other users than its owner "
                                             "(chmod go-w)")
        data = f.read(TEMPLATE_MAX_BYTES + 1)
    if len(data) > TEMPLATE_MAX_BYTES:
        raise safe_read.UnsafeFile(path, "refused: over the 1 MiB cap")
    return data.decode("utf-8")


def read_persona(path: Path, cap: int) -> str:
    """The persona file (identity.md) for the dream prompt, at most ``cap`` characters."""
    try:
        return safe_read.read_text(path, max_bytes=cap * 4, errors="replace")[:cap].strip()
    except safe_read.UnsafeFile:
        return ""
