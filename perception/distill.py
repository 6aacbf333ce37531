"""`memory.distill`: a day's diary distilled into memory/, every line citing its sources.

``offline`` (the default when distill is on; ``distill: true``) is extractive and
deterministic: the day's decisions, commitments, open questions, lessons and stated facts,
recognised by their form ("decided", "I will", "must", a question, "learned", "note to
self", a list under a "## Decisions"/"## Questions"/… heading), each a bullet that quotes
its line (trimmed, never reworded) and cites it as ``diary/DAY.md#s-SID-N`` (see
memory/diary.py). Across the last ``memory.patterns_days`` days, the same question,
decision, commitment or lesson on two days or more becomes a ``memory/patterns.md`` entry
citing a line of each day.

``openai`` hands the diary's lines, numbered ``L1``…, to the dream's model (same `dream:`
model, base_url, api_key, timeout, one daily token budget) and asks for bullets that cite
them. A reply whose bullets lack citations, cite lines that do not exist, or are not
supported by their lines (perception/memory_audit.py: :func:`support`) is sent back once
with the reasons; a second bad reply is not published: the offline distillation is
written instead, the reason in ``fallback_reason``. The diary is fenced as data: text the
agent wrote is never taken as an instruction.

Either way the file is ``memory/distilled-DAY.md``, ``status: proposed``, its front
matter recording what every cited line hashed as (``reverie audit`` checks it), and a
line in memory/ledger.jsonl counts its lines cited, resolved and supported.

Rooms: the offline recogniser (perception/_distill_offline.py, which questions are open:
perception/_distill_questions.py), the model path and its gate
(perception/_distill_model.py), patterns.md (perception/_distill_patterns.py), distill's
files and citations (perception/_distill_files.py); this module writes the day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from reverie.memory import _log, atomic, clock, safe_read
from reverie.memory import ledger as ledger_file
from reverie.memory.diary import DIARY_MAX_BYTES, Diaries, blocks
from reverie.memory.home import Home
from reverie.perception._distill_files import (DistillFailure, cite, hash_cited, path_for,
                                               patterns_path, read_own)
from reverie.perception._distill_model import FENCE, check_reply, model_bullets, numbered
from reverie.perception._distill_offline import extract, offline_bullets
from reverie.perception._distill_patterns import PATTERNS_DAYS, write_patterns
from reverie.perception.dreams import DreamOptions
from reverie.perception.memory_audit import audit_distilled

# the names callers and tests reach through this module
__all__ = ["distill_day", "Distilled", "DistillFailure", "path_for", "patterns_path", "FENCE",
           "PATTERNS_DAYS", "check_reply", "numbered", "write_patterns"]

log = _log.get("reverie.distill")



@dataclass
class Distilled:
    path: Path
    tokens: int
    diary_sha256: str
    backend: str = "offline"
    fallback_reason: str | None = None
    counts: dict = field(default_factory=dict)  # bullets, cited, resolved, supported
    patterns: int = 0


# -- the day ---------------------------------------------------------------------------------

def distill_day(home: Home, store, opts: DreamOptions, *, day: date, secrets: tuple[str, ...] = (),
                mode: str | bool | None = "openai",
                patterns_days: int = PATTERNS_DAYS) -> Distilled | None:
    """Write ``memory/distilled-DAY.md`` from ``diary/DAY.md`` (and refresh
    ``memory/patterns.md``); None when there is no diary or it has not changed since the
    last distillation. Raises DistillFailure."""
    mode = "offline" if mode in (True, None, "offline") else str(mode)
    diary = home.diary(day)
    try:
        raw = safe_read.read_bytes(diary, max_bytes=DIARY_MAX_BYTES)
    except FileNotFoundError:
        return None
    except safe_read.UnsafeFile as e:
        raise DistillFailure(f"diary/{diary.name}: {e.strerror}") from None
    digest = hashlib.sha256(raw).hexdigest()
    out = path_for(home, day)
    old = read_own(out)
    if old is not None and f"diary_sha256: {digest}" in old:
        _ledger_once(home, day, out, old, digest)  # a crash may have come between the two
        return None  # this diary was already distilled as it is
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    found = blocks(text, day.isoformat())

    tokens, reason, backend = 0, None, mode
    sections: list[tuple[str, str, list]] = []
    if mode == "openai":
        rows = numbered(found)
        if rows:
            bullets, tokens, reason = model_bullets(rows, opts, store, secrets)
            sections = [("", f"- {claim} \u2014 {cite(cites)}", cites) for claim, cites in bullets]
        if reason:
            backend = "offline"
    if backend == "offline":
        sections = offline_bullets(extract(found))

    hashes: dict[str, str] = {}
    for _, _, cites in sections:
        hash_cited(cites, hashes)
    body_lines, current = [], None
    for title, bullet, _ in sections:
        if title and title != current:
            body_lines += ["", f"## {title}", ""]
            current = title
        body_lines.append(bullet)
    if not sections:
        body_lines = ["", "_Nothing to keep from this day._"]
    meta = {"status": "proposed", "date": day.isoformat(), "source": f"diary/{diary.name}",
            "diary_sha256": digest, "backend": backend,
            "model": opts.model if mode == "openai" else None,
            "fallback_reason": reason, "tokens": tokens,
            "created": clock.now().isoformat(timespec="seconds"),
            "sessions": [b.name for b in found.values()], "cited": hashes}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    doc = (f"---\n{front}---\n\n# Distilled from the diary of {day.isoformat()} (proposed)\n"
           + "\n".join(body_lines) + "\n\n## Receipt\n\n"
           f"- source: diary/{diary.name} ({len(raw)} bytes, sha256 {digest[:16]}…)\n"
           f"- written by: {backend}"
           + (f" (the model's bullets were not kept: {reason})" if reason else "") + "\n"
           "- every bullet ends with the diary lines it comes from; `reverie audit "
           f"memory/{out.name}` checks them\n"
           "- keep what is right (move it into a memory file), delete this file otherwise\n")
    atomic.write_text(out, doc)
    report = audit_distilled(f"memory/{out.name}", doc, Diaries(home.root))
    counts = {"bullets": report.lines, "cited": report.cited, "resolved": report.resolved,
              "supported": report.supported}
    try:
        n_patterns = write_patterns(home, day, patterns_days)
    except DistillFailure as e:  # the day's file stands; patterns.md is someone else's
        log.warning("distill.patterns_refused", error=str(e))
        n_patterns = 0
    _ledger(home, day, out, backend, reason, counts, n_patterns, digest)
    return Distilled(out, tokens, digest, backend, reason, counts, n_patterns)


def _ledger_once(home: Home, day: date, out: Path, doc: str, digest: str) -> None:
    """The ledger line of a distillation already written, if the ledger lacks it."""
    try:
        ledger = safe_read.read_text(home.ledger, max_bytes=DIARY_MAX_BYTES, errors="replace")
    except (OSError, ValueError):
        ledger = ""
    if f'"diary_sha256": "{digest}"' in ledger:
        return
    meta = yaml.safe_load(doc.split("---\n", 2)[1]) if doc.count("---\n") >= 2 else {}
    meta = meta if isinstance(meta, dict) else {}
    report = audit_distilled(f"memory/{out.name}", doc, Diaries(home.root))
    counts = {"bullets": report.lines, "cited": report.cited, "resolved": report.resolved,
              "supported": report.supported}
    _ledger(home, day, out, str(meta.get("backend") or "?"), meta.get("fallback_reason"),
            counts, 0, digest)


def _ledger(home: Home, day: date, out: Path, backend: str, reason: str | None, counts: dict,
            n_patterns: int, digest: str) -> None:
    ledger_file.append(home, {"kind": "distill", "date": day.isoformat(),
                              "file": f"memory/{out.name}", "backend": backend,
                              **({"fallback_reason": reason} if reason else {}), **counts,
                              "patterns": n_patterns, "diary_sha256": digest,
                              "created": clock.now().isoformat(timespec="seconds")})
