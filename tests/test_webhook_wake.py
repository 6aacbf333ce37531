"""A wake as an HTTP POST, through reverie's bounded HTTP layer; a real server on loopback."""

from __future__ import annotations

import json
import socket
import time



def test_a_webhook_wake_posts_the_wake_and_records_a_session(runner, agent_home, store,
                                                             httpserver):
    httpserver.expect_request("/hook", method="POST",
                              headers={"X-Token": "t0k3n"}).respond_with_data("ok")
    r = runner(webhook={"url": httpserver.url_for("/hook"), "headers": {"X-Token": "t0k3n"},
                        "timeout": "2s"})
    res = r.wake("morning")
    body = json.loads(httpserver.log[0][0].get_data())
    row = store.session(res.session_id)
    assert res.outcome == "started"
    assert body["session_id"] == res.session_id and body["reason"] == "morning"
    assert body["home"] == str(agent_home.root) and body["state"] == str(agent_home.state_md)
    assert set(body) == {"session_id", "reason", "home", "state", "dream", "time"}
    assert row.end_reason == "exited" and r.current() is None


def test_a_failing_webhook_is_retried_then_recorded_as_failed(runner, store, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    r = runner(webhook={"url": httpserver.url_for("/hook"), "retries": 1, "timeout": "1s"})
    res = r.wake("morning")
    assert (res.outcome, res.reason) == ("failed", "webhook failed: HTTP 503")
    assert len(httpserver.log) == 2
    assert store.wakes()[0].outcome == "failed" and store.sessions() == []


def test_a_webhook_that_refuses_the_request_is_not_asked_again(runner, httpserver):
    httpserver.expect_request("/hook").respond_with_data("no", status=403)
    r = runner(webhook={"url": httpserver.url_for("/hook"), "retries": 3})
    res = r.wake("morning")
    assert (res.outcome, res.reason) == ("failed", "webhook failed: HTTP 403")
    assert len(httpserver.log) == 1


def test_a_webhook_that_does_not_answer_fails_within_its_timeout(runner):
    with socket.socket() as silent:  # accepts connections (the backlog does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        r = runner(webhook={"url": f"http://127.0.0.1:{port}/hook", "retries": 0,
                            "timeout": "0.5s"})
        t0 = time.monotonic()
        res = r.wake("morning")
        assert time.monotonic() - t0 < 2
    assert (res.outcome, res.reason) == \
        ("failed", f"webhook failed: timed out after 0.5s waiting for 127.0.0.1:{port}")


def test_a_webhook_moved_on_the_same_host_is_followed_with_its_post(runner, httpserver):
    httpserver.expect_request("/old").respond_with_data(
        "", status=307, headers={"Location": httpserver.url_for("/hook")})
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    r = runner(webhook={"url": httpserver.url_for("/old")})
    assert r.wake("morning").outcome == "started"
    assert json.loads(httpserver.log[1][0].get_data())["reason"] == "morning"


def test_a_webhook_failure_names_the_host_never_the_url(runner):
    r = runner(webhook={"url": "http://127.0.0.1:1/hook?token=t0k3n-in-url", "retries": 0,
                        "timeout": "1s"})
    res = r.wake("morning")
    assert res.outcome == "failed" and "127.0.0.1:1" in res.reason
    assert "t0k3n" not in res.reason
