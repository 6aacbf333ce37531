"""What distill writes into memory/: its files' names, the front matter that marks them as
distill's (one someone else wrote is never overwritten), and bullets citing diary lines.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from reverie.memory import safe_read
from reverie.memory.diary import Block, line_hash
from reverie.memory.home import Home
from reverie.perception.dreams.llm import ModelFailure

PROPOSED = "---\nstatus: proposed\n"


class DistillFailure(ModelFailure):
    """No distillation this time; ``str(e)`` says why in one line, free of secrets."""


def path_for(home: Home, day: date) -> Path:
    return home.memory_dir / f"distilled-{day.isoformat()}.md"


def patterns_path(home: Home) -> Path:
    return home.memory_dir / "patterns.md"


def read_own(path: Path) -> str | None:
    """An earlier file of distill's (None when there is none); refuses one someone else wrote."""
    try:
        old = safe_read.read_text(path, errors="replace")
    except FileNotFoundError:
        return None
    except safe_read.UnsafeFile as e:
        raise DistillFailure(f"memory/{path.name}: {e.strerror}") from None
    if not old.startswith(PROPOSED):
        # the name is distill's, but this file is not: never overwrite what someone wrote
        raise DistillFailure(f"memory/{path.name} was not written by distill; not overwritten "
                             "(rename it to keep it)")
    return old


def cite(cites: list[tuple[Block, int]]) -> str:
    """``[diary/DAY.md#s-SID-N](../diary/DAY.md#s-SID)``, consecutive lines as one range."""
    out: list[str] = []
    runs: list[list] = []
    unique = {(b.day, b.name, n): (b, n) for b, n in cites}
    for block, n in (unique[k] for k in sorted(unique)):
        if runs and runs[-1][0] is block and runs[-1][2] == n - 1:
            runs[-1][2] = n
        else:
            runs.append([block, n, n])
    for block, a, b in runs:
        out.append(f"[{block.anchor(a, b)}](../{block.href})")
    return ", ".join(out)


def hash_cited(cites: list[tuple[Block, int]], into: dict[str, str]) -> None:
    for block, n in cites:
        into[block.anchor(n)] = line_hash(block.lines[n - 1])


def quoted(text: str) -> str:
    return f"\u201c{text}\u201d"
