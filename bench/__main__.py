"""``python -m bench [--quick] [P1 P2 …]``: every measure against its baseline, one table.

Run from the repository root. ``--quick`` runs fewer repetitions (under two minutes on a
2-core machine); the full mode runs more. Exit 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench import Row

# bench module -> the measures it produces
MODULES = {"poll": ("P1", "P2", "P3"), "state": ("P4",), "dream": ("P5",),
           "startup": ("P6",), "soak": ("P7",), "tokens": ("P8",),
           "dreams": tuple(f"D{i}" for i in range(1, 17)),
           "distill": tuple(f"S{i}" for i in range(1, 6)),
           "templates": ("T1",)}
# a group name stands for its measures: `python -m bench dreams`
GROUPS = {"dreams": MODULES["dreams"], "distill": MODULES["distill"]}
# bench module -> (import name, distribution) it needs beyond a plain install
NEEDS = {"soak": ("time_machine", "time-machine"), "tokens": ("time_machine", "time-machine")}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (< 2 minutes)")
    ap.add_argument("ids", nargs="*", metavar="ID",
                    help="measures to run (P1…P8, D1…D16, S1…S5, T1, `dreams` or `distill`); "
                         "default all")
    args = ap.parse_args(argv)
    wanted = {x for i in args.ids for x in GROUPS.get(i.lower(), (i.upper(),))} \
        or {i for ids in MODULES.values() for i in ids}
    unknown = wanted - {i for ids in MODULES.values() for i in ids}
    if unknown:
        ap.error(f"unknown measure {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    begun = time.monotonic()
    for name, ids in MODULES.items():
        if not wanted & set(ids):
            continue
        missing = _missing(name)
        if missing:
            print(f"skipping {', '.join(ids)}: needs {missing} "
                  "(pip install -e '.[bench]')", file=sys.stderr, flush=True)
            rows += [Row(i, f"skipped: needs {missing}", "", "", "", "", None)
                     for i in ids if i in wanted]
            continue
        print(f"running {name} ({', '.join(ids)})…", file=sys.stderr, flush=True)
        started = time.monotonic()
        module = importlib.import_module(f"bench.{name}_bench")
        rows += [r for r in module.run(args.quick) if r.id in wanted]
        print(f"  {name} took {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    print_table(rows)
    print(f"\n{'quick' if args.quick else 'full'} run, {time.monotonic() - begun:.0f} s",
          file=sys.stderr)
    return 0 if all(r.ok is not False for r in rows) else 1


def _missing(module: str) -> str | None:
    """The distribution a bench module needs that is not installed, or None."""
    need = NEEDS.get(module)
    if need:
        try:
            importlib.import_module(need[0])
        except ImportError:
            return need[1]
    return None


def print_table(rows: list[Row]) -> None:
    """A Markdown table: readable in a terminal, pastable into the docs."""
    head = ("id", "measure", "reverie", "baseline", "ratio", "goal", "result")
    cells = [head] + [(r.id, r.measure, r.reverie, r.baseline, r.ratio, r.goal,
                       "n/a" if r.ok is None else ("pass" if r.ok else "FAIL")) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]

    def line(c: tuple) -> str:
        return "| " + " | ".join(c[i].ljust(widths[i]) for i in range(len(head))) + " |"

    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells[1:]:
        print(line(c))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
