"""memory/ledger.jsonl: the one parser every reader of the ledger uses, and its writer.

The ledger is one JSON object per line: a consolidated session's record (``session`` is
its id; memory/consolidate.py writes it, a :class:`Ledger`) or a distillation's (``kind:
distill``, perception/distill.py). The file is in the agent's home, so it is read as
hostile input: a line that is not a JSON object is skipped (or shown raw, by the page),
and of the records claiming one session id the first counts, as when consolidation wrote
it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Iterator

from reverie.memory import atomic, bounded_json
from reverie.memory._home_files import read_home
from reverie.memory.home import Home

# the ledger is rewritten whole to append a line: the daemon's distill job appends too
_LOCK = threading.RLock()


@dataclass(frozen=True)
class Ledger:
    session: str
    date: str                # the diary's date (local date of the session start)
    started: str             # local ISO times
    ended: str
    end_reason: str | None
    lines_in: int
    archived: int
    promoted: int
    carried: int
    dropped: int
    late: int                # lines found in working.md after the snapshot, archived too
    targets: dict[str, int]  # memory file (home-relative) -> lines promoted into it
    sha256: dict[str, object]
    diary: str               # home-relative pointer to the diary entry
    # why working.md was not read, when it was not: refused (not a file), or kept whole
    # in diary/ (over memory.working_max)
    note: str | None = None
    # the session's stray descendants stopped with it ("pid command"), when there were any
    killed: list[str] = field(default_factory=list)
    # topics over MAX_TOPIC_FILES, whose lines went to memory/notes.md
    topics_over_cap: int = 0
    commit: str | None = field(default=None, compare=False)
    git_error: str | None = field(default=None, compare=False)

    def record(self) -> dict:
        d = asdict(self)
        d.pop("commit")
        d.pop("git_error")
        if d["note"] is None:  # a record as before: most sessions are read
            d.pop("note")
        if not d["killed"]:
            d.pop("killed")
        if not d["topics_over_cap"]:
            d.pop("topics_over_cap")
        return d

    def to_json(self) -> str:
        return json.dumps(self.record(), sort_keys=True, ensure_ascii=False)

    def summary(self) -> str:
        return (f"consolidate {self.session}: {self.lines_in} lines in, {self.archived} "
                f"archived, {self.promoted} promoted, {self.carried} carried, "
                f"{self.dropped} dropped" + (f", {self.late} late" if self.late else ""))


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


def consolidation(home: Home, sid: str) -> Ledger | None:
    """The consolidation record of session ``sid`` in the home's ledger, if it has one."""
    try:
        text = read_home(home, home.ledger)
    except FileNotFoundError:
        return None
    return _of(text, sid)


def _of(text: str, sid: str) -> Ledger | None:
    rec = sessions(text).get(sid)
    if rec is None:
        return None
    try:
        return Ledger(**rec)
    except TypeError:
        return None


def append_consolidation(home: Home, ledger: Ledger) -> None:
    """Append a consolidation's record unless its session has one already (a rerun)."""
    with _LOCK:
        _append_line(home, ledger.to_json(), lambda old: _of(old, ledger.session) is not None)


def append(home: Home, record: dict) -> None:
    """Append one JSON line to memory/ledger.jsonl (a distillation's; see perception/distill.py)."""
    with _LOCK:
        _append_line(home, json.dumps(record, sort_keys=True, ensure_ascii=False))


def _append_line(home: Home, line: str, present: Callable[[str], bool] = lambda _old: False
                 ) -> None:
    try:
        old = read_home(home, home.ledger)
    except FileNotFoundError:
        old = ""
    if present(old):
        return
    sep = "\n" if old and not old.endswith("\n") else ""
    atomic.write_text(home.ledger, old + sep + line + "\n")


__all__ = ["Ledger", "record", "records", "sessions", "consolidation", "append",
           "append_consolidation"]
