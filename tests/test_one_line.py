"""An error is shown and recorded as one line (memory/errors.py): the store's failures, a
source's, a backup's and a notification's status all say it the same way."""

from __future__ import annotations

import pytest

from reverie.memory.errors import one_line
from reverie.memory.store import Store, StoreError
from reverie.perception.errors import SourceError


def test_an_error_spread_over_lines_reads_as_one():
    assert one_line(ValueError("bad\n  value\r\n\there")) == "bad value here"


def test_an_error_that_says_nothing_is_named_by_its_class():
    assert one_line(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert one_line("") == ""  # a text is only a text


def test_a_source_error_and_a_store_error_are_one_line_each(tmp_path):
    assert str(SourceError("HTTP 503\nService Unavailable")) == "HTTP 503 Service Unavailable"
    bad = tmp_path / "r.db"
    bad.write_bytes(b"not a database\n" * 100)
    with pytest.raises(StoreError) as e:
        Store.open(bad)
    assert "\n" not in str(e.value) and str(bad) in str(e.value)
