"""http_json: fields of any JSON endpoint picked with JMESPath."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from _sources_fixtures import gzip_bomb, make_ctx, run, units, values
from reverie.perception.sources import SourceError
from reverie.perception.sources.http_json import HttpJson

PROFILE = {"success": True, "agent": {"name": "reverie-test", "karma": 1284, "follower_count": 37,
                                      "status": "claimed", "balance": "12.50", "tags": ["a", "b"]}}


def test_numbers_become_values_and_strings_texts(server, ctx):
    server.expect_request("/me").respond_with_json(PROFILE)
    result = run(HttpJson, ctx, url=server.url_for("/me"),
                 fields={"karma": "agent.karma", "followers": "agent.follower_count",
                         "status": "agent.status"})
    assert values(result) == {"karma": 1284, "followers": 37, "status": "claimed"}
    assert result.field_errors == {}


def test_scale_and_unit_apply_to_a_field(server, ctx):
    server.expect_request("/me").respond_with_json({"cents": 1250})
    result = run(HttpJson, ctx, url=server.url_for("/me"),
                 fields={"price": {"path": "cents", "scale": 0.01, "unit": "EUR"}})
    assert values(result) == {"price": 12.5} and units(result) == {"price": "EUR"}


def test_a_numeric_string_counts_as_a_number(server, ctx):
    server.expect_request("/me").respond_with_json(PROFILE)
    result = run(HttpJson, ctx, url=server.url_for("/me"), fields={"balance": "agent.balance"})
    assert values(result) == {"balance": 12.5}


def test_a_long_hex_string_like_a_hash_stays_text(server, ctx):
    tx = "0x" + "ab" * 32
    server.expect_request("/me").respond_with_json({"hash": tx})
    result = run(HttpJson, ctx, url=server.url_for("/me"), fields={"hash": "hash"})
    assert values(result) == {"hash": tx}


def test_a_path_matching_nothing_fails_that_field_only(server, ctx):
    server.expect_request("/me").respond_with_json(PROFILE)
    result = run(HttpJson, ctx, url=server.url_for("/me"),
                 fields={"karma": "agent.karma", "posts": "agent.post_count"})
    assert values(result) == {"karma": 1284}
    assert result.field_errors == {"posts": "path 'agent.post_count' matched nothing"}


def test_a_path_matching_a_list_fails_that_field(server, ctx):
    server.expect_request("/me").respond_with_json(PROFILE)
    result = run(HttpJson, ctx, url=server.url_for("/me"),
                 fields={"karma": "agent.karma", "tags": "agent.tags"})
    assert "matched a list" in result.field_errors["tags"]


def test_when_every_field_fails_the_run_fails(server, ctx):
    server.expect_request("/me").respond_with_json({"something": "else"})
    with pytest.raises(SourceError, match=r"^no field matched in the response from .*: karma: "
                                          r"path 'agent\.karma' matched nothing \(and 1 more\)$"):
        run(HttpJson, ctx, url=server.url_for("/me"),
            fields={"karma": "agent.karma", "followers": "agent.follower_count"})


def test_a_post_sends_the_json_body(server, ctx):
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    server.expect_request("/rpc", method="POST", json=body).respond_with_json(
        {"jsonrpc": "2.0", "id": 1, "result": "0x1312d00"})
    result = run(HttpJson, ctx, url=server.url_for("/rpc"), body=body, fields={"block": "result"})
    assert values(result) == {"block": 20_000_000}  # a JSON-RPC hex quantity is a number


def test_a_jsonrpc_error_with_http_200_fails_the_run(server, ctx):
    server.expect_request("/rpc", method="POST").respond_with_json(
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "the method does not exist"}})
    with pytest.raises(SourceError, match=r"^JSON-RPC error from .*: the method does not exist \(code -32601\)$"):
        run(HttpJson, ctx, url=server.url_for("/rpc"), body={"jsonrpc": "2.0", "method": "nope"},
            fields={"x": "result"})


def test_invalid_json_fails(server, ctx):
    server.expect_request("/me").respond_with_data('{"agent": {"karma": 12,}', content_type="application/json")
    with pytest.raises(SourceError, match=r"^invalid JSON from 127\.0\.0\.1:\d+: "):
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "agent.karma"})


def test_an_html_page_fails(server, ctx):
    server.expect_request("/me").respond_with_data("<!doctype html><title>Sign in</title>",
                                                   content_type="text/html; charset=utf-8")
    with pytest.raises(SourceError, match="^expected JSON, got text/html from"):
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "agent.karma"})


def test_a_404_fails(server, ctx):
    server.expect_request("/me").respond_with_json({"error": "not found"}, status=404)
    with pytest.raises(SourceError, match=r"^HTTP 404 from 127\.0\.0\.1:\d+: not found$"):
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "agent.karma"})


def test_a_500_fails(server, ctx):
    server.expect_request("/me").respond_with_data("Internal Server Error", status=500)
    with pytest.raises(SourceError, match=r"^HTTP 500 from 127\.0\.0\.1:\d+$"):
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "agent.karma"})


def test_a_hanging_server_times_out(server, release, tmp_path):
    server.expect_request("/me").respond_with_handler(lambda r: release.wait(5) and None)
    with pytest.raises(SourceError, match="^timed out after 0.5s"):
        run(HttpJson, make_ctx(tmp_path, timeout=0.5), url=server.url_for("/me"), fields={"k": "a"})


def test_connection_refused(ctx, closed_port_url):
    with pytest.raises(SourceError, match="^connection refused by"):
        run(HttpJson, ctx, url=closed_port_url, fields={"k": "a"})


def test_a_429_carries_retry_after(server, ctx):
    server.expect_request("/me").respond_with_data("", status=429, headers={"Retry-After": "30"})
    with pytest.raises(SourceError) as e:
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "a"})
    assert e.value.retry_after == 30


def test_a_body_over_the_cap_fails(server, ctx):
    server.expect_request("/me").respond_with_json({"pad": "x" * 5000})
    with pytest.raises(SourceError, match="over the 1 KiB cap"):
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "a"}, max_bytes=1024)


def test_a_gzip_bomb_fails_at_the_cap(server, ctx):
    server.expect_request("/me").respond_with_data(gzip_bomb(32 * 1024 * 1024),
                                                   headers={"Content-Encoding": "gzip"})
    with pytest.raises(SourceError, match="over the 1 MiB cap"):
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "a"}, max_bytes=1024 * 1024)


def test_a_redirect_loop_fails(server, ctx):
    server.expect_request("/me").respond_with_data("", status=301, headers={"Location": "/me"})
    with pytest.raises(SourceError, match="^too many redirects from"):
        run(HttpJson, ctx, url=server.url_for("/me"), fields={"k": "a"})


def test_a_secret_in_the_url_or_headers_never_reaches_the_message(server, tmp_path):
    secret = "tok_9f8e7d6c5b4a"
    server.expect_request("/me").respond_with_json({"message": f"invalid token {secret}"}, status=401)
    ctx = make_ctx(tmp_path, secrets=(secret,))
    with pytest.raises(SourceError) as e:
        run(HttpJson, ctx, url=server.url_for("/me") + f"?token={secret}",
            headers={"Authorization": f"Bearer {secret}"}, fields={"k": "a"})
    assert secret not in str(e.value) and "token=" not in str(e.value)


def test_an_invalid_jmespath_is_a_config_error():
    with pytest.raises(ValidationError, match="invalid JMESPath"):
        HttpJson.Options(url="http://127.0.0.1/", fields={"k": "agent.[karma"})


def test_a_field_name_must_be_a_signal_name():
    with pytest.raises(ValidationError, match="invalid field name"):
        HttpJson.Options(url="http://127.0.0.1/", fields={"Karma Points": "agent.karma"})


def test_unknown_keys_are_a_config_error():
    with pytest.raises(ValidationError):
        HttpJson.Options(url="http://127.0.0.1/", fields={"k": "a"}, feilds={})


def test_method_defaults_to_post_with_a_body():
    assert HttpJson.Options(url="http://127.0.0.1/", fields={"k": "a"}, body={}).method == "POST"
    assert HttpJson.Options(url="http://127.0.0.1/", fields={"k": "a"}).method == "GET"
