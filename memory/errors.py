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
    if isinstance(what, KeyError) and not line.strip("'\""):
        line = ""  # KeyError('') says "''": nothing either
    if not line and isinstance(what, BaseException):
        return type(what).__name__
    return line


def described(e: BaseException) -> str:
    """An exception as one line that names it: ``ValueError: bad value``, or the class
    alone when it says nothing more."""
    message = one_line(e)
    name = type(e).__name__
    return name if message == name else f"{name}: {message}"


__all__ = ["described", "one_line"]
