"""reverie.yaml: its models, loading, ``${VAR}`` interpolation, schema and summary.

One module per idea: models (Config, the option blocks, Loaded), nodes (YAML with line
numbers, duplicate keys, alias bombs), interpolation (``${VAR}``, the credentials
directory, environment files, which values are secrets), loading (validation and
one-line errors), defaults (``defaults:`` merging), schema (the JSON Schema and
`reverie sources TYPE`), summary (check-config's line). Import every name from here.
"""

from __future__ import annotations

from typing import Literal

# resolve_path and user_config_path live in snapshot.py, which status and state import
# without this package
from reverie.daemon.snapshot import CONFIG_NAME, resolve_path, user_config_path
from reverie.daemon.config.defaults import with_defaults
from reverie.daemon.config.errors import ConfigError
from reverie.daemon.config.interpolation import CREDENTIAL_MAX, read_env_file
from reverie.daemon.config.loading import home_hint, load
from reverie.daemon.config.nodes import MAX_VALUES
from reverie.daemon.config.models import (
    Config, Loaded, MemoryOptions, MetricsOptions, PerceptionOptions, agent_name, parse_size,
    split_listen)
from reverie.daemon.config.schema import describe_source_type, json_schema
from reverie.daemon.config.summary import summary
from reverie.perception.types import Duration

__all__ = ["Config", "ConfigError", "Loaded", "load", "resolve_path", "summary", "json_schema",
           "Duration", "Literal", "CONFIG_NAME", "user_config_path", "with_defaults",
           "CREDENTIAL_MAX", "read_env_file", "MAX_VALUES", "home_hint", "MemoryOptions",
           "MetricsOptions", "PerceptionOptions", "agent_name", "parse_size", "split_listen",
           "describe_source_type"]
