"""Working.md into the diary: the session's block, then a fresh working.md put in place
without ever replacing one the agent wrote meanwhile (that one is taken in turn and
archived as written late). Every write is idempotent: a marker naming the session.
The blocks' format is read back by memory/diary.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from reverie.memory import _log, atomic, safe_read
from reverie.memory._crash import crash_point
from reverie.memory._home_files import append_once, move_aside
from reverie.memory._plan import Plan
from reverie.memory._taking import decode, keep_whole, sha, wait_for_writers
from reverie.memory.diary import anchor_comment, blocks, diary_heading, late_marker
from reverie.memory.home import Home
from reverie.memory.working import reset_text, split_lines

log = _log.get("reverie.consolidate")

# how often the agent may recreate working.md while the fresh one is being put in place
_RESET_TRIES = 20


def archive(home: Home, plan: Plan) -> None:
    body = "\n".join(plan.lines) if plan.lines else "_(working.md was empty)_"
    if plan.open_fence:
        # an unclosed fence would swallow the rest of the diary when rendered
        body += "\n" + plan.open_fence
    if plan.note:
        body = f"_({plan.note})_"
    block = (f"## Session {plan.sid} · {_span(plan)}\n"
             f'<a id="session-{plan.sid}"></a>\n{_anchor_line(plan)}\n'
             f"<!-- session:{plan.sid} -->\n\n"
             f"{body}\n\n<!-- /session:{plan.sid} -->\n")
    _append_block(home, plan, plan.sid, block)


def _append_block(home: Home, plan: Plan, name: str, block: str) -> None:
    """Append a block to the diary unless the diary already holds it as a block: a marker
    the agent wrote in its own notes (inside an earlier block) does not count, so it can
    never make a later session's lines go unarchived."""
    append_once(home, home.diary(plan.day), block,
                lambda old: name in blocks(old, plan.day.isoformat()),
                start=diary_heading(plan.day))


def _anchor_line(plan: Plan) -> str:
    """The block's citation anchor (memory/diary.py): lines are numbered from 1 after it."""
    return anchor_comment(plan.sid, len(plan.lines) if plan.lines and not plan.note else 1)


def reset(home: Home, plan: Plan) -> None:
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


def _archive_lates(home: Home, plan: Plan) -> None:
    for late in sorted(home.taking_dir.glob(f"{plan.sid}.late.*.taken")):
        _archive_late(home, plan, late)


def _take_late(home: Home, plan: Plan, new: bytes) -> bool:
    """Take away a working.md that appeared since the take; True when it is already ours."""
    late_id = f"{time.time_ns():020d}"
    try:
        why = safe_read.refusal(home.working)
        if why is not None:
            move_aside(home, home.working, f"{plan.sid}.late.{late_id}.refused", why)
            return False
        if os.lstat(home.working).st_size == len(new) \
                and safe_read.read_bytes(home.working, max_bytes=len(new)) == new:
            return True  # ours, from a run that crashed before recording the step
        late = home.taking_dir / f"{plan.sid}.late.{late_id}.taken"
        os.rename(home.working, late)
        wait_for_writers(late)
    except FileNotFoundError:
        pass
    return False


def _archive_late(home: Home, plan: Plan, late: Path) -> None:
    """Archive a working.md written after the take into the diary, then delete it."""
    if late.stat().st_size > plan.working_max:
        kept = keep_whole(home, late, f"{plan.sid}-late-{late.name.split('.')[-2]}", plan.start,
                          plan.working_max)
        raw = f"(kept whole, unread, in {kept['path']})".encode()
    else:
        raw = safe_read.read_bytes(late, max_bytes=plan.working_max)
    text, raw_copy = decode(home, raw, f"{plan.sid}.late.{sha(raw)[:12]}.raw")
    lines = split_lines(text)
    late_id = late.name.split(".")[-2]
    marker = late_marker(plan.sid, sha(raw), len(lines), late_id)
    if lines:
        _append_block(home, plan, f"{plan.sid}-late-{late_id}",
                      f"### Written to working.md after session {plan.sid} ended\n"
                      f'<a id="s-{plan.sid}-late-{late_id}"></a>\n'
                      f"{marker}\n\n" + "\n".join(lines) + "\n"
                      + (f"\n_(raw bytes kept in {raw_copy})_\n" if raw_copy else ""))
        log.warning("working.md changed after the session ended; archived it too",
                    session=plan.sid, lines=len(lines))
    crash_point("reset:late")
    try:
        late.unlink()
    except FileNotFoundError:
        pass


def _span(plan: Plan) -> str:
    end = plan.end.strftime("%H:%M")
    days = (plan.end.date() - plan.start.date()).days
    if days:
        end += f" (+{days} day{'s' if days > 1 else ''})"
    return f"{plan.start.strftime('%H:%M')}–{end}"
