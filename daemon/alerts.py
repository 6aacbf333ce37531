"""Notifications: telling the user what they should hear about, through Apprise.

``notify: {urls: [...]}`` in the config sends, to every URL Apprise understands
(``ntfy://``, ``tgram://``, ``mailto://``, ``json://host/path``…), a short message
when a source has been failing longer than ``source_failing_after`` (and when it
recovers), a dream fell back to the offline backend, a session was killed or failed
(or was stopped with the daemon), or the daemon started again after an unclean stop.

Every message names the agent (``name:``, default the home folder's name) and the host,
in its title and its last line; times in it are in the config's zone. Apprise gets the
kind too: failures go out as ``failure``, recoveries as ``success``, the rest as
``warning`` or ``info``, which notifiers show as colours or icons. A failing source is
judged on a timer of its own (:meth:`Alerter.check_failing`, every ``CHECK_EVERY_MAX``
at most), not only after its polls, which a long interval or the backoff spaces out.

At most one message per event kind and subject (a source, "dream", "sessions",
"daemon") per hour, and one per occurrence (a failing period, a night, a session):
the store keeps when each was sent, so a restart does not send again. Messages go
out from one worker thread, each send bounded by ``timeout``: a slow or hung
notifier never delays a job. Apprise is an optional extra (``pip install '.[notify]'``),
imported only when URLs are configured. Apprise URLs carry tokens: the config
registers them as secrets (daemon/notify_options.py, where the ``notify:`` options
are), so logs show ``***``.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Iterable

from reverie.daemon import logs
from reverie.daemon.notify_options import INSTALL_HINT, NotifyOptions, load_apprise
from reverie.memory import clock
from reverie.memory.errors import described

if TYPE_CHECKING:
    from reverie.memory.store import SourceState, Store
    from reverie.perception.health import Spec

log = logs.get("reverie.alerts")

STOPPED_WITH_DAEMON = "daemon stopped"  # a session's end reason when the daemon's stop ended it

RATE = timedelta(hours=1)  # at most one message per event kind and subject per hour
QUEUE_MAX = 100
CHECK_EVERY_MAX = 30.0  # seconds: a failing source is told at most this late past its threshold
# Apprise's notify types (NotifyType's values), by event kind
TYPES = {"source_failing": "failure", "source_recovered": "success",
         "dream_fallback": "warning", "session_killed": "failure", "session_failed": "failure",
         "session_stopped": "info", "daemon_restarted": "warning"}


class Alerter:
    """Sends the daemon's events; quiet until :meth:`start` (foreground commands do not
    notify: their user is looking)."""

    def __init__(self, opts: NotifyOptions, store: Store, *, name: str = "agent",
                 tz: tzinfo | None = None):
        self.opts = opts
        self.store = store
        self.name, self.tz = name, tz or clock.UTC
        self.host = socket.gethostname() or "localhost"
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_MAX)
        self._worker: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self._worker is not None and bool(self.opts.urls)

    def start(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="reverie-alerts", daemon=True)
            self._worker.start()

    def update(self, opts: NotifyOptions, *, name: str | None = None,
               tz: tzinfo | None = None) -> None:
        self.opts = opts
        self.name = name or self.name
        self.tz = tz or self.tz

    def check_every(self) -> float:
        """Seconds between :meth:`check_failing` runs: a quarter of the threshold, within
        1 s and CHECK_EVERY_MAX."""
        return min(CHECK_EVERY_MAX, max(1.0, self.opts.source_failing_after.total_seconds() / 4))

    def _local(self, when: datetime) -> str:
        from reverie.perception import text

        return text.Times(self.tz).moment(when)

    def event(self, kind: str, subject: str, title: str, body: str, *,
              ref: str | None = None) -> bool:
        """Queue a message unless it is off, rate-limited or already sent for ``ref``.
        True when queued. Never raises: a notification is not worth a failed job."""
        if not self.active or kind not in self.opts.on:
            return False
        who = f"{self.name} on {self.host}"
        title = f"reverie [{who}]: {title}"
        body = f"{body}\n\n— reverie, agent {who}"
        try:
            if not self.store.claim_alert(kind, subject, clock.now(), gap=RATE, ref=ref):
                log.debug("notify.suppressed", kind=kind, subject=subject)
                return False
            self._queue.put_nowait((kind, subject, logs.scrub(title), logs.scrub(body),
                                    list(self.opts.urls), self.opts.timeout.total_seconds(),
                                    TYPES.get(kind, "info")))
        except queue.Full:
            log.warning("notify.dropped", kind=kind, subject=subject, note="queue full")
            return False
        except Exception as e:
            log.error("notify.failed", kind=kind, subject=subject,
                      error=logs.error_text(e))
            return False
        return True

    # -- the events, where they happen --------------------------------------------------

    def after_poll(self, spec: Spec, before: SourceState, after: SourceState) -> None:
        """A source's poll outcome: failing past the threshold, or back after that."""
        if not self.active:
            return
        if self._failing(spec, after):
            return
        if before.consecutive_failures and before.failing_since is not None:
            since = before.failing_since
            told = self.store.last_alert("source_failing", spec.name)
            if told and told.ref == _period(since):  # only what we said was failing
                now = clock.now()
                self.event("source_recovered", spec.name, f"{spec.name} is back",
                           f"{spec.name} works again after {_ago(now - since)} "
                           f"(since {self._local(now)}).", ref=_period(since))

    def check_failing(self, specs: Iterable[Spec]) -> None:
        """The timer's look at every enabled source (a job, every :meth:`check_every`):
        one failing past the threshold is told now, not at its next poll, which its
        interval or the backoff may put hours away."""
        if not self.active or "source_failing" not in self.opts.on:
            return
        states = self.store.all_source_states()
        for spec in specs:
            if spec.enabled and spec.name in states:
                self._failing(spec, states[spec.name])

    def _failing(self, spec: Spec, state: SourceState) -> bool:
        """Tell ``spec`` failing when it is past the threshold (once per failing period:
        the store keeps its start as the message's ref). True while it fails."""
        from reverie.perception.health import source_health

        now = clock.now()
        h = source_health(spec, state, now=now)
        if not (h.failing and h.failing_since is not None):
            return False
        down = now - h.failing_since
        if down >= self.opts.source_failing_after:
            self.event("source_failing", spec.name, f"{spec.name} is failing",
                       f"{spec.name} has been failing for {_ago(down)} (since "
                       f"{self._local(h.failing_since)}, {h.failures} polls): "
                       f"{h.last_error or 'no error recorded'}",
                       ref=_period(h.failing_since))
        return True

    def dream_fell_back(self, day: str, reason: str) -> None:
        self.event("dream_fallback", "dream", f"the dream of {day} is the offline one",
                   f"The model's dream was not used ({reason}); the offline dream was "
                   f"written instead.", ref=day)

    def session_ended(self, session_id: str, end_reason: str, exit_code: int | None,
                      forced: bool = False) -> None:
        """A session's end. Only an agent that ended by itself with a non-zero code
        failed: one reverie stopped (a sleep, the daemon's own stop) exits by the signal
        it was sent, which is no failure of the agent's."""
        if end_reason in ("killed", "timed out") or forced:
            self.event("session_killed", "sessions", "a session was killed",
                       f"Session {session_id} ended: {end_reason}"
                       f"{' (it had to be killed)' if forced else ''}.", ref=session_id)
        elif end_reason == STOPPED_WITH_DAEMON:
            self.event("session_stopped", "sessions", "a session was stopped with the daemon",
                       f"Session {session_id} was stopped at {self._local(clock.now())} "
                       "because the daemon stopped (systemctl stop or restart, or SIGTERM); "
                       "what the agent wrote was consolidated.", ref=session_id)
        elif end_reason == "exited" and exit_code:
            self.event("session_failed", "sessions", "a session failed",
                       f"Session {session_id} exited with code {exit_code}.", ref=session_id)

    def wake_failed(self, why: str) -> None:
        self.event("session_failed", "sessions", "the agent could not be woken", why)

    def restarted(self, marker: str, last_beat: datetime | None) -> None:
        seen = f" (last alive {self._local(last_beat)})" if last_beat else ""
        self.event("daemon_restarted", "daemon", "restarted after an unclean stop",
                   f"The daemon did not stop cleanly last time{seen}; it is running again.",
                   ref=marker)

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the queued messages to go out (the daemon's
        stop: its last message is the session it stopped). True when none is left."""
        if self._worker is None:
            return True
        deadline = time.monotonic() + timeout  # real seconds, as the sending thread waits
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            threading.Event().wait(0.05)
        return True

    # -- the worker ---------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            kind, subject, title, body, urls, timeout, ntype = self._queue.get()
            result: dict = {}
            t = threading.Thread(target=_send, args=(urls, title, body, ntype, result),
                                 name="reverie-alert-send", daemon=True)
            t.start()
            t.join(timeout)
            if t.is_alive():  # abandoned: Apprise's own socket timeouts end it later
                log.warning("notify.timeout", kind=kind, subject=subject, timeout_s=timeout)
            elif result.get("ok"):
                log.info("notify.sent", kind=kind, subject=subject)
            else:
                log.warning("notify.failed", kind=kind, subject=subject,
                            error=logs.scrub(result.get("error") or "a notifier refused it"))
            self._queue.task_done()


def _send(urls: list[str], title: str, body: str, ntype: str, result: dict) -> None:
    try:
        apprise = load_apprise()
        if apprise is None:
            result["error"] = INSTALL_HINT
            return
        a = apprise.Apprise()
        for url in urls:
            a.add(url)
        # NotifyType: string constants in Apprise 1.x, an Enum in 2.x; the same names
        kind = getattr(apprise.NotifyType, ntype.upper(), apprise.NotifyType.INFO)
        result["ok"] = bool(a.notify(title=title, body=body, notify_type=kind))
    except Exception as e:
        result["error"] = described(e)


def _ago(span: timedelta) -> str:
    from reverie.perception import text

    return text.duration(round(span.total_seconds()))


def _period(failing_since: datetime) -> str:
    """A failing period's ref in alerts_sent: its start as the repr of POSIX seconds, the
    form refs already stored have (a restart must still know what it told about)."""
    return repr(clock.to_ts(failing_since))


__all__ = ["Alerter"]
