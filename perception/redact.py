"""The one way perception keeps secret values out of text it stores or writes."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "***"
MIN_SECRET_LEN = 4  # as daemon.logs: shorter values would redact ordinary words


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret value (and its URL-encoded forms) replaced, longest first."""
    for s in sorted((s for s in secrets if s and len(s) >= MIN_SECRET_LEN), key=len, reverse=True):
        # a secret can reach a message URL-encoded too (a key in a query string)
        for form in {s, quote(s, safe=""), quote_plus(s)}:
            text = text.replace(form, REDACTED)
    return text
