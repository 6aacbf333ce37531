"""`reverie audit FILE`: is every number in a dream's prose backed by its record?

The record is the cycle's digest recomputed from the store (cycle start and end from
the front matter); when the store no longer holds that cycle (retention), the dream's
own receipt. A number is backed when some figure of the record, rounded to the
decimals the prose shows, equals it. Signs are not compared: prose says "fell by 3".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from reverie.perception.digest import NUMBER_RE, NotableRules, build_digest, numbers_in

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
    figures: list[float] = []
    record, note = "none", ""
    start, end = _when(meta.get("cycle_start")), _when(meta.get("cycle_end"))
    if store is not None and start and end and start < end:
        dg = build_digest(store, start, end, rules=NotableRules(items_cap=10000))
        if not dg.empty:
            figures, record = dg.figures(), "store"
        else:
            note = "the store holds nothing for this cycle"
    if record == "none" and receipt:
        figures, record = numbers_in(receipt), "receipt"
    figures = sorted({abs(f) for f in figures})

    report = AuditReport(source=source, record=record, note=note)
    for offset, line in enumerate(prose.split("\n")):
        for m in NUMBER_RE.finditer(line):
            digits, frac = m.group(1), m.group(2) or ""
            try:
                value = float(digits.replace(",", "") + frac)
            except ValueError:  # pragma: no cover - the pattern only matches numbers
                continue
            tol = 0.5 * 10 ** -(len(frac) - 1 if frac else 0) + 1e-9
            backed = any(abs(f - value) <= tol for f in figures)
            report.findings.append(Finding(first_line + offset, m.group(0), value, backed))
    return report
