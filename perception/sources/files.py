"""files: how many files match a pattern in a folder of the home, and optionally their words."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reverie.memory import clock, safe_read
from reverie.perception.sources import BaseSource, Context, Reading, Result, SourceError
from reverie.perception.text import byte_size, duration

_READ_CHUNK = 1024 * 1024
MAX_BYTES = 4 * 1024 * 1024  # per file, to count words: a 2 GiB file costs what 4 MiB do


def count_words(path: Path, max_bytes: int = MAX_BYTES) -> tuple[int, bool]:
    """(whitespace-separated words in the first ``max_bytes`` bytes, whether the file is
    longer), read in chunks so a huge file never sits in memory."""
    words = 0
    tail = b""
    left = max_bytes
    with open(safe_read.open_regular(path.resolve()), "rb") as f:  # never a FIFO swapped in
        while left > 0 and (chunk := f.read(min(_READ_CHUNK, left))):
            left -= len(chunk)
            parts = (tail + chunk).split()
            # a word may continue into the next chunk: hold the last piece back
            if parts and not chunk[-1:].isspace():
                tail = parts.pop()
            else:
                tail = b""
            words += len(parts)
        longer = left <= 0 and f.read(1) != b""
    return words + (1 if tail else 0), longer


class Files(BaseSource):
    """Files in a folder of the home: how many match `glob`, and optionally their total words.

    Hidden files and folders (a name starting with '.') are left out, and so is anything
    that resolves outside the home. Signals: `count` (unit from `unit`, default "files")
    and, with `words: true`, `words`.

    ```yaml
    - name: posts
      type: files
      path: posts          # relative to the home
      glob: "*.md"
      recursive: true
      words: true
      unit: posts
      every: 1h
    ```

    Words are counted in each file's first `max_bytes` bytes (default 4 MiB); a longer file
    is counted that far, and the poll's warnings say how many were.
    """

    type_name: ClassVar[str] = "files"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

        path: str = Field(default=".", description="a file or folder inside the home")
        glob: str = Field(default="*", description="which files count (a glob pattern)")
        recursive: bool = Field(default=False, description="count in subfolders too")
        words: bool = Field(default=False, description="also count the words in the files")
        unit: str = Field(default="files", description="the unit shown after the value")
        max_bytes: int = Field(default=MAX_BYTES, ge=1, le=1024 ** 3,
                               description="words are counted in the first this many bytes of "
                                           "a file (default 4 MiB)")

        @field_validator("path")
        @classmethod
        def _relative(cls, v: str) -> str:
            p = Path(v)
            if p.is_absolute() or ".." in p.parts:
                raise ValueError(f"path {v!r} must be relative and stay inside the home")
            return v

        @field_validator("glob")
        @classmethod
        def _pattern(cls, v: str) -> str:
            if not v or Path(v).is_absolute() or ".." in Path(v).parts:
                raise ValueError(f"glob {v!r} must be a relative pattern like '*.md'")
            return v

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def fetch(self, ctx: Context) -> Result:
        o = self.options
        home = ctx.home.resolve()
        folder = (home / o.path).resolve()
        if not folder.is_relative_to(home):
            raise SourceError(f"path {o.path} is outside the home")
        if not folder.is_dir():
            raise SourceError(f"no such folder: {o.path}")
        deadline = clock.monotonic() + ctx.timeout

        count = words = 0
        result = Result()
        unreadable = longer = 0
        matches = folder.rglob(o.glob) if o.recursive else folder.glob(o.glob)
        for path in matches:
            if clock.monotonic() > deadline:
                raise SourceError(f"timed out after {duration(ctx.timeout)} counting files in {o.path}")
            rel = path.relative_to(folder)
            if any(part.startswith(".") for part in rel.parts):
                continue
            try:
                if not path.is_file() or not path.resolve().is_relative_to(home):
                    continue
                if o.words:
                    n, cut = count_words(path, o.max_bytes)
                    words += n
                    longer += cut
            except OSError:
                unreadable += 1
                continue
            count += 1
        if longer:
            result.warnings.append(f"{longer} matching files are over max_bytes "
                                   f"({byte_size(o.max_bytes)}): their words are counted in "
                                   f"the first {byte_size(o.max_bytes)} only")
        if unreadable:
            result.warnings.append(f"{unreadable} matching files could not be read")
        result.readings.append(Reading("count", value=float(count), unit=o.unit))
        if o.words:
            result.readings.append(Reading("words", value=float(words), unit="words"))
        return result
