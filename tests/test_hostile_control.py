"""The control socket answers hostile requests with one line and keeps serving."""

from __future__ import annotations

import json
import socket

from reverie.daemon.control import MAX_REQUEST, ControlServer, request
from reverie.memory.home import Home


def test_deeply_nested_json_under_the_cap_gets_a_one_line_error_and_no_traceback(tmp_path,
                                                                                 capfd):
    path = Home.at(tmp_path).state / "control.sock"
    with ControlServer(path, lambda req: {"ok": True, "result": "fine"}):
        depth = 30_000
        line = b"[" * depth + b"]" * depth + b"\n"
        assert len(line) < MAX_REQUEST
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(path))
            s.sendall(line)
            reply = s.makefile("rb").readline()
            assert json.loads(reply) == {"ok": False, "error": "a request nests too deeply"}
            # the same connection still answers
            s.sendall(b'{"cmd": "status"}\n')
        assert request(path, {"cmd": "status"}) == {"ok": True, "result": "fine"}
    err = capfd.readouterr()
    out = err.out + err.err
    assert "Exception in thread" not in out and "RecursionError" not in out
