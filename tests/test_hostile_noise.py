"""Routine lines of the libraries reverie talks through stay out of the operator's log."""

from __future__ import annotations

import io
import logging

import pytest

from reverie.daemon import logs


@pytest.mark.parametrize("name", ["httpx", "httpx2", "httpcore", "httpcore2", "urllib3",
                                  "openai._base_client"])
def test_the_model_clients_request_lines_are_filtered_as_noise(name):
    out = io.StringIO()
    logs.configure("info", "json", out)
    logging.getLogger(name).info('HTTP Request: POST http://127.0.0.1:1/v1/chat "200 OK"')
    logging.getLogger(name).warning("a real problem")
    assert "HTTP Request" not in out.getvalue()
    assert "a real problem" in out.getvalue()
