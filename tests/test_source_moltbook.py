"""moltbook: karma, followers and unread notifications of the agent's profile."""

from __future__ import annotations

import pytest

from _sources_fixtures import make_ctx, run, values
from reverie.perception.sources import SourceError
from reverie.perception.sources.moltbook import Moltbook

KEY = "moltbook_sk_5up3rs3cr3t"

# shaped like GET /api/v1/agents/me
AGENTS_ME = {
    "success": True,
    "agent": {"id": "a1b2", "name": "reverie-test", "description": "dreams at night",
              "karma": 1284, "follower_count": 37, "following_count": 4,
              "is_claimed": True, "created_at": "2026-01-30T10:00:00.000Z",
              "stats": {"posts": 12, "comments": 40}},
}


def test_karma_and_followers_come_from_the_profile_with_the_key_as_bearer(server, ctx):
    server.expect_request("/api/v1/agents/me", headers={"Authorization": f"Bearer {KEY}"}
                          ).respond_with_json({**AGENTS_ME, "unread_notifications": 3})
    result = run(Moltbook, ctx, url=server.url_for("/api/v1/agents/me"), api_key=KEY)
    assert values(result) == {"karma": 1284, "followers": 37, "unread": 3}


def test_a_profile_without_notifications_fails_unread_only(server, ctx):
    server.expect_request("/api/v1/agents/me").respond_with_json(AGENTS_ME)
    result = run(Moltbook, ctx, url=server.url_for("/api/v1/agents/me"), api_key=KEY)
    assert values(result) == {"karma": 1284, "followers": 37}
    assert list(result.field_errors) == ["unread"]


def test_the_home_endpoint_shape_is_read_too(server, ctx):
    server.expect_request("/api/v1/home").respond_with_json(
        {"your_account": {"name": "reverie-test", "karma": 7, "unread_notification_count": 2,
                          "follower_count": 0}})
    result = run(Moltbook, ctx, url=server.url_for("/api/v1/home"), api_key=KEY)
    assert values(result) == {"karma": 7, "followers": 0, "unread": 2}


def test_a_rejected_key_fails_without_showing_it(server, tmp_path):
    server.expect_request("/api/v1/agents/me").respond_with_json(
        {"success": False, "error": "Invalid API key", "hint": f"got {KEY}"}, status=401)
    with pytest.raises(SourceError) as e:
        run(Moltbook, make_ctx(tmp_path), url=server.url_for("/api/v1/agents/me"), api_key=KEY)
    assert str(e.value).endswith(": Invalid API key") and KEY not in str(e.value)


def test_an_error_message_echoing_the_key_is_redacted(server, ctx):
    server.expect_request("/api/v1/agents/me").respond_with_json(
        {"success": False, "error": f"key {KEY} revoked"}, status=403)
    with pytest.raises(SourceError) as e:
        run(Moltbook, ctx, url=server.url_for("/api/v1/agents/me"), api_key=KEY)
    assert KEY not in str(e.value) and "***" in str(e.value)


def test_a_rate_limit_carries_retry_after(server, ctx):
    server.expect_request("/api/v1/agents/me").respond_with_json(
        {"success": False, "error": "Rate limit exceeded"}, status=429, headers={"Retry-After": "45"})
    with pytest.raises(SourceError) as e:
        run(Moltbook, ctx, url=server.url_for("/api/v1/agents/me"), api_key=KEY)
    assert e.value.retry_after == 45


def test_an_unrelated_json_answer_fails(server, ctx):
    server.expect_request("/api/v1/agents/me").respond_with_json({"hello": "world"})
    with pytest.raises(SourceError, match="^no field matched"):
        run(Moltbook, ctx, url=server.url_for("/api/v1/agents/me"), api_key=KEY)


def test_the_default_url_is_the_www_api():
    assert Moltbook.Options().url == "https://www.moltbook.com/api/v1/agents/me"
