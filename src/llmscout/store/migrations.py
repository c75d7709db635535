"""The store's schema as named, append-only migrations, recorded in ``_migrations``.

The same idea as simonw/llm's ``migrations.py``: each step has a stable name, steps run in list
order, and each applied name is written to ``_migrations`` so that opening an older database
upgrades it and opening a newer one is refused. Never edit or reorder a released step: append a
new one (an ``ALTER TABLE``, a new table, an index).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

from llmscout.errors import IncompatibleError

Migration = tuple[str, str]  # (name, SQL script)

_M001_RUNS_CALLS_SCORES = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('trial', 'recommend', 'calibrate')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
    task_fingerprint TEXT,
    config_json TEXT NOT NULL DEFAULT '{}',
    hardware_json TEXT NOT NULL DEFAULT '{}',
    tool_version TEXT NOT NULL,
    result_json TEXT
);
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model_key TEXT NOT NULL,
    backend TEXT NOT NULL,
    model_file_sha256 TEXT,
    quant TEXT,
    shots INTEGER NOT NULL,
    system_prompt_idx INTEGER NOT NULL,
    example_id TEXT NOT NULL,
    sample_idx INTEGER NOT NULL,
    cache_key TEXT,
    request_json TEXT,
    result_key TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    finish_reason TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    prefix_tokens_reused INTEGER NOT NULL DEFAULT 0,
    ttft_s REAL,
    latency_s REAL,
    prefill_tps REAL,
    decode_tps REAL,
    peak_memory_bytes INTEGER,
    gpu_memory_bytes INTEGER,
    energy_j REAL,
    energy_basis TEXT NOT NULL DEFAULT 'unavailable',
    error TEXT,
    cached INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1)),
    created_at TEXT NOT NULL,
    UNIQUE (run_id, model_key, shots, system_prompt_idx, example_id, sample_idx)
);
CREATE INDEX calls_cache_key ON calls(cache_key) WHERE error IS NULL;
CREATE TABLE scores (
    call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    score REAL NOT NULL,
    passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
    detail TEXT,
    PRIMARY KEY (call_id, metric)
);
"""

_M002_LOADS_MEASUREMENTS = """
CREATE TABLE model_loads (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model_key TEXT NOT NULL,
    backend TEXT NOT NULL,
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    load_s REAL,
    memory_bytes INTEGER,
    error TEXT,
    details_json TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE TABLE measurements (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model_key TEXT NOT NULL,
    estimate_json TEXT NOT NULL DEFAULT '{}',
    measured_json TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
"""

_M003_EVENTS = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_run ON events(run_id, id);
"""

_M004_RUN_LIST_INDEX = """
CREATE INDEX runs_kind_created ON runs(kind, created_at);
CREATE INDEX calls_run_model ON calls(run_id, model_key);
"""

MIGRATIONS: list[Migration] = [
    ("m001_runs_calls_scores", _M001_RUNS_CALLS_SCORES),
    ("m002_model_loads_measurements", _M002_LOADS_MEASUREMENTS),
    ("m003_events", _M003_EVENTS),
    ("m004_list_indexes", _M004_RUN_LIST_INDEX),
]


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations recorded in ``conn``'s database, in the order applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(
    conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS, *, where: str = ""
) -> list[str]:
    """Apply the migrations ``conn`` lacks, each in its own transaction; return their names.

    ``conn`` must be in autocommit mode (``isolation_level=None``). ``where`` names the database
    file in error messages.

    Raises:
        IncompatibleError: the database records migrations this llmscout does not know, i.e. it
            was written by a newer llmscout.
    """
    done = applied(conn)
    known = {name for name, _ in migrations}
    unknown = [name for name in done if name not in known]
    if unknown:
        raise IncompatibleError(
            f"{where or 'the store'}: written by a newer llmscout (unknown migrations: "
            f"{', '.join(unknown)}) - upgrade llmscout (pip install -U llmscout) or point "
            "LLMSCOUT_HOME at another folder"
        )
    new = []
    for name, sql in migrations:
        if name in done:
            continue
        _apply_one(conn, name, sql)
        new.append(name)
    return new


def _apply_one(conn: sqlite3.Connection, name: str, sql: str) -> None:
    # executescript() would commit between statements; run them one by one inside one
    # transaction so a crash mid-migration leaves the database at the previous step.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
            (name, datetime.now(UTC).isoformat(timespec="milliseconds")),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(sql: str) -> list[str]:
    """Split a script into complete statements (``sqlite3.complete_statement`` knows quoting)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
