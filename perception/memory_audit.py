"""`reverie audit memory/FILE` (or `--all`): does the diary support every line of memory?

Two kinds of memory lines carry a trace back to the diary:

- **distilled** lines (``memory/distilled-DAY.md``, ``memory/patterns.md``): each bullet
  ends with the anchors of the diary lines it came from (``diary/DAY.md#s-SID-N``, see
  memory/diary.py), and the file's front matter holds what each cited line hashed as when
  it was distilled. A bullet is **cited** when it has an anchor, **resolved** when every
  anchor names lines that exist, **unchanged** when those lines still hash as recorded
  (an edited diary is reported, not trusted), **supported** when the cited lines back
  it (:func:`support`).
- **promoted** blocks (``memory/notes.md`` and topic files): each block points at its
  session's diary block; its lines are the ones the ledger counted for that file. A line
  is resolved when the diary block exists, unchanged when the block still hashes as the
  ledger recorded at consolidation (and the promoted lines as well), supported when it is
  in the diary block verbatim.

A line that is not supported is a possible confabulation: the audit lists it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reverie.memory import ledger, safe_read
from reverie.memory.diary import SESSION_ID, Diaries, anchors_in, line_hash

FILE_MAX_BYTES = 16 * 1024 * 1024
LEDGER_MAX_BYTES = 64 * 1024 * 1024
MOST = 0.6  # share of a claim's content words the cited lines must hold
# a memory line is read up to this: the agent can write anything into memory/, and no
# line may make a regular expression (or the page) take quadratic time
LINE_MAX = 4000
# words a quotation's bullet may add that its lines do not hold ("the agent wrote …")
QUOTE_FRAME = 3

# -- support: is a claim backed by the lines it cites? -------------------------------------

_STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
me more most my no nor not now of off on once only or other our ours out over own same she
should so some such than that the their them then there these they this those through to too
under until up very was we were what when where which while who whom why with would you your
yours today day also there's it's i'm i've i'd we're don't didn't isn't wasn't
""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
_FIGURE = re.compile(r"\d+(?:[.,:]\d+)*")

_LABEL = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(?:\*\*)?"
                    r"(?:(?:recurring )?(?:decision|commitment|question|lesson|fact)s?"
                    r"(?: \(\d+ days?\))?:(?:\*\*)?\s*)?", re.I)

def _stem(w: str) -> str:
    w = w.lower().replace("\u2019", "'").strip("'-")
    if w.endswith("'s"):
        w = w[:-2]
    for suf, rep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[: len(w) - len(suf)] + rep
    return w


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text)
            if len(w) >= 3 and w.lower().replace("\u2019", "'") not in _STOP}


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split()) if w != "_"}
_NUMBER_WORDS.update({w: str(10 * i) for i, w in enumerate(
    "thirty forty fifty sixty seventy eighty ninety".split(), start=3)})
_NUMBER_WORDS.update(hundred="100", thousand="1000", million="1000000", billion="1000000000")


def digits(text: str) -> set[str]:
    return {f.replace(",", "") for f in _FIGURE.findall(text)}


def figures(text: str) -> set[str]:
    """The figures a text states: in digits, and the number words ("seven", "forty");
    "one" is an ordinary word in prose and not counted."""
    out = digits(text)
    out.update(_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS)
    return out


def _squash(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split()).lower()


def claim_of(line: str) -> str:
    """What a memory line claims: its list marker, reverie's label and its citations off."""
    text = _LABEL.sub("", line[:LINE_MAX], count=1)
    head, sep, tail = text.rpartition(" \u2014 ")
    if sep and anchors_in(tail):
        text = head  # the citations distill writes after the last " — "
    return text.strip().rstrip("\u2014\u2013- ").strip()


def quotations(text: str) -> list[tuple[str, str]]:
    """(“quoted”, its inside) for each quotation in “…” or "…", in order. Scanned with
    str.find, each kind of quote once through: a line of a thousand opening quotes and no
    closing one is read in linear time (a regular expression would retry from each)."""
    found = []
    for open_, close in (("\u201c", "\u201d"), ('"', '"')):
        i = 0
        while (a := text.find(open_, i)) >= 0:
            b = text.find(close, a + 1)
            if b < 0:
                break
            if b > a + 1:
                found.append((a, text[a:b + 1], text[a + 1:b]))
            i = b + 1
    found.sort()
    out, end = [], -1
    for a, whole, inside in found:  # a " inside “…” is part of that quotation
        if a > end:
            out.append((whole, inside))
            end = a + len(whole) - 1
    return out


def support(claim: str, cited: list[str]) -> tuple[bool, str]:
    """(supported, why not): every figure of ``claim`` and most of its content words are
    in the ``cited`` lines, or it is an explicit quotation of them (every figure outside
    the quotation still has to be there)."""
    claim = claim[:LINE_MAX]
    source = "\n".join(cited)
    if not source.strip():
        return False, "cites no line"
    src_words, src_figs = content_words(source), figures(source)
    squashed = _squash(source)
    quoted = False
    rest = claim
    for whole, inside in quotations(claim):
        q = _squash(inside.strip(" .\u2026"))
        parts = [p.strip() for p in q.split("\u2026") if p.strip()]
        if parts and all(p in squashed for p in parts):
            quoted = True
            rest = rest.replace(whole, " ")
        elif q:
            return False, f"quotes {whole[:60]!r}, which the cited lines do not hold"
    missing_figs = sorted(figures(rest) - src_figs)
    if missing_figs:
        return False, f"states {', '.join(missing_figs[:5])}, not in the cited lines"
    words = content_words(rest)
    if quoted and len(words - src_words) <= QUOTE_FRAME:
        return True, ""  # a quotation, and a few words of framing ("the agent wrote")
    if not words:
        return False, "says nothing checkable"
    held = len(words & src_words) / len(words)
    if held < MOST:
        absent = sorted(words - src_words)[:6]
        return False, (f"{len(words & src_words)} of {len(words)} content words in the cited "
                       f"lines (missing: {', '.join(absent)})")
    return True, ""


# -- the audit of one memory file ------------------------------------------------------------

@dataclass
class Problem:
    line: int
    text: str
    why: str


@dataclass
class FileReport:
    path: str
    kind: str  # "distilled", "promoted" or "none"
    lines: int = 0
    cited: int = 0
    resolved: int = 0
    unchanged: int = 0
    supported: int = 0
    problems: list[Problem] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        head = (f"{self.path}: {self.lines} line{'s' if self.lines != 1 else ''} from the "
                f"diary, {self.cited} cited, {self.resolved} resolved, {self.unchanged} "
                f"unchanged, {self.supported} supported")
        if self.note:
            head += f" ({self.note})"
        out = [head]
        for p in self.problems:
            out.append(f"  {self.path}:{p.line}: {p.why}: {p.text[:160]}")
        return "\n".join(out)


def citations(line: str) -> list[str]:
    """The anchors a memory line cites: those after its last " — " (distill writes them
    there), so a diary reference inside the agent's quoted words is not taken for one."""
    line = line[:LINE_MAX]
    head, sep, tail = line.rpartition(" \u2014 ")
    return anchors_in(tail if sep and anchors_in(tail) else line)


def _front(text: str) -> tuple[dict, int]:
    """(front matter, index of the first body line)."""
    lines = text.split("\n")
    if lines and lines[0] == "---":
        for i in range(1, len(lines)):
            if lines[i] == "---":
                try:
                    meta = yaml.safe_load("\n".join(lines[1:i]))
                except yaml.YAMLError:
                    meta = None
                return (meta if isinstance(meta, dict) else {}), i + 1
    return {}, 0


_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
_PROMOTED = re.compile(rf"^<!-- promoted:({SESSION_ID.pattern}) -->$")
_BLOCK_HEAD = re.compile(r"^### (\d{4}-\d{2}-\d{2}) · session (\S+) \(diary/[^)#]+#session-\S+\)$")


def audit_distilled(path: str, text: str, diaries: Diaries) -> FileReport:
    meta, body_at = _front(text)
    cited = meta.get("cited")
    recorded: dict = cited if isinstance(cited, dict) else {}
    report = FileReport(path, "distilled")
    lines = text.split("\n")
    for i in range(body_at, len(lines)):
        line = lines[i][:LINE_MAX]
        if line.startswith("## Receipt"):
            break
        if not _BULLET.match(line):
            continue
        report.lines += 1
        anchors = citations(line)
        if not anchors:
            report.problems.append(Problem(i + 1, line, "uncited"))
            continue
        report.cited += 1
        cites = [diaries.resolve(a) for a in anchors]
        bad = [c.anchor for c in cites if not c.resolved]
        if bad:
            report.problems.append(Problem(i + 1, line, f"does not resolve: {', '.join(bad)}"))
            continue
        report.resolved += 1
        edited = []
        for c in cites:
            for a, ln in zip(c.line_anchors(), c.lines):
                if recorded.get(a) != line_hash(ln):
                    edited.append(a)
        if edited:
            report.problems.append(Problem(
                i + 1, line, f"the diary changed since it was distilled: {', '.join(edited[:4])}"))
        else:
            report.unchanged += 1
        ok, why = support(claim_of(line), [ln for c in cites for ln in c.lines])
        if ok:
            report.supported += 1
        else:
            report.problems.append(Problem(i + 1, line, f"UNSUPPORTED ({why})"))
    return report


def _ledger(root: Path) -> dict[str, dict]:
    try:
        text = safe_read.read_text(root / "memory" / "ledger.jsonl", max_bytes=LEDGER_MAX_BYTES,
                                   errors="replace")
    except (OSError, ValueError):
        return {}
    return ledger.sessions(text)


def _sha_lines(lines: list[str]) -> str:
    return hashlib.sha256(("\n".join(lines) + "\n" if lines else "").encode("utf-8")).hexdigest()


def audit_promoted(path: str, rel: str, text: str, diaries: Diaries,
                   ledger: dict[str, dict]) -> FileReport:
    report = FileReport(path, "promoted")
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if _PROMOTED.match(ln)]
    for k, at in enumerate(starts):
        promoted = _PROMOTED.match(lines[at])
        assert promoted is not None  # starts holds the lines it matches
        sid = promoted.group(1)
        head = _BLOCK_HEAD.match(lines[at + 1]) if at + 1 < len(lines) else None
        if head is None:
            continue
        day = head.group(1)
        stop = starts[k + 1] if k + 1 < len(starts) else len(lines)
        body = lines[at + 3:stop]
        rec = ledger.get(sid) or {}
        count = (rec.get("targets") or {}).get(rel)
        if isinstance(count, int):
            body = body[:count]
        else:
            while body and not body[-1].strip():
                body.pop()
        first = at + 4
        found = (diaries.day(day) or {}).get(sid)
        diary_ok = True
        if found is not None and isinstance((rec.get("sha256") or {}).get("archived"), str):
            d_lines = found.lines
            want = rec["sha256"]["archived"]
            diary_ok = _sha_lines(d_lines) == want or (
                bool(d_lines) and re.fullmatch(r"(`{3,}|~{3,})", d_lines[-1]) is not None
                and _sha_lines(d_lines[:-1]) == want)
        promoted_sha = ((rec.get("sha256") or {}).get("promoted") or {}).get(rel)
        block_ok = promoted_sha is None or _sha_lines(body) == promoted_sha
        held = set(found.lines) if found is not None else set()
        for j, line in enumerate(body):
            report.lines += 1
            report.cited += 1
            if found is None:
                report.problems.append(Problem(first + j, line,
                                               f"does not resolve: diary/{day}.md#session-{sid}"))
                continue
            report.resolved += 1
            if not diary_ok:
                report.problems.append(Problem(first + j, line, f"diary/{day}.md session {sid} "
                                               "changed since it was consolidated"))
            elif not block_ok:
                report.problems.append(Problem(first + j, line, "this block was edited since "
                                               "it was promoted"))
            else:
                report.unchanged += 1
            if line in held:
                report.supported += 1
            else:
                report.problems.append(Problem(first + j, line,
                                               f"UNSUPPORTED (not in diary/{day}.md#session-{sid})"))
    return report


def audit_file(root: Path, path: Path, diaries: Diaries | None = None,
               ledger: dict[str, dict] | None = None) -> FileReport:
    root = Path(root)
    diaries = diaries or Diaries(root)
    try:
        rel = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        rel = str(path)
    try:
        text = safe_read.read_text(path, max_bytes=FILE_MAX_BYTES, errors="replace")
    except (OSError, ValueError) as e:
        return FileReport(rel, "none", problems=[Problem(0, "", f"cannot read: {e}")])
    text = text.replace("\r\n", "\n")
    meta, _ = _front(text)
    if "cited" in meta or Path(rel).name.startswith("distilled-") or Path(rel).name == "patterns.md":
        return audit_distilled(rel, text, diaries)
    if "<!-- promoted:" in text:
        return audit_promoted(rel, rel, text, diaries, _ledger(root) if ledger is None else ledger)
    return FileReport(rel, "none", note="no line in it cites the diary")


def audit_all(root: Path) -> list[FileReport]:
    """Every Markdown file of memory/ that cites the diary (distilled, patterns, promoted)."""
    root = Path(root)
    diaries, ledger = Diaries(root), _ledger(root)
    out = []
    for p in sorted((root / "memory").glob("*.md")):
        if p.is_symlink() or not p.is_file():
            continue
        r = audit_file(root, p, diaries, ledger)
        if r.kind != "none":
            out.append(r)
    return out


def totals(reports: list[FileReport]) -> str:
    keys = ("lines", "cited", "resolved", "unchanged", "supported")
    sums = {k: sum(getattr(r, k) for r in reports) for k in keys}
    return (f"{len(reports)} file{'s' if len(reports) != 1 else ''}: " +
            ", ".join(f"{sums[k]} {k}" for k in keys))
