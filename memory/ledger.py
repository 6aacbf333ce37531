"""Reading memory/ledger.jsonl: the one parser every reader of the ledger uses.

The ledger is one JSON object per line: a consolidated session's record (``session`` is
its id; memory/consolidate.py writes it) or a distillation's (``kind: distill``,
perception/distill.py). The file is in the agent's home, so it is read as hostile input:
a line that is not a JSON object is skipped (or shown raw, by the page), and of the
records claiming one session id the first counts, as when consolidation wrote it.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from reverie.memory import bounded_json


def record(line: str | bytes) -> dict | None:
    """The JSON object on one line, or None when the line is not one."""
    try:
        rec = bounded_json.loads(line)  # the agent's file: a line nested 100000 deep too
    except ValueError:
        return None
    return rec if isinstance(rec, dict) else None


def records(lines: Iterable[str | bytes]) -> Iterator[dict]:
    """The JSON objects among ``lines``, in order."""
    for line in lines:
        rec = record(line)
        if rec is not None:
            yield rec


def sessions(text: str | bytes) -> dict[str, dict]:
    """The consolidation records of a ledger's text, by session id: the first of each."""
    out: dict[str, dict] = {}
    for rec in records(text.splitlines()):
        if isinstance(rec.get("session"), str):
            out.setdefault(rec["session"], rec)
    return out


__all__ = ["record", "records", "sessions"]
