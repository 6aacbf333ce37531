"""The JSON Schema of reverie.yaml (for editors) and `reverie sources TYPE`."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from reverie.daemon.config.models import Config
from reverie.perception import sources as source_types
from reverie.perception.sources import SourceSpec


def json_schema() -> dict:
    """The JSON Schema of reverie.yaml (sources as their common keys plus any options),
    with a description for every key."""
    schema = Config.model_json_schema(mode="validation")
    schema["title"] = "reverie.yaml"
    schema.setdefault("$defs", {})
    _readable_defaults(schema)
    variants = []
    for name in sorted(source_types.available()):
        try:
            entry, defs = _source_schema(name, source_types.get(name))
        except Exception:
            continue
        for d, v in defs.items():
            schema["$defs"].setdefault(d, v)
        variants.append(entry)
    for v in schema["$defs"].values():
        _readable_defaults(v)
    schema["$defs"].pop("SourceSpec", None)  # sources are the variants below
    sources_doc = schema["properties"]["sources"].get("description")
    schema["properties"]["sources"] = {"type": "array", "items": {"oneOf": variants},
                                       "description": sources_doc}
    return schema


# -- help for editors and `reverie sources TYPE` ------------------------------------------
# Every field says what it is next to itself, in its model's Field(description=...)
# (tests/test_config.py fails when a new field has none); a source type's entry is its
# options model's fields after the keys every source shares (SourceSpec).

_ISO = re.compile(r"^-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


def _readable_defaults(schema: dict) -> None:
    for prop in schema.get("properties", {}).values():
        # a timedelta default comes out as ISO 8601 ('PT10S'), which the loader refuses
        default = prop.get("default")
        if isinstance(default, str) and len(default) > 1 and _ISO.match(default):
            from pydantic import TypeAdapter

            from reverie.perception.types import format_duration

            prop["default"] = format_duration(TypeAdapter(timedelta).validate_python(default))


def _source_schema(name: str, cls: type[source_types.Source]) -> tuple[dict, dict]:
    """A source type's entry (common keys plus its options) and the $defs it needs."""
    opts = cls.Options.model_json_schema()
    props = {k: v for k, v in SourceSpec.model_json_schema().get("properties", {}).items()
             if k != "options"}
    props.update(opts.get("properties", {}))
    props["type"] = {"const": name, "description": props["type"]["description"]}
    title = f"source: {name}"
    entry = {"type": "object", "title": title, "properties": props,
             "required": ["name", "type", *opts.get("required", [])],
             "additionalProperties": False}
    _readable_defaults(entry)
    doc = (cls.__doc__ or "").strip()
    if doc:
        entry["description"] = doc.splitlines()[0]
    return entry, opts.get("$defs", {})


def describe_source_type(name: str) -> str:
    """`reverie sources TYPE`: the type's options (name, type, default, description) and
    the example from its docstring. KeyError when there is no such type."""
    import textwrap

    cls = source_types.get(name)
    entry, _defs = _source_schema(name, cls)
    required = set(entry["required"])
    rows = []
    for key, prop in entry["properties"].items():
        if key == "type":
            continue
        kind = _type_name(prop)
        if key in required:
            default = "required"
        elif "default" in prop:
            default = json.dumps(prop["default"]) if prop["default"] is not None else "none"
        else:
            default = "none"
        rows.append((key, kind, default, prop.get("description", "")))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    doc = textwrap.dedent((cls.__doc__ or "").strip("\n"))
    first, _, rest = doc.partition("\n")
    out = [f"{name}: {first.strip()}", "", "options:"]
    out += [f"  {k:{w[0]}}  {t:{w[1]}}  {d:{w[2]}}  {desc}".rstrip() for k, t, d, desc in rows]
    example = re.search(r"```yaml\n(.*?)```", textwrap.dedent(rest), re.S)
    if example:
        out += ["", "example:", textwrap.indent(example.group(1).rstrip(), "  ")]
    return "\n".join(out) + "\n"


def _type_name(prop: dict) -> str:
    if prop.get("examples") and "30s" in prop["examples"]:
        return "duration"
    if "pattern" in prop and "crontab" in prop.get("description", ""):
        return "cron"
    if "anyOf" in prop:
        kinds = [_type_name(p) for p in prop["anyOf"] if p.get("type") != "null"]
        return " | ".join(dict.fromkeys(kinds)) or "any"
    if "enum" in prop:
        return " | ".join(map(str, prop["enum"]))
    if "const" in prop:
        return json.dumps(prop["const"])
    if prop.get("type") == "array":
        return f"list of {_type_name(prop.get('items', {}))}"
    if prop.get("type") == "object":
        return "mapping"
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    return str(prop.get("type", "any"))
