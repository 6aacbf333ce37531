"""http_json: any JSON endpoint, fields picked out with JMESPath."""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar, Literal

import jmespath
import jmespath.exceptions
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reverie.perception import http
from reverie.perception.http import HttpOptions
from reverie.perception.sources import BaseSource, Context, Reading, Result, SourceError
from reverie.perception import names
from reverie.memory.errors import one_line

MAX_TEXT = 500  # characters kept of a text reading
_HEX = re.compile(r"0x[0-9a-fA-F]{1,32}")


class FieldSpec(BaseModel):
    """One field in long form: ``{path: data.price, scale: 0.01, unit: EUR}``."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="JMESPath into the JSON document")
    scale: float = Field(default=1.0,
                         description="multiply the value by this (0.01: cents to euros)")
    unit: str | None = Field(default=None, description="the unit shown after the value")

    @field_validator("path")
    @classmethod
    def _compiles(cls, v: str) -> str:
        compile_path(v)
        return v


def compile_path(path: str) -> Any:
    try:
        return jmespath.compile(path)
    except jmespath.exceptions.JMESPathError as e:
        raise ValueError(f"invalid JMESPath {path!r}: {one_line(e)}") from None


def check_fields(fields: dict[str, str | FieldSpec]) -> dict[str, FieldSpec]:
    """Field names usable as signal names, each with a path that compiles (at config time)."""
    out: dict[str, FieldSpec] = {}
    for name, spec in fields.items():
        if not names.is_name(name):
            raise ValueError(f"invalid field name {name!r}: {names.RULE}")
        out[name] = spec if isinstance(spec, FieldSpec) else FieldSpec(path=spec)
    return out


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        # APIs often send amounts as strings ("1234.50"); those are numbers to a person too
        if "_" in v:  # float() reads "1_000"; an API value with underscores is an id, not a number
            return None
        if _HEX.fullmatch(v):  # JSON-RPC quantities ("0x1312d00"); longer hex is a hash or address
            return float(int(v, 16))
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def extract(doc: Any, fields: dict[str, FieldSpec]) -> tuple[list[Reading], dict[str, str]]:
    """Readings for every field that matched, and one error per field that did not."""
    readings: list[Reading] = []
    errors: dict[str, str] = {}
    for name, spec in fields.items():
        try:
            found = jmespath.search(spec.path, doc)
        except jmespath.exceptions.JMESPathError as e:
            errors[name] = f"path {spec.path!r} failed: {one_line(e)}"
            continue
        if found is None:
            errors[name] = f"path {spec.path!r} matched nothing"
            continue
        number = _as_number(found)
        if number is not None:
            readings.append(Reading(name, value=number * spec.scale, unit=spec.unit))
        elif isinstance(found, str):
            text = " ".join(found.split())
            if len(text) > MAX_TEXT:
                text = text[: MAX_TEXT - 1] + "…"
            readings.append(Reading(name, text=text, unit=spec.unit))
        else:
            kind = "a list" if isinstance(found, list) else "an object"
            errors[name] = f"path {spec.path!r} matched {kind}, expected a number or text"
    return readings, errors


def result_of(readings: list[Reading], errors: dict[str, str], where: str) -> Result:
    """The run's Result: it fails only when every field failed."""
    if errors and not readings:
        first = next(iter(errors.items()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SourceError(f"no field matched in the response from {where}: "
                          f"{first[0]}: {first[1]}{more}")
    return Result(readings=readings, field_errors=errors)


def raise_on_jsonrpc_error(doc: Any, host: str, secrets: tuple[str, ...]) -> None:
    if isinstance(doc, dict) and "jsonrpc" in doc and doc.get("error") is not None:
        http.check_jsonrpc(doc, host, secrets)


class HttpJson(BaseSource):
    """Any JSON endpoint (GET, or POST with a JSON body); fields picked with JMESPath.

    Numbers become values (optionally scaled, with a unit), strings become texts; a string
    that reads as a number ("12.50", or a JSON-RPC quantity like "0x1b4") counts as a number. A path that matches nothing fails
    that field only. A JSON-RPC error object answered with HTTP 200 fails the run.

    ```yaml
    - name: moltbook
      type: http_json
      url: https://www.moltbook.com/api/v1/agents/me
      headers: {Authorization: "Bearer ${MOLTBOOK_API_KEY}"}
      fields:
        karma: agent.karma
        followers: agent.follower_count
        price: {path: "data.amount", scale: 0.01, unit: EUR}
      every: 15m
    - name: base
      type: http_json
      url: ${BASE_RPC_URL}
      body: {jsonrpc: "2.0", id: 1, method: eth_blockNumber, params: []}
      fields: {block: result}
    ```
    """

    type_name: ClassVar[str] = "http_json"

    class Options(HttpOptions):
        method: Literal["GET", "POST"] | None = Field(default=None,
                                                      description="GET or POST (default: POST "
                                                                  "when `body` is given)")
        body: Any = Field(default=None, description="a JSON body to POST")
        fields: dict[str, str | FieldSpec] = Field(description="signals to read: {signal: "
                                                               "JMESPath} or {signal: {path, "
                                                               "scale, unit}}")

        @field_validator("fields")
        @classmethod
        def _fields(cls, v: dict[str, str | FieldSpec]) -> dict[str, FieldSpec]:
            if not v:
                raise ValueError("give at least one field")
            return check_fields(v)

        @model_validator(mode="after")
        def _method(self) -> "HttpJson.Options":
            if self.method is None:
                self.method = "POST" if self.body is not None else "GET"
            return self

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def fetch(self, ctx: Context) -> Result:
        o = self.options
        resp = http.fetch(o.url, timeout=ctx.timeout, headers=o.headers, method=o.method or "GET",
                          json_body=o.body, max_bytes=o.max_bytes, secrets=ctx.secrets)
        doc = resp.json()
        raise_on_jsonrpc_error(doc, resp.host, ctx.secrets)
        readings, errors = extract(doc, o.fields)  # type: ignore[arg-type]
        return result_of(readings, errors, resp.host)
