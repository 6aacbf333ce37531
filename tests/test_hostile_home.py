"""A hostile agent's home: FIFOs, device links, floods, symlinked folders and a writer that
keeps appending while consolidation runs. Nothing may hang reverie or lose a line."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reverie.memory import consolidate as c
from reverie.memory import safe_read
from reverie.memory._taking import taken_file
from reverie.memory.home import Home, working_template
from tests.conftest import make_config, run_cli

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)


def ended(store, sid="s1", start=START):
    store.start_session(sid, start, 4242, "scheduled")
    store.end_session(sid, start + timedelta(minutes=30), "exited", 0)
    return store.session(sid)


CONSOLIDATE = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo
    from reverie.memory import consolidate as c
    from reverie.memory.home import Home
    from reverie.memory.store import Store
    home = Home.at(sys.argv[1])
    with Store.open(home.db) as s:
        t = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)
        s.start_session("s1", t, 1, "scheduled")
        s.end_session("s1", t + timedelta(minutes=30), "exited", 0)
        led = c.consolidate(home, s, s.session("s1"), tz=ZoneInfo("Europe/Berlin"))
        print(led.summary())
""")


def consolidate_in_child(home):
    """Consolidation in a real process; a hang fails the test instead of wedging it."""
    return subprocess.run([sys.executable, "-c", CONSOLIDATE, str(home.root)],
                          capture_output=True, text=True, timeout=30)


def diary(home):
    return home.diary(START.astimezone(TZ).date()).read_text(encoding="utf-8")


def test_a_fifo_at_working_md_is_refused_without_blocking_and_the_agent_gets_a_fresh_file(home):
    os.mkfifo(home.working)
    proc = consolidate_in_child(home)
    assert proc.returncode == 0, proc.stderr
    assert "working.md was a FIFO, not a regular file; moved unread to " \
           ".consolidating/s1.working.refused" in diary(home)
    assert "consolidate.refused" in proc.stdout + proc.stderr
    assert home.working.read_text(encoding="utf-8") == working_template()
    assert stat.S_ISFIFO(os.lstat(home.taking_dir / "s1.working.refused").st_mode)


def test_a_link_to_dev_zero_at_working_md_is_refused_not_read(home):
    os.symlink("/dev/zero", home.working)
    proc = consolidate_in_child(home)
    assert proc.returncode == 0, proc.stderr
    assert "working.md was a symlink, not a regular file" in diary(home)
    assert home.working.read_text(encoding="utf-8") == working_template()


def test_a_fifo_in_place_of_the_diary_is_moved_aside_and_the_session_still_archived(home):
    home.working.write_text("- a note\n", encoding="utf-8")
    os.mkfifo(home.diary(START.astimezone(TZ).date()))
    proc = consolidate_in_child(home)
    assert proc.returncode == 0, proc.stderr
    assert "- a note" in diary(home)
    assert [p.name for p in home.taking_dir.glob("2026-11-25.md.*.refused")]


def test_an_oversized_working_md_is_kept_whole_in_the_diary_folder_unread(home, store,
                                                                         monkeypatch):
    monkeypatch.setattr(c, "WORKING_MAX_BYTES", 1024 * 1024)
    big = b"".join(b"line %07d #remember\n" % i for i in range(80_000))  # ~1.7 MB
    home.working.write_bytes(big)
    led = c.consolidate(home, store, ended(store), tz=TZ)
    kept = home.diary_dir / "2026-11-25.session-s1.working.md"
    assert kept.read_bytes() == big
    assert led.lines_in == 0 and led.promoted == 0
    assert f"over the 1 MiB cap; kept whole, unread, in diary/{kept.name}" in diary(home)
    assert home.working.read_text(encoding="utf-8") == working_template()


APPENDER = textwrap.dedent("""
    import os, sys, time
    path, n, gate = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    for i in range(n):
        if i == n // 2:  # half written: wait for a consolidation to have run (a minute at most)
            end = time.monotonic() + 60
            while not os.path.exists(gate) and time.monotonic() < end:
                time.sleep(0.01)
        with open(path, "a", encoding="utf-8") as f:   # the agent's `echo ... >> working.md`
            f.write(f"agent line {i:05d}\\n")
        if i % 50 == 0:
            time.sleep(0.001)
""")


def test_every_line_a_concurrent_appender_writes_is_kept_exactly_once(home, store):
    n = 10_000
    home.working.write_text("", encoding="utf-8")
    gate = home.root.parent / "consolidated-once"
    writer = subprocess.Popen([sys.executable, "-c", APPENDER, str(home.working), str(n),
                               str(gate)])
    try:
        sessions = 0
        while writer.poll() is None:
            sid = f"s{sessions}"
            c.consolidate(home, store, ended(store, sid, START + timedelta(minutes=sessions)),
                          tz=TZ)
            sessions += 1
            gate.touch()  # the writer's second half runs while the next consolidations do
        assert writer.wait(timeout=60) == 0
    finally:
        writer.kill()
        writer.wait()
    assert sessions >= 2  # consolidation really ran while the writer was writing
    seen = re.findall(r"^agent line (\d{5})$", diary(home), re.M)
    seen += re.findall(r"^agent line (\d{5})$", home.working.read_text(encoding="utf-8"), re.M)
    counts = {}
    for x in seen:
        counts[x] = counts.get(x, 0) + 1
    assert sorted(counts) == [f"{i:05d}" for i in range(n)]   # none lost
    assert {k: v for k, v in counts.items() if v != 1} == {}  # none twice


def test_a_symlinked_private_folder_is_refused_and_its_target_left_alone(tmp_path):
    from reverie.memory.home import StateError

    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o755)
    root = tmp_path / "home"
    root.mkdir()
    (root / ".reverie").symlink_to(target)
    with pytest.raises(StateError, match=r"\.reverie: refused: not a plain folder"):
        Home.at(root).ensure()
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert list(target.iterdir()) == []


def test_reverie_init_on_a_home_with_a_symlinked_diary_says_so_in_one_line(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    root = tmp_path / "home"
    root.mkdir()
    (root / "diary").symlink_to(target)
    proc = run_cli("init", str(root))
    assert proc.returncode != 0
    assert "diary: refused: a symlink" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_safe_read_refuses_a_fifo_at_once_without_blocking(tmp_path):
    fifo = tmp_path / "identity.md"
    os.mkfifo(fifo)
    t = time.monotonic()
    with pytest.raises(safe_read.UnsafeFile, match="refused: a FIFO, not a regular file"):
        safe_read.read_text(fifo)
    assert time.monotonic() - t < 1


def test_safe_read_refuses_a_file_over_its_cap(tmp_path):
    p = tmp_path / "big.md"
    p.write_bytes(b"x" * 2048)
    with pytest.raises(safe_read.UnsafeFile, match="refused: over the 1024 bytes cap"):
        safe_read.read_bytes(p, max_bytes=1024)


POSTS = {"name": "posts", "type": "files", "path": "posts", "every": "1h"}


def test_a_fifo_at_working_md_does_not_block_recovery_at_start(tmp_path):
    from reverie.memory.store import Store
    from tests.conftest import start_cli, wait_for

    cfg = make_config(tmp_path, sources=[POSTS])
    h = Home.at(tmp_path / "home")
    (h.root / "posts").mkdir(parents=True)
    h.ensure()
    with Store.open(h.db) as s:  # a session that ended but was never consolidated
        ended(s)
    os.mkfifo(h.working)
    p = start_cli("--config", str(cfg), "run")
    try:
        assert wait_for(lambda: h.taking_dir.joinpath("s1.working.refused").exists()
                        and h.working.is_file(), timeout=30)
        r = run_cli("--config", str(cfg), "status", timeout=10)
        assert r.returncode == 0, r.stderr
        assert p.poll() is None
    finally:
        p.terminate()
        p.wait(timeout=20)
    assert "working.md was a FIFO" in diary(h)


def test_counting_words_refuses_a_fifo_instead_of_waiting_on_it(tmp_path):
    from reverie.perception.sources.files import count_words

    fifo = tmp_path / "post.md"
    os.mkfifo(fifo)
    with pytest.raises(safe_read.UnsafeFile, match="refused: a FIFO"):
        count_words(fifo)


HOLDER = textwrap.dedent("""
    import sys, time
    f = open(sys.argv[1], sys.argv[2])
    print("open", flush=True)
    if "a" in sys.argv[2]:
        time.sleep(0.5)
        f.write("written while held open\\n")
        f.flush()
    time.sleep(30)
""")


def test_a_writer_holding_working_md_open_finishes_its_line_into_the_taken_file(home, store):
    home.working.write_text("- before\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home.working), "a"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        led = c.consolidate(home, store, ended(store), tz=TZ)
    finally:
        holder.kill()
        holder.wait()
    assert led.lines_in == 2 and "written while held open" in diary(home)


def test_a_reader_holding_working_md_open_does_not_delay_consolidation(home, store):
    home.working.write_text("- before\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home.working), "r"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        t = time.monotonic()
        c.consolidate(home, store, ended(store), tz=TZ)
        assert time.monotonic() - t < c.WRITER_GRACE / 2
    finally:
        holder.kill()
        holder.wait()


def test_consolidation_refuses_a_symlinked_taking_folder_and_moves_nothing(home, store,
                                                                         tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    home.taking_dir.rmdir()
    home.taking_dir.symlink_to(outside)
    home.working.write_text("- mine\n", encoding="utf-8")
    with pytest.raises(safe_read.UnsafeFile, match="consolidating: refused: a symlink"):
        c.consolidate(home, store, ended(store), tz=TZ)
    assert home.working.read_text(encoding="utf-8") == "- mine\n"
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("window", ["working.md", "taken"])
def test_a_fifo_swapped_in_after_a_check_is_moved_aside_and_consolidation_goes_on(
        home, store, monkeypatch, window):
    """The agent replaces the file with a FIFO right after reverie looked at it (lstat):
    whatever is there when reverie opens it is judged, never waited on."""
    home.working.write_text("- a line\n", encoding="utf-8")
    taken = taken_file(home, "s1")

    def swap(path):
        os.unlink(path)
        os.mkfifo(path)

    if window == "working.md":  # between the lstat of working.md and its rename
        real = safe_read.refusal

        def check_then_swap(path):
            why = real(path)
            if why is None and os.fspath(path) == os.fspath(home.working):
                swap(path)
            return why

        monkeypatch.setattr(safe_read, "refusal", check_then_swap)
    else:  # after the rename, at the last moment before the taken file is opened
        real_open = safe_read.open_regular

        def swap_then_open(path):
            if os.fspath(path) == os.fspath(taken) and not stat.S_ISFIFO(os.lstat(path).st_mode):
                swap(path)
            return real_open(path)

        monkeypatch.setattr(safe_read, "open_regular", swap_then_open)
    led = c.consolidate(home, store, ended(store), tz=TZ)
    assert led is not None
    refused = home.taking_dir / "s1.working.refused"  # beside the taken file, in the home
    assert stat.S_ISFIFO(os.lstat(refused).st_mode)
    assert "was a FIFO, not a regular file; moved unread to .consolidating/s1.working.refused" \
        in diary(home)
    # and the next session consolidates as usual
    monkeypatch.undo()
    home.working.write_text("- next #remember\n", encoding="utf-8")
    assert c.consolidate(home, store, ended(store, "s2", START + timedelta(hours=2)),
                         tz=TZ).promoted == 1


def test_a_hard_link_at_working_md_is_refused_unread(home, store, tmp_path):
    secret = tmp_path / "not-for-the-agent.txt"
    secret.write_text("OPENAI_API_KEY=sk-hardlinked-secret\n", encoding="utf-8")
    home.working.unlink(missing_ok=True)
    os.link(secret, home.working)
    c.consolidate(home, store, ended(store), tz=TZ)
    assert "was a hard link (2 names), not a file with one name; moved unread" in diary(home)
    for p in home.root.rglob("*"):
        if p.is_file() and not p.samefile(secret) and p.stat().st_nlink == 1:
            assert "sk-hardlinked-secret" not in p.read_text(errors="replace"), p
    assert secret.read_text() == "OPENAI_API_KEY=sk-hardlinked-secret\n"


def test_safe_read_refuses_a_hard_link(tmp_path):
    (tmp_path / "a").write_text("x")
    os.link(tmp_path / "a", tmp_path / "b")
    with pytest.raises(safe_read.UnsafeFile, match=r"refused: a hard link \(2 names\)"):
        safe_read.read_text(tmp_path / "b")
