"""system: the machine's load, free memory, free disk and uptime."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from reverie.perception.sources import BaseSource, Context, Reading, Result, SourceError
from reverie.memory.errors import one_line

PROC = Path("/proc")  # a module global so tests can point it at a fake /proc


def _meminfo_available_mib(proc: Path) -> float:
    for line in (proc / "meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024  # the kernel reports kB (KiB)
    raise ValueError("no MemAvailable in meminfo")


def _uptime_hours(proc: Path) -> float:
    return float((proc / "uptime").read_text().split()[0]) / 3600


class System(BaseSource):
    """This machine: load average, memory available, free disk of a path, uptime.

    Signals: load1, load5, load15; memory_available (MiB); disk_free (GiB) of `path`
    (default: the home; relative paths are taken from the home); uptime (hours).
    Read from /proc and statvfs, so no network and no extra packages.

    ```yaml
    - {name: host, type: system, every: 5m}
    - {name: data, type: system, path: /var/lib, every: 1h}
    ```
    """

    type_name: ClassVar[str] = "system"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

        path: str = Field(default=".", description="the folder whose disk is measured")

    options: Options  # validated by the loader (the base class keeps it as a BaseModel)

    def fetch(self, ctx: Context) -> Result:
        result = Result()

        # Rounded here, to what a reader can use (a tenth of a MiB, a hundredth of a
        # GiB): the store and every view then carry sensible numbers, while other
        # sources (a wallet balance) keep their full precision.
        def add(field: str, unit: str | None, digits: int, read) -> None:
            try:
                result.readings.append(
                    Reading(field, value=round(float(read()), digits), unit=unit))
            except (OSError, ValueError, IndexError) as e:
                msg = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
                result.field_errors[field] = one_line(msg) or type(e).__name__

        try:
            loads = os.getloadavg()
        except OSError as e:
            for f in ("load1", "load5", "load15"):
                result.field_errors[f] = f"no load average: {e.strerror or e}"
        else:
            for f, v in zip(("load1", "load5", "load15"), loads):
                result.readings.append(Reading(f, value=round(v, 2)))
        add("memory_available", "MiB", 1, lambda: _meminfo_available_mib(PROC))
        disk = Path(self.options.path).expanduser()
        disk = disk if disk.is_absolute() else ctx.home / disk

        def free_gib() -> float:
            try:
                st = os.statvfs(disk)
            except OSError as e:
                raise ValueError(f"cannot read {self.options.path}: {e.strerror or e}") from None
            return st.f_bavail * st.f_frsize / 2**30

        add("disk_free", "GiB", 2, free_gib)
        add("uptime", "h", 2, lambda: _uptime_hours(PROC))
        if not result.readings:
            raise SourceError("no system figures could be read")
        return result
