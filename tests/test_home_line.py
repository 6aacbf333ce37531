"""The top-level ``home:`` line read as text is one rule: `reverie reload` reads a file too
broken for YAML by it (config.home_hint) and `reverie status` finds the home by it before
any YAML (the snapshot), so both take it from daemon/_toplevel.py and no module writes its
own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reverie.daemon import config, snapshot

ROOT = Path(__file__).resolve().parent.parent
BROKEN = "\nsources: [\n  - {name: a\n"  # what follows the home line: no YAML parser reads it


def test_no_module_but_toplevel_writes_a_pattern_for_the_home_line():
    own = [str(p.relative_to(ROOT)) for layer in ("daemon", "perception", "memory")
           for p in (ROOT / layer).rglob("*.py")
           if p.name != "_toplevel.py" and re.search(r"""['"]\^home:""", p.read_text("utf-8"))]
    assert own == []


@pytest.mark.parametrize("line, home", [
    ("home: {tmp}/h", "{tmp}/h"),
    ("home: '{tmp}/h'  # the agent's", "{tmp}/h"),
    ('home: "{tmp}/h"', "{tmp}/h"),
    ("home: h", "{tmp}/h"),  # relative to the config's folder
    ("home: ${{AGENT_HOME}}", None),  # depends on the environment: neither guesses
    ("  home: {tmp}/h", None),  # not top-level
    ("homes: {tmp}/h", None),
])
def test_reload_and_status_read_the_same_home_from_a_file_yaml_cannot_parse(tmp_path, line, home):
    tmp = tmp_path.resolve()
    path = tmp / "reverie.yaml"
    text = line.format(tmp=tmp) + BROKEN
    path.write_text(text, encoding="utf-8")
    want = Path(home.format(tmp=tmp)) if home else None
    assert config.home_hint(path) == want
    assert snapshot.home_line(path, text) == want
