"""``python -m bench [NAME...]``: run the benches present (or the named ones), one table.

A bench module with ``run() -> list[Row]`` goes into the table; one without is run as
``python -m bench.<name>_bench`` and its own output shown.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import time

import bench
from bench import Row


def main(argv: list[str]) -> int:
    names = sorted(m.name[: -len("_bench")] for m in pkgutil.iter_modules(bench.__path__)
                   if m.name.endswith("_bench"))
    wanted = argv or names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; have: {', '.join(names)}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    failed = False
    for name in wanted:
        print(f"running {name}…", file=sys.stderr, flush=True)
        started = time.monotonic()
        module = importlib.import_module(f"bench.{name}_bench")
        if hasattr(module, "run"):
            rows += module.run()
        else:
            # a bench that prints its own figures: run it as it is, its output as it is
            print(f"== {name} ==", flush=True)
            code = subprocess.run([sys.executable, "-m", f"bench.{name}_bench"]).returncode
            rows.append(Row(name, "see its output above", time.monotonic() - started, "s",
                            "wall" if code == 0 else f"exit {code}"))
            failed |= code != 0
        print(f"  {name} took {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    print_table(rows)
    return 1 if failed else 0


def print_table(rows: list[Row]) -> None:
    cells = [("bench", "figure", "value", "unit", "note")]
    cells += [(r.bench, r.figure, _num(r.value), r.unit, r.note) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    for i, c in enumerate(cells):
        print("  ".join(c[j].rjust(widths[j]) if j == 2 else c[j].ljust(widths[j])
                        for j in range(5)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _num(v: float) -> str:
    if v == int(v) and abs(v) >= 100:
        return f"{int(v)}"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
