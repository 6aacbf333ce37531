"""The config's ``notify:`` section: where notifications go, about what, and which parts
of those URLs are secrets. Apart from the sending (daemon/alerts.py, with its thread,
queue and logging) so that checking a config imports none of that."""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reverie.perception.types import PositiveDuration

Event = Literal["source_failing", "source_recovered", "dream_fallback", "session_killed",
                "session_failed", "session_stopped", "daemon_restarted"]
EVENTS: tuple[Event, ...] = get_args(Event)
INSTALL_HINT = ("sending notifications needs Apprise: pip install '.[notify]' in reverie's "
                "checkout (or pip install apprise)")


class NotifyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field(default=[], description=(
        "Apprise URLs to notify (ntfy://, tgram://, mailto://, json://host/path, ...); "
        "use ${VAR} for their tokens. Needs Apprise: `pip install '.[notify]'` in reverie's checkout"))
    on: list[Event] = Field(default=list(EVENTS), description="the events to notify about")
    source_failing_after: PositiveDuration = Field(
        default="30m", validate_default=True,
        description="tell about a source once it has been failing this long")
    timeout: PositiveDuration = Field(default="20s", validate_default=True,
                                      description="the longest one message may take to send")

    @field_validator("urls")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        if not v:
            return v
        apprise = load_apprise()
        if apprise is None:
            raise ValueError(INSTALL_HINT)
        for i, url in enumerate(v):
            if not apprise.Apprise().add(url):  # never echo it: it holds a token
                raise ValueError(f"urls[{i}] is not a URL Apprise knows "
                                 "(see https://github.com/caronc/apprise/wiki)")
        return v


def load_apprise() -> Any:
    """The apprise module, or None when the notify extra is not installed."""
    try:
        import apprise
    except ImportError:
        return None
    import logging

    # Apprise logs the URLs it sends to, tokens and all: we log our own lines instead.
    logging.getLogger("apprise").setLevel(logging.CRITICAL)
    return apprise


_PART = re.compile(r"[/?&=@:#,]+")
_HOSTLIKE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")  # example.com, 127.0.0.1


def url_secrets(urls: list[str]) -> tuple[str, ...]:
    """What to redact for ``urls``: each whole, and every part of one that may be a key
    (Apprise puts tokens in the host, the path, the user, the query)."""
    out: list[str] = []
    for url in urls:
        out.append(url)
        _scheme, _sep, rest = url.partition("://")
        out += [p for p in _PART.split(rest) if len(p) >= 8 and not _HOSTLIKE.fullmatch(p)]
    return tuple(dict.fromkeys(out))
