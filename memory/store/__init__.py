"""The signal store: one SQLite database (WAL) holding the home's whole record.

Tables: observations (readings), polls (one row per source run, ok or failed),
items (feed entries), source_state (validators, health), dreams, dream_phrases
(the offline backend's "dryness" memory), wakes, sessions, intents (the journal
that makes consolidation crash-safe), meta (heartbeat, init date), and rollups and
poll_rollups (hourly summaries of observations and polls, which the digest reads).

The database keeps times as POSIX seconds in UTC; the boundary speaks in frozen
records with timezone-aware UTC datetimes, and every database failure is a
``StoreError`` naming the file. No SQL lives outside this package, and no
connection leaves it. One connection, serialised by a lock: reverie has one
writer, and SQLite's WAL lets other processes (``reverie state``, ``reverie
status``) read meanwhile.

One module per idea: schema (tables and migrations), records (what comes out), _base
(the connection, transactions, meta), then one per table group: observations, rollups
(and retention), sources (runs, polls, items, source state), dreams, sessions (wakes,
sessions, intents), alerts, totals (/metrics), backup (copies and export). ``Store`` is
all of them; import every name from here.
"""

from __future__ import annotations

from reverie.memory.store._base import StoreBase
from reverie.memory.store.alerts import AlertsMixin
from reverie.memory.store.backup import BackupMixin
from reverie.memory.store.dreams import DreamsMixin
from reverie.memory.store.observations import ObservationsMixin
from reverie.memory.store.records import (
    POLL_BUCKETS, AlertSent, ChartPoint, CorruptDatabase, Dream, DreamTotals, Extremes,
    FailureSpan, Heartbeat, Intent, Item, ItemGroup, MetricsSnapshot, NewItem, Observation,
    Poll, PollCounts, PollStats, PollTotals, Reading, RolledHours, Session, SessionTotals,
    SignalStats, SourceState, StateChange, StoreError, TokenTotals, Wake)
from reverie.memory.store.rollups import RollupsMixin
from reverie.memory.store.schema import SCHEMA
from reverie.memory.store.sessions import SessionsMixin
from reverie.memory.store.sources import SourcesMixin
from reverie.memory.store.totals import TotalsMixin

__all__ = [
    "POLL_BUCKETS", "SCHEMA", "AlertSent", "ChartPoint", "CorruptDatabase", "Dream",
    "DreamTotals", "Extremes", "FailureSpan", "Heartbeat", "Intent", "Item", "ItemGroup",
    "MetricsSnapshot", "NewItem", "Observation", "Poll", "PollCounts", "PollStats", "PollTotals",
    "Reading", "RolledHours", "Session", "SessionTotals", "SignalStats", "SourceState",
    "StateChange", "Store",
    "StoreError", "TokenTotals", "Wake",
]


class Store(SourcesMixin, ObservationsMixin, RollupsMixin, DreamsMixin, SessionsMixin,
            AlertsMixin, TotalsMixin, BackupMixin, StoreBase):
    """The home's record: every table group's methods on one connection."""
