"""Templates the agent can write render sandboxed: no code runs, one line says why."""

from __future__ import annotations

import os
import resource
import sys
import textwrap
import time

import pytest

from reverie.perception import page, state, templating
from tests.conftest import polls_of, run_cli, start_cli, wait_for

EXPLOIT = '{{ cycler.__init__.__globals__.os.popen("id > pwned.txt").read() }}\n'


@pytest.fixture
def agent(tmp_path):
    r = run_cli("init", str(tmp_path / "agent"))
    assert r.returncode == 0, r.stderr
    return tmp_path / "agent"


def test_the_popen_exploit_in_the_state_template_runs_nothing_and_says_so_in_one_line(agent):
    (agent / "my-state.j2").write_text("# state\n" + EXPLOIT, encoding="utf-8")
    cfg = agent / "reverie.yaml"
    cfg.write_text(cfg.read_text() + "perception:\n  template: my-state.j2\n")
    r = run_cli("--config", str(cfg), "poll", cwd=agent)
    assert not (agent / "pwned.txt").exists()
    assert "pwned" not in (agent / "perception" / "state.md").read_text() \
        if (agent / "perception" / "state.md").exists() else True
    lines = [ln for ln in (r.stdout + r.stderr).splitlines() if "my-state.j2" in ln]
    assert lines and all("unsafe" in ln for ln in lines), r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_the_exploit_fails_in_every_template_kind(tmp_path, monkeypatch):
    for render in (lambda p: state.render_text({}, p), lambda p: page.render_html({}, p)):
        tpl = tmp_path / "t.j2"
        tpl.write_text(EXPLOIT, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        with pytest.raises((state.StateError, page.PageError), match="unsafe"):
            render(tpl)
        assert not (tmp_path / "pwned.txt").exists()


def test_a_template_writable_by_others_is_refused(tmp_path):
    tpl = tmp_path / "t.j2"
    tpl.write_text("hello\n", encoding="utf-8")
    tpl.chmod(0o666)
    with pytest.raises(state.StateError, match="t.j2: cannot read the template: refused: "
                                               "writable by other users"):
        state.render_text({}, tpl)


def test_a_fifo_as_template_is_refused_without_blocking(tmp_path):
    tpl = tmp_path / "t.j2"
    os.mkfifo(tpl)
    with pytest.raises(OSError, match="refused: a FIFO"):
        templating.read(tpl)


def test_the_page_template_still_escapes_html(tmp_path):
    env = templating.environment(autoescape=True)
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the template another owner")
def test_a_template_owned_by_another_user_is_refused(tmp_path):
    tpl = tmp_path / "t.j2"
    tpl.write_text("hello\n", encoding="utf-8")
    os.chown(tpl, 65534, 65534)
    with pytest.raises(state.StateError, match=r"refused: owned by uid 65534, not by this user"):
        state.render_text({}, tpl)


# -- bounds: a template that runs for hours or takes gigabytes is abandoned, not waited on --

# 10^10 turns of an empty loop: CPU only, no output piling up (that would hit the memory
# bound first)
FOREVER = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n"
HUGE = '{{ "x" * 1500000000 }}\n'


def test_a_template_that_loops_for_hours_is_abandoned_at_the_deadline_for_the_built_in(tmp_path):
    tpl = tmp_path / "forever.j2"
    tpl.write_text(FOREVER, encoding="utf-8")
    started = time.monotonic()
    text = state.render_text(_context(tmp_path), tpl)
    took = time.monotonic() - started
    assert took < templating.RENDER_DEADLINE + 3, took
    first, rest = text.split("\n", 1)
    assert first == (f"> The state template {tpl} was abandoned (over the "
                     f"{templating.RENDER_DEADLINE:g} s render deadline); this is the built-in "
                     "template.")
    assert rest.lstrip().startswith("# Perception")
    # the same text is not tried again: the next state comes at once
    started = time.monotonic()
    assert "abandoned" in state.render_text(_context(tmp_path), tpl).split("\n", 1)[0]
    assert time.monotonic() - started < 1.0


def test_a_template_that_asks_for_gigabytes_is_refused_without_taking_them(tmp_path):
    tpl = tmp_path / "huge.j2"
    tpl.write_text(HUGE, encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    text = state.render_text(_context(tmp_path), tpl)
    assert text.startswith(f"> The state template {tpl} was abandoned (over the memory bound)")
    # neither this process nor the renderer ever held the 1.5 GB (ru_maxrss is in KiB)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 700 * 1024


def test_a_hostile_page_template_falls_back_to_the_built_in_page(tmp_path):
    tpl = tmp_path / "page.j2"
    tpl.write_text(HUGE, encoding="utf-8")
    html = page.render_html(_page_context(tmp_path), tpl)
    assert html.lstrip().lower().startswith("<!doctype html>")


def _read(path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _built(tmp_path, build):
    """``build``'s context (state's or the page's) from an empty real store."""
    from zoneinfo import ZoneInfo

    from reverie.memory.home import Home
    from reverie.memory.store import Store

    home = Home(tmp_path / "home")
    home.ensure()
    store = Store.open(home.db)
    try:
        return build(home, store, [], tz=ZoneInfo("UTC"))
    finally:
        store.close()


def _context(tmp_path):
    """A real state context, from an empty store."""
    return _built(tmp_path, state.build_context)


def _page_context(tmp_path):
    return _built(tmp_path, page.build_page_context)


@pytest.mark.parametrize("template", [FOREVER, HUGE], ids=["nested-range-loops", "1.5-GB-string"])
def test_the_daemon_polls_wakes_and_writes_the_state_while_a_hostile_template_is_abandoned(
        tmp_path, template):
    from reverie.daemon import config

    home = tmp_path / "home"
    (home / "posts").mkdir(parents=True)
    (home / "posts" / "a.md").write_text("one two\n")
    (home / "hostile.j2").write_text(template, encoding="utf-8")
    cfg = tmp_path / "reverie.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        home: {home}
        timezone: UTC
        perception:
          template: hostile.j2
        sources:
          - {{name: posts, type: files, path: posts, words: true, every: 1s}}
        sessions:
          command: [{sys.executable}, -c, "import os; print('woke #remember', file=open(os.environ['REVERIE_WORKING'], 'a'))"]
          max_duration: 1m
        """), encoding="utf-8")
    db = config.load(cfg, need_secrets=False).home.db
    state_md = home / "perception" / "state.md"
    p = start_cli("--config", str(cfg), "--log-format", "json", "run")
    try:
        started = time.monotonic()
        assert wait_for(lambda: state_md.exists() and "abandoned" in state_md.read_text(),
                        templating.RENDER_DEADLINE + 25), "no state.md with the fallback"
        # on time: one deadline (plus start-up), not one per poll
        assert time.monotonic() - started < templating.RENDER_DEADLINE + 25
        assert "# Perception" in state_md.read_text()
        polled = polls_of(db, "posts")
        assert wait_for(lambda: polls_of(db, "posts") >= polled + 3, 15), \
            "polling stopped while the template was abandoned"
        # a wake (state first, then the session, then consolidation) goes on too
        r = run_cli("--config", str(cfg), "wake", timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert wait_for(lambda: "woke #remember" in _read(home / "memory" / "notes.md"), 20), \
            r.stdout + r.stderr
        assert p.poll() is None
    finally:
        p.terminate()
        out, err = p.communicate(timeout=30)
    abandoned = [ln for ln in err.splitlines() if "template.abandoned" in ln]
    assert len(abandoned) == 1, err[-2000:]
    assert "hostile.j2" in abandoned[0] and "Traceback" not in err


def test_a_hostile_prompt_template_costs_one_deadline_and_the_offline_dream_comes(
        httpserver, home, store):
    from datetime import datetime, timedelta, timezone

    from reverie.perception.audit import split_dream
    from reverie.perception.dreams import DreamOptions
    from reverie.perception.dreams.write import write_dream

    now = datetime(2026, 6, 10, 3, 0, tzinfo=timezone.utc)
    for h in range(24):
        store.record_run("weather", now - timedelta(hours=24 - h), ok=True,
                         readings=[("weather.temperature", 4.0 + h * 0.5, None, "°C")])
    (home.root / "mine.j2").write_text(FOREVER, encoding="utf-8")
    httpserver.expect_request("/v1/chat/completions").respond_with_data("never asked", 500)
    o = DreamOptions(backend="openai", base_url=httpserver.url_for("/v1"),
                     api_key="sk-test-0123456789abcdef", model="m", timeout="30s",
                     prompt_template="mine.j2")
    started = time.monotonic()
    out = write_dream(home, store, o, day=now.date(), tz=timezone.utc, now=now,
                      secrets=("sk-test-0123456789abcdef",))
    assert time.monotonic() - started < templating.RENDER_DEADLINE + 5
    meta, prose, _, _ = split_dream(out.path.read_text())
    assert out.backend == "offline"
    assert meta["fallback_reason"] == (f"prompt template mine.j2: over the "
                                       f"{templating.RENDER_DEADLINE:g} s render deadline")
    from reverie.perception.dreams.offline import MIN_WORDS

    assert len(prose.split()) >= MIN_WORDS  # a whole offline dream, not a stub
    assert httpserver.log == []
