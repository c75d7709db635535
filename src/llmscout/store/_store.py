"""The run store: one SQLite file holding runs, calls, scores, loads, measurements and events.

Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a process killed at any
moment leaves whole rows or none. The file is in WAL mode, so a web server thread can read while
a runner writes, from the same ``Store`` or from two ``Store`` objects on one file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from llmscout import __version__, constants
from llmscout.constants import home
from llmscout.errors import InvalidFileError, InvalidValueError
from llmscout.store.migrations import MIGRATIONS, Migration, migrate
from llmscout.trial.types import GenResult, LoadInfo, MetricResult

RunKind = Literal["trial", "recommend", "calibrate"]
RunStatus = Literal["running", "done", "failed", "interrupted"]
RUN_KINDS: tuple[str, ...] = ("trial", "recommend", "calibrate")
RUN_STATUSES: tuple[str, ...] = ("running", "done", "failed", "interrupted")
STORE_FILENAME = "llmscout.db"
_CACHE_KEY_VERSION = 1  # bump when the meaning of cache_key parts changes

# ---------------------------------------------------------------------------------- secrets

DEFAULT_SECRET_ENV_VARS: tuple[str, ...] = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY", "MISTRAL_API_KEY", "TOGETHER_API_KEY",
    "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY", "XAI_API_KEY", "FIREWORKS_API_KEY",
)
REDACTED = "[REDACTED]"
_TOKEN_PATTERNS = (
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),  # OpenAI, Anthropic (sk-ant-), DeepSeek ...
    re.compile(r"\bhf_[A-Za-z0-9]{16,}"),  # Hugging Face access tokens
    re.compile(r"\bgsk_[A-Za-z0-9]{16,}"),  # Groq
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"),  # Google API keys
)
_SECRET_FIELD = re.compile(
    r"(?i)(^|[_-])(api[_-]?key|authorization|x-api-key|access[_-]?token|token|secret|password)$"
)
_MIN_ENV_SECRET_LEN = 8  # shorter env values ("1", "true") would redact ordinary words


class Scrubber:
    """Removes API keys from text and JSON-like data before anything reaches the database.

    Three nets: token shapes (``Bearer ...``, ``sk-...``, ``hf_...``), the current values of the
    named environment variables, and the values of fields named like a secret (``api_key``,
    ``Authorization``).
    """

    def __init__(self, env_vars: Iterable[str] = DEFAULT_SECRET_ENV_VARS) -> None:
        self.env_vars = tuple(dict.fromkeys(env_vars))

    def _env_values(self, extra_env_vars: Iterable[str] = ()) -> list[str]:
        names = (*self.env_vars, *extra_env_vars)
        # Read at scrub time: a key exported after the Store was opened is still caught.
        values = set(constants.env_values(names))
        return sorted((v for v in values if len(v) >= _MIN_ENV_SECRET_LEN), key=len, reverse=True)

    def text(self, value: str, extra_env_vars: Iterable[str] = ()) -> str:
        return self._text(value, self._env_values(extra_env_vars))

    def data(self, value: Any, extra_env_vars: Iterable[str] = ()) -> Any:
        """A copy of JSON-like ``value`` with every secret string replaced."""
        return self._data(value, self._env_values(extra_env_vars))

    def _text(self, value: str, env_values: Sequence[str]) -> str:
        for secret in env_values:
            value = value.replace(secret, REDACTED)
        for pattern in _TOKEN_PATTERNS:
            value = pattern.sub(REDACTED, value)
        return value

    def _data(self, value: Any, env_values: Sequence[str]) -> Any:
        if isinstance(value, str):
            return self._text(value, env_values)
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                key = self._text(str(k), env_values)
                secret_field = isinstance(v, str) and v and _SECRET_FIELD.search(key)
                out[key] = REDACTED if secret_field else self._data(v, env_values)
            return out
        if isinstance(value, list | tuple):
            return [self._data(v, env_values) for v in value]
        return value


# -------------------------------------------------------------------------------- cache keys


def _canonical(value: Any) -> Any:
    """``value`` as plain JSON data with one spelling per meaning (for hashing)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _canonical(dataclasses.asdict(value))
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return _canonical(value.to_dict())
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)  # "nan", "inf", "-inf": JSON has no spelling for these
        if value == int(value) and abs(value) < 2**53:
            return int(value)  # 0.0 and 0 are the same temperature
        return float(f"{value:.12g}")  # 0.7 and 0.7000000000000001 are the same setting
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cache_key: cannot hash a {type(value).__name__} ({value!r})")


def cache_key(**parts: Any) -> str:
    """SHA-256 of the canonical JSON of ``parts``: equal settings give equal keys.

    Pass everything that changes the output: backend, model file hash and quant, the request
    (messages or prompt), generation settings (with the seed), the backend's own options.
    Keys are sorted, tuples are lists, integral floats are ints and other floats are rounded to
    12 significant digits, so ``temperature=0`` and ``temperature=0.0`` give one key.

    Example:
        >>> cache_key(model="a", temperature=0.0) == cache_key(temperature=0, model="a")
        True
    """
    payload = {"v": _CACHE_KEY_VERSION, "parts": _canonical(parts)}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------------- records


class CallKey(NamedTuple):
    """Where a call sits in a trial's grid; unique within a run."""

    model_key: str
    shots: int
    system_prompt_idx: int
    example_id: str
    sample_idx: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    kind: RunKind
    status: RunStatus
    created_at: str
    updated_at: str
    task_fingerprint: str | None
    config: dict[str, Any]
    hardware: dict[str, Any]
    tool_version: str
    result: Any = None


@dataclasses.dataclass(frozen=True, slots=True)
class CallRecord:
    """One stored call with where it came from (backend, model file, quant) and its scores."""

    id: int
    run_id: str
    key: CallKey
    backend: str
    model_file_sha256: str | None
    quant: str | None
    cache_key: str | None
    request: Any
    result: GenResult
    scores: tuple[MetricResult, ...]
    created_at: str


@dataclasses.dataclass(frozen=True, slots=True)
class Measurement:
    model_key: str
    estimate: dict[str, Any]
    measured: dict[str, Any]
    created_at: str


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    id: int  # increasing: pass the last one seen to ``events_since``
    run_id: str
    at: str
    kind: str
    message: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return _jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


_CALL_COLUMNS = (
    "run_id", "model_key", "shots", "system_prompt_idx", "example_id", "sample_idx", "backend",
    "model_file_sha256", "quant", "cache_key", "request_json", "result_key", "text",
    "finish_reason", "tokens_in", "tokens_out", "prefix_tokens_reused", "ttft_s", "latency_s",
    "prefill_tps", "decode_tps", "peak_memory_bytes", "gpu_memory_bytes", "energy_j",
    "energy_basis", "error", "cached", "created_at",
)
_KEY_WHERE = ("run_id = ? AND model_key = ? AND shots = ? AND system_prompt_idx = ? "
              "AND example_id = ? AND sample_idx = ?")


# ------------------------------------------------------------------------------------- store


class Store:
    """llmscout's SQLite store of runs and their calls.

    Args:
        path: the database file; default ``$LLMSCOUT_HOME/llmscout.db``.
        secret_env_vars: more environment variable names whose values must never be stored
            (added to ``DEFAULT_SECRET_ENV_VARS``).
        migrations: the schema steps to apply (tests pass a prefix to build an old database).

    Raises:
        InvalidFileError: ``path`` exists but is not an SQLite database.
        IncompatibleError: the database was written by a newer llmscout.

    Example:
        >>> store = Store(tmp / "s.db")                        # doctest: +SKIP
        >>> run = store.create_run("trial", config={"task": "sentiment"})
        >>> store.record_call(run, CallKey("qwen", 0, 0, "ex1"), result, backend="llamacpp")
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        secret_env_vars: Iterable[str] = (),
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.path = Path(path) if path is not None else home() / STORE_FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.scrubber = Scrubber((*DEFAULT_SECRET_ENV_VARS, *secret_env_vars))
        self._lock = threading.RLock()
        # One connection shared by threads, serialised by the lock; other processes and other
        # Store objects coordinate through SQLite's own locking (busy timeout below).
        self._conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        try:
            self._open(migrations)
        except BaseException:
            self._conn.close()
            raise

    def _open(self, migrations: Sequence[Migration]) -> None:
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")  # the first read of the file header
        except sqlite3.DatabaseError as exc:
            raise InvalidFileError(
                self.path, f"not an llmscout store ({exc}) - move it away or set LLMSCOUT_HOME "
                "to another folder"
            ) from exc
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: atomic and safe on a crash
        with self._lock:
            migrate(self._conn, migrations, where=str(self.path))

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands or none of it does."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def _dumps(self, value: Any, extra_env_vars: Iterable[str] = ()) -> str:
        data = self.scrubber.data(_jsonable(value), extra_env_vars)
        return json.dumps(data, sort_keys=True, ensure_ascii=False)

    def _scrub(self, value: str | None, extra_env_vars: Iterable[str] = ()) -> str | None:
        return None if value is None else self.scrubber.text(value, extra_env_vars)

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        kind: RunKind,
        *,
        config: Any = None,
        hardware: Any = None,
        task_fingerprint: str | None = None,
        run_id: str | None = None,
    ) -> str:
        """Start a run (status ``running``) and return its id, a 12-character hex string."""
        _check_choice("kind", kind, RUN_KINDS)
        rid = run_id or uuid.uuid4().hex[:12]
        now = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (id, kind, created_at, updated_at, status, task_fingerprint,"
                " config_json, hardware_json, tool_version) VALUES (?,?,?,?,?,?,?,?,?)",
                (rid, kind, now, now, "running", task_fingerprint, self._dumps(config or {}),
                 self._dumps(hardware or {}), __version__),
            )
        return rid

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        result: Any = None,
        config: Any = None,
    ) -> None:
        """Change a run's status, result or config (whatever is not None)."""
        sets, params = ["updated_at = ?"], [_now()]
        if status is not None:
            _check_choice("status", status, RUN_STATUSES)
            sets.append("status = ?")
            params.append(status)
        if result is not None:
            sets.append("result_json = ?")
            params.append(self._dumps(result))
        if config is not None:
            sets.append("config_json = ?")
            params.append(self._dumps(config))
        with self._tx() as db:
            cur = db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*params, run_id))
            if cur.rowcount == 0:
                raise _unknown_run(run_id)

    def get_run(self, run_id: str) -> RunRecord:
        """The run ``run_id``; raises InvalidValueError when there is none."""
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise _unknown_run(run_id)
        return _run_record(rows[0])

    def list_runs(
        self, kind: RunKind | None = None, limit: int = 50, status: RunStatus | None = None
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one kind and/or status."""
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            _check_choice("kind", kind, RUN_KINDS)
            where.append("kind = ?")
            params.append(kind)
        if status is not None:
            _check_choice("status", status, RUN_STATUSES)
            where.append("status = ?")
            params.append(status)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        return [_run_record(r) for r in self._query(sql, (*params, int(limit)))]

    # ------------------------------------------------------------------ calls

    def record_call(
        self,
        run_id: str,
        key: CallKey | Sequence[Any],
        result: GenResult,
        scores: Iterable[MetricResult] = (),
        *,
        backend: str,
        model_file_sha256: str | None = None,
        quant: str | None = None,
        cache_key: str | None = None,
        request: Any = None,
        secret_env_vars: Iterable[str] = (),
    ) -> int:
        """Store one call and its scores in one transaction; return the call's row id.

        Idempotent on ``key`` within a run: recording the same key again replaces the row and
        its scores (the last write wins, so a retried error is overwritten by its retry).
        Secrets are scrubbed from ``request``, the text and the error first. A ``cached`` result
        is stored without timings, memory or energy, so they are never reported from cache.
        """
        key = CallKey(*key)
        scores = tuple(scores)
        metrics = [s.metric for s in scores]
        if len(set(metrics)) != len(metrics):
            raise InvalidValueError("scores", metrics, "each metric at most once per call")
        envs = tuple(secret_env_vars)
        row = self._call_row(run_id, key, result, backend=backend, sha=model_file_sha256,
                             quant=quant, cache_key=cache_key, request=request, envs=envs)
        with self._tx() as db:
            found = db.execute(f"SELECT id FROM calls WHERE {_KEY_WHERE}",
                               (run_id, *key)).fetchone()
            try:
                call_id = self._upsert_call(db, row, found[0] if found else None)
            except sqlite3.IntegrityError as exc:
                if "FOREIGN KEY" in str(exc):
                    raise _unknown_run(run_id) from exc
                raise
            db.execute("DELETE FROM scores WHERE call_id = ?", (call_id,))
            db.executemany(
                "INSERT INTO scores (call_id, metric, score, passed, detail) VALUES (?,?,?,?,?)",
                [(call_id, s.metric, float(s.score), int(bool(s.passed)),
                  self._scrub(s.detail, envs)) for s in scores],
            )
        return call_id

    def _call_row(self, run_id: str, key: CallKey, r: GenResult, *, backend: str,
                  sha: str | None, quant: str | None, cache_key: str | None, request: Any,
                  envs: tuple[str, ...]) -> dict[str, Any]:
        measured = not r.cached  # a cached answer's timings belong to another run
        return {
            "run_id": run_id, "model_key": key.model_key, "shots": int(key.shots),
            "system_prompt_idx": int(key.system_prompt_idx), "example_id": str(key.example_id),
            "sample_idx": int(key.sample_idx), "backend": backend, "model_file_sha256": sha,
            "quant": quant, "cache_key": cache_key,
            "request_json": None if request is None else self._dumps(request, envs),
            "result_key": self._scrub(r.key, envs) or "", "text": self._scrub(r.text, envs) or "",
            "finish_reason": r.finish_reason, "tokens_in": r.tokens_in,
            "tokens_out": r.tokens_out,
            "prefix_tokens_reused": r.prefix_tokens_reused if measured else 0,
            "ttft_s": r.ttft_s if measured else None,
            "latency_s": r.latency_s if measured else None,
            "prefill_tps": r.prefill_tokens_per_s if measured else None,
            "decode_tps": r.decode_tokens_per_s if measured else None,
            "peak_memory_bytes": r.peak_memory_bytes if measured else None,
            "gpu_memory_bytes": r.gpu_memory_bytes if measured else None,
            "energy_j": r.energy_j if measured else None,
            "energy_basis": r.energy_basis if measured else "unavailable",
            "error": self._scrub(r.error, envs), "cached": int(r.cached), "created_at": _now(),
        }

    @staticmethod
    def _upsert_call(db: sqlite3.Connection, row: dict[str, Any], call_id: int | None) -> int:
        values = [row[c] for c in _CALL_COLUMNS]
        if call_id is None:
            cur = db.execute(
                f"INSERT INTO calls ({', '.join(_CALL_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_CALL_COLUMNS))})", values)
            return int(cur.lastrowid or 0)
        db.execute(f"UPDATE calls SET {', '.join(c + ' = ?' for c in _CALL_COLUMNS)} "
                   "WHERE id = ?", (*values, call_id))
        return call_id

    def finished_call_keys(self, run_id: str, model_key: str | None = None) -> set[CallKey]:
        """Keys of the run's calls that are stored and succeeded: what a resume skips."""
        return self._keys(run_id, model_key, "error IS NULL")

    def failed_call_keys(self, run_id: str, model_key: str | None = None) -> set[CallKey]:
        """Keys of the run's calls that are stored with an error: what ``--retry-errors`` redoes."""
        return self._keys(run_id, model_key, "error IS NOT NULL")

    def _keys(self, run_id: str, model_key: str | None, condition: str) -> set[CallKey]:
        sql = ("SELECT model_key, shots, system_prompt_idx, example_id, sample_idx FROM calls "
               f"WHERE run_id = ? AND {condition}")
        params: list[Any] = [run_id]
        if model_key is not None:
            sql += " AND model_key = ?"
            params.append(model_key)
        with self._lock:
            return {CallKey(*r) for r in self._conn.execute(sql, params)}

    def calls_for(self, run_id: str, model_key: str | None = None) -> list[CallRecord]:
        """The run's calls with their scores, in the order they were first recorded."""
        where, params = "c.run_id = ?", [run_id]
        if model_key is not None:
            where += " AND c.model_key = ?"
            params.append(model_key)
        rows = self._query(f"SELECT c.* FROM calls c WHERE {where} ORDER BY c.id", params)
        scores: dict[int, list[MetricResult]] = {}
        for s in self._query(f"SELECT s.* FROM scores s JOIN calls c ON c.id = s.call_id "
                             f"WHERE {where} ORDER BY s.rowid", params):
            scores.setdefault(s["call_id"], []).append(
                MetricResult(s["metric"], s["score"], bool(s["passed"]), s["detail"]))
        return [_call_record(r, tuple(scores.get(r["id"], ()))) for r in rows]

    # ------------------------------------------------------------------ cache

    cache_key = staticmethod(cache_key)

    def cache_get(self, cache_key: str, *, key: str | None = None) -> GenResult | None:
        """A stored successful answer for ``cache_key``, or None; errors are never served.

        The answer comes back with ``cached=True`` and without timings, memory or energy: those
        belong to the call that produced it. ``key`` sets the result's ``key`` (default: the
        stored one).
        """
        rows = self._query(
            "SELECT * FROM calls WHERE cache_key = ? AND error IS NULL "
            "ORDER BY cached ASC, id DESC LIMIT 1", (cache_key,))
        if not rows:
            return None
        r = rows[0]
        return GenResult(
            key=r["result_key"] if key is None else key, text=r["text"],
            tokens_in=r["tokens_in"], tokens_out=r["tokens_out"],
            finish_reason=r["finish_reason"], cached=True,
        )

    # ------------------------------------------------------------------ loads, measurements

    def record_load(self, run_id: str, info: LoadInfo, *, model_key: str | None = None) -> int:
        """Store what loading a model cost (or why it failed)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO model_loads (run_id, model_key, backend, ok, load_s, memory_bytes,"
                " error, details_json, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (run_id, model_key or info.model, info.backend, int(info.ok), info.load_s,
                 info.memory_bytes, self._scrub(info.error), self._dumps(info.details), _now()),
            )
            return int(cur.lastrowid or 0)

    def loads_for(self, run_id: str) -> list[LoadInfo]:
        rows = self._query("SELECT * FROM model_loads WHERE run_id = ? ORDER BY id", (run_id,))
        return [LoadInfo(model=r["model_key"], backend=r["backend"], ok=bool(r["ok"]),
                         load_s=r["load_s"], memory_bytes=r["memory_bytes"], error=r["error"],
                         details=json.loads(r["details_json"])) for r in rows]

    def record_measurement(self, run_id: str, model_key: str, estimate: Any, measured: Any) -> int:
        """Store the estimator's prediction next to what was measured, for calibration."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO measurements (run_id, model_key, estimate_json, measured_json,"
                " created_at) VALUES (?,?,?,?,?)",
                (run_id, model_key, self._dumps(estimate), self._dumps(measured), _now()),
            )
            return int(cur.lastrowid or 0)

    def measurements_for(self, run_id: str) -> list[Measurement]:
        rows = self._query("SELECT * FROM measurements WHERE run_id = ? ORDER BY id", (run_id,))
        return [Measurement(r["model_key"], json.loads(r["estimate_json"]),
                            json.loads(r["measured_json"]), r["created_at"]) for r in rows]

    # ------------------------------------------------------------------ events

    def add_event(self, run_id: str, kind: str, message: str = "") -> int:
        """Append a progress event; returns its id (increasing)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO events (run_id, at, kind, message) VALUES (?,?,?,?)",
                (run_id, _now(), kind, self._scrub(message) or ""),
            )
            return int(cur.lastrowid or 0)

    def events_since(self, run_id: str, after_id: int = 0, limit: int = 1000) -> list[Event]:
        """The run's events with id > ``after_id``, oldest first (poll with the last id seen)."""
        rows = self._query(
            "SELECT * FROM events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?",
            (run_id, int(after_id), int(limit)))
        return [Event(r["id"], r["run_id"], r["at"], r["kind"], r["message"]) for r in rows]


# ----------------------------------------------------------------------------------- helpers


def _check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidValueError(field, value, "one of " + ", ".join(allowed))


def _unknown_run(run_id: str) -> InvalidValueError:
    return InvalidValueError("run", run_id, "the id of a stored run (see 'llmscout runs list')")


def _run_record(r: dict[str, Any]) -> RunRecord:
    return RunRecord(
        id=r["id"], kind=r["kind"], status=r["status"], created_at=r["created_at"],
        updated_at=r["updated_at"], task_fingerprint=r["task_fingerprint"],
        config=json.loads(r["config_json"]), hardware=json.loads(r["hardware_json"]),
        tool_version=r["tool_version"],
        result=None if r["result_json"] is None else json.loads(r["result_json"]),
    )


def _call_record(r: dict[str, Any], scores: tuple[MetricResult, ...]) -> CallRecord:
    result = GenResult(
        key=r["result_key"], text=r["text"], tokens_in=r["tokens_in"], tokens_out=r["tokens_out"],
        prefix_tokens_reused=r["prefix_tokens_reused"], ttft_s=r["ttft_s"],
        latency_s=r["latency_s"], prefill_tokens_per_s=r["prefill_tps"],
        decode_tokens_per_s=r["decode_tps"], peak_memory_bytes=r["peak_memory_bytes"],
        gpu_memory_bytes=r["gpu_memory_bytes"], energy_j=r["energy_j"],
        energy_basis=r["energy_basis"], finish_reason=r["finish_reason"], error=r["error"],
        cached=bool(r["cached"]),
    )
    return CallRecord(
        id=r["id"], run_id=r["run_id"],
        key=CallKey(r["model_key"], r["shots"], r["system_prompt_idx"], r["example_id"],
                    r["sample_idx"]),
        backend=r["backend"], model_file_sha256=r["model_file_sha256"], quant=r["quant"],
        cache_key=r["cache_key"],
        request=None if r["request_json"] is None else json.loads(r["request_json"]),
        result=result, scores=scores, created_at=r["created_at"],
    )
