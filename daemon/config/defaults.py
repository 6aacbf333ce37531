"""``defaults: PATH``: a file of shared defaults merged under a config, nodes and all,
so a problem's line names the file and line where its key was written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from reverie.daemon.config.errors import ConfigError
from reverie.daemon.config.interpolation import _VAR
from reverie.daemon.config.nodes import _duplicate_key, _key_line, _parse, _shape_problem
from reverie.memory.errors import described


def with_defaults(path: Path, root: yaml.MappingNode, data: dict
                  ) -> tuple[yaml.Node, dict, Path]:
    """The config ``data`` (parsed from ``path``, nodes ``root``) with its ``defaults:`` file
    merged under it: the file's own keys win, mappings merge key by key, recursively, and
    ``sources`` merge by name (a source named in both is the defaults' entry with the
    file's keys over it). The nodes are merged the same way and keep their marks, so a
    problem's line is where its key was written; the defaults file's nodes carry its name
    (see _defaults_origin). Problems with the defaults file itself raise ConfigError."""
    shown = str(path)
    where = f"{shown}:{_key_line(root, ('defaults',))}: defaults"
    raw = data.pop("defaults")
    root = _without_key(root, "defaults")
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError([f"{where}: expected the path of a YAML file of defaults"])
    if _VAR.search(raw):
        raise ConfigError([f"{where}: a ${{VAR}} is not read here; write the path itself"])
    dpath = Path(raw).expanduser()
    if not dpath.is_absolute():
        dpath = path.parent / dpath
    dshown = str(dpath)
    try:
        dtext = dpath.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{where}: no such file {dshown}"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{where}: cannot read {dshown}: {described(e)}"]) from None
    try:
        droot, ddata = _parse(dtext)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError([f"{dshown}:{mark.line + 1 if mark else 1}: invalid YAML: "
                           f"{' '.join(str(problem).split())}"]) from None
    except RecursionError:
        raise ConfigError([f"{dshown}:1: invalid YAML: nested too deeply"]) from None
    shape = _shape_problem(droot) or _duplicate_key(droot)
    if shape:
        raise ConfigError([f"{dshown}:{shape}"])
    if ddata is None:
        return root, data, dpath
    if not isinstance(ddata, dict) or not isinstance(droot, yaml.MappingNode):
        raise ConfigError([f"{dshown}:1: a defaults file must be a mapping of keys, like a config"])
    if "defaults" in ddata:
        raise ConfigError([f"{dshown}:{_key_line(droot, ('defaults',))}: defaults: a defaults "
                           "file cannot name another (one level only)"])
    _name_marks(droot, dshown)
    node, merged = _merge(droot, ddata, root, data)
    return node, merged, dpath


def _without_key(root: yaml.MappingNode, key: str) -> yaml.MappingNode:
    return yaml.MappingNode(root.tag, [(k, v) for k, v in root.value if k.value != key],
                            root.start_mark, root.end_mark, root.flow_style)


def _name_marks(root: yaml.Node, name: str) -> None:
    """Mark every node of a defaults file as written there."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for mark in (node.start_mark, node.end_mark):
            if mark is not None:
                mark.name = name
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack += (k, v)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


def _merge(dnode: yaml.Node, dval: Any, fnode: yaml.Node, fval: Any,
           loc: tuple = ()) -> tuple[yaml.Node, Any]:
    """``fval`` over ``dval`` (and their nodes alike): see with_defaults."""
    if isinstance(dval, dict) and isinstance(fval, dict) and \
            isinstance(dnode, yaml.MappingNode) and isinstance(fnode, yaml.MappingNode):
        out = dict(dval)
        pairs = list(dnode.value)
        index = {str(k.value): i for i, (k, _) in enumerate(pairs)}
        fpairs = {str(k.value): (k, v) for k, v in fnode.value}
        for key, value in fval.items():
            k_node, v_node = fpairs.get(str(key), (None, None))
            if key in out and str(key) in index and v_node is not None:
                i = index[str(key)]
                merged_node, out[key] = _merge(pairs[i][1], out[key], v_node, value,
                                               (*loc, key))
                pairs[i] = (k_node, merged_node)
            else:
                out[key] = value
                if k_node is not None:
                    index[str(key)] = len(pairs)
                    pairs.append((k_node, v_node))
        return yaml.MappingNode(fnode.tag, pairs, fnode.start_mark, fnode.end_mark,
                                fnode.flow_style), out
    if loc == ("sources",) and isinstance(dval, list) and isinstance(fval, list) and \
            isinstance(dnode, yaml.SequenceNode) and isinstance(fnode, yaml.SequenceNode):
        return _merge_sources(dnode, dval, fnode, fval)
    return fnode, fval


def _merge_sources(dnode: yaml.SequenceNode, dval: list, fnode: yaml.SequenceNode,
                   fval: list) -> tuple[yaml.Node, list]:
    """Sources by name: the defaults' in their order (each with the file's entry of the same
    name over it), then the file's others in theirs."""
    def name(v: Any) -> Any:
        return v.get("name") if isinstance(v, dict) else None

    mine = {name(v): i for i, v in enumerate(fval) if name(v) is not None}
    out, nodes, used = [], [], set()
    for dn, dv in zip(dnode.value, dval):
        i = mine.get(name(dv))
        if i is not None and name(dv) is not None:
            n, v = _merge(dn, dv, fnode.value[i], fval[i], ("sources", "*"))
            used.add(i)
        else:
            n, v = dn, dv
        nodes.append(n)
        out.append(v)
    for i, (fn, fv) in enumerate(zip(fnode.value, fval)):
        if i not in used:
            nodes.append(fn)
            out.append(fv)
    return yaml.SequenceNode(fnode.tag, nodes, fnode.start_mark, fnode.end_mark,
                             fnode.flow_style), out


_PROBLEM = re.compile(r"^(?P<file>.*?):(?P<line>\d+): (?P<loc>[^:\s]+|\(top level\)): ")
_LOC_PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _defaults_origin(line: str, shown: str, root: yaml.Node) -> str:
    """``line`` (``FILE:N: loc: ...``) naming the defaults file instead of ``shown`` when the
    key at ``loc`` was written there (its node carries that file's name)."""
    m = _PROBLEM.match(line)
    if not m or m.group("file") != shown or m.group("loc") == "(top level)":
        return line
    loc = tuple(int(a) if a else b for a, b in _LOC_PART.findall(m.group("loc")))
    node = _written_at(root, loc)
    name = getattr(getattr(node, "start_mark", None), "name", None)
    if not name or name == shown or name.startswith("<"):
        return line
    return f"{name}:{m.group('line')}: {line[m.end('line') + 2:]}"


def _written_at(root: yaml.Node, loc: tuple) -> yaml.Node | None:
    """The key node of ``loc`` (or of its deepest existing parent): where it was written."""
    node, written = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    node, written = v, k
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and 0 <= part < len(node.value):
            node = written = node.value[part]
        else:
            break
    return written
