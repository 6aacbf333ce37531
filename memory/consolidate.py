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

This module is the order of the steps and their journal; each step is a room of its
own: taking working.md away (memory/_taking.py), what each line becomes
(memory/working.py, memory/_plan.py), the diary and the fresh working.md
(memory/_archive.py), memory/ files (memory/_promote.py), the ledger (memory/ledger.py).
"""

from __future__ import annotations

from dataclasses import asdict
from zoneinfo import ZoneInfo

from reverie.memory import _log
from reverie.memory._archive import archive, reset
from reverie.memory._crash import crash_point
from reverie.memory._home_files import append_once, read_home
from reverie.memory._plan import MAX_TOPIC_FILES, Plan, plan_of
from reverie.memory._promote import promote
from reverie.memory._taking import (WORKING_MAX_BYTES, WRITER_GRACE, sha, snapshot,
                                     taken_file)
from reverie.memory.diary import SESSION_ID, late_lines
from reverie.memory.home import Home
from reverie.memory.ledger import Ledger, append_consolidation, consolidation
from reverie.memory.store import Intent, Session, Store
from reverie.memory.working import NOTES

# the names callers and tests reach through this module
__all__ = ["consolidate", "recover", "ConsolidationError", "Ledger", "KIND", "CRASH_POINTS",
           "MAX_TOPIC_FILES", "WORKING_MAX_BYTES", "WRITER_GRACE"]

log = _log.get("reverie.consolidate")

KIND = "consolidate"

# intent steps: what is certainly on disk (0: the snapshot is in the intent)
SNAPSHOT, ARCHIVED, PROMOTED, RESET, LEDGER, MARKED, COMMITTED = range(7)

# where a test may kill the process: each sits after a write, before the step is recorded
CRASH_POINTS = ("begin", "snapshot", "archive", "promote:first", "promote", "reset:late",
                "reset", "ledger:jsonl", "ledger", "marked", "git")

class ConsolidationError(Exception):
    """A consolidation that cannot run (one clear line)."""


# -- public API ------------------------------------------------------------------------

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
    if not isinstance(sid, str) or not SESSION_ID.fullmatch(sid):
        raise ConsolidationError(f"session id {sid!r} is not a plain identifier")
    row = store.session(sid) or session
    intent = store.intent(KIND, sid)
    if intent is None:
        if row.consolidated:
            done = consolidation(home, sid)
            if done is None:
                raise ConsolidationError(f"session {sid} is already consolidated")
            return done
        if row.ended is None:
            raise ConsolidationError(f"session {sid} has not ended; it cannot be consolidated")
        crash_point("begin")
        home.ensure()  # refuses a symlinked .consolidating/ before anything is moved there
        cap = WORKING_MAX_BYTES if working_max is None else working_max
        intent = store.begin_intent(KIND, sid, {**snapshot(home, row, tz, cap),
                                                "killed": list(killed or [])})
        crash_point("snapshot")
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

def _run(home: Home, store: Store, intent: Intent, *, tz: ZoneInfo, git: bool) -> Ledger:
    payload = intent.payload
    plan = plan_of(payload, tz)
    sid, step = plan.sid, intent.step
    home.ensure()
    try:  # the snapshot is in the intent now
        taken_file(home, sid).unlink()
    except FileNotFoundError:
        pass

    if step < ARCHIVED:
        archive(home, plan)
        crash_point("archive")
        store.advance_intent(KIND, sid, ARCHIVED)
    if step < PROMOTED:
        promote(home, plan)
        crash_point("promote")
        store.advance_intent(KIND, sid, PROMOTED)
    if step < RESET:
        reset(home, plan)
        crash_point("reset")
        store.advance_intent(KIND, sid, RESET)
    ledger = _ledger(home, plan, payload)
    if step < LEDGER:
        _write_ledger(home, plan, ledger)
        crash_point("ledger")
        store.advance_intent(KIND, sid, LEDGER)
    if step < MARKED:
        store.mark_consolidated(sid)
        crash_point("marked")
        store.advance_intent(KIND, sid, MARKED)
    commit = git_error = None
    if git and step < COMMITTED:
        from reverie.memory import git as _git

        try:
            commit = _git.commit_home(home, _commit_message(ledger))
        except _git.GitError as e:
            git_error = str(e)
            log.warning("git commit failed", session=sid, error=git_error)
        crash_point("git")
        store.advance_intent(KIND, sid, COMMITTED)
    store.finish_intent(KIND, sid)
    log.info("consolidated", session=sid, lines_in=ledger.lines_in, promoted=ledger.promoted,
             carried=ledger.carried, dropped=ledger.dropped, late=ledger.late, commit=commit)
    return Ledger(**{**asdict(ledger), "commit": commit, "git_error": git_error})


def _ledger(home: Home, plan: Plan, payload: dict) -> Ledger:
    promoted = plan.promoted()
    carried, dropped = plan.carried(), plan.dropped()
    late = 0
    try:
        diary = read_home(home, home.diary(plan.day))
        late = late_lines(diary, plan.sid)
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


def _write_ledger(home: Home, plan: Plan, ledger: Ledger) -> None:
    append_consolidation(home, ledger)
    crash_point("ledger:jsonl")
    where = ", ".join(f"{k} {v}" for k, v in ledger.targets.items())
    kept = f" {plan.note}." if plan.note else ""
    if ledger.topics_over_cap:
        kept += (f" {ledger.topics_over_cap} topics over the cap of {MAX_TOPIC_FILES} files "
                 f"went to memory/{NOTES}.md.")
    marker = f"<!-- ledger:{plan.sid} -->"
    append_once(home, home.diary(plan.day),
                f"{marker}\n"
                f"*Consolidated: {ledger.lines_in} lines in, {ledger.archived} archived, "
                f"{ledger.promoted} promoted{f' ({where})' if where else ''}, "
                f"{ledger.carried} carried, {ledger.dropped} dropped"
                f"{f', {ledger.late} written late and archived' if ledger.late else ''}.{kept}*\n",
                lambda old: marker in old.splitlines())


def _commit_message(ledger: Ledger) -> str:
    lines = [ledger.summary(), "", f"diary: {ledger.diary}"]
    lines += [f"{k}: {v} lines" for k, v in ledger.targets.items()]
    return "\n".join(lines) + "\n"


def _sha_lines(lines: list[str]) -> str:
    return sha(("\n".join(lines) + "\n" if lines else "").encode("utf-8"))
