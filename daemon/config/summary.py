"""The one line `reverie check-config` prints: what a config sets up."""

from __future__ import annotations

from reverie.daemon.config.models import Loaded


def summary(loaded: Loaded) -> str:
    """One line: what this config sets up."""
    c = loaded.config
    enabled = [s for s in c.sources if s.enabled]
    parts = [f"home {c.home}", f"zone {c.timezone}",
             f"{len(enabled)} source{'s' if len(enabled) != 1 else ''}"
             + (f" ({', '.join(s.name for s in enabled)})" if enabled else ""),
             f"dream at '{c.dream.at}' ({c.dream.backend})"]
    s = c.sessions
    if s.enabled:
        parts.append(f"{len(s.wake)} wake time{'s' if len(s.wake) != 1 else ''}, "
                     f"{len(s.sleep)} sleep time{'s' if len(s.sleep) != 1 else ''}")
    else:
        parts.append("no agent sessions")
    return "ok: " + "; ".join(parts)
