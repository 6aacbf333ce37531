"""The child that renders one user template under limits (see perception/templating.py).

It caps its own address space and CPU time first, then reads one pickled request on stdin
(from its parent, the daemon: trusted) and answers ``ok\\n`` + the text, or ``er\\n`` + a JSON
error, on stdout. It never writes a file (RLIMIT_FSIZE 0) and opens nothing new.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def main() -> int:
    request = pickle.loads(sys.stdin.buffer.read())
    # import what rendering needs before the bounds, so the bounds are the template's
    from reverie.perception import templating

    templating.kind_environment(request["kind"])
    _limit(resource.RLIMIT_AS, int(request["memory"]))
    _limit(resource.RLIMIT_CPU, int(request["cpu"]))
    _limit(resource.RLIMIT_FSIZE, 0)
    out = sys.stdout.buffer
    try:
        text = templating.render_here(request["kind"], request["source"], request["context"])
        if len(text) > request["output_max"]:
            raise templating.RenderFailure("OutputTooLarge", f"over the "
                                           f"{request['output_max'] // 1024 ** 2} MiB output cap",
                                           bounds=True)
        data = b"ok\n" + text.encode("utf-8", "surrogatepass")
    except templating.RenderFailure as e:
        data = b"er\n" + json.dumps({"type": e.type_name, "message": e.message,
                                      "lineno": e.lineno, "bounds": e.bounds}).encode()
    except MemoryError:
        data = b"er\n" + json.dumps({"type": "MemoryError", "message": "over the memory bound",
                                      "bounds": True}).encode()
    out.write(data)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
