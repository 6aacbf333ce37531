"""``wake_on`` conditions: a tiny grammar over signals, parsed, never evaluated as code.

    <signal> [change] <op> <number>[%]

``moltbook.unread > 0`` compares the latest reading; ``eth.balance change < -10%``
compares the change since the last wake (latest minus the value then; with ``%``
relative to it). ``<source>.new_items`` is the number of feed items first seen since
the last wake when no signal of that name is recorded.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # annotations only: the config's models import this module
    from reverie.memory.store import Store
from reverie.perception.text import number as _fmt

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt,
}
_SIGNAL = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+")
_OP = re.compile(r">=|<=|==|!=|>|<|=>|=<|=|<>")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EXAMPLES = "e.g. 'moltbook.unread > 0' or 'eth.balance change < -10%'"


@dataclass(frozen=True)
class Condition:
    text: str
    signal: str
    change: bool
    op: str
    threshold: float
    percent: bool

    def __str__(self) -> str:
        return self.text

    def evaluate(self, store: Store, since: datetime, now: datetime) -> str | None:
        """A human reason when the condition holds at ``now``, else None."""
        current = _value(store, self.signal, since, now)
        if current is None:
            return None
        if not self.change:
            if OPS[self.op](current, self.threshold):
                return f"{self.text} ({self.signal} is {_fmt(current)})"
            return None
        base = _baseline(store, self.signal, since, now)
        if base is None:
            return None
        delta = current - base
        if self.percent:
            if base == 0:
                return None  # a change relative to zero has no percentage
            rel = delta / abs(base) * 100
            if OPS[self.op](rel, self.threshold):
                return (f"{self.text} ({self.signal} {_fmt(base)} -> {_fmt(current)}, "
                        f"{rel:+.1f}%)")
            return None
        if OPS[self.op](delta, self.threshold):
            sign = "+" if delta >= 0 else ""
            return f"{self.text} ({self.signal} {_fmt(base)} -> {_fmt(current)}, {sign}{_fmt(delta)})"
        return None


def parse_condition(text: str) -> Condition:
    """Parse one condition; ValueError with a message saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"a condition must be a string ({_EXAMPLES}), got {text!r}")
    src = " ".join(text.split())
    if not src:
        raise ValueError(f"empty condition ({_EXAMPLES})")
    rest = src
    m = _SIGNAL.match(rest)
    if not m:
        word = rest.split(" ")[0]
        raise ValueError(f"condition {src!r}: {word!r} is not a signal name "
                         f"(<source>.<field>, {_EXAMPLES})")
    signal = m.group(0)
    rest = rest[m.end():]
    if rest and not rest.startswith(" ") and not _OP.match(rest):
        raise ValueError(f"condition {src!r}: unexpected {rest.split(' ')[0]!r} after "
                         f"the signal name {signal!r}")
    rest = rest.lstrip()
    change = False
    if re.match(r"change\b", rest):
        change = True
        rest = rest[len("change"):].lstrip()
    m = _OP.match(rest)
    if not m:
        got = rest.split(" ")[0] if rest else "nothing"
        raise ValueError(f"condition {src!r}: expected an operator (> >= < <= == !=) "
                         f"after {signal!r}{' change' if change else ''}, got {got!r}")
    op = m.group(0)
    if op not in OPS:
        hint = {"=": "==", "=>": ">=", "=<": "<=", "<>": "!="}[op]
        raise ValueError(f"condition {src!r}: unknown operator {op!r} (did you mean {hint!r}?)")
    rest = rest[m.end():].lstrip()
    m = _NUMBER.match(rest)
    if not m:
        got = rest.split(" ")[0] if rest else "nothing"
        raise ValueError(f"condition {src!r}: expected a number after {op!r}, got {got!r}")
    threshold = float(m.group(0))
    rest = rest[m.end():].lstrip()
    percent = False
    if rest.startswith("%"):
        percent = True
        rest = rest[1:].lstrip()
    if rest:
        raise ValueError(f"condition {src!r}: unexpected {rest!r} at the end")
    if percent and not change:
        raise ValueError(f"condition {src!r}: '%' applies only to a change "
                         f"(write '{signal} change {op} {m.group(0)}%')")
    return Condition(src, signal, change, op, threshold, percent)


def _value(store: Store, signal: str, since: datetime, now: datetime) -> float | None:
    obs = store.value_at(signal, now)
    if obs is not None:
        return obs.value  # a text reading compares as nothing
    source, _, field = signal.partition(".")
    if field == "new_items":
        return float(_count_items(store, source, since, now))
    return None


def _baseline(store: Store, signal: str, since: datetime, now: datetime) -> float | None:
    """The value at ``since``; for a signal first seen after it, its first reading."""
    obs = store.value_at(signal, since)
    if obs is None:
        later = store.series(signal, since, now)
        obs = next((o for o in later if o.value is not None), None)
    if obs is not None:
        return obs.value
    if signal.partition(".")[2] == "new_items":
        return 0.0
    return None


def _count_items(store: Store, source: str, since: datetime, now: datetime) -> int:
    return sum(1 for it in store.items_since(since, limit=10_000, until=now)
               if it.source == source)
