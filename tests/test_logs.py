"""Logging: JSON lines, journald priorities, redaction, no locals in tracebacks."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from reverie.daemon import logs


@pytest.fixture
def stream():
    s = io.StringIO()
    yield s
    logs.set_secrets(())
    logs.configure("info", "json", stream=io.StringIO())


def lines(s: io.StringIO) -> list[str]:
    return [l for l in s.getvalue().splitlines() if l.strip()]


def test_json_lines_carry_event_level_and_time(stream):
    logs.configure("info", "json", stream=stream)
    logs.get().info("source.recovered", source="weather")
    rec = json.loads(lines(stream)[-1])
    assert rec["event"] == "source.recovered"
    assert rec["level"] == "info"
    assert rec["source"] == "weather"
    assert rec["timestamp"].endswith("Z")


def test_journal_format_prefixes_the_syslog_priority(stream):
    logs.configure("info", "journal", stream=stream)
    logs.get().error("source.failing", source="x")
    logs.get().info("daemon.started")
    out = lines(stream)
    assert out[0].startswith("<3>{")
    assert out[1].startswith("<6>{")


def test_secret_looking_keys_are_redacted(stream):
    logs.configure("info", "json", stream=stream)
    logs.get().info("request", authorization="Bearer abc123", api_key="sk-1", password="pw")
    rec = json.loads(lines(stream)[-1])
    assert rec["authorization"] == rec["api_key"] == rec["password"] == "***"


def test_config_secret_values_are_redacted_everywhere(stream):
    logs.set_secrets(["s3cr3t-token-value"])
    logs.configure("info", "json", stream=stream)
    logs.get().warning("source.failing", error="401 for https://h/?k=s3cr3t-token-value")
    logging.getLogger("urllib3").warning("retry url=%s", "https://h/s3cr3t-token-value")
    text = stream.getvalue()
    assert "s3cr3t-token-value" not in text
    assert text.count("***") >= 2


def test_a_secret_logged_url_encoded_is_redacted_as_perception_redacts_it(stream):
    from reverie.perception.redact import redact

    secret = "p@ss word/42"
    logs.set_secrets([secret])
    logs.configure("info", "json", stream=stream)
    message = "401 for https://h/?key=p%40ss+word%2F42 and https://h/p%40ss%20word%2F42"
    logs.get().warning("source.failing", error=message)
    rec = json.loads(lines(stream)[-1])
    assert rec["error"] == "401 for https://h/?key=*** and https://h/***"
    assert rec["error"] == redact(message, [secret])


def test_a_secret_with_quotes_never_reaches_the_rendered_line(stream):
    secret = 'ab"cd\\ef'
    logs.set_secrets([secret])
    logs.configure("info", "json", stream=stream)
    logging.getLogger("urllib3").warning("header %s", secret)
    text = stream.getvalue()
    assert "cd" not in text and "***" in text


def test_tracebacks_show_no_local_variables(stream):
    logs.set_secrets(["hunter2-the-secret"])
    logs.configure("info", "json", stream=stream)

    def fail(api_key: str) -> None:
        local_note = "visible-only-as-a-local"  # noqa: F841
        raise RuntimeError("boom")

    try:
        fail("hunter2-the-secret")
    except RuntimeError:
        logs.get().exception("job.failed")
    text = stream.getvalue()
    assert "RuntimeError: boom" in text
    assert "visible-only-as-a-local" not in text
    assert "hunter2-the-secret" not in text


def test_stdlib_loggers_go_through_the_same_renderer(stream):
    logs.configure("info", "json", stream=stream)
    logging.getLogger("some.library").error("it broke: %s", "badly")
    rec = json.loads(lines(stream)[-1])
    assert rec["event"] == "it broke: badly"
    assert rec["level"] == "error"


def test_job_context_is_cleared_between_jobs(stream):
    logs.configure("info", "json", stream=stream)
    logs.new_job_context(job="source:a", source="a")
    logs.get().info("one")
    logs.new_job_context(job="dream")
    logs.get().info("two")
    first, second = (json.loads(l) for l in lines(stream)[-2:])
    assert first["source"] == "a"
    assert "source" not in second and second["job"] == "dream"


def test_a_librarys_first_record_is_rendered_and_redacted_though_logging_came_after_setup():
    # `reverie status` configures logging without importing the stdlib's `logging`; a
    # library imported later that logs before reverie does still goes through the
    # renderer, with the config's secrets redacted.
    code = (
        "import sys\n"
        "from reverie.daemon import logs\n"
        "logs.configure('info', 'json')\n"
        "logs.set_secrets(['s3cr3t-token-value'])\n"
        "assert 'logging' not in sys.modules, 'logging imported at setup'\n"
        "import logging\n"
        "logging.getLogger('some.library').warning('retry url=%s', 'https://h/s3cr3t-token-value')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["event"] == "retry url=https://h/***"
    assert line["level"] == "warning" and line["logger"] == "some.library"
    assert "s3cr3t" not in out.stderr
