"""Promotion: the lines the agent marked (``#remember``, ``## Keep``) appended to their
memory/ files, once per session (an HTML-comment marker names it), each block pointing
back at the session's diary block.
"""

from __future__ import annotations

from reverie.memory._crash import crash_point
from reverie.memory._home_files import append_once
from reverie.memory._plan import Plan
from reverie.memory.home import Home
from reverie.memory.working import NOTES


def promote(home: Home, plan: Plan) -> None:
    for n, (rel, lines) in enumerate(plan.promoted().items()):
        path = home.root / rel
        heading = "# Notes" if rel == f"memory/{NOTES}.md" else f"# {path.stem}"
        marker = f"<!-- promoted:{plan.sid} -->"
        append_once(home, path,
                    f"{marker}\n"
                    f"### {plan.day.isoformat()} · session {plan.sid} ({plan.anchor})\n\n"
                    + "\n".join(lines) + "\n",
                    lambda old: marker in old.splitlines(), start=heading + "\n")
        if n == 0:
            crash_point("promote:first")

