"""The store's tables: SCHEMA[i] migrates a database at version i (PRAGMA user_version)
to i + 1. Append, never edit: a home's database has run every step before it."""

from __future__ import annotations



SCHEMA = [
    # version 1
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE observations (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        signal TEXT NOT NULL,          -- '<source>.<field>'
        ts REAL NOT NULL,
        value REAL,
        text TEXT,
        unit TEXT
    );
    CREATE INDEX observations_signal_ts ON observations(signal, ts);
    CREATE INDEX observations_ts ON observations(ts);
    CREATE TABLE polls (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        ts REAL NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT,
        duration REAL
    );
    CREATE INDEX polls_source_ts ON polls(source, ts);
    CREATE INDEX polls_ts ON polls(ts);
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        uid TEXT NOT NULL,
        ts REAL NOT NULL,              -- first seen
        published REAL,
        title TEXT NOT NULL DEFAULT '',
        link TEXT,
        summary TEXT NOT NULL DEFAULT '',
        UNIQUE (source, uid)
    );
    CREATE INDEX items_ts ON items(ts);
    CREATE TABLE source_state (
        source TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        failing_since REAL,
        last_ok REAL,
        last_error TEXT,
        last_error_ts REAL,
        retry_after REAL,              -- not before this time (Retry-After)
        data TEXT NOT NULL DEFAULT '{}' -- a source's own small JSON state
    );
    CREATE TABLE dreams (
        date TEXT PRIMARY KEY,         -- local date of the morning, YYYY-MM-DD
        path TEXT NOT NULL,
        backend TEXT NOT NULL,
        model TEXT,
        fallback_reason TEXT,
        cycle_start REAL NOT NULL,
        cycle_end REAL NOT NULL,
        digest_sha256 TEXT,
        sha256 TEXT NOT NULL,
        tokens INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL
    );
    CREATE TABLE dream_phrases (
        date TEXT NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (date, key)
    );
    CREATE TABLE token_usage (
        day TEXT NOT NULL,             -- UTC date
        purpose TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        ts REAL NOT NULL
    );
    CREATE TABLE wakes (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,              -- when the decision was taken
        scheduled REAL,                -- the fire time it belongs to, if scheduled
        outcome TEXT NOT NULL,         -- started | skipped | missed | failed
        reason TEXT NOT NULL,
        session_id TEXT
    );
    CREATE UNIQUE INDEX wakes_scheduled ON wakes(scheduled) WHERE scheduled IS NOT NULL;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        started REAL NOT NULL,
        ended REAL,
        pid INTEGER,
        reason TEXT NOT NULL DEFAULT '',
        end_reason TEXT,               -- exited | slept | timed out | killed | lost
        exit_code INTEGER,
        consolidated INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE intents (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        done REAL,
        UNIQUE (kind, key)
    );
    """,
    # version 2: what retention deleted from polls, so counters never go down (see the
    # metrics section below); keys: polls, failures, durations, duration_sum, le:<bound>
    """
    CREATE TABLE folded_polls (
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (source, key)
    );
    """,
    # version 3: hourly rollups, so a digest reads an hour of readings as one row. An
    # hour is (hour - 3600, hour], like a cycle (start, end]; meta 'rollups' says which
    # hours are rolled (see Store.roll_up).
    """
    CREATE TABLE rollups (
        signal TEXT NOT NULL,
        hour REAL NOT NULL,            -- the hour's end, POSIX seconds
        source TEXT NOT NULL,          -- MIN(source), as a grouped read gives it
        n INTEGER NOT NULL,
        nv INTEGER NOT NULL,           -- numeric readings
        lo REAL,
        hi REAL,
        first_ts REAL NOT NULL,
        first_value REAL,
        first_text TEXT,
        first_unit TEXT,
        last_ts REAL NOT NULL,
        last_value REAL,
        last_text TEXT,
        last_unit TEXT,
        first_num_ts REAL,             -- the hour's first numeric reading
        PRIMARY KEY (hour, signal)
    ) WITHOUT ROWID;
    CREATE INDEX rollups_signal ON rollups(signal, hour);
    CREATE TABLE poll_rollups (
        source TEXT NOT NULL,
        hour REAL NOT NULL,
        n INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        last_ok INTEGER NOT NULL,
        PRIMARY KEY (hour, source)
    ) WITHOUT ROWID;
    """,
]
