"""`reverie demo`: the first dream a newcomer reads speaks of the agent's world."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import reverie_env


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`reverie demo` as a newcomer runs it: the installed command, in a folder outside the
    checkout, with no PYTHONPATH (the agent must run from the installed package)."""
    where = tmp_path_factory.mktemp("demo")
    home = where / "home"
    script = Path(sys.executable).with_name("reverie")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "reverie.daemon.cli"]
    env = {k: v for k, v in reverie_env().items() if k != "PYTHONPATH"}
    began = time.monotonic()
    res = subprocess.run([*argv, "demo", "--home", str(home)], cwd=where, env=env,
                         capture_output=True, text=True, timeout=120)
    return res, home, time.monotonic() - began


def _prose(home: Path) -> str:
    text = (home / "dreams" / "latest.md").read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1].split("## Receipt")[0]


def test_the_demo_finishes_in_under_a_minute_and_says_where_the_dream_went(demo):
    res, home, took = demo
    assert res.returncode == 0, res.stderr
    assert took < 60
    assert "Traceback" not in res.stderr
    # the one warning is the mode's, and the demo says beforehand what it means
    warnings = re.findall(r"\[warning\s*\]\s+(\S+)", res.stdout + res.stderr)
    assert warnings == ["mode.same_user"]
    assert "runs as your own user, which a real home should not (mode.same_user)" in res.stdout
    dream = next(home.glob("dreams/20*.md"))
    assert str(dream) in res.stdout and "dreams/latest.md" in res.stdout


def test_the_demo_polls_the_real_weather_wallet_and_moltbook_sources_on_loopback_only(demo):
    _, home, _ = demo
    cfg = yaml.safe_load((home / "demo.yaml").read_text(encoding="utf-8"))
    by_type = {s["type"]: s for s in cfg["sources"]}
    assert {"weather", "wallet", "moltbook"} <= set(by_type)
    for s in cfg["sources"]:
        if "url" in s:
            assert re.match(r"http://127\.0\.0\.1:\d+/", s["url"]), s
    receipt = (home / "dreams" / "latest.md").read_text(encoding="utf-8").split("## Receipt")[1]
    for signal in ("weather.condition", "wallet.balance", "moltbook.karma"):
        assert signal in receipt


def test_the_demos_dream_speaks_of_the_weather_money_and_reputation_by_label(demo):
    _, home, _ = demo
    prose = _prose(home).lower()
    assert re.search(r"thunder|storm|rain", prose), prose  # the demo world's storm and rain
    assert "wallet balance" in prose and "eth" in prose, prose
    assert "karma" in prose, prose


def test_the_demos_dream_says_no_raw_signal_names(demo):
    _, home, _ = demo
    prose = _prose(home)
    for raw in ("moltbook.karma", "wallet.balance", "weather.condition", "_"):
        assert raw not in prose, prose


def test_the_demos_first_paragraph_leads_with_the_wallets_forty_percent_fall(demo):
    _, home, _ = demo
    first = _prose(home).strip().split("\n\n")[0]
    # a fresh home knows no usual movement: money leads over the posts' bigger percent
    assert re.search(r"\b(about )?40%", first) and "0.75 ETH" in first, first


def test_the_demos_dream_has_no_prose_defects(demo):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "dreams_bench", Path(__file__).resolve().parent.parent / "bench" / "dreams_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    _, home, _ = demo
    prose = _prose(home)
    assert bench.defects(prose, ["moltbook.karma", "wallet.balance", "weather.condition"]) == [], prose


def test_the_demos_agent_runs_and_its_lines_reach_the_diary_and_memory(demo):
    res, home, _ = demo
    sid = re.search(r"session (\S+): started", res.stdout).group(1)
    assert re.search(rf"session {sid}: exited 0 after \d+\.\d+s", res.stdout), res.stdout
    kept = re.search(rf"session {sid}: (\d+) lines kept in diary/\S+, (\d+) promoted to "
                     r"memory/", res.stdout)
    assert kept and int(kept.group(1)) > 0 and int(kept.group(2)) == 1, res.stdout
    diary = "".join(p.read_text(encoding="utf-8") for p in home.glob("diary/*.md"))
    assert f"Woke for session {sid} (the demo's morning wake)." in diary
    assert "state.md has" in diary
    remembered = f"Read state.md and the dream on session {sid}. #remember"
    assert remembered in (home / "memory" / "notes.md").read_text(encoding="utf-8")
    log = home / ".reverie" / "sessions" / f"{sid}.log"
    assert "No module named" not in (log.read_text(encoding="utf-8") if log.exists() else "")


def test_the_demos_agent_is_the_installed_module_run_by_this_interpreter(demo):
    _, home, _ = demo
    cfg = yaml.safe_load((home / "demo.yaml").read_text(encoding="utf-8"))
    python, *rest = cfg["sessions"]["command"]
    assert rest == ["-m", "reverie.daemon.demo_agent"]
    # the interpreter that ran `reverie demo`: this environment's (python or python3)
    assert Path(python).parent == Path(sys.executable).parent and Path(python).exists()
