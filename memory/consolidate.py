"""Consolidation: what happens to working.md after a session ends.

working.md goes into the day's diary, the lines the agent marked are promoted into
memory/, working.md starts again from its template with the ``## Carry`` section, and
a ledger line records the counts and hashes. See docs/memory.md for the convention.

Crash safety. The first thing done is a snapshot of working.md into an intent record
in the store (``intents``, kind "consolidate", key the session id). Every later step
is a pure function of that snapshot, so it never re-reads a working.md that might have
changed, and every write is idempotent on its own (an HTML-comment marker naming the
session in the file it writes, a session id in the ledger). The intent's step says
which writes are certainly done; a crash (SIGKILL) anywhere leaves either a step not
started, or a write done whose marker makes the rerun skip it. ``recover`` reruns
every open intent and every ended session not yet consolidated.

Accounting. Every line of the snapshot is archived to the diary (``archived ==
lines_in`` always), and each line is also exactly one of: promoted (copied into a
memory/ file), carried (part of a ``## Carry`` section, copied into the next
working.md) or dropped (kept only in the diary: headings, blank lines, template
guidance, ordinary notes). ``promoted + carried + dropped == lines_in``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from reverie.memory import _log, atomic, clock, safe_read
from reverie.memory import ledger as ledger_file
from reverie.memory.home import Home, working_template
from reverie.memory.store import Intent, Session, Store

log = _log.get("reverie.consolidate")

KIND = "consolidate"

# intent steps: what is certainly on disk (0: the snapshot is in the intent)
SNAPSHOT, ARCHIVED, PROMOTED, RESET, LEDGER, MARKED, COMMITTED = range(7)

# where a test may kill the process: each sits after a write, before the step is recorded
CRASH_POINTS = ("begin", "snapshot", "archive", "promote:first", "promote", "reset:late",
                "reset", "ledger:jsonl", "ledger", "marked", "git")

_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_COMMENT_LINE = re.compile(r"^\s*(?:<!--(?:(?!-->).)*-->\s*)+$")
_INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_TAG = re.compile(r"(?<![\w#])#remember(?![\w-])(?:[ \t]+([a-z0-9_-]{1,64}):(?=\s|$))?")
_LATE_MARKER = r"<!-- session:{sid} late sha256:([0-9a-f]{{64}}) lines:(\d+)(?: id:\d+)? -->"

NOTES = "notes"
# names distill writes into memory/: a #remember tag cannot aim at them
_RESERVED_TOPIC = re.compile(r"distilled(?:-|$)|patterns$")

MiB = 1024 * 1024
# working.md is read into memory up to this (the default of `memory.working_max`); a
# larger one is kept whole in diary/, unread
WORKING_MAX_BYTES = 16 * MiB
# the diary, memory/ files and the ledger are read whole to append to them
HOME_FILE_MAX_BYTES = 64 * MiB
# topics of #remember lines that get a memory/ file of their own, per consolidation
MAX_TOPIC_FILES = 50
# how long a writer that still holds the taken working.md open may take to finish
WRITER_GRACE = 3.0
# how often the agent may recreate working.md while the fresh one is being put in place
_RESET_TRIES = 20


class ConsolidationError(Exception):
    """A consolidation that cannot run (one clear line)."""


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


# -- test hook -----------------------------------------------------------------------

def _crash_point(name: str) -> None:
    # test-only: the crash tests kill a real subprocess at each step; the unblock tests
    # wedge one there for good, as a read the home made hang would
    if os.environ.get("REVERIE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("REVERIE_HANG_AT") == name:
        while True:
            time.sleep(3600)


# -- public API ------------------------------------------------------------------------

def ensure_diary(home: Home, day: date) -> Path:
    """The diary file of ``day``, created with its heading if missing."""
    path = home.diary(day)
    try:
        _read_home(home, path)
    except FileNotFoundError:
        atomic.write_text(path, f"# Diary {day.isoformat()}\n")
    return path


def consolidate(home: Home, store: Store, session: Session, *, tz: ZoneInfo,
                git: bool = False, working_max: int | None = None,
                killed: list[str] | None = None) -> Ledger:
    """Consolidate one ended session (idempotent; resumes a crashed run).

    working.md is first taken away by an atomic rename into ``.consolidating/`` (in the
    home, so the rename stays on its file system), so a line the agent appends while this
    runs lands either in the taken file (read once every writer holding it open is done)
    or in a new working.md (archived as written late).
    ``killed`` (what was stopped with the session beside its agent) goes into the ledger."""
    sid = session.id
    if not isinstance(sid, str) or not _SESSION_ID.fullmatch(sid):
        raise ConsolidationError(f"session id {sid!r} is not a plain identifier")
    row = store.session(sid) or session
    intent = store.intent(KIND, sid)
    if intent is None:
        if row.consolidated:
            done = _ledger_record(home, sid)
            if done is None:
                raise ConsolidationError(f"session {sid} is already consolidated")
            return done
        if row.ended is None:
            raise ConsolidationError(f"session {sid} has not ended; it cannot be consolidated")
        _crash_point("begin")
        home.ensure()  # refuses a symlinked .consolidating/ before anything is moved there
        cap = WORKING_MAX_BYTES if working_max is None else working_max
        intent = store.begin_intent(KIND, sid, {**_snapshot(home, row, tz, cap),
                                                "killed": list(killed or [])})
        _crash_point("snapshot")
    return _run(home, store, intent, tz=tz, git=git)


def recover(home: Home, store: Store, *, tz: ZoneInfo, git: bool = False,
            working_max: int | None = None) -> list[Ledger]:
    """Finish every interrupted consolidation, then consolidate every ended session
    that is not yet consolidated. Run it before the next session can start."""
    out: list[Ledger] = []
    seen: set[str] = set()
    for intent in store.open_intents(KIND):
        out.append(_run(home, store, intent, tz=tz, git=git))
        seen.add(intent.key)
    for row in store.unconsolidated_sessions():
        if row.id not in seen:
            out.append(consolidate(home, store, row, tz=tz, git=git, working_max=working_max))
    return out


# -- the steps ---------------------------------------------------------------------------

def _taken(home: Home, sid: str) -> Path:
    return home.taking_dir / f"{sid}.working.taken"


def _snapshot(home: Home, row: Session, tz: ZoneInfo, cap: int) -> dict:
    sid = row.id
    taken = _taken(home, sid)
    refused = kept_whole = None
    missing = False
    if not os.path.lexists(taken):
        try:
            why = safe_read.refusal(home.working)
            if why is None:
                os.rename(home.working, taken)
                _wait_for_writers(taken)
            else:
                refused = _move_aside(home, home.working, f"{sid}.working.refused", why)
        except FileNotFoundError:
            missing = True
    raw = b""
    if os.path.lexists(taken):
        # The check is the open (O_NOFOLLOW|O_NONBLOCK, then fstat of the descriptor): the
        # agent may swap a FIFO in between an lstat and the rename above, and whatever is
        # here now is what gets judged, never waited on, and moved aside if refused.
        try:
            fd = safe_read.open_regular(taken)
        except safe_read.UnsafeFile as e:
            refused = _move_aside(home, taken, f"{sid}.working.refused",
                                  e.reason.removeprefix("refused: "))
        else:
            with os.fdopen(fd, "rb") as f:
                big = os.fstat(f.fileno()).st_size > cap
                if not big:
                    raw = f.read(cap + 1)
                    big = len(raw) > cap  # it grew after the fstat
            if big:
                raw = b""
                kept_whole = _keep_whole(home, taken, sid, row.started.astimezone(tz), cap)
    text, raw_copy = _decode(home, raw, f"{sid}.working.raw")
    return {"text": text, "sha256": _sha(raw), "bytes": len(raw), "missing": missing,
            "raw_copy": raw_copy, "refused": refused, "kept_whole": kept_whole,
            "working_max": cap,
            "session": {"id": row.id, "started": clock.to_ts(row.started),
                        "ended": clock.to_ts(row.ended) if row.ended else None,
                        "end_reason": row.end_reason}}


def _move_aside(home: Home, path: Path, name: str, why: str) -> str:
    """Rename a non-file the agent put where reverie reads (a FIFO, a device link) out of
    the way, unopened: renaming never blocks. Returns the one-line reason."""
    aside = home.taking_dir / name
    os.replace(path, aside)
    rel = path.relative_to(home.root) if home.root in path.parents else path.name
    if ", not " not in why:  # "a FIFO" from an lstat; an open's refusal says it whole
        why += ", not a regular file"
    reason = f"{rel} was {why}; moved unread to {aside.relative_to(home.root)}"
    log.error("consolidate.refused", reason=reason)
    return reason


def _keep_whole(home: Home, path: Path, sid: str, start: datetime, cap: int) -> dict:
    """An oversized working.md goes into diary/ whole, by rename: never read into memory."""
    dest = home.diary_dir / f"{start.date().isoformat()}.session-{sid}.working.md"
    n = os.lstat(path).st_size
    os.replace(path, dest)
    atomic.fsync_dir(home.diary_dir)
    rel = str(dest.relative_to(home.root))
    log.warning("consolidate.oversized", session=sid, bytes=n, cap=cap, kept=rel)
    return {"path": rel, "bytes": n, "cap": cap}


def _wait_for_writers(path: Path, grace: float | None = None) -> None:
    """Return once no process holds ``path`` open for writing (or after ``grace`` seconds):
    a writer that opened working.md before it was taken finishes its line into the taken
    file."""
    grace = WRITER_GRACE if grace is None else grace
    deadline = time.monotonic() + grace
    while _held_open(path):
        if time.monotonic() >= deadline:
            log.warning("consolidate.writer_still_open", path=path.name, grace=grace)
            return
        time.sleep(0.02)


def _held_open(path: Path) -> bool:
    try:
        st = os.lstat(path)
        pids = os.listdir("/proc")
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    for pid in pids:
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                s = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if (s.st_dev, s.st_ino) == key and _writable(pid, fd):
                return True
    return False


def _writable(pid: str, fd: str) -> bool:
    # a reader (`tail -f working.md`) does not hold up consolidation; a writer does
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as f:
            for line in f:
                if line.startswith("flags:"):
                    return int(line.split()[1], 8) & 0o3 != 0
    except (OSError, ValueError, IndexError):
        pass
    return True


def _read_home(home: Home, path: Path, max_bytes: int = HOME_FILE_MAX_BYTES) -> str:
    """A diary/memory/ledger file reverie appends to. One that is not a plain file within the
    cap (a FIFO, a device link, a flood) is moved aside with a logged reason and counts as
    missing, so consolidation never blocks on it and never loses what was there."""
    try:
        return safe_read.read_text(path, max_bytes=max_bytes, errors="replace")
    except safe_read.UnsafeFile as e:
        if os.path.lexists(path):
            _move_aside(home, path, f"{path.name}.{time.time_ns()}.refused",
                        (e.strerror or "").removeprefix("refused: ").removesuffix(", not a regular file"))
        raise FileNotFoundError(str(e)) from None


def _decode(home: Home, raw: bytes, copy_name: str) -> tuple[str, str | None]:
    """Text of ``raw``; bytes that are not UTF-8 are kept as a raw copy, never lost."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        path = home.taking_dir / copy_name
        atomic.write_bytes(path, raw)
        return raw.decode("utf-8", errors="replace"), str(path.relative_to(home.root))


@dataclass
class _Plan:
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


def _plan(payload: dict, tz: ZoneInfo) -> _Plan:
    s = payload["session"]
    start = clock.from_ts(s["started"]).astimezone(tz)
    end = clock.from_ts(s["ended"]).astimezone(tz)
    lines = split_lines(payload["text"])
    kinds, open_fence = classify(lines)
    return _Plan(s["id"], start.date(), start, end, s.get("end_reason"), lines, kinds,
                 open_fence, working_template(),
                 payload.get("working_max") or WORKING_MAX_BYTES, _note(payload))


def _note(payload: dict) -> str | None:
    if payload.get("refused"):
        return payload["refused"]
    kept = payload.get("kept_whole")
    if kept:
        cap = kept.get("cap") or WORKING_MAX_BYTES  # a snapshot of an older reverie has none
        return (f"working.md was {kept['bytes']} bytes, over the {_size(cap)} cap; "
                f"kept whole, unread, in {kept['path']}")
    return None


def _run(home: Home, store: Store, intent: Intent, *, tz: ZoneInfo, git: bool) -> Ledger:
    payload = intent.payload
    plan = _plan(payload, tz)
    sid, step = plan.sid, intent.step
    home.ensure()
    try:  # the snapshot is in the intent now
        _taken(home, sid).unlink()
    except FileNotFoundError:
        pass

    if step < ARCHIVED:
        _archive(home, plan)
        _crash_point("archive")
        store.advance_intent(KIND, sid, ARCHIVED)
    if step < PROMOTED:
        _promote(home, plan)
        _crash_point("promote")
        store.advance_intent(KIND, sid, PROMOTED)
    if step < RESET:
        _reset(home, plan, payload)
        _crash_point("reset")
        store.advance_intent(KIND, sid, RESET)
    ledger = _ledger(home, plan, payload)
    if step < LEDGER:
        _write_ledger(home, plan, ledger)
        _crash_point("ledger")
        store.advance_intent(KIND, sid, LEDGER)
    if step < MARKED:
        store.mark_consolidated(sid)
        _crash_point("marked")
        store.advance_intent(KIND, sid, MARKED)
    commit = git_error = None
    if git and step < COMMITTED:
        from reverie.memory import git as _git

        try:
            commit = _git.commit_home(home, _commit_message(ledger))
        except _git.GitError as e:
            git_error = str(e)
            log.warning("git commit failed", session=sid, error=git_error)
        _crash_point("git")
        store.advance_intent(KIND, sid, COMMITTED)
    store.finish_intent(KIND, sid)
    log.info("consolidated", session=sid, lines_in=ledger.lines_in, promoted=ledger.promoted,
             carried=ledger.carried, dropped=ledger.dropped, late=ledger.late, commit=commit)
    return Ledger(**{**asdict(ledger), "commit": commit, "git_error": git_error})


def _archive(home: Home, plan: _Plan) -> None:
    path = ensure_diary(home, plan.day)
    body = "\n".join(plan.lines) if plan.lines else "_(working.md was empty)_"
    if plan.open_fence:
        # an unclosed fence would swallow the rest of the diary when rendered
        body += "\n" + plan.open_fence
    if plan.note:
        body = f"_({plan.note})_"
    _append_block(home, path, plan,
                  f"## Session {plan.sid} · {_span(plan)}\n"
                  f'<a id="session-{plan.sid}"></a>\n{_anchor_line(plan)}\n'
                  f"<!-- session:{plan.sid} -->\n\n"
                  f"{body}\n\n<!-- /session:{plan.sid} -->\n")


def _append_block(home: Home, path: Path, plan: _Plan, block: str) -> None:
    """Append the session's block unless the diary already holds it as a block: a marker
    the agent wrote in its own notes (inside an earlier block) does not count, so it can
    never make a later session's lines go unarchived."""
    from reverie.memory.diary import blocks

    try:
        old = _read_home(home, path)
    except FileNotFoundError:
        old = ""
    if plan.sid in blocks(old, plan.day.isoformat()):
        return
    sep = "" if not old or old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
    atomic.write_text(path, old + sep + block)


def _anchor_line(plan: _Plan) -> str:
    """The block's citation anchor (memory/diary.py): lines are numbered from 1 after it."""
    from reverie.memory.diary import anchor_comment

    return anchor_comment(plan.sid, len(plan.lines) if plan.lines and not plan.note else 1)


def _promote(home: Home, plan: _Plan) -> None:
    for n, (rel, lines) in enumerate(plan.promoted().items()):
        path = home.root / rel
        heading = "# Notes" if rel == f"memory/{NOTES}.md" else f"# {path.stem}"
        try:
            _read_home(home, path, max_bytes=HOME_FILE_MAX_BYTES)
        except FileNotFoundError:
            atomic.write_text(path, heading + "\n")
        _append_once(home, path, f"<!-- promoted:{plan.sid} -->",
                     f"<!-- promoted:{plan.sid} -->\n"
                     f"### {plan.day.isoformat()} · session {plan.sid} ({plan.anchor})\n\n"
                     + "\n".join(lines) + "\n")
        if n == 0:
            _crash_point("promote:first")


def _reset(home: Home, plan: _Plan, payload: dict) -> None:
    """Put the fresh working.md in place without ever replacing one the agent wrote: a
    working.md that appeared since the take is taken in turn and archived as written late."""
    new = reset_text(plan.template, plan.carried()).encode()
    try:
        for _ in range(_RESET_TRIES):
            _archive_lates(home, plan)
            if atomic.create_bytes(home.working, new):
                return
            if _take_late(home, plan, new):
                return
        log.warning("consolidate.reset_gave_up", session=plan.sid,
                    reason="working.md kept being recreated; left as the agent wrote it")
    finally:
        _archive_lates(home, plan)
        atomic.create_bytes(home.working, new)  # never replaces: only if none is there


def _archive_lates(home: Home, plan: _Plan) -> None:
    for late in sorted(home.taking_dir.glob(f"{plan.sid}.late.*.taken")):
        _archive_late(home, plan, late)


def _take_late(home: Home, plan: _Plan, new: bytes) -> bool:
    """Take away a working.md that appeared since the take; True when it is already ours."""
    late_id = f"{time.time_ns():020d}"
    try:
        why = safe_read.refusal(home.working)
        if why is not None:
            _move_aside(home, home.working, f"{plan.sid}.late.{late_id}.refused", why)
            return False
        if os.lstat(home.working).st_size == len(new) \
                and safe_read.read_bytes(home.working, max_bytes=len(new)) == new:
            return True  # ours, from a run that crashed before recording the step
        late = home.taking_dir / f"{plan.sid}.late.{late_id}.taken"
        os.rename(home.working, late)
        _wait_for_writers(late)
    except FileNotFoundError:
        pass
    return False


def _archive_late(home: Home, plan: _Plan, late: Path) -> None:
    """Archive a working.md written after the take into the diary, then delete it."""
    if late.stat().st_size > plan.working_max:
        kept = _keep_whole(home, late, f"{plan.sid}-late-{late.name.split('.')[-2]}", plan.start,
                           plan.working_max)
        raw = f"(kept whole, unread, in {kept['path']})".encode()
    else:
        raw = safe_read.read_bytes(late, max_bytes=plan.working_max)
    text, raw_copy = _decode(home, raw, f"{plan.sid}.late.{_sha(raw)[:12]}.raw")
    lines = split_lines(text)
    late_id = late.name.split(".")[-2]
    marker = f"<!-- session:{plan.sid} late sha256:{_sha(raw)} lines:{len(lines)} id:{late_id} -->"
    if lines:
        _append_once(home, home.diary(plan.day), marker,
                     f"### Written to working.md after session {plan.sid} ended\n"
                     f'<a id="s-{plan.sid}-late-{late_id}"></a>\n'
                     f"{marker}\n\n" + "\n".join(lines) + "\n"
                     + (f"\n_(raw bytes kept in {raw_copy})_\n" if raw_copy else ""))
        log.warning("working.md changed after the session ended; archived it too",
                    session=plan.sid, lines=len(lines))
    _crash_point("reset:late")
    try:
        late.unlink()
    except FileNotFoundError:
        pass


def _ledger(home: Home, plan: _Plan, payload: dict) -> Ledger:
    promoted = plan.promoted()
    carried, dropped = plan.carried(), plan.dropped()
    late = 0
    try:
        diary = _read_home(home, home.diary(plan.day))
        late = sum(int(m.group(2)) for m in
                   re.finditer(_LATE_MARKER.format(sid=re.escape(plan.sid)), diary))
    except FileNotFoundError:
        pass
    n_promoted = sum(len(v) for v in promoted.values())
    return Ledger(
        session=plan.sid, date=plan.day.isoformat(),
        started=plan.start.isoformat(timespec="seconds"),
        ended=plan.end.isoformat(timespec="seconds"), end_reason=plan.end_reason,
        lines_in=len(plan.lines), archived=len(plan.lines), promoted=n_promoted,
        carried=len(carried), dropped=len(dropped), late=late,
        targets={k: len(v) for k, v in promoted.items()},
        sha256={"input": payload["sha256"], "archived": _sha_lines(plan.lines),
                "promoted": {k: _sha_lines(v) for k, v in promoted.items()},
                "carried": _sha_lines(carried), "dropped": _sha_lines(dropped)},
        diary=plan.anchor, note=plan.note, killed=list(payload.get("killed") or []),
        topics_over_cap=plan.topics_over_cap())


def _write_ledger(home: Home, plan: _Plan, ledger: Ledger) -> None:
    with LEDGER_LOCK:
        if _ledger_record(home, plan.sid) is None:
            _append_ledger_line(home, ledger.to_json())
    _crash_point("ledger:jsonl")
    where = ", ".join(f"{k} {v}" for k, v in ledger.targets.items())
    kept = f" {plan.note}." if plan.note else ""
    if ledger.topics_over_cap:
        kept += (f" {ledger.topics_over_cap} topics over the cap of {MAX_TOPIC_FILES} files "
                 f"went to memory/{NOTES}.md.")
    _append_once(home, home.diary(plan.day), f"<!-- ledger:{plan.sid} -->",
                 f"<!-- ledger:{plan.sid} -->\n"
                 f"*Consolidated: {ledger.lines_in} lines in, {ledger.archived} archived, "
                 f"{ledger.promoted} promoted{f' ({where})' if where else ''}, "
                 f"{ledger.carried} carried, {ledger.dropped} dropped"
                 f"{f', {ledger.late} written late and archived' if ledger.late else ''}.{kept}*\n")


# the ledger is rewritten whole to append a line: the daemon's distill job appends too
LEDGER_LOCK = threading.RLock()


def append_ledger(home: Home, record: dict) -> None:
    """Append one JSON line to memory/ledger.jsonl (a distillation's; see perception/distill.py)."""
    with LEDGER_LOCK:
        _append_ledger_line(home, json.dumps(record, sort_keys=True, ensure_ascii=False))


def _append_ledger_line(home: Home, line: str) -> None:
    try:
        old = _read_home(home, home.ledger)
    except FileNotFoundError:
        old = ""
    sep = "\n" if old and not old.endswith("\n") else ""
    atomic.write_text(home.ledger, old + sep + line + "\n")


def _ledger_record(home: Home, sid: str) -> Ledger | None:
    try:
        text = _read_home(home, home.ledger)
    except FileNotFoundError:
        return None
    rec = ledger_file.sessions(text).get(sid)
    if rec is None:
        return None
    try:
        return Ledger(**rec)
    except TypeError:
        return None


def _commit_message(ledger: Ledger) -> str:
    lines = [ledger.summary(), "", f"diary: {ledger.diary}"]
    lines += [f"{k}: {v} lines" for k, v in ledger.targets.items()]
    return "\n".join(lines) + "\n"


# -- parsing (pure) ---------------------------------------------------------------------------

def split_lines(text: str) -> list[str]:
    """Lines of ``text``: CRLF, CR and LF all end a line; a final line break adds no line."""
    if not text:
        return []
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def classify(lines: list[str]) -> tuple[list[tuple[str, str | None]], str | None]:
    """What happens to each line, and the closing fence of a block left open (if any).

    A ``## Keep`` / ``## Carry`` section runs to the next heading of level 1 or 2.
    Headings and tags inside fenced code blocks are not seen as such.
    """
    kinds: list[tuple[str, str | None]] = []
    section: str | None = None
    fence: tuple[str, int] | None = None
    for line in lines:
        in_code = fence is not None
        if fence is not None:
            m = _FENCE_CLOSE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= fence[1]:
                fence = None
        elif (m := _FENCE_OPEN.match(line)) is not None:
            fence = (m.group(1)[0], len(m.group(1)))
            in_code = True
        elif (h := _HEADING.match(line)) is not None and len(h.group(1)) <= 2:
            title = (h.group(2) or "").strip().lower()
            section = title if len(h.group(1)) == 2 and title in ("keep", "carry") else None
            kinds.append(("carry", None) if section == "carry" else ("drop", None))
            continue
        if section == "carry":
            kinds.append(("carry", None))
        elif in_code:
            kinds.append(("promote", NOTES) if section == "keep" else ("drop", None))
        else:
            tagged, topic = _tag(line)
            if section == "keep" and line.strip() and not _COMMENT_LINE.match(line):
                kinds.append(("promote", topic or NOTES))
            elif section != "keep" and tagged:
                kinds.append(("promote", topic or NOTES))
            else:
                kinds.append(("drop", None))
    open_fence = fence[0] * fence[1] if fence else None
    return kinds, open_fence


def _tag(line: str) -> tuple[bool, str | None]:
    m = _TAG.search(_INLINE_CODE.sub("", line))
    if m is None:
        return False, None
    topic = m.group(1)
    if topic is not None and _RESERVED_TOPIC.match(topic):
        return True, NOTES  # distill's files are not the agent's to write into
    return True, topic


def reset_text(template: str, carried: list[str]) -> str:
    """The fresh working.md: the template, its Carry section replaced by ``carried``."""
    if not carried:
        return template
    t_lines = split_lines(template)
    t_kinds, _ = classify(t_lines)
    at = [i for i, (k, _) in enumerate(t_kinds) if k == "carry"]
    if at:
        kept = [ln for ln, (k, _) in zip(t_lines, t_kinds) if k != "carry"]
        new = kept[:at[0]] + carried + kept[at[0]:]
    else:
        new = t_lines + [""] + carried
    return "\n".join(new) + "\n"


# -- helpers -------------------------------------------------------------------------------

def _append_once(home: Home, path: Path, marker: str, block: str) -> None:
    """Append ``block`` unless a line equal to ``marker`` is already in ``path``."""
    try:
        old = _read_home(home, path)
    except FileNotFoundError:
        old = ""
    if marker in old.splitlines():
        return
    sep = "" if not old or old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
    atomic.write_text(path, old + sep + block)


def _span(plan: _Plan) -> str:
    end = plan.end.strftime("%H:%M")
    days = (plan.end.date() - plan.start.date()).days
    if days:
        end += f" (+{days} day{'s' if days > 1 else ''})"
    return f"{plan.start.strftime('%H:%M')}–{end}"


def _size(n: int) -> str:
    for unit, k in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= k and n % k == 0:
            return f"{n // k} {unit}"
    return f"{n} bytes"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha_lines(lines: list[str]) -> str:
    return _sha(("\n".join(lines) + "\n" if lines else "").encode("utf-8"))
