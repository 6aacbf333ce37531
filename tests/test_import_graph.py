"""The import graph: every module imports, no module is part of an import cycle, and the
layers point one way (daemon -> perception -> memory).

Edges are read from each module's source (its AST), so an import inside a function or
under ``if TYPE_CHECKING:`` counts: a cycle hidden in a function is still a cycle, only
a later one. Importing ``a.b.c`` also runs ``a.b``'s ``__init__``, so it is an edge to
that package too.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("daemon", "perception", "memory")  # each may import only those after it



def _modules() -> dict[str, Path]:
    out = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(["reverie", *parts])] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _targets(name: str) -> set[str]:
    """The project modules ``name``'s code imports (with the packages those run)."""
    tree = ast.parse(MODULES[name].read_text("utf-8"), str(MODULES[name]))
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
    out = set()
    for target in found:
        parts = target.split(".")
        for i in range(2, len(parts) + 1):  # the module and every package above it
            prefix = ".".join(parts[:i])
            if prefix in MODULES and prefix != name:
                out.add(prefix)
    return out


GRAPH = {name: _targets(name) for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _layer(name: str) -> str:
    return name.split(".")[1]


def test_the_graph_is_read_from_every_module_of_the_three_layers():
    assert {_layer(m) for m in MODULES} == set(LAYERS)
    assert "reverie.perception.sources.feed" in MODULES
    # a function-local import is an edge too (services imports the poller inside a method)
    assert "reverie.perception.poll" in GRAPH["reverie.daemon.services"]
    # importing a package's module is an edge to the package (its __init__ runs)
    assert "reverie.perception.sources" in GRAPH["reverie.perception.sources.feed"]


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_no_module_is_part_of_an_import_cycle():
    # A module's own packages are imported before it runs (reverie.memory.store is in
    # sys.modules while its records module loads), so an edge from a module up to a
    # package that holds it closes no cycle: only the edges that can are kept.
    graph = {v: {w for w in ws if not v.startswith(w + ".")} for v, ws in GRAPH.items()}
    cycles = _cycles(graph)
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_memory_imports_neither_perception_nor_the_daemon():
    wrong = sorted((v, w) for v, ws in GRAPH.items() for w in ws
                   if _layer(v) == "memory" and _layer(w) != "memory")
    assert wrong == []


def test_perception_does_not_import_the_daemon():
    wrong = sorted((v, w) for v, ws in GRAPH.items() for w in ws
                   if _layer(v) == "perception" and _layer(w) == "daemon")
    assert wrong == []
