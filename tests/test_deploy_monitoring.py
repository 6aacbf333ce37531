"""deploy/grafana and deploy/prometheus: every PromQL expression parses (promql-parser), and
every metric it names is one reverie exports, read from a real scrape of a collector over a
store filled with every kind of event."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from reverie.daemon import config
from reverie.memory.store import Store
from reverie.perception.metrics import Metrics

promql_parser = pytest.importorskip("promql_parser", reason="promql-parser (the test extra)")

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "reverie.json"
RULES = ROOT / "deploy" / "prometheus" / "reverie-rules.yaml"
# series Prometheus makes itself for every target, not exported by anyone
PROMETHEUS_OWN = {"up"}
# Grafana's variables, as a query would have them substituted
GRAFANA = {"__rate_interval": "5m", "__interval": "1m", "__range": "1d"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> set[str]:
    """Every sample name a scrape of the daemon's listener gives, over a store with a good
    and a failed poll, a reading, a dream that fell back, a killed session, tokens, and a
    heartbeat."""
    root = tmp_path_factory.mktemp("agent")
    cfg = root / "reverie.yaml"
    cfg.write_text(yaml.safe_dump({"home": str(root / "home"), "timezone": "UTC", "sources": [
        {"name": n, "type": "http_json", "url": f"http://127.0.0.1:9/{n}",
         "fields": {"karma": "karma"}} for n in ("good", "bad")]}))
    (root / "home").mkdir()
    loaded = config.load(cfg)
    home = loaded.home
    home.ensure()
    now = datetime.now(timezone.utc)
    with Store.open(home.db) as s:
        s.record_run("good", now, ok=True, duration=0.2, readings=[("good.karma", 7.0, None, None)])
        s.record_run("bad", now, ok=False, error="HTTP 500", duration=1.0)
        s.record_dream(date=now.date().isoformat(), path="dreams/x.md", backend="offline",
                       cycle_start=now - timedelta(days=1), cycle_end=now, sha256="0" * 64,
                       fallback_reason="timeout", tokens=12)
        s.add_tokens(now.date().isoformat(), "dream", 12)
        s.start_session("s1", now - timedelta(minutes=5), 1, "test")
        s.end_session("s1", now, "killed", -9)
        s.beat(now)
    m = Metrics(home, lambda: Store.open(home.db, readonly=True),
                lambda: loaded.config.sources, agent="ada", process=True)
    body = m.exposition().body.decode()
    return {s.name for f in text_string_to_metric_families(body) for s in f.samples}


def _grafana(expr: str) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: GRAFANA.get(m.group(1), "x"), expr)


def _dashboard_exprs() -> list[tuple[str, str]]:
    d = json.loads(DASHBOARD.read_text())
    out = [(p["title"], t["expr"]) for p in d["panels"] for t in p.get("targets", ())]
    assert len(out) >= 9
    return out


def _rule_exprs() -> list[tuple[str, str]]:
    doc = yaml.safe_load(RULES.read_text())
    return [(r["alert"], r["expr"]) for g in doc["groups"] for r in g["rules"]]


def _names(node) -> set[str]:
    """Every metric name a parsed expression selects."""
    P = promql_parser
    if isinstance(node, P.VectorSelector):
        named = {m.value for m in node.matchers.matchers if m.name == "__name__"}
        return ({node.name} if node.name else set()) | named
    if isinstance(node, P.MatrixSelector):
        return _names(node.vector_selector)
    if isinstance(node, P.BinaryExpr):
        return _names(node.lhs) | _names(node.rhs)
    if isinstance(node, P.Call):
        return set().union(*(_names(a) for a in node.args)) if node.args else set()
    if isinstance(node, P.AggregateExpr):
        return _names(node.expr) | (_names(node.param) if node.param is not None else set())
    if isinstance(node, (P.ParenExpr, P.UnaryExpr, P.SubqueryExpr)):
        return _names(node.expr)
    return set()


def test_the_rules_alert_on_what_the_issue_names():
    doc = yaml.safe_load(RULES.read_text())
    rules = {r["alert"]: r for g in doc["groups"] for r in g["rules"]}
    assert rules["ReverieSourceDown"]["for"] == "30m"
    assert "> 120" in rules["ReverieNoHeartbeat"]["expr"]
    assert "26 * 3600" in rules["ReverieNoDream"]["expr"]
    assert 'end_reason="killed"' in rules["ReverieSessionKilled"]["expr"]
    assert "reverie_dream_fallbacks_total" in rules["ReverieDreamFellBack"]["expr"]
    for name, r in rules.items():
        assert r["annotations"]["summary"] and r["labels"]["severity"], name


@pytest.mark.parametrize("where,expr", _rule_exprs() + _dashboard_exprs())
def test_every_expression_parses_and_names_only_metrics_reverie_exports(where, expr, exported):
    tree = promql_parser.parse(_grafana(expr))
    names = _names(tree)
    assert names, f"{where}: no metric in {expr!r}"
    unknown = names - exported - PROMETHEUS_OWN
    assert not unknown, f"{where}: {sorted(unknown)} not exported (exported: {sorted(exported)})"


def test_the_dashboard_has_an_agent_variable_that_every_panel_filters_by(exported):
    d = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in d["templating"]["list"]}
    agent = variables["agent"]
    assert agent["definition"] == "label_values(reverie_agent_info, agent)"
    assert agent["includeAll"] and agent["multi"]  # one agent or the whole fleet
    for v in variables.values():
        m = re.fullmatch(r"label_values\((\w+), *(\w+)\)", v.get("definition", ""))
        if m:
            assert m.group(1) in exported, v["name"]
    for title, expr in _dashboard_exprs():
        assert 'agent=~"$agent"' in expr, title
    titles = " ".join(p["title"].lower() for p in d["panels"])
    for word in ("sources up", "latency", "failed", "sessions", "dreams", "fallbacks",
                 "tokens", "signals"):
        assert word in titles, word
