"""The store's records behave as `@dataclass(frozen=True)` made them, though they are made
without dataclasses' code generation (start-up time, bench P6): the same constructor,
defaults, equality, hash, repr, and no assignment."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from reverie.memory._record import record
from reverie.memory.store import Observation, PollCounts, SourceState

TS = datetime(2026, 12, 8, 0, 30, tzinfo=timezone.utc)


def _reference(cls: type) -> type:
    """A real frozen dataclass with the same name and fields."""
    return dataclasses.make_dataclass(cls.__name__, list(cls.__match_args__), frozen=True)


def test_a_record_is_built_positionally_or_by_keyword_and_compares_by_value():
    a = Observation("host", "load", TS, 0.5, None, None)
    b = Observation(source="host", signal="load", ts=TS, value=0.5, text=None, unit=None)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Observation("host", "load", TS, 0.6, None, None)
    assert a != ("host", "load", TS, 0.5, None, None)
    with pytest.raises(TypeError):
        Observation("host", "load", TS)  # type: ignore[call-arg]


def test_a_record_prints_as_the_dataclass_would():
    values = ("host", "load", TS, 0.5, None, "%")
    assert repr(Observation(*values)) == repr(_reference(Observation)(*values))
    state = SourceState("feed", etag='"x"', consecutive_failures=2)
    ref = _reference(SourceState)(*(getattr(state, n) for n in SourceState.__match_args__))
    assert repr(state) == repr(ref)


def test_a_record_cannot_be_changed():
    a = Observation("host", "load", TS, 0.5, None, None)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'value'"):
        a.value = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.value  # type: ignore[misc]


def test_defaults_and_a_fresh_default_dict_per_record():
    a, b = SourceState("one"), SourceState("two")
    assert (a.etag, a.consecutive_failures, a.data) == (None, 0, {})
    assert a.data is not b.data
    assert SourceState("one", data={"k": 1}).data == {"k": 1}
    assert "data" not in vars(SourceState)  # as dataclasses: no shared class attribute


def test_a_records_own_methods_are_kept():
    one = PollCounts(polls=3, failures=1, durations=2, duration_sum=0.5)
    assert one + one == PollCounts(polls=6, failures=2, durations=4, duration_sum=1.0)


def test_post_init_runs_last_as_in_a_dataclass():
    @record
    class Folder:
        root: str
        state: str = ""

        def __post_init__(self) -> None:
            if not self.state:
                object.__setattr__(self, "state", self.root + "/state")

    assert Folder("/a").state == "/a/state"
    assert Folder("/a", "/b").state == "/b"
    assert Folder("/a") == Folder("/a", "/a/state")
