"""What a consolidation's snapshot says to do with each line: the plan every step works
from, a pure function of the snapshot in the intent (never of working.md as it is now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reverie.memory import clock
from reverie.memory._taking import WORKING_MAX_BYTES, MiB
from reverie.memory.home import working_template
from reverie.memory.working import NOTES, classify, split_lines

# topics of #remember lines that get a memory/ file of their own, per consolidation
MAX_TOPIC_FILES = 50


@dataclass
class Plan:
    sid: str
    day: date
    start: datetime
    end: datetime
    end_reason: str | None
    lines: list[str]
    kinds: list[tuple[str, str | None]]  # ("promote", topic) | ("carry", None) | ("drop", None)
    open_fence: str | None
    template: str
    working_max: int  # the cap of the snapshot, for working.md written late too
    note: str | None = None  # why working.md was not read (refused, or kept whole)

    @property
    def anchor(self) -> str:
        return f"diary/{self.day.isoformat()}.md#session-{self.sid}"

    def promoted(self) -> dict[str, list[str]]:
        """memory/ file -> its lines. At most MAX_TOPIC_FILES topics get a file of their
        own (the first to appear); the lines of any further topic go to memory/notes.md,
        tag and all, so 100000 distinct topics never make 100000 files."""
        out: dict[str, list[str]] = {}
        notes = f"memory/{NOTES}.md"
        for line, (kind, topic) in zip(self.lines, self.kinds):
            if kind == "promote":
                rel = f"memory/{topic}.md"
                if rel not in out and rel != notes and \
                        len(out) - (notes in out) >= MAX_TOPIC_FILES:
                    rel = notes
                out.setdefault(rel, []).append(line)
        return dict(sorted(out.items()))

    def topics_over_cap(self) -> int:
        """How many topics had no file of their own (their lines are in memory/notes.md)."""
        topics = list(dict.fromkeys(t for k, t in self.kinds if k == "promote" and t != NOTES))
        return max(0, len(topics) - MAX_TOPIC_FILES)

    def carried(self) -> list[str]:
        return [ln for ln, (k, _) in zip(self.lines, self.kinds) if k == "carry"]

    def dropped(self) -> list[str]:
        return [ln for ln, (k, _) in zip(self.lines, self.kinds) if k == "drop"]


def plan_of(payload: dict, tz: ZoneInfo) -> Plan:
    s = payload["session"]
    start = clock.from_ts(s["started"]).astimezone(tz)
    end = clock.from_ts(s["ended"]).astimezone(tz)
    lines = split_lines(payload["text"])
    kinds, open_fence = classify(lines)
    return Plan(s["id"], start.date(), start, end, s.get("end_reason"), lines, kinds,
                open_fence, working_template(),
                payload.get("working_max") or WORKING_MAX_BYTES, note_of(payload))


def note_of(payload: dict) -> str | None:
    if payload.get("refused"):
        return payload["refused"]
    kept = payload.get("kept_whole")
    if kept:
        cap = kept.get("cap") or WORKING_MAX_BYTES  # a snapshot of an older reverie has none
        return (f"working.md was {kept['bytes']} bytes, over the {size(cap)} cap; "
                f"kept whole, unread, in {kept['path']}")
    return None


def size(n: int) -> str:
    """As perception.text.byte_size writes a size (memory cannot import perception)."""
    for unit, k in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= k and n % k == 0:
            return f"{n // k} {unit}"
    return f"{n} bytes"
