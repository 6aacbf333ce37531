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
    _describe("Config", schema)
    variants = []
    for name in sorted(source_types.available()):
        try:
            entry, defs = _source_schema(name, source_types.get(name))
        except Exception:
            continue
        for d, v in defs.items():
            schema["$defs"].setdefault(d, v)
        variants.append(entry)
    for d, v in schema["$defs"].items():
        _describe(d, v)
    schema["$defs"].pop("SourceSpec", None)  # sources are the variants below
    sources_doc = schema["properties"]["sources"].get("description")
    schema["properties"]["sources"] = {"type": "array", "items": {"oneOf": variants},
                                       "description": sources_doc}
    return schema


# -- help for editors and `reverie sources TYPE` ------------------------------------------
# Descriptions of the fields whose models live elsewhere (and share fields across source
# types), kept in one place so the schema describes every key; a field's own
# Field(description=...) wins. tests/test_config.py fails when a new field has none.

_DOCS: dict[str, str] = {
    "Config.home": "the agent's home folder (relative paths are relative to this file)",
    "Config.defaults": "a YAML file of shared defaults, merged under this file's keys "
                       "(maps key by key, sources by name)",
    "Config.name": "the agent's name in notifications, metrics and the default state "
                   "directory (default: the home folder's name)",
    "Config.state_dir": "where reverie keeps its own files (the record, lock, control socket, "
                        "session logs), outside the home; default $STATE_DIRECTORY under "
                        "systemd, else ${XDG_STATE_HOME:-~/.local/state}/reverie/<name>",
    "Config.timezone": "IANA zone for crons and human files (default: the system's zone)",
    "Config.sources": "what the agent perceives: one entry per source (see `reverie sources`)",
    "Config.perception": "how perception/state.md is rendered and how long readings are kept",
    "Config.dream": "the nightly dream: when, which backend, the model's settings",
    "Config.sessions": "the agent's wake/sleep sessions",
    "Config.memory": "what happens to the home after consolidation",
    "PerceptionOptions.template": "a Jinja2 file replacing state.md's layout (relative to the home)",
    "PerceptionOptions.retention": "how long raw observations are kept, applied nightly",
    "PerceptionOptions.render_every": "at most one state.md rendering per this interval",
    "Config.metrics": "the daemon's own /metrics and /healthz listener (off until `listen`)",
    "MetricsOptions.listen": "host:port the daemon serves /metrics and /healthz on, e.g. "
                             "127.0.0.1:9464 (loopback unless allow_remote)",
    "MetricsOptions.allow_remote": "true: let `listen` be an address other machines can reach",
    "MetricsOptions.signals": "false: leave out reverie_signal (the latest numeric reading "
                              "of each signal, up to 500 series)",
    "MemoryOptions.git": "commit the home to git after each consolidation",
    "MemoryOptions.distill": "offline (or true) or openai: distil each day's diary into "
                             "memory/, every line citing its diary lines",
    "MemoryOptions.patterns_days": "memory/patterns.md: what recurs over this many days",
    "MemoryOptions.working_max": "working.md is read up to this size (e.g. 16MiB); a larger "
                                 "one is kept whole, unread, in diary/",
    "DreamOptions.at": "when the night's dream is written (cron, in `timezone`)",
    "DreamOptions.backend": "offline (embedded, no network) or openai (any OpenAI-compatible server)",
    "DreamOptions.model": "the model name for the openai backend",
    "DreamOptions.base_url": "the OpenAI-compatible endpoint (default: OpenAI's)",
    "DreamOptions.api_key": "the endpoint's key; use ${VAR}, never the key itself",
    "DreamOptions.temperature": "sampling temperature for the model (0-2)",
    "DreamOptions.max_tokens": "the most tokens one dream may use",
    "DreamOptions.timeout": "how long a model request may take before the offline dream is written",
    "DreamOptions.max_tokens_per_day": "model budget per UTC day; past it the offline backend dreams",
    "DreamOptions.catch_up": "how late a missed dream is still written at start",
    "DreamOptions.persona": "the persona file the dream speaks from (relative to the home)",
    "DreamOptions.prompt_template": "a Jinja2 file replacing the model's prompt (relative to the home)",
    "DreamOptions.notable": "what makes a night's event worth a dream (and a wake)",
    "DreamOptions.dryness_nights": "how many past nights' phrases the offline dream avoids",
    "NotableRules.change_pct": "a change of at least this percent is notable",
    "NotableRules.signals": "per-signal thresholds ('<source>.<field>': percent; 0: any change)",
    "NotableRules.high_low_days": "a new high or low over this many days is notable",
    "NotableRules.items_cap": "at most this many new items per night in the digest",
    "NotableRules.usual_days": "days of history that set a signal's usual daily movement",
    "NotableRules.score": "a change this many times the usual daily movement is notable",
    "SessionsOptions.command": "the agent's command line: an argv list, never a shell string",
    "SessionsOptions.cwd": "the agent's working folder (default: the home)",
    "SessionsOptions.env": "the agent's environment beyond PATH, HOME, LANG, TZ (a ${VAR} another part of the config uses is refused)",
    "SessionsOptions.wake": "when the agent is woken (crons, in `timezone`)",
    "SessionsOptions.sleep": "when the agent is put to sleep (crons, in `timezone`)",
    "SessionsOptions.max_duration": "a session is ended after this long",
    "SessionsOptions.stop_timeout": "grace between SIGTERM and SIGKILL when a session ends",
    "SessionsOptions.active_hours": "e.g. '07:00-23:00': scheduled wakes outside it are skipped",
    "SessionsOptions.webhook": "POST to a URL instead of running `command`",
    "SessionsOptions.skip_if_quiet": "skip a scheduled wake when nothing notable changed since the last one",
    "SessionsOptions.wake_on": "conditions that wake the agent between scheduled times, "
                               "e.g. 'moltbook.unread > 0'",
    "SessionsOptions.wake_on_min_interval": "at most one `wake_on` wake per this interval",
    "SessionsOptions.missed_grace": "how late a missed wake still runs at start",
    "SessionsOptions.log_max_bytes": "the session log keeps at most this many bytes of the agent's output",
    "WebhookOptions.url": "the http(s) URL a wake POSTs to",
    "WebhookOptions.headers": "request headers (use ${VAR} for tokens)",
    "WebhookOptions.timeout": "how long the POST may take",
    "WebhookOptions.retries": "how often a failed POST is retried",
    "FieldSpec.path": "JMESPath into the JSON document",
    "FieldSpec.scale": "multiply the value by this (0.01: cents to euros)",
    "FieldSpec.unit": "the unit shown after the value",
    # every source entry
    "source.name": "the source's name: lowercase letters, digits, '_' and '-'; signals are <name>.<field>",
    "source.type": "the source type (`reverie sources` lists them)",
    "source.every": "how often it runs (default 1h unless `cron` is given)",
    "source.cron": "run at these times instead of `every` (cron, in `timezone`)",
    "source.jitter": "random delay added to each run (default: 10% of `every`, at most 5m)",
    "source.timeout": "the whole run's time bound",
    "source.enabled": "false: configured but never polled",
    "source.kind": "what its signals mean to the agent (money, reputation, work, items, "
                   "weather, health, host, other): one kind, or {field: kind}",
    "source.label": "how a person names its signals (default from source and field): "
                    "one label, or {field: label}",
    "source.options": "the type's own options",
    # options several types share
    "source.url": "the URL to fetch",
    "source.headers": "request headers (use ${VAR} for tokens; never sent to another host)",
    "source.max_bytes": "cap on the (decompressed) body",
    "source.fields": "signals to read: {signal: JMESPath} or {signal: {path, scale, unit}}",
    "source.unit": "the unit shown after the value",
    "source.path": "a file or folder inside the home",
    "command.command": "the program and its arguments, run without a shell",
    "command.field": "the signal's name for a plain number on stdout",
    "command.cwd": "the folder inside the home it runs in",
    "command.max_bytes": "cap on stdout",
    "feed.url": "the feed's URL (or give `path`)",
    "feed.path": "a feed file inside the home (or give `url`)",
    "feed.max_items": "at most this many entries are read per run",
    "files.glob": "which files count (a glob pattern)",
    "files.recursive": "count in subfolders too",
    "files.words": "also count the words in the files",
    "files.max_bytes": "words are counted in the first this many bytes of a file (default 4 MiB)",
    "http_json.method": "GET or POST (default: POST when `body` is given)",
    "http_json.body": "a JSON body to POST",
    "moltbook.url": "the Moltbook API endpoint",
    "moltbook.api_key": "your Moltbook API key; use ${VAR}",
    "system.path": "the folder whose disk is measured",
    "wallet.chain": "ethereum, solana or bitcoin",
    "wallet.address": "the address whose balance is read",
    "wallet.url": "the chain's JSON-RPC endpoint (required for ethereum; use ${VAR} for keyed URLs)",
    "wallet.symbol": "the unit shown (default: the chain's coin)",
    "weather.url": "the Open-Meteo-compatible endpoint",
    "weather.latitude": "where: latitude in degrees (-90 to 90)",
    "weather.longitude": "where: longitude in degrees (-180 to 180)",
    "weather.units": "metric or imperial",
}


def _doc(owner: str, key: str, field_schema: dict) -> str | None:
    """A field's description: the table's (type-specific before shared), else its own
    (which for a duration or cron is the generic text of its type)."""
    if owner.startswith("source: "):
        t = owner[len("source: "):]
        return (_DOCS.get(f"{t}.{key}") or _DOCS.get(f"source.{key}")
                or field_schema.get("description"))
    return _DOCS.get(f"{owner}.{key}") or field_schema.get("description")


_ISO = re.compile(r"^-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


def _describe(owner: str, schema: dict) -> None:
    for key, prop in schema.get("properties", {}).items():
        doc = _doc(owner, key, prop)
        if doc:
            prop["description"] = doc
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
    props["type"] = {"const": name}
    title = f"source: {name}"
    entry = {"type": "object", "title": title, "properties": props,
             "required": ["name", "type", *opts.get("required", [])],
             "additionalProperties": False}
    _describe(title, entry)
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
