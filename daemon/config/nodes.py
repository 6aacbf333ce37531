"""YAML as nodes: the parse that keeps the marks (line numbers), the node at a key's
path, duplicate keys, and documents whose aliases make them recursive or too big."""

from __future__ import annotations

from typing import Any

import yaml

from reverie.daemon import _yaml


def _node_at(root: yaml.Node | None, loc: tuple) -> tuple[yaml.Node | None, bool]:
    """The deepest node along ``loc`` and whether the whole path was found."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    node = v
                    break
            else:
                return node, False
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return node, False
        else:
            return node, False
    return node, True


def _key_line(root: yaml.Node | None, loc: tuple) -> int:
    """1-based line of the key at ``loc`` (or of its nearest existing parent)."""
    if not loc:
        return 1
    parent, found = _node_at(root, loc[:-1])
    if found and isinstance(parent, yaml.MappingNode):
        for k, _v in parent.value:
            if k.value == str(loc[-1]):
                return k.start_mark.line + 1
    if found and isinstance(parent, yaml.SequenceNode) and isinstance(loc[-1], int):
        if 0 <= loc[-1] < len(parent.value):
            return parent.value[loc[-1]].start_mark.line + 1
    node, _ = _node_at(root, loc)
    return (node.start_mark.line + 1) if node is not None else 1


def _fmt_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _duplicate_key(root: yaml.Node | None) -> str | None:
    """'LINE: path: duplicate key (first at line N)': YAML keeps the last of two equal
    keys without a word, and the first was as likely meant. Run after _shape_problem."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple]] = [(root, ())] if root is not None else []
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:  # an alias: walked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, (*loc, i)) for i, c in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                if key is not None and k.tag != _MERGE:
                    line = k.start_mark.line + 1
                    if key in first:
                        return (f"{line}: {_fmt_loc((*loc, key))}: duplicate key "
                                f"(first at line {first[key]})")
                    first[key] = line
                stack.append((v, (*loc, key)))
    return None


MAX_VALUES = 100_000  # YAML aliases can make a small file stand for a huge (or endless) tree


def _shape_problem(root: yaml.Node | None) -> str | None:
    """'LINE: what is wrong' when aliases make the document recursive or too big to walk.

    Iterative, so neither a self-referencing alias nor deep nesting can blow the stack
    of the recursive walk that interpolates ${VAR}s."""
    if root is None:
        return None
    seen = 0
    open_ids: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            open_ids.discard(id(node))
            continue
        seen += 1
        if seen > MAX_VALUES:
            return (f"{node.start_mark.line + 1}: YAML aliases expand to more than "
                    f"{MAX_VALUES} values")
        if id(node) in open_ids:
            return f"{node.start_mark.line + 1}: a YAML alias refers to a value that contains it"
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for kv in node.value for n in kv]
        else:
            continue
        open_ids.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(children))
    return None


_MERGE = "tag:yaml.org,2002:merge"


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's nodes (their marks give the lines) and its data, from one parse
    unless a merge key (``<<``) is in it: constructing merges its keys into the nodes,
    and the lines of the problems are read from the nodes as written. Scalars are YAML
    1.2's (daemon/_yaml.py): ``on``/``no`` are strings, ``010`` is 10."""
    loader = _yaml.Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        if _has_merge(root):
            return root, _yaml.load(text)
        return root, loader.construct_document(root)
    finally:
        loader.dispose()


def _has_merge(root: yaml.Node) -> bool:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: walked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.tag == _MERGE:
                    return True
                stack += (k, v)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return False
