"""The page's memory: the latest distilled day with its citations and what the audit says
of them now, and the ledger's last lines (what each session's diary kept and dropped)."""

from __future__ import annotations

import re
from datetime import datetime

import yaml

from reverie.memory import safe_read
from reverie.memory.home import Home
from reverie.memory.ledger import record as ledger_record
from reverie.perception._page_dream import MAX_DREAM_BYTES
from reverie.perception.text import Times, clean

LEDGER_LINES = 8
LEDGER_TAIL_BYTES = 256 * 1024
DISTILLED_BULLETS = 40
PATTERN_BULLETS = 6


def _distilled(home: Home, today) -> dict | None:
    """The latest day distilled into memory/ (up to today): its bullets, each with links
    to the diary lines it cites, and what the audit says of them now."""
    from reverie.memory.diary import Diaries
    from reverie.perception.memory_audit import audit_distilled, citations, claim_of

    days = sorted(p.name for p in home.memory_dir.glob("distilled-*.md")
                  if p.name[10:20] <= today.isoformat())
    if not days:
        return None
    rel = f"memory/{days[-1]}"
    diaries = Diaries(home.root)

    def read(path):
        try:  # never blocks on a FIFO the agent put there, never follows a link out
            return safe_read.read_text(home.inside(path), max_bytes=MAX_DREAM_BYTES,
                                       errors="replace")
        except (OSError, ValueError):
            return None

    def bullets(text: str, cap: int) -> list[dict]:
        out = []
        body = text.split("\n---\n", 1)[-1].split("\n## Receipt")[0]
        for line in body.splitlines():
            if not line.startswith("- "):
                continue
            label = re.match(r"- ((?:recurring )?[a-z]+(?: \(\d+ days?\))?): ", line)
            cites = []
            for a in citations(line)[:12]:
                found = diaries.resolve(a)
                href = found.block.href if found.block else a.split("#")[0]
                cites.append({"text": a.removeprefix("diary/"), "href": href})
            out.append({"kind": label.group(1) if label else "",
                        "text": clean(claim_of(line), 400), "cites": cites})
            if len(out) >= cap:
                break
        return out

    text = read(rel)
    if text is None:
        return {"path": rel, "missing": True, "bullets": [], "patterns": [], "audit": None}
    report = audit_distilled(rel, text, diaries)
    meta: dict = {}
    if text.startswith("---\n"):
        try:
            meta = yaml.safe_load(text.split("---\n", 2)[1]) or {}
        except yaml.YAMLError:
            meta = {}
    meta = meta if isinstance(meta, dict) else {}
    patterns = read("memory/patterns.md")
    return {
        "path": rel, "missing": False, "date": clean(meta.get("date") or days[-1][10:20], 20),
        "backend": clean(meta.get("backend") or "?", 40),
        "fallback": clean(meta.get("fallback_reason"), 300) if meta.get("fallback_reason") else None,
        "bullets": bullets(text, DISTILLED_BULLETS),
        "audit": (f"{report.lines} lines, {report.cited} cited, {report.resolved} resolved, "
                  f"{report.unchanged} unchanged, {report.supported} supported"),
        "ok": report.ok,
        "patterns": bullets(patterns, PATTERN_BULLETS) if patterns else [],
    }


def _ledger(home: Home, T: Times) -> list[dict]:
    try:
        with open(home.ledger, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - LEDGER_TAIL_BYTES))
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > LEDGER_TAIL_BYTES:
        lines = lines[1:]  # the first may be cut
    out = []
    for line in reversed([ln for ln in lines if ln.strip()][-LEDGER_LINES:]):
        rec = ledger_record(line)
        if rec is None:
            out.append({"raw": clean(line, 300)})
            continue

        def n(k: str) -> int | str:
            v = rec.get(k)
            return v if isinstance(v, int) else "?"

        targets: dict = rec["targets"] if isinstance(rec.get("targets"), dict) else {}
        where = ", ".join(f"{clean(k, 80)} {v}" for k, v in list(targets.items())[:6])
        when = rec.get("ended") or rec.get("date") or ""
        try:
            when = T.text(datetime.fromisoformat(str(when)), "%a %m-%d %H:%M")
        except ValueError:
            when = clean(when, 40)
        if rec.get("kind") == "distill":
            out.append(_ledger_distill(rec, T))
            continue
        late = f", {n('late')} late" if rec.get("late") else ""
        out.append({
            "when": when,
            "session": clean(rec.get("session", ""), 80),
            "summary": f"{n('lines_in')} lines in: {n('promoted')} promoted"
                       + (f" ({where})" if where else "")
                       + f", {n('carried')} carried, {n('dropped')} dropped{late}",
            "end_reason": clean(rec.get("end_reason") or "", 40),
        })
    return out


def _ledger_distill(rec: dict, T: Times) -> dict:
    """A distillation's ledger line: how many of its lines are cited and supported."""
    def n(k: str) -> int | str:
        v = rec.get(k)
        return v if isinstance(v, int) else "?"

    when = rec.get("created") or ""
    try:
        when = T.text(datetime.fromisoformat(str(when)), "%a %m-%d %H:%M")
    except ValueError:
        when = clean(when, 40)
    fell = " (the model's bullets were not kept)" if rec.get("fallback_reason") else ""
    return {"when": when, "session": "",
            "summary": f"distilled {clean(rec.get('file') or '', 80)} ({clean(rec.get('backend') or '?', 20)}"
                       f"{fell}): {n('bullets')} lines, {n('cited')} cited, {n('supported')} "
                       f"supported, {n('patterns')} patterns",
            "end_reason": ""}
