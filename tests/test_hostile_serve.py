"""`reverie serve` under a flood of requests keeps a bounded memory of what it answered."""

from __future__ import annotations

import http.client
import threading
from zoneinfo import ZoneInfo

from reverie.memory.store import Store
from reverie.perception.serve import SEEN_MAX, PageServer


def test_the_server_keeps_only_the_last_requests_it_answered(home):
    Store.open(home.db).close()
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), [], ZoneInfo("UTC"),
                     host="127.0.0.1", port=0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=5)
        for i in range(SEEN_MAX * 3):
            conn.request("GET", f"/nothing-{i}")
            conn.getresponse().read()
            conn.close()
    finally:
        srv.shutdown()
        srv.server_close()
    assert len(srv.seen) == SEEN_MAX
    assert srv.seen[-1][:2] == ("GET", f"/nothing-{SEEN_MAX * 3 - 1}")


def test_a_fifo_at_the_page_gets_a_503_instead_of_a_hung_server(home, tmp_path):
    import os

    Store.open(home.db).close()
    broken = tmp_path / "broken.j2"
    broken.write_text("{% if %}\n")  # the page cannot be rendered over the FIFO
    os.mkfifo(home.page)
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), [], ZoneInfo("UTC"),
                     host="127.0.0.1", port=0, template=broken)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        for _ in range(2):  # and the next request is not stuck behind the first
            conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=5)
            conn.request("GET", "/")
            assert conn.getresponse().status == 503
            conn.close()
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_host_header_with_a_name_glued_to_a_loopback_literal_is_refused(home):
    Store.open(home.db).close()
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), [], ZoneInfo("UTC"),
                     host="127.0.0.1", port=0, page=False)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()

    def status(host: str) -> int:
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=5)
        conn.putrequest("GET", "/healthz", skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        try:
            return conn.getresponse().status
        finally:
            conn.close()

    try:
        refused = {h: status(h) for h in ("[::1]evil.com", "[::1]:80evil.com", "evil.com",
                                          "127.0.0.1.evil.com", "localhost:80@evil.com",
                                          "[::1]:80:81")}
        allowed = {h: status(h) for h in ("[::1]", "[::1]:8765", "127.0.0.1:8765",
                                          "localhost", "app.localhost:1")}
    finally:
        srv.shutdown()
        srv.server_close()
    assert set(refused.values()) == {403}, refused
    assert 403 not in allowed.values(), allowed


def test_an_unreadable_record_is_said_without_its_path(home):
    home.db.parent.mkdir(parents=True, exist_ok=True)
    home.db.write_bytes(b"not a database, " * 512)
    srv = PageServer(home, lambda: Store.open(home.db, readonly=True), [], ZoneInfo("UTC"),
                     host="127.0.0.1", port=0, page=False)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    answers = {}
    try:
        for path in ("/healthz", "/metrics"):
            conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=5)
            conn.request("GET", path)
            r = conn.getresponse()
            answers[path] = (r.status, r.read().decode())
            conn.close()
    finally:
        srv.shutdown()
        srv.server_close()
    assert answers == {"/healthz": (503, "unhealthy: the record is unreadable\n"),
                       "/metrics": (503, "metrics unavailable: the record is unreadable\n")}
