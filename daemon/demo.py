"""`reverie demo`: a whole compressed day, offline, through the real code paths.

It builds a home, starts a fake world on loopback (:mod:`demo_world`: the weather, an
Ethereum node and Moltbook, which the real sources poll), perceives (three poll rounds
while the world changes: a storm, a wallet drop, a karma jump), wakes the
bundled demo agent (a real subprocess that reads its files and writes working.md),
puts it to sleep and consolidates, dreams, runs the real daemon for a few seconds and
stops it cleanly, then prints the dream and where every file went.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Callable

from reverie.memory import atomic

DEMO_CONFIG = """\
# Written by `reverie demo`: everything here works offline. The weather, wallet and
# moltbook sources poll the demo's fake world on {base}, which lives only
# while the demo runs (afterwards their polls fail, as a real outage would).
home: .
state_dir: {state}
timezone: {tz}
sources:
{world}  - {{name: posts, type: files, path: posts, glob: "*.md", words: true, every: 15m}}
  - {{name: host, type: system, every: 5m}}
  - {{name: inbox, type: feed, path: feeds/local.xml, every: 30m}}
dream:
  at: "0 5 * * *"
  backend: offline
sessions:
  command: {command}
  wake: ["0 8 * * *"]
  sleep: ["0 23 * * *"]
  max_duration: 1m
  stop_timeout: 5s
"""

NEW_ITEM = """\
    <item>
      <title>{title}</title>
      <guid isPermaLink="false">{guid}</guid>
      <description>{text}</description>
    </item>
  </channel>"""


def _add_feed_item(feed: Path, guid: str, title: str, text: str) -> None:
    xml = feed.read_text(encoding="utf-8")
    xml = xml.replace("  </channel>", NEW_ITEM.format(guid=guid, title=title, text=text), 1)
    atomic.write_text(feed, xml)


def run_demo(home: Path | None, echo: Callable[[str], None] = print) -> int:
    from reverie.daemon.demo_world import World

    with World() as world:
        return _run(world, home, echo)


def _run(world, home: Path | None, echo: Callable[[str], None]) -> int:
    from reverie.daemon import config, demo_agent, logs, services
    from reverie.daemon.lifecycle import Daemon
    from reverie.memory import clock
    from reverie.memory.home import Home, init_home
    from reverie.perception.poll import poll_round

    started = time.monotonic()
    logs.configure("warning", "console")
    root = (home or Path(tempfile.mkdtemp(prefix="reverie-demo-"))).expanduser().resolve()
    echo(f"reverie demo: a compressed day in {root}")
    state = root.parent / f"{root.name}.state"  # reverie's own files, beside the home
    init_home(Home.at(root, state))
    tz = clock.system_zone_name()
    cfg_path = root / "demo.yaml"
    # the installed module, with this interpreter (JSON strings are YAML: any path quoted)
    command = "[" + ", ".join(json.dumps(a) for a in demo_agent.command()) + "]"
    atomic.write_text(cfg_path, DEMO_CONFIG.format(
        tz=tz, command=command, base=world.base, world=world.sources_yaml(),
        state=state))
    loaded = config.load(cfg_path)
    h = loaded.home
    specs = loaded.config.sources
    svc = services.build(loaded)

    def perceive(label: str) -> None:
        outcomes = poll_round(specs, home=h, store=svc.store)
        ok = sum(o.ok for o in outcomes)
        echo(f"  {label}: polled {len(outcomes)} sources, {ok} ok")

    echo(f"dawn: the agent's world is polled (weather, wallet and Moltbook on {world.base})")
    perceive("first round")
    atomic.write_text(h.root / "posts" / "on-waking.md",
                      "# On waking\n\nI read my state file and found the world had moved.\n")
    _add_feed_item(h.root / "feeds" / "local.xml", "local-2", "A letter arrived",
                   "Somebody wrote to the agent overnight.")
    world.advance()
    perceive("second round (a storm, the wallet down 40%, karma +313, a new post and letter)")
    svc.refresh()

    echo("morning: the agent wakes, works and sleeps")
    res = svc.runner.run_foreground("the demo's morning wake")
    ran = _told_session(res, svc.store, h, echo)

    echo("afternoon: the world moves on")
    atomic.write_text(h.root / "posts" / "afternoon.md",
                      "# Afternoon\n\nA second post, longer than the first, about the light.\n")
    world.advance()
    perceive("third round (the rain eases)")

    echo("night: the agent dreams")
    out = svc.dream_now()
    svc.refresh()
    svc.close()

    echo("the daemon runs for a few seconds (heartbeat, jobs), then stops cleanly; it warns")
    echo("  that the agent runs as your own user, which a real home should not (mode.same_user)")
    code = Daemon(loaded, run_for=3.0).run()
    if code != 0:
        echo(f"  the daemon exited with {code}")
        return 1

    echo("")
    echo(f"--- the dream ({out.path}) ---")
    echo(Path(out.path).read_text(encoding="utf-8").rstrip())
    echo("---")
    echo("files written:")
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith(".") and ".consolidating" not in p.parts:
            echo(f"  {p.relative_to(root)}")
    echo(f"reverie's own files (the record, session logs), outside the home in {state}:")
    for p in sorted(state.rglob("*")):
        if p.is_file() and p.suffix in (".db", ".log"):
            echo(f"  {p.relative_to(state)}")
    echo(f"done in {time.monotonic() - started:.1f}s. Look around: {root}")
    echo(f"open the morning page: file://{h.page}")
    echo(f"(try: reverie --config {cfg_path} status)")
    if not ran:
        echo("the demo's agent did not run as it should: see its session log above")
        return 1
    return 0


def _told_session(res, store, home, echo: Callable[[str], None]) -> bool:
    """Say what happened to the session: started, how it ended and after how long, how
    many of its lines were kept (the ledger's count). True when the agent exited 0."""
    sid = res.session_id
    if res.outcome != "started" or not sid:
        echo(f"  the session did not start: {res.outcome} ({res.reason})")
        return False
    echo(f"  session {sid}: started")
    s = store.session(sid)
    took = (s.ended - s.started).total_seconds() if s and s.ended else None
    ok = s is not None and s.end_reason == "exited" and s.exit_code == 0
    how = (f"exited {s.exit_code}" if s and s.end_reason == "exited"
           else (s.end_reason if s else "was not recorded"))
    echo(f"  session {sid}: {how}" + (f" after {took:.1f}s" if took is not None else ""))
    rec = _ledger_line(home.ledger, sid)
    if rec is not None:
        echo(f"  session {sid}: {rec.get('archived', 0)} lines kept in {rec.get('diary')}, "
             f"{rec.get('promoted', 0)} promoted to memory/, {rec.get('carried', 0)} carried")
    if not ok:
        echo(f"  the agent's output: {home.session_log(sid)}")
    return ok


def _ledger_line(ledger, sid: str) -> dict | None:
    try:
        text = ledger.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("session") == sid:
            return rec
    return None
