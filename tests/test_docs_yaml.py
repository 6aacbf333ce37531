"""Every ```yaml block in README.md and docs/*.md passes `reverie check-config`, as written.

Three kinds of block, and every block is one of them (none is skipped):

- a whole config (it has ``home:``): checked verbatim;
- a fragment of one (its top-level keys are all keys of reverie.yaml, e.g. ``notify:``):
  checked verbatim below a two-line config (``home:`` a fresh folder, ``timezone: UTC``);
- another program's YAML (Prometheus, Kubernetes): the line before its fence says so,
  ``<!-- yaml: not a reverie config (WHAT) -->``; it must parse, and none of its top-level
  keys may be one of reverie.yaml's (a mark cannot hide a reverie block).

The ``${VAR}``s a block names are set: to a value of the shape its service takes where
Apprise checks the shape (a Telegram token and chat id), a URL for ``*_URL``, a word
otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reverie.daemon import _yaml, config
from tests.conftest import reverie_env, run_cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FOREIGN = re.compile(r"<!-- yaml: not a reverie config \((.+)\) -->")
SHAPES = {"TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
          "TELEGRAM_CHAT_ID": "12345678"}
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")


def _blocks() -> list[tuple[str, str, str | None]]:
    """(where, text, what it is if foreign) of every ```yaml block."""
    out = []
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "```yaml":
                end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
                mark = FOREIGN.fullmatch(lines[i - 1].strip()) if i else None
                out.append((f"{doc.relative_to(ROOT)}:{i + 1}", "\n".join(lines[i + 1:end]) + "\n",
                            mark.group(1) if mark else None))
                i = end
            i += 1
    return out


BLOCKS = _blocks()
TOP_KEYS = set(config.json_schema()["properties"])


def test_the_docs_have_yaml_blocks_and_reverie_keys_are_known():
    assert len(BLOCKS) >= 5
    assert {"home", "notify", "metrics", "sources"} <= TOP_KEYS


@pytest.mark.parametrize("where, text, foreign", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_every_yaml_block_in_the_docs_passes_check_config(where, text, foreign, tmp_path):
    data = _yaml.load(text)
    keys = set(data) if isinstance(data, dict) else set()
    if foreign:
        assert keys and not keys & TOP_KEYS, f"{where}: marked as {foreign} but has reverie keys"
        return
    if "home" not in keys:
        assert keys and keys <= TOP_KEYS, (
            f"{where}: neither a whole config (no home:) nor a fragment of one "
            f"(unknown top-level keys {sorted(keys - TOP_KEYS)}); if it is another program's "
            "YAML, say so on the line before its fence")
        (tmp_path / "home").mkdir()
        text = f"home: {tmp_path / 'home'}\ntimezone: UTC\n{text}"
    cfg = tmp_path / "reverie.yaml"
    cfg.write_text(text, encoding="utf-8")
    env = {name: SHAPES.get(name) or ("http://127.0.0.1:8545" if name.endswith("URL")
                                      else f"x{name.lower()}")
           for name in VAR.findall(text)}
    r = run_cli("--config", str(cfg), "check-config",
                env=reverie_env(HOME=str(tmp_path), **env), cwd=tmp_path)
    assert r.returncode == 0, f"{where}:\n{r.stderr}"
