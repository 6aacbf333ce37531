"""The page's night: the last dream's prose, where it came from, and its receipt as a list.
The file is in the agent's home: read with a cap and never followed out of it."""

from __future__ import annotations

import re

from reverie.memory.home import Home
from reverie.memory.store import Store
from reverie.perception.audit import split_dream
from reverie.perception.text import Times, clean

MAX_DREAM_BYTES = 512 * 1024


def _dream(home: Home, store: Store, T: Times) -> dict | None:
    row = store.last_dream()
    if row is None:
        return None
    text = None
    for candidate in (row.path, home.latest_dream):
        if not candidate:
            continue
        try:
            p = home.inside(candidate)
            with open(p, "rb") as f:
                text = f.read(MAX_DREAM_BYTES).decode("utf-8", errors="replace")
            break
        except (OSError, ValueError):
            continue
    meta, prose, _, receipt = split_dream(text or "")
    blocks = []
    for para in re.split(r"\n\s*\n", prose.strip()):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        if not lines:
            continue
        if lines[0].startswith("#"):
            blocks.append({"heading": clean(lines[0].lstrip("#"), 200)})
            lines = lines[1:]
        if lines:
            blocks.append({"text": clean(" ".join(lines))})
    backend = row.backend or "?"
    if row.model:
        backend += f" ({row.model})"
    return {
        "date": row.date,
        "backend": backend,
        "fallback": clean(row.fallback_reason, 300) if row.fallback_reason else None,
        "cycle": (f"{T.text(row.cycle_start, '%a %H:%M')} – "
                  f"{T.text(row.cycle_end, '%a %H:%M')}"),
        "path": str(row.path or ""),
        "blocks": blocks,
        "missing": text is None,
        "receipt": receipt_items(receipt),
        "audit": clean(meta.get("audit"), 300) if isinstance(meta, dict) and meta.get("audit")
        else None,
    }


_LIST_ITEM = re.compile(r"^(\s*)[-*+]\s+(.*)$")


def receipt_items(receipt: str) -> list[dict]:
    """The receipt's Markdown list as ``[{"text", "children": [...]}]``, for an HTML
    list: its heading goes (the page has its own summary), list markers go, an
    indented item belongs to the item above it. A line that is not an item is an item."""
    out: list[dict] = []
    for line in receipt.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LIST_ITEM.match(line)
        indent, body = (len(m.group(1)), m.group(2)) if m else (0, line)
        text = clean(body, 500)
        if not text:
            continue
        if indent and out:
            out[-1]["children"].append(text)
        else:
            out.append({"text": text, "children": []})
    return out
