"""command: a program's output as signals, run without a shell and within the timeout."""

from __future__ import annotations

import json
import sys
import time

import pytest
from pydantic import ValidationError

from _sources_fixtures import make_ctx, run, units, values
from reverie.perception.sources import SourceError
from reverie.perception.sources.command import Command

PY = sys.executable


def test_a_number_on_stdout_is_the_value(tmp_path):
    result = run(Command, make_ctx(tmp_path), command=[PY, "-c", "print(' 42.5 ')"], unit="mails")
    assert values(result) == {"value": 42.5} and units(result) == {"value": "mails"}


def test_the_signal_name_can_be_chosen(tmp_path):
    result = run(Command, make_ctx(tmp_path), command=[PY, "-c", "print(3)"], field="unread")
    assert values(result) == {"unread": 3}


def test_json_output_is_read_with_fields(tmp_path):
    doc = {"stargazers_count": 120, "open_issues_count": 4, "default_branch": "main"}
    result = run(Command, make_ctx(tmp_path), command=[PY, "-c", f"print({json.dumps(json.dumps(doc))})"],
                 fields={"stars": "stargazers_count", "issues": "open_issues_count",
                         "branch": "default_branch", "forks": "forks_count"})
    assert values(result) == {"stars": 120, "issues": 4, "branch": "main"}
    assert list(result.field_errors) == ["forks"]


def test_it_runs_in_the_home_without_a_shell(tmp_path):
    result = run(Command, make_ctx(tmp_path),
                 command=[PY, "-c", "import os,sys; print(len(os.listdir('.')) + len(sys.argv[1]))", "$(id)"])
    assert values(result) == {"value": 5}  # '$(id)' arrives as five literal characters


def test_a_nonzero_exit_fails_with_the_last_stderr_line(tmp_path):
    code = "import sys; sys.stderr.write('warming up\\nerror: token expired\\n'); sys.exit(3)"
    with pytest.raises(SourceError, match=r"failed \(exit status 3\): error: token expired$"):
        run(Command, make_ctx(tmp_path), command=[PY, "-c", code])


def test_a_command_over_the_timeout_is_killed(tmp_path):
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"timed out after 0\.5s$"):
        run(Command, make_ctx(tmp_path, timeout=0.5), command=[PY, "-c", "import time; time.sleep(30)"])
    assert time.monotonic() - start < 2


def test_a_child_holding_the_pipe_is_killed_with_its_group(tmp_path):
    code = "import subprocess,sys; subprocess.Popen([sys.executable,'-c','import time; time.sleep(30)']); print(1)"
    start = time.monotonic()
    with pytest.raises(SourceError, match="timed out"):
        run(Command, make_ctx(tmp_path, timeout=0.5), command=[PY, "-c", code])
    assert time.monotonic() - start < 2


def test_output_over_the_cap_fails(tmp_path):
    with pytest.raises(SourceError, match="more than the 1000 bytes cap"):
        run(Command, make_ctx(tmp_path), command=[PY, "-c", "print('9' * 5000)"], max_bytes=1000)


def test_an_endless_output_is_cut_at_the_cap(tmp_path):
    start = time.monotonic()
    with pytest.raises(SourceError, match="cap"):
        run(Command, make_ctx(tmp_path, timeout=5), command=["yes"], max_bytes=100_000)
    assert time.monotonic() - start < 2


def test_output_that_is_not_a_number_fails(tmp_path):
    with pytest.raises(SourceError, match=r"did not print a number: 'hello world'$"):
        run(Command, make_ctx(tmp_path), command=[PY, "-c", "print('hello world')"])


def test_output_that_is_not_json_fails_when_fields_are_given(tmp_path):
    with pytest.raises(SourceError, match="did not print JSON"):
        run(Command, make_ctx(tmp_path), command=[PY, "-c", "print('nope')"], fields={"a": "a"})


def test_a_missing_program_fails_in_one_line(tmp_path):
    with pytest.raises(SourceError, match="^command not found: no-such-program-xyz$"):
        run(Command, make_ctx(tmp_path), command=["no-such-program-xyz"])


def test_secrets_in_the_command_or_stderr_are_redacted(tmp_path):
    secret = "hunter2-secret"
    code = "import sys; sys.stderr.write('bad key ' + sys.argv[1] + '\\n'); sys.exit(1)"
    with pytest.raises(SourceError) as e:
        run(Command, make_ctx(tmp_path, secrets=(secret,)), command=[PY, "-c", code, secret])
    assert secret not in str(e.value) and str(e.value).endswith("bad key ***")


def test_command_must_not_be_empty():
    with pytest.raises(ValidationError):
        Command.Options(command=[])
