"""reverie.perception.http: one request, bounded in time and size, failing in one line that names the host."""

from __future__ import annotations

import json
import time
from email.utils import format_datetime
from datetime import timedelta

import pytest
from werkzeug import Response

from _sources_fixtures import gzip_bomb
from reverie.memory import clock
from reverie.perception import http
from reverie.perception.sources import SourceError

SECRET = "sk-very-secret-123"


def host(server) -> str:
    return f"127.0.0.1:{server.port}"


def test_a_plain_get_returns_the_body_and_sends_a_reverie_user_agent(server):
    server.expect_request("/x", headers={"X-Test": "1"}).respond_with_data("hello")
    resp = http.fetch(server.url_for("/x"), timeout=1, headers={"X-Test": "1"})
    assert resp.status == 200 and resp.body == b"hello" and not resp.not_modified
    ua = server.log[0][0].headers["User-Agent"]
    assert ua.startswith("reverie/")


def test_a_post_sends_the_json_body(server):
    server.expect_request("/rpc", method="POST", json={"a": 1}).respond_with_json({"ok": True})
    resp = http.fetch(server.url_for("/rpc"), timeout=1, method="POST", json_body={"a": 1})
    assert resp.json() == {"ok": True}


def test_a_server_that_does_not_answer_in_time_fails_with_a_timeout(server, release):
    server.expect_request("/slow").respond_with_handler(
        lambda r: (release.wait(5), Response("late"))[1])
    start = time.monotonic()
    with pytest.raises(SourceError, match=rf"^timed out after 0\.5s waiting for {host(server)}$"):
        http.fetch(server.url_for("/slow"), timeout=0.5)
    assert time.monotonic() - start < 1.5


def test_a_slow_drip_of_bytes_cannot_exceed_the_whole_timeout(server, release):
    def drip(_req):
        def gen():
            for _ in range(100):
                if release.wait(0.05):
                    return
                yield b"x"
        return Response(gen(), direct_passthrough=True)

    server.expect_request("/drip").respond_with_handler(drip)
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"^timed out after 0\.5s reading from 127\.0\.0\.1:\d+$"):
        http.fetch(server.url_for("/drip"), timeout=0.5)
    assert time.monotonic() - start < 1.0


def test_a_closed_port_fails_with_connection_refused(closed_port_url):
    with pytest.raises(SourceError, match=r"^connection refused by 127\.0\.0\.1:\d+$"):
        http.fetch(closed_port_url, timeout=0.5)


def test_a_500_fails_naming_status_and_host(server):
    server.expect_request("/boom").respond_with_data("oops", status=500)
    with pytest.raises(SourceError, match=rf"^HTTP 500 from {host(server)}$"):
        http.fetch(server.url_for("/boom"), timeout=1)


def test_an_error_with_a_json_reason_carries_the_reason(server):
    server.expect_request("/bad").respond_with_json(
        {"error": True, "reason": "Latitude must be in range of -90 to 90°."}, status=400)
    with pytest.raises(SourceError, match=r"^HTTP 400 from .*: Latitude must be in range"):
        http.fetch(server.url_for("/bad"), timeout=1)


def test_a_404_fails(server):
    server.expect_request("/missing").respond_with_data("<h1>Not Found</h1>", status=404,
                                                        content_type="text/html")
    with pytest.raises(SourceError, match=rf"^HTTP 404 from {host(server)}$"):
        http.fetch(server.url_for("/missing"), timeout=1)


def test_a_429_carries_retry_after_in_seconds(server):
    server.expect_request("/rl").respond_with_data("slow down", status=429,
                                                   headers={"Retry-After": "120"})
    with pytest.raises(SourceError, match=r"^HTTP 429 from .* \(retry after 2m\)$") as e:
        http.fetch(server.url_for("/rl"), timeout=1)
    assert e.value.retry_after == 120


def test_a_503_with_an_http_date_retry_after_is_converted_to_seconds(server):
    when = clock.now() + timedelta(seconds=300)
    server.expect_request("/down").respond_with_data(
        "", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    with pytest.raises(SourceError) as e:
        http.fetch(server.url_for("/down"), timeout=1)
    assert 290 <= e.value.retry_after <= 301


def test_a_429_without_retry_after_has_none(server):
    server.expect_request("/rl").respond_with_data("", status=429)
    with pytest.raises(SourceError) as e:
        http.fetch(server.url_for("/rl"), timeout=1)
    assert e.value.retry_after is None


def test_a_body_over_the_cap_fails(server):
    server.expect_request("/big").respond_with_data(b"x" * 2000)
    with pytest.raises(SourceError, match=r"^response from .* is over the 1000 bytes cap$"):
        http.fetch(server.url_for("/big"), timeout=1, max_bytes=1000)


def test_a_streamed_body_without_length_over_the_cap_fails(server):
    def stream(_req):
        return Response((b"y" * 1024 for _ in range(64)), direct_passthrough=True)

    server.expect_request("/stream").respond_with_handler(stream)
    with pytest.raises(SourceError, match=r"is over the 16 KiB cap$"):
        http.fetch(server.url_for("/stream"), timeout=1, max_bytes=16 * 1024)


def test_a_gzip_bomb_is_stopped_by_the_cap_on_decompressed_bytes(server):
    bomb = gzip_bomb(64 * 1024 * 1024)
    assert len(bomb) < 200_000
    server.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    with pytest.raises(SourceError, match=r"is over the 1 MiB cap$"):
        http.fetch(server.url_for("/bomb"), timeout=2, max_bytes=1024 * 1024)


def test_a_gzip_body_under_the_cap_is_decompressed(server):
    import gzip

    server.expect_request("/gz").respond_with_data(
        gzip.compress(b'{"a": 1}'), headers={"Content-Encoding": "gzip"})
    assert http.fetch(server.url_for("/gz"), timeout=1).body == b'{"a": 1}'


def test_redirects_are_followed(server):
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    server.expect_request("/b").respond_with_data("landed")
    assert http.fetch(server.url_for("/a"), timeout=1).body == b"landed"


def test_a_redirect_loop_fails_cleanly(server):
    server.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(SourceError, match=rf"^too many redirects from {host(server)} \(more than 5\)$"):
        http.fetch(server.url_for("/loop"), timeout=1)


def test_validators_are_sent_and_a_304_is_not_modified(server):
    server.expect_request("/feed", headers={"If-None-Match": '"v1"',
                                            "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
                          ).respond_with_data("", status=304)
    resp = http.fetch(server.url_for("/feed"), timeout=1, etag='"v1"',
                      last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert resp.not_modified and resp.body == b""


def test_the_validators_of_a_response_are_returned(server):
    server.expect_request("/feed").respond_with_data(
        "<rss/>", headers={"ETag": '"v2"', "Last-Modified": "Tue, 02 Jan 2024 00:00:00 GMT"})
    resp = http.fetch(server.url_for("/feed"), timeout=1)
    assert resp.etag == '"v2"' and resp.last_modified == "Tue, 02 Jan 2024 00:00:00 GMT"


def test_errors_name_the_host_but_never_the_url_or_a_secret(server):
    server.expect_request(f"/api/{SECRET}").respond_with_json({"message": f"bad key {SECRET}"},
                                                               status=401)
    url = f"http://user:{SECRET}@127.0.0.1:{server.port}/api/{SECRET}?key={SECRET}"
    with pytest.raises(SourceError) as e:
        http.fetch(url, timeout=1, headers={"Authorization": f"Bearer {SECRET}"}, secrets=[SECRET])
    msg = str(e.value)
    assert SECRET not in msg and "/api" not in msg
    assert msg == f"HTTP 401 from {host(server)}: bad key ***"


def test_a_refused_connection_does_not_leak_the_url(closed_port_url):
    with pytest.raises(SourceError) as e:
        http.fetch(closed_port_url + f"path?token={SECRET}", timeout=0.5, secrets=[SECRET])
    assert SECRET not in str(e.value) and "token" not in str(e.value)


def _resp(body: bytes, ctype: str) -> http.Response:
    return http.Response(status=200, headers={}, body=body, host="example.test", content_type=ctype)


def test_an_html_page_where_json_was_expected_says_so():
    with pytest.raises(SourceError, match=r"^expected JSON, got text/html from example\.test$"):
        http.parse_json(_resp(b"<!doctype html><html><body>Login</body></html>", "text/html"))


def test_invalid_json_says_where():
    with pytest.raises(SourceError, match=r"^invalid JSON from example\.test: Expecting .* \(line 1, column"):
        http.parse_json(_resp(b'{"a": 1,,}', "application/json"))


def test_an_empty_body_is_not_json():
    with pytest.raises(SourceError, match="empty response"):
        http.parse_json(_resp(b"", "application/json"))


def test_json_served_with_a_loose_content_type_is_still_parsed():
    assert http.parse_json(_resp(b'{"a": 2}', "text/plain")) == {"a": 2}


def test_a_jsonrpc_error_with_http_200_fails(server):
    server.expect_request("/rpc", method="POST").respond_with_json(
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "invalid argument 0"}})
    with pytest.raises(SourceError, match=r"^JSON-RPC error from .*: invalid argument 0 \(code -32602\)$"):
        http.rpc(server.url_for("/rpc"), "eth_getBalance", ["0x0", "latest"], timeout=1)


def test_a_jsonrpc_call_returns_its_result_and_sends_a_2_0_request(server):
    server.expect_request("/rpc", method="POST").respond_with_json(
        {"jsonrpc": "2.0", "id": 1, "result": "0x10"})
    assert http.rpc(server.url_for("/rpc"), "eth_blockNumber", [], timeout=1) == "0x10"
    sent = json.loads(server.log[0][0].data)
    assert sent == {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}


@pytest.mark.parametrize("value,expected", [("0", 0.0), ("42", 42.0), ("nonsense", None), ("", None)])
def test_retry_after_seconds(value, expected):
    assert http.retry_after_seconds(value) == expected


def test_options_refuse_a_non_http_url_without_echoing_it():
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as e:
        http.HttpOptions(url=f"file:///etc/{SECRET}")
    assert SECRET not in str(e.value).split("input_value")[0]


# -- the contract every built-in source type follows ----------------------------------

from reverie.perception.sources import BUILTINS, COMMON_KEYS, get, summary  # noqa: E402


@pytest.mark.parametrize("type_name", sorted(BUILTINS))
def test_every_builtin_type_follows_the_source_contract(type_name):
    cls = get(type_name)
    assert cls.type_name == type_name
    assert cls.Options.model_config.get("extra") == "forbid"
    assert not (set(cls.Options.model_fields) & COMMON_KEYS)
    line = summary(cls)
    assert line and len(line) <= 110 and line.endswith(".")
    assert "```yaml" in cls.__doc__ and f"type: {type_name}" in cls.__doc__


@pytest.mark.parametrize("type_name", sorted(BUILTINS))
def test_the_config_example_in_every_docstring_is_valid(type_name):
    import re

    import yaml

    cls = get(type_name)
    block = cls.__doc__.split("```yaml", 1)[1].split("```", 1)[0]
    # ${VAR} is interpolated by the config loader before options are validated
    block = re.sub(r"\$\{\w+\}", "http://127.0.0.1:8545/key", block)
    import textwrap

    entries = yaml.safe_load(textwrap.dedent(block))
    assert entries
    for entry in entries:
        assert entry["type"] == type_name
        cls.Options(**{k: v for k, v in entry.items() if k not in COMMON_KEYS})


def test_credentials_are_not_carried_to_another_host(server):
    # 127.0.0.1 and localhost are different hosts to a browser, and so to reverie
    server.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": f"http://localhost:{server.port}/landing"})
    server.expect_request("/landing").respond_with_data("ok")
    http.fetch(server.url_for("/start"), timeout=1, headers={"Authorization": f"Bearer {SECRET}"})
    assert server.log[0][0].headers.get("Authorization") == f"Bearer {SECRET}"
    assert server.log[1][0].headers.get("Authorization") is None


def test_a_303_after_a_post_is_followed_with_a_get(server):
    server.expect_request("/submit", method="POST").respond_with_data(
        "", status=303, headers={"Location": "/result"})
    server.expect_request("/result", method="GET").respond_with_json({"done": True})
    assert http.fetch(server.url_for("/submit"), timeout=1, method="POST", json_body={}).json() == {"done": True}


def test_a_redirect_body_is_never_read(server):
    server.expect_request("/r").respond_with_data(gzip_bomb(64 * 1024 * 1024), status=302,
                                                  headers={"Location": "/ok", "Content-Encoding": "gzip"})
    server.expect_request("/ok").respond_with_data("fine")
    assert http.fetch(server.url_for("/r"), timeout=2, max_bytes=1024).body == b"fine"


# -- redirects never carry a configured secret elsewhere ------------------------------------

@pytest.fixture
def other_host():
    """A second server on another loopback address: another host as far as a URL goes."""
    from pytest_httpserver import HTTPServer

    srv = HTTPServer(host="127.0.0.2", port=0)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def test_a_cross_host_redirect_drops_every_configured_header(server, other_host):
    other_host.expect_request("/landing").respond_with_data("landed")
    server.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": other_host.url_for("/landing")})
    resp = http.fetch(server.url_for("/start"), timeout=2,
                      headers={"X-Api-Key": "k-123", "Authorization": "Bearer t-456"},
                      secrets=("k-123", "t-456"))
    assert resp.body == b"landed"
    (req, _), = other_host.log
    assert "X-Api-Key" not in req.headers and "Authorization" not in req.headers
    assert "k-123" not in str(req.headers) and "t-456" not in str(req.headers)


def test_a_same_host_redirect_keeps_the_configured_headers(server):
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    server.expect_request("/b", headers={"X-Api-Key": "k-123"}).respond_with_data("ok")
    assert http.fetch(server.url_for("/a"), timeout=2, headers={"X-Api-Key": "k-123"}).body == b"ok"


def test_a_redirect_to_a_denied_address_is_refused_before_connecting(server, other_host):
    other_host.expect_request("/metadata").respond_with_data("credentials")
    server.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": other_host.url_for("/metadata")})
    with pytest.raises(SourceError, match=rf"^{host(server)} redirected to 127\.0\.0\.2:\d+, "
                                          r"a denied address \(127\.0\.0\.2\); not followed$"):
        http.fetch(server.url_for("/start"), timeout=2, deny=("127.0.0.2/32",))
    assert other_host.log == []


def test_a_redirect_to_an_ipv4_mapped_ipv6_literal_is_judged_as_its_ipv4_address(
        server, other_host):
    # the address a mapped literal names is what the rules judge; a denied loopback (127.0.0.2)
    # stands in for the link-local metadata address
    other_host.expect_request("/metadata").respond_with_data("credentials")
    server.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": f"http://[::ffff:127.0.0.2]:{other_host.port}/metadata"})
    with pytest.raises(SourceError, match=r"redirected to \[?::ffff:127\.0\.0\.2\]?:\d+, "
                                          r"a denied address \(127\.0\.0\.2\); not followed$"):
        http.fetch(server.url_for("/start"), timeout=2, deny=("127.0.0.2/32",))
    assert other_host.log == []


def test_link_local_addresses_are_denied_by_default():
    # checked on the configured networks, never by sending traffic there
    import ipaddress

    nets = [ipaddress.ip_network(n) for n in http.DENIED_NETWORKS]
    for version in (4, 6):
        link_local = [n for n in nets if n.version == version and n.network_address.is_link_local
                      and n.broadcast_address.is_link_local]
        assert link_local and max(n.num_addresses for n in link_local) >= (
            2 ** 16 if version == 4 else 2 ** 118)


def test_a_cross_host_redirect_of_a_post_is_not_followed(server, other_host):
    server.expect_request("/rpc", method="POST").respond_with_data(
        "", status=307, headers={"Location": other_host.url_for("/rpc")})
    with pytest.raises(SourceError, match="redirected a request with a body to another host"):
        http.fetch(server.url_for("/rpc"), timeout=2, method="POST", json_body={"key": "k"})
    assert other_host.log == []


def test_a_key_the_server_echoes_upper_cased_is_redacted(server):
    key = "sk-live-abcdef123456"
    server.expect_request("/v").respond_with_json(
        {"error": {"message": f"Invalid API key {key.upper()} (or {key.title()})"}}, status=401)
    with pytest.raises(SourceError) as err:
        http.fetch(server.url_for("/v"), timeout=2, headers={"Authorization": f"Bearer {key}"},
                   secrets=(key,))
    text = str(err.value)
    assert "Invalid API key *** (or ***)" in text, text
    assert key.upper() not in text and key.lower() not in text.lower()
