"""working.md's convention, read: what a consolidation does with each line (pure).

A line is promoted into memory/ (tagged ``#remember`` or ``#remember topic:``, or in a
``## Keep`` section), carried into the next working.md (in a ``## Carry`` section), or
dropped (kept only in the diary). Headings and tags inside fenced code are not seen as
such. See docs/memory.md.
"""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_COMMENT_LINE = re.compile(r"^\s*(?:<!--(?:(?!-->).)*-->\s*)+$")
_INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
# the tag, and its topic (group 1): distill strips it from what it quotes with this same rule
TAG = re.compile(r"(?<![\w#])#remember(?![\w-])(?:[ \t]+([a-z0-9_-]{1,64}):(?=\s|$))?")

NOTES = "notes"
# names distill writes into memory/: a #remember tag cannot aim at them
_RESERVED_TOPIC = re.compile(r"distilled(?:-|$)|patterns$")


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
    code, open_fence = code_lines(lines)
    for line, in_code in zip(lines, code):
        if not in_code and (h := _HEADING.match(line)) is not None and len(h.group(1)) <= 2:
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
    return kinds, open_fence


def code_lines(lines: list[str]) -> tuple[list[bool], str | None]:
    """Per line, whether it belongs to a fenced code block (its fences too), and the
    fence that would close a block left open (if any). distill skips code by this."""
    flags: list[bool] = []
    fence: tuple[str, int] | None = None
    for line in lines:
        if fence is not None:
            flags.append(True)
            m = _FENCE_CLOSE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= fence[1]:
                fence = None
        elif (m := _FENCE_OPEN.match(line)) is not None:
            fence = (m.group(1)[0], len(m.group(1)))
            flags.append(True)
        else:
            flags.append(False)
    return flags, fence[0] * fence[1] if fence else None


def strip_tags(line: str, by: str = " ") -> str:
    """``line`` with each #remember tag replaced by ``by``; one inside inline code is text."""
    out, last = [], 0
    for m in _INLINE_CODE.finditer(line):
        out += [TAG.sub(by, line[last:m.start()]), m.group(0)]
        last = m.end()
    return "".join(out) + TAG.sub(by, line[last:])


def _tag(line: str) -> tuple[bool, str | None]:
    m = TAG.search(_INLINE_CODE.sub("", line))
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

