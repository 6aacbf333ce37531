"""An error as one line (memory/errors.py): every message reverie shows, logs or records
names its error once, on one line, whatever the exception carried."""

from __future__ import annotations

import sqlite3

import pytest

from reverie.memory.errors import described, one_line


@pytest.mark.parametrize("error, line", [
    (ValueError("bad value"), "ValueError: bad value"),
    (OSError(2, "No such file or directory"), "FileNotFoundError: [Errno 2] No such file or directory"),
    (sqlite3.OperationalError("database is locked\n  while writing"),
     "OperationalError: database is locked while writing"),
    (RuntimeError(""), "RuntimeError"),
    (TimeoutError(), "TimeoutError"),
    (RuntimeError("  \n\t "), "RuntimeError"),
    (KeyError(""), "KeyError"),  # its text would be "''"
    (KeyError("karma"), "KeyError: 'karma'"),
])
def test_an_exception_is_named_once_on_one_line(error, line):
    assert described(error) == line


def test_text_is_one_line_and_an_empty_exception_is_its_class():
    assert one_line("a\nb\r\n  c") == "a b c"
    assert one_line(KeyboardInterrupt()) == "KeyboardInterrupt"


def test_the_daemons_messages_go_through_it(tmp_path):
    # a config that cannot be read: the one line check-config prints names the error once
    from reverie.daemon.config import ConfigError, load

    folder = tmp_path / "reverie.yaml"
    folder.mkdir()  # a folder where the file should be
    with pytest.raises(ConfigError) as e:
        load(folder)
    [problem] = e.value.problems
    assert problem.startswith(f"{folder}: cannot read: IsADirectoryError: [Errno 21]")
    assert "\n" not in problem
