"""An error as one line: the one rule every message reverie shows or records follows.

A message may come from anywhere (SQLite, an OS call, a source's server, the agent's
files); newlines in it would break a log line, a status line or the notify datagram, and
an exception that says nothing would leave an empty reason.
"""

from __future__ import annotations


def one_line(what: BaseException | str) -> str:
    """``what`` with every run of whitespace (newlines included) one space; an exception
    whose message is empty is named by its class."""
    line = " ".join(str(what).split())
    if not line and isinstance(what, BaseException):
        return type(what).__name__
    return line


__all__ = ["one_line"]
