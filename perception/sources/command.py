"""command: run a program (never through a shell) and read a number or JSON from its output."""

from __future__ import annotations

import math
import os
import selectors
import signal
import subprocess
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reverie.memory import bounded_json, children, clock
from reverie.perception.redact import redact
from reverie.perception.sources import BaseSource, Context, Reading, Result, SourceError
from reverie.perception.text import duration
from reverie.perception.sources.http_json import FieldSpec, check_fields, extract, result_of

_STDERR_KEEP = 16 * 1024  # only the end of stderr matters: its last line goes in the error


class Command(BaseSource):
    """A program's output: stdout as one number, or as JSON with `fields` (JMESPath).

    `command` (an argv list, like `sessions.command`) is run directly (no shell), in the home
    (or `cwd` inside it), within the source's `timeout`; the whole process group is killed
    when it runs over. A nonzero exit fails the run with the last line the program wrote to
    stderr. (`argv:`, this key's old name, is still read, with a deprecation warning.)
    The program's environment is `PATH`, `HOME`, `LANG`, `TZ` (and `LC_ALL`) plus what
    `env:` names, never the daemon's keys; `env:` may not name a `${VAR}` that another
    part of the config uses (a key meant for the dream or a source stays there).

    ```yaml
    - name: inbox
      type: command
      command: [sh, -c, "ls ~/Maildir/new | wc -l"]
      field: unread         # the signal for a plain number (default: value)
      unit: mails
      every: 5m
    - name: repo
      type: command
      command: [gh, api, repos/me/project]
      fields: {stars: stargazers_count, issues: open_issues_count}
      env: {GH_TOKEN: "${GH_TOKEN}"}
    ```
    """

    type_name: ClassVar[str] = "command"
    # `argv:` was this key's first name: still read, with a one-line deprecation warning
    renamed_keys: ClassVar[dict[str, str]] = {"argv": "command"}

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

        command: list[str] = Field(min_length=1,
                                   description="the program and its arguments, run without a "
                                               "shell")
        fields: dict[str, str | FieldSpec] | None = Field(default=None,
                                                          description="signals to read: "
                                                                      "{signal: JMESPath} or "
                                                                      "{signal: {path, scale, "
                                                                      "unit}}")
        field: str = Field(default="value",
                           description="the signal's name for a plain number on stdout")
        unit: str | None = Field(default=None, description="the unit shown after the value")
        cwd: str = Field(default=".", description="the folder inside the home it runs in")
        env: dict[str, str] = Field(default_factory=dict,
                                    description="the program's environment beyond the basics")
        max_bytes: int = Field(default=1024 * 1024, gt=0, description="cap on stdout")

        @field_validator("command")
        @classmethod
        def _command(cls, v: list[str]) -> list[str]:
            if not v[0].strip():
                raise ValueError("command[0] is empty")
            return v

        @field_validator("fields")
        @classmethod
        def _fields(cls, v: dict | None) -> dict[str, FieldSpec] | None:
            return check_fields(v) if v else None

        @field_validator("cwd")
        @classmethod
        def _cwd(cls, v: str) -> str:
            p = Path(v)
            if p.is_absolute() or ".." in p.parts:
                raise ValueError(f"cwd {v!r} must be relative and stay inside the home")
            return v

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def fetch(self, ctx: Context) -> Result:
        o = self.options
        prog = o.command[0]
        try:
            out = self._run(ctx)
        except SourceError as e:
            raise SourceError(redact(str(e), ctx.secrets), retry_after=e.retry_after) from None
        text = out.decode("utf-8", "replace").strip()
        if o.fields:
            try:
                doc = bounded_json.loads(text)
            except ValueError:
                raise SourceError(f"{prog} did not print JSON: {_preview(text, ctx)}") from None
            readings, errors = extract(doc, o.fields)  # type: ignore[arg-type]
            return result_of(readings, errors, prog)
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise SourceError(f"{prog} did not print a number: {_preview(text, ctx)}")
        return Result(readings=[Reading(o.field, value=value, unit=o.unit)])

    def _run(self, ctx: Context) -> bytes:
        o = self.options
        prog = o.command[0]
        home = ctx.home.resolve()
        cwd = (home / o.cwd).resolve()
        if not cwd.is_relative_to(home) or not cwd.is_dir():
            raise SourceError(f"no such folder in the home: {o.cwd}")
        try:
            proc = children.spawn(o.command, cwd=cwd, env=children.child_env(o.env),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError:
            raise SourceError(f"command not found: {prog}") from None
        except PermissionError:
            raise SourceError(f"cannot run {prog}: permission denied") from None
        except OSError as e:
            raise SourceError(f"cannot run {prog}: {e.strerror or e}") from None

        deadline = clock.monotonic() + ctx.timeout
        stdout = bytearray()
        stderr = bytearray()
        failure: str | None = None
        sel = selectors.DefaultSelector()
        assert proc.stdout is not None and proc.stderr is not None
        sel.register(proc.stdout, selectors.EVENT_READ, stdout)
        sel.register(proc.stderr, selectors.EVENT_READ, stderr)
        try:
            # read both pipes as they fill, so a chatty program never blocks on a full pipe
            # and an endless one is cut at the cap instead of filling memory
            while sel.get_map():
                left = deadline - clock.monotonic()
                if left <= 0:
                    failure = f"{prog} timed out after {duration(ctx.timeout)}"
                    break
                for key, _ in sel.select(timeout=left):
                    data = os.read(key.fd, 65536)
                    if not data:
                        sel.unregister(key.fileobj)
                        continue
                    buf: bytearray = key.data
                    buf += data
                    if buf is stderr and len(stderr) > _STDERR_KEEP:
                        del stderr[: len(stderr) - _STDERR_KEEP]
                    if buf is stdout and len(stdout) > o.max_bytes:
                        failure = f"{prog} printed more than the {o.max_bytes} bytes cap"
                        break
                if failure:
                    break
            if failure is None:
                try:
                    proc.wait(timeout=max(0.0, deadline - clock.monotonic()))
                except subprocess.TimeoutExpired:
                    failure = f"{prog} timed out after {duration(ctx.timeout)}"
        finally:
            sel.close()
            if proc.poll() is None:
                _kill_group(proc)
            proc.stdout.close()
            proc.stderr.close()
        if failure:
            raise SourceError(failure)
        if proc.returncode != 0:
            last = _last_line(stderr)
            how = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
                   else f"exit status {proc.returncode}")
            raise SourceError(f"{prog} failed ({how})" + (f": {last}" if last else ""))
        return bytes(stdout)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _last_line(data: bytearray) -> str:
    lines = [ln.strip() for ln in bytes(data).decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _preview(text: str, ctx: Context) -> str:
    one = " ".join(text.split())
    if not one:
        return "(nothing)"
    return redact(repr(one[:60] + ("…" if len(one) > 60 else "")), ctx.secrets)
