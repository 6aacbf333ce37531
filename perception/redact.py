"""The one redaction model: how reverie keeps secret values out of everything it writes.

A secret is a value the config took from ``${VAR}`` (or a source was given as one). It
is replaced by ``***`` wherever it appears in text, in every form it travels in: as
is, URL-encoded (a key in a query string) and JSON-escaped (a rendered log line). A
value shorter than ``MIN_SECRET_LEN`` is not redacted: it would redact ordinary words.
In structured data (log fields, headers) the value of a key that names a secret
(``Authorization``, ``api_key``, ``token``…) is replaced whatever it is.

perception redacts what it stores and writes (poll errors, dreams, receipts); the
daemon's logs (reverie.daemon.logs) redact every line with the same :class:`Redactor`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable
from urllib.parse import quote, quote_plus

REDACTED = "***"
MIN_SECRET_LEN = 4
SECRET_KEY = re.compile(r"authori[sz]ation|token|key|passw|secret|cookie|credential", re.I)


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret),
            json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}


class Redactor:
    """A fixed set of secret values, ready to be replaced in text and data."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LEN}
        self.secrets: tuple[str, ...] = tuple(sorted(values, key=len, reverse=True))
        # longest first: a secret containing another is replaced whole
        forms = set().union(*(_forms(s) for s in values)) if values else set()
        self._forms = tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_LEN),
                                   key=len, reverse=True))
        # any letter case: a server may echo the key upper-cased ("invalid key SK-ABC…")
        self._pattern = (re.compile("|".join(re.escape(f) for f in self._forms), re.I)
                         if self._forms else None)

    def text(self, text: str) -> str:
        """``text`` with every form of every secret replaced, in any letter case."""
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def value(self, value: Any) -> Any:
        """``value`` (text, numbers, dicts, lists) redacted: secrets in every string, and
        the whole value of every key that names a secret."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: (REDACTED if is_secret_key(k) and v else self.value(v))
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        return self.text(str(value))


def is_secret_key(key: Any) -> bool:
    """Whether a field or header named ``key`` holds a secret by its name alone."""
    return isinstance(key, str) and SECRET_KEY.search(key) is not None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret value (in each form it travels in) replaced."""
    return Redactor(secrets).text(text)
