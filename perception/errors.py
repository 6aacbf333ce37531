"""The error a source run raises. Its own module so that the HTTP layer and every source
type can raise it without importing the sources registry (which imports them)."""

from __future__ import annotations

from reverie.memory.errors import one_line


class SourceError(Exception):
    """A source run failed; ``str(err)`` is one line a person can read."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 status: int | None = None):
        super().__init__(one_line(message))
        self.retry_after = retry_after  # seconds, from a Retry-After header
        self.status = status  # the HTTP status that refused the request, if one did
