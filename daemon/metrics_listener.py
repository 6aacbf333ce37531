"""The daemon's own /metrics and /healthz, on ``metrics.listen`` (off unless set).

It is `reverie serve`'s server without the page (perception/serve.py, ``page=False``):
the same collector, reading the store at scrape time through its own read-only
connections, so a scrape never holds the lock the daemon's pollers write under, and
the figures are the ones `reverie serve` shows.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from reverie.daemon import logs
from reverie.daemon.config import Loaded, split_listen

log = logs.get("reverie.daemon")


class MetricsListener:
    def __init__(self, server: Any, thread: threading.Thread):
        self.server, self.thread = server, thread

    @property
    def url(self) -> str:
        return self.server.url

    @classmethod
    def start(cls, loaded: Loaded, specs: Callable[[], list[Any]]) -> "MetricsListener | None":
        """Listen on the config's ``metrics.listen`` (None when it is not set, or when the
        address cannot be taken: logged, and the daemon runs on without it)."""
        listen = loaded.config.metrics.listen
        if not listen:
            return None
        from reverie.memory.store import Store
        from reverie.perception.serve import PageServer, ServeError

        home = loaded.home
        host, port = split_listen(listen)
        try:
            server = PageServer(home, lambda: Store.open(home.db, readonly=True), [], loaded.tz,
                                host=host, port=port, page=False, current_specs=specs,
                                metrics_options={"agent": loaded.name, "process": True,
                                                 "signals": loaded.config.metrics.signals})
        except ServeError as e:
            log.error("metrics.listen_failed", error=str(e), note="running without metrics")
            return None
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5},
                                  name="reverie-metrics", daemon=True)
        thread.start()
        log.info("metrics.listening", url=f"{server.url}metrics")
        return cls(server, thread)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


__all__ = ["MetricsListener"]
