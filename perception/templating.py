"""The one way reverie renders a template: Jinja2's immutable sandbox.

Templates can live in the agent's home (``perception.template``, ``dream.prompt_template``,
the page's), and the agent is untrusted: a plain Jinja2 environment lets
``{{ cycler.__init__.__globals__.os.popen(...) }}`` run a command as reverie's user (as root
under ``sudo``). The sandbox refuses such attribute access with a SecurityError, which every
caller already reports as one line. Template files are read like any home file: regular files
only, never through a link, never blocking, within a cap, and not writable by others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from reverie.memory import safe_read

TEMPLATE_MAX_BYTES = 1024 * 1024


def environment(**options: Any):
    """A sandboxed Jinja2 environment (same options as ``jinja2.Environment``)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(**options)


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
