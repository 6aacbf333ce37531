"""Regenerate docs/morning.png: the morning page of today's `reverie demo`, as headless
Chromium draws it.

    python docs/make_morning_png.py [OUT.png]

Runs the installed reverie's demo (a whole compressed day, offline, on loopback) in a
fresh folder, then takes a screenshot of its morning.html with Chromium (Debian:
``apt-get install -y chromium``) in a fresh profile, with nothing that reaches the
network (the page loads nothing anyway: its CSP allows no fetch). The picture is the
top of the page: the dream, the signals (weather, money, karma) and the sources' health.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
WIDTH, HEIGHT = 900, 2000
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
         "--force-device-scale-factor=1"]


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("make_morning_png: no chromium on this machine (Debian: apt-get install -y chromium)")


def demo(home: Path) -> Path:
    """Run `reverie demo` into ``home``; the morning page it wrote."""
    proc = subprocess.run([sys.executable, "-m", "reverie.daemon.cli", "demo", "--home", str(home)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        sys.exit(f"make_morning_png: reverie demo failed ({proc.returncode}):\n{proc.stderr}")
    page = home / "morning.html"
    if not page.is_file():
        sys.exit(f"make_morning_png: the demo wrote no {page}")
    return page


def screenshot(chromium: str, page: Path, out: Path, work: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS")}
    shot = work / "shot.png"
    proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={work / 'profile'}",
                           f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}",
                           page.as_uri()], capture_output=True, text=True, timeout=120, env=env)
    if proc.returncode != 0 or not shot.is_file():
        sys.exit(f"make_morning_png: chromium failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    head = shot.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", head[16:24]) != (WIDTH, HEIGHT):
        sys.exit("make_morning_png: chromium wrote something other than the PNG asked for")
    tmp = out.with_name(out.name + ".tmp")
    shutil.copyfile(shot, tmp)
    os.replace(tmp, out)  # the old picture stays whole until the new one is complete


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DOCS / "morning.png"
    chromium = browser()
    with tempfile.TemporaryDirectory(prefix="reverie-morning-png-") as tmp:
        work = Path(tmp)
        page = demo(work / "home")
        screenshot(chromium, page, out, work)
    print(f"wrote {out} ({WIDTH}x{HEIGHT}) from today's demo")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
