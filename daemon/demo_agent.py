"""A small bundled agent for ``reverie demo``: it reads its files and writes working.md.

Run as ``python -m reverie.daemon.demo_agent`` (or by path). It reads $REVERIE_STATE and
$REVERIE_DREAM, adds a few notes to $REVERIE_WORKING (one tagged ``#remember``, one
under ``## Carry``) and exits. It uses nothing but the standard library, so it also
runs under a Python without reverie installed.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

_HEADING = re.compile(r"^ {0,3}#{1,2}\s+(.*?)\s*$")


def command() -> list[str]:
    """The argv that starts this agent with the running interpreter."""
    return [sys.executable, "-m", "reverie.daemon.demo_agent"]


def _read(var: str) -> str:
    path = os.environ.get(var)
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _first_sentence(text: str) -> str:
    body = text
    if body.startswith("---"):  # skip YAML front matter
        end = body.find("\n---", 3)
        body = body[end + 4:] if end != -1 else ""
    for line in body.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "<!--", ">", "|", "-")):
            m = re.match(r"(.+?[.!?])(\s|$)", line)
            return (m.group(1) if m else line)[:160]
    return ""


def _signals(state: str) -> list[str]:
    """A few lines of state.md that look like signal readings."""
    out = []
    for line in state.splitlines():
        s = line.strip()
        if s.startswith(("- ", "| ")) and any(ch.isdigit() for ch in s) and "---" not in s:
            out.append(s.lstrip("-| ").rstrip("| ").replace("|", "·"))
        if len(out) == 3:
            break
    return out


def _insert(text: str, section: str, lines: list[str]) -> str:
    """Add ``lines`` at the end of the ``## <section>`` section (appended if absent)."""
    rows = text.splitlines()
    start = next((i for i, r in enumerate(rows)
                  if (m := _HEADING.match(r)) and m.group(1).strip().lower() == section.lower()),
                 None)
    if start is None:
        if rows and rows[-1].strip():
            rows.append("")
        return "\n".join(rows + [f"## {section}"] + lines) + "\n"
    end = next((i for i in range(start + 1, len(rows)) if _HEADING.match(rows[i])), len(rows))
    while end > start + 1 and not rows[end - 1].strip():
        end -= 1
    return "\n".join(rows[:end] + lines + rows[end:]) + "\n"


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


def main() -> int:
    working = os.environ.get("REVERIE_WORKING")
    if not working:
        print("demo agent: REVERIE_WORKING is not set (run me through reverie)", file=sys.stderr)
        return 2
    path = Path(working)
    session = os.environ.get("REVERIE_SESSION_ID", "?")
    reason = os.environ.get("REVERIE_WAKE_REASON", "")
    state, dream = _read("REVERIE_STATE"), _read("REVERIE_DREAM")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = "# Working\n"

    notes = [f"Woke for session {session}" + (f" ({reason})." if reason else ".")]
    opening = _first_sentence(dream)
    notes.append(f"The dream began: \u201c{opening}\u201d" if opening else "No dream to read yet.")
    seen = _signals(state)
    notes.append(f"state.md has {len(state.splitlines())} lines; I looked at: "
                 + ("; ".join(seen) if seen else "nothing that looked like a reading") + ".")
    notes.append(f"Read state.md and the dream on session {session}. #remember")

    text = _insert(text, "Notes", notes)
    text = _insert(text, "Carry", [f"- Look again at what changed since session {session}."])
    _write(path, text)
    print(f"demo agent: wrote {len(notes) + 1} lines to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
