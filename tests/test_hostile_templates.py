"""Templates the agent can write render sandboxed: no code runs, one line says why."""

from __future__ import annotations

import os

import pytest

from reverie.perception import page, state, templating
from tests.conftest import run_cli

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
