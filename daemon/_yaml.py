"""YAML as people write it: PyYAML's safe loader with the YAML 1.2 core schema's scalars.

PyYAML resolves plain scalars by YAML 1.1, where ``on``, ``off``, ``yes``, ``no``, ``y``
and ``n`` are booleans (the README's ``on: [source_failing]`` became the key ``True``),
``010`` is octal 8 and ``12:30`` is a sexagesimal 750. YAML 1.2's core schema, which a
user who writes YAML today expects: ``true``/``false`` (``True``, ``TRUE``) are booleans,
``null``/``~``/nothing is null, integers are decimal (``010`` is 10), ``0o10`` octal and
``0x10`` hexadecimal, floats as written (``.inf``, ``.nan``), and every other plain scalar
is a string, dates included. PyYAML's merge key (``<<``) stays. Everything else of
SafeLoader (marks for line numbers, safe construction) is unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_INT = "tag:yaml.org,2002:int"


class Loader(yaml.SafeLoader):
    """SafeLoader resolving plain scalars by the YAML 1.2 core schema."""

    yaml_implicit_resolvers: dict = {}


for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+.0123456789")),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
]:
    Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _int(loader: Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    try:
        return int(text, 10)  # 010 is 10; an explicit !!int that is not a number says so
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"not an integer: {text!r}", node.start_mark) from None


Loader.add_constructor(_INT, _int)


def load(text: str) -> Any:
    """The document in ``text`` (one), read as :class:`Loader` reads it."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
