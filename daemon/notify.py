"""The sd_notify protocol, spoken without libsystemd.

systemd hands a ``Type=notify`` service the address of a unix datagram socket in
``$NOTIFY_SOCKET`` (``@name`` meaning the abstract namespace); the service sends it
newline-separated ``KEY=value`` assignments: ``READY=1``, ``STATUS=...``,
``RELOADING=1``, ``STOPPING=1``, ``WATCHDOG=1``. Outside systemd the variable is unset
and every method here does nothing, so the daemon calls them unconditionally.

A notification that cannot be sent is logged once and otherwise ignored: losing a
status line must never take the daemon down (a missed watchdog ping is systemd's to
judge, which is the point of the watchdog).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping

from reverie.daemon import logs
from reverie.memory.errors import described, one_line

log = logs.get("reverie.notify")

# What systemd puts in a notify service's environment. A child (the agent session) has
# no business with them: strip these from its environment, or build the Notifier with
# from_env(unset_environment=True).
ENV_KEYS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")

_STATUS_MAX = 1000  # systemctl status shows one line; a longer one is noise
_SEND_TIMEOUT_S = 2.0  # a full receive queue in PID 1 must not hang the caller forever


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds: the clock systemd compares MONOTONIC_USEC with."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def _one_line(text: str) -> str:
    # A newline would let a source name or an error message inject its own assignment
    # (say READY=1) into the datagram.
    line = one_line(text)
    return line if len(line) <= _STATUS_MAX else line[: _STATUS_MAX - 1] + "…"


def _address(raw: str) -> str | None:
    if raw.startswith("@"):
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    return None  # vsock and other transports: not ours to speak


class Notifier:
    """One service's line to systemd. Build it with :meth:`from_env`."""

    def __init__(self, address: str | None, *, watchdog_usec: int | None = None):
        self.address = address
        self._watchdog_usec = watchdog_usec
        self._failing = False
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: MutableMapping[str, str] | None = None, *,
                 unset_environment: bool = False) -> "Notifier":
        """The notifier systemd asked for, or a silent one when not run by systemd.

        ``unset_environment`` removes $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID
        afterwards (like sd_notify's flag of that name), so processes started later do
        not inherit them; call it that way once per process.
        """
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET") or ""
        address = _address(raw) if raw else None
        if raw and address is None:
            log.warning("notify.unsupported_socket", socket=raw)
        watchdog = _watchdog_usec(env) if address else None
        if unset_environment:
            for key in ENV_KEYS:
                env.pop(key, None)
        return cls(address, watchdog_usec=watchdog)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    # -- the messages --------------------------------------------------------------

    def ready(self, status: str | None = None) -> bool:
        lines = ["READY=1"]
        if status is not None:
            lines.append(f"STATUS={_one_line(status)}")
        return self.send(*lines)

    def status(self, line: str) -> bool:
        return self.send(f"STATUS={_one_line(line)}")

    def reloading(self) -> bool:
        return self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec()}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def send(self, *assignments: str) -> bool:
        """Send one datagram of ``KEY=value`` lines; True when it went out."""
        if self.address is None:
            return False
        payload = "\n".join(assignments).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.settimeout(_SEND_TIMEOUT_S)
                s.sendto(payload, self.address)
        except OSError as e:
            with self._lock:
                first = not self._failing
                self._failing = True
            if first:  # once per outage, not once per watchdog tick
                log.warning("notify.failed", error=f"{type(e).__name__}: {e.strerror or e}")
            return False
        with self._lock:
            self._failing = False
        return True

    # -- the watchdog --------------------------------------------------------------

    def watchdog_interval(self) -> float | None:
        """Seconds between pings (half of $WATCHDOG_USEC), None when no watchdog is set."""
        if self.address is None or not self._watchdog_usec:
            return None
        return self._watchdog_usec / 2 / 1_000_000

    def start_watchdog(self, is_alive: Callable[[], bool],
                       stop: threading.Event) -> threading.Thread | None:
        """Ping the watchdog every :meth:`watchdog_interval` while ``is_alive()`` says so.

        The pings stop (and systemd, after WatchdogSec=, restarts the service) as soon as
        ``is_alive`` returns False or raises; they resume if it recovers. Returns the
        daemon thread, or None when systemd set no watchdog.
        """
        interval = self.watchdog_interval()
        if interval is None:
            return None
        thread = threading.Thread(target=self._watchdog_loop, args=(is_alive, stop, interval),
                                  name="reverie-watchdog", daemon=True)
        thread.start()
        return thread

    def _watchdog_loop(self, is_alive: Callable[[], bool], stop: threading.Event,
                       interval: float) -> None:
        withheld = False
        while not stop.is_set():
            try:
                alive = bool(is_alive())
                error = None
            except Exception as e:  # a broken probe is a dead scheduler, not a dead thread
                alive, error = False, described(e)
            if alive:
                if withheld:
                    log.info("watchdog.resumed")
                    withheld = False
                self.watchdog()
            elif not withheld:
                withheld = True
                log.error("watchdog.withheld", error=error or "scheduler heartbeat is stale",
                          interval_s=interval)
            if stop.wait(interval):
                break


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    pid = env.get("WATCHDOG_PID")
    if pid:
        # systemd sets it when the watchdog is meant for one process: a child that
        # inherited the environment must not take the parent's place.
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    try:
        usec = int(env.get("WATCHDOG_USEC") or 0)
    except ValueError:
        return None
    return usec if usec > 0 else None
