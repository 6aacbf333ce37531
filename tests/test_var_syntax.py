"""`${VAR}` is one rule: the config interpolates it and the snapshot leaves out what
depends on it, so both read it from daemon/_vars.py and no module writes its own."""

from __future__ import annotations

import re
from pathlib import Path

from reverie.daemon import _vars, config, snapshot

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_but_vars_writes_a_pattern_for_a_variable():
    # a regex that matches a literal "${" ("\$\{" or "\$\\{" in source) outside _vars.py
    own = [str(p.relative_to(ROOT)) for layer in ("daemon", "perception", "memory")
           for p in (ROOT / layer).rglob("*.py")
           if p.name != "_vars.py" and re.search(r"\\\$\\\\?\{", p.read_text("utf-8"))]
    assert own == []


def test_a_value_the_config_interpolates_is_one_the_snapshot_leaves_out(tmp_path):
    env = {"TOKEN": "s3cret-value", "CREDENTIALS_DIRECTORY": ""}
    path = tmp_path / "reverie.yaml"
    for text, interpolated in [("${TOKEN}", True), ("${TOKEN:-x}", True), ("${9X}", False),
                               ("$TOKEN", False), ("${TOKEN-x}", False)]:
        path.write_text(f"home: ./home\nsessions:\n  env:\n    K: '{text}'\n")
        loaded = config.load(path, env)
        got = loaded.config.sessions.env["K"]
        assert (got != text) == interpolated, text
        assert bool(snapshot._VAR.search(text)) == interpolated, text
        assert bool(_vars.VAR.search(text)) == interpolated, text
