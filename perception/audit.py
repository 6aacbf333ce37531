"""`reverie audit FILE`: is every number in a dream's prose backed by its record?

The record is the cycle's digest recomputed from the store (cycle start and end from
the front matter); when the store no longer holds that cycle (retention), the dream's
own receipt. A number is backed when some figure of the record, rounded to the
decimals the prose shows, equals it ("about", "around", "nearly" widen that to 10 %, as
a person rounds). Signs are not compared: prose says "fell by 3".

- A number with a unit (ETH and other coins, °C/°F/"degrees"/"below zero", km/h, mm,
  %) must match a record figure of that unit: "40%" only a change in percent, "4 ETH"
  only an ETH figure. From the receipt alone units are not compared.
- Numbers in feed item titles and summaries come from outside: they back nothing but a
  quotation of that title ("999 ETH" in a title cannot back "999 ETH" in the prose).
- Number words are read ("forty", "three hundred and thirteen"); "one" and "zero"
  are ordinary words in prose and are not checked.
- The report says how many numbers were checked and what share of the integers 1-100
  would have passed unitless, so a record that backs anything is visible.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from reverie.perception.digest import NUMBER_RE, Digest, NotableRules, build_digest, numbers_in

RECEIPT_HEADING = "## Receipt"


@dataclass
class Finding:
    line: int
    text: str
    value: float
    backed: bool


@dataclass
class AuditReport:
    source: str  # the file, or "<text>"
    record: str  # "store", "receipt" or "none": what the numbers were checked against
    findings: list[Finding] = field(default_factory=list)
    note: str = ""
    chance: float | None = None  # share of the integers 1-100 the record would back

    @property
    def ok(self) -> bool:
        return all(f.backed for f in self.findings)

    @property
    def unbacked(self) -> list[Finding]:
        return [f for f in self.findings if not f.backed]

    def format(self) -> str:
        lines = [f"{self.source}:{f.line}: {f.text}  {'ok' if f.backed else 'UNBACKED'}"
                 for f in self.findings]
        n, bad = len(self.findings), len(self.unbacked)
        tail = (f"{n} number{'s' if n != 1 else ''} checked against the {self.record}"
                if self.record != "none" else f"{n} numbers, no record to check against")
        tail += f": {bad} unbacked" if bad else ": all backed"
        if self.chance is not None:
            tail += f"; a random integer 1-100 would pass {self.chance:.0%} of the time"
        if self.note:
            tail += f" ({self.note})"
        lines.append(tail)
        return "\n".join(lines)


def split_dream(text: str) -> tuple[dict, str, int, str]:
    """(front matter, prose, line number where the prose starts, receipt)."""
    meta: dict = {}
    body, first = text, 1
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() == "---":
                try:
                    loaded = yaml.safe_load("\n".join(lines[1:i]))
                    meta = loaded if isinstance(loaded, dict) else {}
                except yaml.YAMLError:
                    meta = {}
                body, first = "\n".join(lines[i + 1:]), i + 2
                break
    prose, receipt = body, ""
    for marker in ("\n" + RECEIPT_HEADING, RECEIPT_HEADING):
        at = body.find(marker)
        if at >= 0 and (marker.startswith("\n") or at == 0):
            prose, receipt = body[:at], body[at:]
            break
    return meta, prose, first, receipt


def _read(path_or_text: str | os.PathLike) -> tuple[str, str]:
    if isinstance(path_or_text, os.PathLike):
        p = Path(path_or_text)
        return str(p), p.read_text(encoding="utf-8", errors="replace")
    text = str(path_or_text)
    if "\n" not in text and len(text) < 4096:
        try:
            p = Path(text)
            if p.is_file():
                return text, p.read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            pass
    return "<text>", text


def _when(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    try:
        dt = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return dt if dt.tzinfo else None


def audit(path_or_text: str | os.PathLike, store=None) -> AuditReport:
    source, text = _read(path_or_text)
    meta, prose, first_line, receipt = split_dream(text)
    record, note = Record(), "none"
    why = ""
    start, end = _when(meta.get("cycle_start")), _when(meta.get("cycle_end"))
    if store is not None and start and end and start < end:
        dg = build_digest(store, start, end, rules=NotableRules(items_cap=10000))
        if not dg.empty:
            record, note = Record.of(dg), "store"
        else:
            why = "the store holds nothing for this cycle"
    if note == "none" and receipt:
        record, note = Record.of_receipt(receipt), "receipt"
    report = check(prose, record, source=source, first_line=first_line, name=note)
    report.note = why
    return report


# -- the record's figures -------------------------------------------------------------

_COINS = ("ETH", "WETH", "BTC", "SOL", "USDC", "USDT", "DAI", "MATIC", "POL", "LTC", "XMR")


def unit_class(unit: str | None) -> str | None:
    """What a unit measures, so that 4 ETH is never backed by 4 °C."""
    u = (unit or "").strip()
    if not u:
        return None
    if u.upper() in _COINS:
        return u.upper()
    if u.replace(" ", "") in ("°C", "°F", "°", "C", "F", "K") or u.lower().startswith(("degree", "below zero")):
        return "temp"
    if u.lower() in ("km/h", "mph", "m/s", "kn"):
        return "speed"
    if u.lower() in ("mm", "inch", "in"):
        return "precip"
    if u.lower() in ("%", "percent", "per cent"):
        return "%"
    return None


@dataclass
class Record:
    """What a dream may say: (value, unit class) figures and the untrusted quotable texts."""

    figures: list[tuple[float, str | None]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    units_known: bool = True

    @classmethod
    def of(cls, dg: Digest) -> "Record":
        r = cls()
        add = r.figures.append
        for s in dg.signals:
            u = unit_class(s.unit)
            for v in (s.first, s.last, s.min, s.max, s.before, s.change):
                if v is not None:
                    add((abs(v), u))
            if s.change_pct is not None:
                add((abs(s.change_pct), "%"))
            add((float(s.n), None))
            for t in [s.text_first or "", s.text_last or "", *s.arc]:
                r.figures.extend((v, None) for v in numbers_in(t))
        add((float(dg.items_total), None))
        r.figures.extend((float(v), None) for v in dg.items_by_source.values())
        add((float(dg.sessions["count"]), None))
        add((float(dg.sessions["minutes"]), None))
        add((round(dg.sessions["minutes"] / 60, 1), None))
        for d in dg.doors:
            r.figures.extend((float(x), None) for x in (d.polls, d.failed, d.polls - d.failed))
        for it in dg.items:
            r.quotes.extend(_norm(t) for t in (it.get("title", ""), it.get("summary", "")) if t)
        return r

    @classmethod
    def of_receipt(cls, receipt: str) -> "Record":
        r = cls(units_known=False)
        for line in receipt.splitlines():
            if line.startswith("  - "):  # an item's title: untrusted, quotable only
                r.quotes.append(_norm(line.split(": ", 1)[-1]))
            else:
                r.figures.extend((v, None) for v in numbers_in(line))
        return r

    def backs(self, value: float, unit: str | None, tol: float) -> bool:
        for f, u in self.figures:
            if abs(f - value) > tol:
                continue
            if not self.units_known:
                return True
            # a percent backs only a percent; a figure with a unit only the same unit
            if u == unit or (unit is None and u != "%"):
                return True
        return False


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[\u201c\u201d\"]", "", text).split()).lower()


# -- numbers in prose -----------------------------------------------------------------

_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_WORD = re.compile(r"[A-Za-z]+")
_UNIT_AFTER = re.compile(
    r"\s*(%|percent\b|per cent\b|°\s*[CF]?|degrees?\b|below zero\b|km/h\b|mph\b|m/s\b|mm\b|"
    r"inch(?:es)?\b|" + "|".join(rf"{c}\b" for c in _COINS) + r")", re.I)
_ABOUT = re.compile(r"(?i)\b(about|around|nearly|almost|some|roughly|close to|over|under)\s+$")


@dataclass
class _Num:
    start: int
    end: int
    text: str
    value: float
    decimals: int


def numbers(line: str) -> list[_Num]:
    """Every number in a line of prose: figures and number words, in order."""
    out = []
    for m in NUMBER_RE.finditer(line):
        frac = m.group(2) or ""
        out.append(_Num(m.start(), m.end(), m.group(0),
                        float(m.group(1).replace(",", "") + frac), max(len(frac) - 1, 0)))
    words = [(w.start(), w.end(), w.group(0).lower()) for w in _WORD.finditer(line)]
    i = 0
    while i < len(words):
        run, j = [], i
        while j < len(words):
            w = words[j][2]
            joins = (w == "and" and run and run[-1][2] in _SCALES and j + 1 < len(words)
                     and words[j + 1][2] in (*_SMALL, *_TENS))
            if w in _SMALL or w in _TENS or w in _SCALES or joins:
                gap = line[words[j - 1][1]:words[j][0]] if run else ""
                if run and gap.strip(" -"):
                    break
                run.append(words[j])
                j += 1
            else:
                break
        while run and run[-1][2] == "and":
            run.pop()
        names = [w for _, _, w in run if w != "and"]
        if names and names not in (["one"], ["zero"]) and not (len(names) == 1 and names[0] in _SCALES):
            out.append(_Num(run[0][0], run[-1][1], line[run[0][0]:run[-1][1]], _words_value(names), 0))
            i = j
        else:
            i = max(j, i + 1)
    return sorted(out, key=lambda n: n.start)


def _words_value(names: list[str]) -> float:
    total, part = 0, 0
    for w in names:
        if w in _SMALL:
            part += _SMALL[w]
        elif w in _TENS:
            part += _TENS[w]
        elif w == "hundred":
            part = max(part, 1) * 100
        else:
            total += max(part, 1) * _SCALES[w]
            part = 0
    return float(total + part)


def _quoted(line: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), _norm(m.group(1) or m.group(2)))
            for m in re.finditer(r"\u201c([^\u201d]*)\u201d|\"([^\"]*)\"", line)]


def check(prose: str, record: Record, *, source: str = "<prose>", first_line: int = 1,
          name: str = "digest") -> AuditReport:
    """Every number of ``prose`` against ``record``."""
    report = AuditReport(source=source, record=name)
    for offset, line in enumerate(prose.split("\n")):
        quotes = _quoted(line)
        for n in numbers(line):
            m = _UNIT_AFTER.match(line, n.end)
            unit = unit_class(m.group(1)) if m else None
            tol = 0.5 * 10 ** -n.decimals + 1e-9
            if _ABOUT.search(line[:n.start]):
                tol = max(tol, 0.1 * n.value)
            backed = record.backs(n.value, unit, tol) or any(
                a <= n.start and n.end <= b and q and any(q in src for src in record.quotes)
                for a, b, q in quotes)
            report.findings.append(Finding(first_line + offset, n.text, n.value, backed))
    if name != "none":
        report.chance = sum(record.backs(float(i), None, 0.5) for i in range(1, 101)) / 100
    return report


def audit_prose(prose: str, digest: Digest) -> AuditReport:
    """The prose against the digest it was made from (the model gate and front matter)."""
    return check(prose, Record.of(digest))
