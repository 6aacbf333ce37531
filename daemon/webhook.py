"""A wake as an HTTP POST, for an agent that runs elsewhere.

The request goes through reverie's one bounded HTTP layer (perception.http): the hook's
timeout bounds the whole request, the answer's body is capped, a redirect never carries
the hook's headers to another host, and an error names the host, never the URL.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Callable

from reverie.daemon.session_options import WebhookOptions
from reverie.daemon.wake_policy import HANDLED, WakeResult
from reverie.memory import _log, clock
from reverie.memory.store import Store

log = _log.get("reverie.sessions")

RESPONSE_CAP = 1024 * 1024  # the answer is not used; this only bounds what is read of it


def wake_by_webhook(hook: WebhookOptions, store: Store, body: dict[str, Any], *,
                    now: datetime, scheduled: datetime | None,
                    decide: Callable[[str, str, str, datetime | None], WakeResult]) -> WakeResult:
    """A wake that is a POST: the session begins and ends with the request, since the
    agent runs elsewhere. A failed hook is a failed wake, recorded through ``decide``."""
    from reverie.daemon.logs import secret_values

    sid, reason = body["session_id"], body["reason"]
    status, error = post_wake(hook, body, secrets=secret_values())
    if status is None:
        why = f"webhook failed: {error}"
        decide("failed", why, reason, scheduled)
        return WakeResult("failed", None, why)
    if not store.record_wake("started", reason, scheduled=scheduled, session_id=sid):
        return HANDLED
    store.start_session(sid, now, None, reason)
    store.end_session(sid, clock.now(), "exited", None)
    store.mark_consolidated(sid)
    log.info("session.started", session_id=sid, reason=reason, webhook=True, status=status)
    log.info("session.ended", session_id=sid, end_reason="exited", webhook=True)
    return WakeResult("started", sid, reason)


def post_wake(hook: WebhookOptions, body: dict[str, Any], *,
              secrets: tuple[str, ...] = ()) -> tuple[int | None, str]:
    """POST ``body`` to the hook, retrying what may pass on a second try (no answer, 429,
    5xx). Returns (the 2xx status, "") on success, (None, why) when the hook failed."""
    from reverie.perception.http import fetch
    from reverie.perception.sources import SourceError

    hidden = tuple(v for v in hook.headers.values() if v) + tuple(secrets)
    error = "no attempt"
    for attempt in range(hook.retries + 1):
        if attempt:
            time.sleep(min(0.25 * 2 ** attempt, 5.0))
        try:
            resp = fetch(hook.url, timeout=hook.timeout.total_seconds(), method="POST",
                         headers=hook.headers, json_body=body, max_bytes=RESPONSE_CAP,
                         secrets=hidden)
        except SourceError as e:
            status = e.status
            error = f"HTTP {status}" if status is not None else str(e)
            if status is not None and status < 500 and status != 429:
                break  # the hook refused this request: asking again changes nothing
            continue
        if 200 <= resp.status < 300:
            return resp.status, ""
        error = f"HTTP {resp.status}"  # a redirect without a Location, a 1xx: not a yes
        break
    return None, error
