"""Bad input fuzzing: whatever a user writes or a source sends, reverie answers in one
clear line or does its job; it never crashes with a traceback.

Each test is bounded (max_examples) and prints how many inputs it tried: a sample in the
default tier, many more under ``-m slow`` (the same test with a larger budget).
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import reverie_env, run_cli
from reverie.daemon import config
from reverie.memory import consolidate as c
from reverie.memory import working
from reverie.perception import audit as audit_mod
from reverie.perception.sources import Context, Result, SourceError
from reverie.perception.sources.feed import Feed
from reverie.perception.sources.http_json import HttpJson, extract

FAST = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
TRIED: dict[str, int] = {}


def _count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


def budget(default: int, slow: int):
    """Run the test with ``examples`` = ``default`` in the default tier, ``slow`` under -m slow."""
    return pytest.mark.parametrize("examples",
                                   [default, pytest.param(slow, marks=pytest.mark.slow)])


@pytest.fixture(autouse=True)
def _report(request):
    yield
    n = TRIED.pop(request.node.originalname, None)
    if n is not None:
        print(f"\n{request.node.name}: {n} inputs tried")


# -- the config loader -----------------------------------------------------------------------

VALID = """\
home: ./home
timezone: Europe/Berlin
sources:
  - name: posts
    type: files
    path: posts
    glob: "*.md"
    every: 15m
  - name: api
    type: http_json
    url: "http://127.0.0.1:9/api?key=${API_KEY}"
    headers: {Authorization: "Bearer ${API_KEY}"}
    fields:
      karma: agent.karma
      price: {path: "data[0].amount", scale: 0.01, unit: EUR}
    every: 30s
    timeout: 5s
  - {name: blog, type: feed, path: feeds/blog.xml, every: 1h, max_items: 5}
  - {name: host, type: system, cron: "*/5 * * * *"}
perception:
  retention: 30d
  render_every: 5s
dream:
  at: "0 5 * * *"
  backend: offline
sessions:
  command: [my-agent, --home, "{home}"]
  wake: ["0 8 * * *"]
  sleep: ["0 23 * * *"]
  max_duration: 2h
  active_hours: "07:00-23:00"
memory:
  git: false
"""

ENV = {"API_KEY": "sekrit-key-123"}
NASTY = [":", " ", "-", "- ", "{", "}", "[", "]", "'", '"', "#", "&a", "*a", "!!python/object", "|",
         ">", "\t", "\n", "${", "${NOPE}", "${API_KEY", "%", "@", "`", "0", "-1", "1e999",
         "null", "~", "true", "\x00", "\x1b[31m", "\u202e", "é", "../", "name: x", "type: feed",
         "every: 0s", "cron: 99 * * * *", "\ufeff", "<<: *a", "? ", ",", "\r"]


@st.composite
def mutated_configs(draw) -> str:
    lines = VALID.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "replace", "delete_line", "dup_line", "swap",
                                   "truncate", "indent"]))
        text = "\n".join(lines)
        if op in ("insert", "replace"):
            at = draw(st.integers(0, max(0, len(text) - 1)))
            piece = draw(st.one_of(st.sampled_from(NASTY),
                                   st.text(st.characters(blacklist_categories=("Cs",)),
                                           max_size=6)))
            cut = 1 if op == "replace" else 0
            text = text[:at] + piece + text[at + cut:]
            lines = text.split("\n")
        elif op == "truncate":
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
        elif lines:
            i = draw(st.integers(0, len(lines) - 1))
            if op == "delete_line":
                del lines[i]
            elif op == "dup_line":
                lines.insert(i, lines[i])
            elif op == "indent":
                lines[i] = draw(st.sampled_from([" ", "  ", "    ", "\t"])) + lines[i]
            else:
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _check_outcome(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    try:
        loaded = config.load(path, env=ENV)
    except config.ConfigError as e:
        line = re.compile(rf"^{re.escape(str(path))}:\d+: .+$")
        assert e.problems, "a ConfigError with no problem"
        for p in e.problems:
            assert line.match(p), f"not one file:line problem: {p!r}"
            assert ENV["API_KEY"] not in p, f"a secret in an error: {p!r}"
        return "error"
    assert isinstance(loaded.config, config.Config)
    return "valid"


def test_the_valid_config_is_valid(tmp_path):
    assert _check_outcome(tmp_path / "reverie.yaml", VALID) == "valid"


@budget(60, 300)
def test_config_mutations_load_or_fail_with_file_line_problems(tmp_path, examples):
    outcomes: dict[str, int] = {}

    @settings(max_examples=examples, **FAST)
    @given(mutated_configs())
    def check(text: str) -> None:
        _count("test_config_mutations_load_or_fail_with_file_line_problems")
        kind = _check_outcome(tmp_path / "reverie.yaml", text)
        outcomes[kind] = outcomes.get(kind, 0) + 1

    check()
    print(f"\noutcomes: {outcomes}")
    assert outcomes.get("error") and outcomes.get("valid")


@pytest.mark.parametrize("text, why", [
    ("home: /tmp/x\nsources: &a\n  - *a\n", "a YAML alias refers to a value that contains it"),
    ("home: /tmp/x\ntimezone: &z [*z]\n", "a YAML alias refers to a value that contains it"),
    ("home: /tmp/x\nx: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ("home: /tmp/x\na0: &a0 [1,2,3,4,5,6,7,8,9,10]\n"
     + "".join(f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)),
     "expand to more than"),
])
def test_recursive_deep_or_exploding_yaml_is_one_config_error(tmp_path, text, why):
    p = tmp_path / "reverie.yaml"
    p.write_text(text)
    with pytest.raises(config.ConfigError) as e:
        config.load(p, env={})
    print("\n", e.value.problems)
    assert len(e.value.problems) == 1 and why in e.value.problems[0]
    assert re.match(rf"^{re.escape(str(p))}:\d+: ", e.value.problems[0])


def _cli_on(texts: list[str], tmp_path: Path, process: bool) -> list[tuple[int, str]]:
    """check-config on each text: in this process, or (``process``) as processes at once."""
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"m{i}.yaml")
        paths[-1].write_text(text, encoding="utf-8")
    if not process:
        return [(r.returncode, r.stdout + r.stderr)
                for r in (run_cli("--config", str(p), "check-config", env=reverie_env(**ENV))
                          for p in paths)]
    procs = [subprocess.Popen(
        [sys.executable, "-m", "reverie.daemon.cli", "--config", str(p), "check-config"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=reverie_env(**ENV)) for p in paths]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        out.append((proc.returncode, stdout + stderr))
    return out


def _cli_sample(n: int, tmp_path: Path) -> list[str]:
    texts: list[str] = []

    @settings(max_examples=n, **FAST)
    @given(mutated_configs())
    def collect(text: str) -> None:
        texts.append(text)

    collect()
    return texts[:n]


def _assert_cli_outcomes(texts: list[str], tmp_path: Path, process: bool = False) -> None:
    results = _cli_on(texts, tmp_path, process)
    codes: dict[int, int] = {}
    for (rc, output), text in zip(results, texts):
        codes[rc] = codes.get(rc, 0) + 1
        assert rc in (0, 2), f"exit {rc} for:\n{text}\n---\n{output}"
        assert "Traceback" not in output, output
        assert ENV["API_KEY"] not in output
    print(f"\ncheck-config on {len(texts)} mutations: exit codes {codes}")


def test_check_config_on_mutations_exits_0_or_2_never_a_traceback(tmp_path):
    _assert_cli_outcomes([VALID] + _cli_sample(6, tmp_path)[:5], tmp_path)


@pytest.mark.slow
def test_check_config_on_many_mutations_exits_0_or_2(tmp_path):
    texts = _cli_sample(120, tmp_path)
    for k in range(0, len(texts), 20):
        _assert_cli_outcomes(texts[k:k + 20], tmp_path, process=True)


# -- the feed parser --------------------------------------------------------------------------

XMLISH = ["<?xml version='1.0'?>", "<rss version='2.0'>", "<channel>", "</channel>", "</rss>",
          "<item>", "</item>", "<title>", "</title>", "<link>", "</link>", "<guid>", "</guid>",
          "<feed xmlns='http://www.w3.org/2005/Atom'>", "</feed>", "<entry>", "</entry>",
          "<id>", "</id>", "<![CDATA[", "]]>", "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", "&a;",
          "&amp;", "&#0;", "&#x1b;", "<pubDate>", "</pubDate>", "Mon, 99 Feb 2026 25:61:00 +9999",
          "<summary>", "</summary>", "<script>alert(1)</script>", "$(touch /tmp/pwned)", "\x1b[2J",
          "\x00", "\xff", "<description>", "</description>", "<link href='javascript:x'/>"]


def _feed_ctx(home: Path, state: dict) -> Context:
    return Context(home=home, timeout=5.0, now=datetime.now(timezone.utc), state=state)


def _feed_once(home: Path, body: bytes, state: dict) -> str:
    (home / "feeds").mkdir(exist_ok=True)
    (home / "feeds" / "f.xml").write_bytes(body)
    src = Feed("f", Feed.Options(path="feeds/f.xml", max_items=5))
    state.pop("file", None)  # the same size and mtime twice must still be parsed
    try:
        result = src.fetch(_feed_ctx(home, state))
    except SourceError as e:
        assert "\n" not in str(e)
        return "error"
    assert isinstance(result, Result)
    for it in result.items:
        assert isinstance(it.uid, str) and it.uid
        assert isinstance(it.title, str) and len(it.title) <= 1000
    assert len(state.get("seen") or []) <= 1000
    return "items" if result.items else "empty"


feed_bodies = st.one_of(
    st.binary(max_size=400),
    st.lists(st.one_of(st.sampled_from(XMLISH), st.text(max_size=8)), max_size=40)
    .map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass")),
)


@budget(50, 250)
def test_feed_parser_on_random_bytes_and_xmlish_text_items_or_one_line_error(tmp_path, examples):
    home = tmp_path / "home"
    home.mkdir()
    state: dict = {}
    outcomes: dict[str, int] = {}

    @settings(max_examples=examples, **FAST)
    @given(feed_bodies)
    def check(body: bytes) -> None:
        _count("test_feed_parser_on_random_bytes_and_xmlish_text_items_or_one_line_error")
        kind = _feed_once(home, body, state)
        outcomes[kind] = outcomes.get(kind, 0) + 1

    check()
    print(f"\noutcomes: {outcomes}")


# -- JMESPath fields --------------------------------------------------------------------------

JMES = ["a", "b", ".", "[", "]", "[*]", "[0]", "[-1]", "[?", "==", "`1`", "'x'", "@", "|", "&&",
        "||", "!", "(", ")", "{", "}", ":", ",", "length(", "sum(", "max_by(", "sort_by(",
        "to_number(", "avg(", "&a", "*", "[:", "::", "-1]", "\"", "\\", "join(', ',", "keys(@)",
        "values(@)", "not_null(", "contains(", "`{}`", "`[1,2]`", "`\"s\"`", "abs(", "ceil(", "$"]
jmes_exprs = st.one_of(st.lists(st.sampled_from(JMES), min_size=1, max_size=10).map("".join),
                       st.text(max_size=12))
docs = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
              st.text(max_size=5)),
    lambda kids: st.one_of(st.lists(kids, max_size=4),
                           st.dictionaries(st.sampled_from(["a", "b", "c"]), kids, max_size=3)),
    max_leaves=12)


@budget(100, 400)
def test_jmespath_fields_are_a_config_error_or_a_per_field_error_never_a_crash(examples):
    outcomes = {"config error": 0, "reading": 0, "field error": 0}

    @settings(max_examples=examples, **FAST)
    @given(jmes_exprs, docs)
    def check(expr: str, doc) -> None:
        _count("test_jmespath_fields_are_a_config_error_or_a_per_field_error_never_a_crash")
        try:
            opts = HttpJson.Options(url="http://127.0.0.1:9/", fields={"f": expr})
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            assert "Traceback" not in str(e)
            outcomes["config error"] += 1
            return
        readings, errors = extract(doc, opts.fields)
        assert len(readings) + len(errors) == 1
        for msg in errors.values():
            assert "\n" not in msg
        outcomes["reading" if readings else "field error"] += 1

    check()
    print(f"\noutcomes: {outcomes}")


@budget(30, 120)
def test_jmespath_fields_in_reverie_yaml_are_file_line_problems(tmp_path, examples):
    p = tmp_path / "reverie.yaml"
    outcomes: dict[str, int] = {}

    @settings(max_examples=examples, **FAST)
    @given(jmes_exprs)
    def check(expr: str) -> None:
        _count("test_jmespath_fields_in_reverie_yaml_are_file_line_problems")
        quoted = "'" + expr.replace("'", "''") + "'"
        text = (f"home: ./home\nsources:\n  - name: api\n    type: http_json\n"
                f"    url: http://127.0.0.1:9/\n    fields: {{f: {quoted}}}\n")
        kind = _check_outcome(p, text)
        outcomes[kind] = outcomes.get(kind, 0) + 1

    check()
    print(f"\noutcomes: {outcomes}")


# -- working.md consolidation ---------------------------------------------------------------------

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)
HOSTILE_CHARS = ("\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\u00a0\u200b\u200d\u202e\u2028\u2029"
                 "\ufeff\ufffd\U0001f600\u0301#`~*-_[]|<>\\\t \r\n")
working_texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.lists(st.one_of(st.sampled_from(["## Keep", "## Carry", "# Title", "```", "~~~", "#remember",
                                        "#remember infra:", "<!-- x -->", "\x1b[31m", "\r\n", "\n",
                                        "$(touch /tmp/pwned-c)", "`rm -rf ~`"]),
                       st.text(HOSTILE_CHARS, max_size=6)), max_size=30).map("".join),
)


@budget(25, 150)
def test_working_md_with_hostile_unicode_and_control_chars_accounts_for_every_line(home, store,
                                                                                 examples):
    n = [0]

    @settings(max_examples=examples, **FAST)
    @given(working_texts)
    def check(text: str) -> None:
        _count("test_working_md_with_hostile_unicode_and_control_chars_accounts_for_every_line")
        n[0] += 1
        sid = f"s{n[0]}"
        raw = text.encode("utf-8")
        home.working.write_bytes(raw)
        start = START + timedelta(hours=n[0])
        store.start_session(sid, start, 4242, "scheduled")
        store.end_session(sid, start + timedelta(minutes=30), "exited", 0)
        led = c.consolidate(home, store, store.session(sid), tz=TZ)
        lines = working.split_lines(raw.decode("utf-8"))
        assert led.lines_in == led.archived == len(lines)
        assert led.promoted + led.carried + led.dropped == led.lines_in

    check()
    assert not list(Path("/tmp").glob("pwned-c*"))


# -- dream audit ----------------------------------------------------------------------------------

prose = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=400),
    st.lists(st.one_of(st.sampled_from(["---\n", "cycle_start: 2026-11-24T05:00:00+00:00\n",
                                        "cycle_end: x\n", "## Receipt\n", "1,234.5", "-3", "1e9",
                                        "12%", "0.000001", "9" * 400, ".5", "1,2,3", "٣", "²",
                                        ": [", "{", "\n"]),
                       st.text(max_size=10)), max_size=40).map("".join),
)


@budget(60, 300)
def test_dream_audit_on_any_prose_reports_without_crashing(store, examples):
    found = [0]

    @settings(max_examples=examples, **FAST)
    @given(prose, st.booleans())
    def check(text: str, with_store: bool) -> None:
        _count("test_dream_audit_on_any_prose_reports_without_crashing")
        report = audit_mod.audit(text if "\n" in text or len(text) >= 4096 else text + "\n",
                                 store=store if with_store else None)
        out = report.format()
        assert isinstance(out, str) and out
        found[0] += len(report.findings)

    check()
    print(f"\nnumbers audited: {found[0]}")
