"""The run store: runs, calls, scores, loads, measurements and events in one SQLite file.

>>> from llmscout.store import Store, CallKey        # doctest: +SKIP
>>> store = Store()                                  # $LLMSCOUT_HOME/llmscout.db
>>> run = store.create_run("trial", config={...})
>>> store.record_call(run, CallKey("qwen2.5-0.5b", 0, 0, "ex1"), result, scores, backend="llamacpp")
"""

from __future__ import annotations

from llmscout.store._store import (
    DEFAULT_SECRET_ENV_VARS,
    REDACTED,
    RUN_KINDS,
    RUN_STATUSES,
    CallKey,
    CallRecord,
    Event,
    Measurement,
    RunKind,
    RunRecord,
    RunStatus,
    Scrubber,
    Store,
    cache_key,
)
from llmscout.store.migrations import MIGRATIONS, migrate

__all__ = [
    "DEFAULT_SECRET_ENV_VARS",
    "MIGRATIONS",
    "REDACTED",
    "RUN_KINDS",
    "RUN_STATUSES",
    "CallKey",
    "CallRecord",
    "Event",
    "Measurement",
    "RunKind",
    "RunRecord",
    "RunStatus",
    "Scrubber",
    "Store",
    "cache_key",
    "migrate",
]
