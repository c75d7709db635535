"""The run store on real SQLite files: schema upgrades, resume keys, cache rules, secrets."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from llmscout import __version__
from llmscout.errors import IncompatibleError, InvalidFileError, InvalidValueError
from llmscout.store import MIGRATIONS, CallKey, Store, cache_key, migrate
from llmscout.trial.types import GenerationSettings, GenResult, LoadInfo, MetricResult

OK = GenResult(key="ex1#0", text="positive", tokens_in=12, tokens_out=1, prefix_tokens_reused=4,
               ttft_s=0.05, latency_s=0.2, prefill_tokens_per_s=240.0, decode_tokens_per_s=40.0,
               peak_memory_bytes=400_000_000, energy_j=3.5, energy_basis="measured-rapl",
               finish_reason="stop")
ERR = GenResult(key="ex1#0", text="", error="timeout after 30 s")
SCORES = (MetricResult("exact", 1.0, True), MetricResult("contains", 1.0, True, "found"))


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "s.db")
    yield s
    s.close()


def _key(example: str = "ex1", model: str = "m", shots: int = 0, sp: int = 0, sample: int = 0):
    return CallKey(model, shots, sp, example, sample)


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchone()[0]


# ------------------------------------------------------------------------------ file, schema


def test_store_defaults_to_llmscout_db_in_llmscout_home(_isolated_home):
    with Store() as s:
        assert s.path == _isolated_home / "llmscout.db"
    assert (_isolated_home / "llmscout.db").is_file()


def test_store_file_is_in_wal_mode_with_foreign_keys_on(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_new_store_records_every_migration_by_name(store):
    names = [r[0] for r in store._conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [name for name, _ in MIGRATIONS]


def test_reopening_a_current_store_applies_nothing(tmp_path):
    Store(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db", isolation_level=None) as db:
        assert migrate(db) == []


def test_a_store_made_by_the_first_migration_only_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    with Store(path, migrations=MIGRATIONS[:1]) as old:
        run = old.create_run("trial", config={"task": "sentiment"})
        old.record_call(run, _key(), OK, SCORES, backend="llamacpp")
    assert _count(path, "SELECT count(*) FROM sqlite_master WHERE name = 'events'") == 0

    with Store(path) as new:
        assert new.get_run(run).config == {"task": "sentiment"}
        assert new.finished_call_keys(run) == {_key()}
        new.add_event(run, "progress", "1/1")  # a table from a later migration
        assert [e.message for e in new.events_since(run)] == ["1/1"]
    assert _count(path, "SELECT count(*) FROM _migrations") == len(MIGRATIONS)


def test_a_store_written_by_a_newer_llmscout_is_refused_with_the_unknown_migration(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO _migrations VALUES ('m099_from_the_future', '2030-01-01')")
    with pytest.raises(IncompatibleError, match="newer llmscout.*m099_from_the_future"):
        Store(path)


def test_a_migration_that_fails_leaves_the_database_at_the_previous_step(tmp_path):
    path = tmp_path / "s.db"
    broken = [*MIGRATIONS[:1], ("m002_broken", "CREATE TABLE half (x INT);\nNOT SQL AT ALL;")]
    with pytest.raises(sqlite3.OperationalError):
        Store(path, migrations=broken)
    assert _count(path, "SELECT count(*) FROM _migrations") == 1
    assert _count(path, "SELECT count(*) FROM sqlite_master WHERE name = 'half'") == 0


def test_a_file_that_is_not_sqlite_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is a text file, not a database" * 100)
    with pytest.raises(InvalidFileError, match="s.db: not an llmscout store"):
        Store(path)


# ------------------------------------------------------------------------------------- runs


def test_a_new_run_records_its_kind_config_hardware_and_tool_version(store):
    run = store.create_run("trial", config={"models": ["a"]}, hardware={"cpu": "x"},
                           task_fingerprint="abc")
    rec = store.get_run(run)
    assert (rec.kind, rec.status, rec.task_fingerprint) == ("trial", "running", "abc")
    assert rec.config == {"models": ["a"]} and rec.hardware == {"cpu": "x"}
    assert rec.tool_version == __version__ and rec.result is None
    assert datetime.fromisoformat(rec.created_at).tzinfo is not None
    assert len(run) == 12


def test_create_run_rejects_an_unknown_kind(store):
    with pytest.raises(InvalidValueError, match="kind='benchmark'.*trial, recommend, calibrate"):
        store.create_run("benchmark")  # type: ignore[arg-type]


def test_update_run_sets_status_and_result_and_moves_updated_at(store):
    run = store.create_run("recommend")
    before = store.get_run(run)
    time.sleep(0.002)
    store.update_run(run, status="done", result={"best": "qwen"})
    after = store.get_run(run)
    assert (after.status, after.result) == ("done", {"best": "qwen"})
    assert after.updated_at > before.updated_at and after.created_at == before.created_at


def test_unknown_run_ids_raise_a_value_error_naming_the_id(store):
    with pytest.raises(InvalidValueError, match="run='nope'"):
        store.get_run("nope")
    with pytest.raises(InvalidValueError, match="run='nope'"):
        store.update_run("nope", status="done")


def test_list_runs_is_newest_first_filtered_by_kind_and_limited(store):
    ids = [store.create_run(k) for k in ("trial", "calibrate", "trial", "trial")]
    assert [r.id for r in store.list_runs()] == ids[::-1]
    assert [r.id for r in store.list_runs(kind="trial", limit=2)] == [ids[3], ids[2]]


# ------------------------------------------------------------------------------------ calls


def test_a_recorded_call_comes_back_with_its_result_scores_and_provenance(store):
    run = store.create_run("trial")
    store.record_call(run, _key(), OK, SCORES, backend="llamacpp", model_file_sha256="ab" * 32,
                      quant="Q4_K_M", cache_key="k1", request={"prompt": "Review: great"})
    (call,) = store.calls_for(run)
    assert call.key == _key() and call.result == OK and call.scores == SCORES
    assert (call.backend, call.model_file_sha256, call.quant) == ("llamacpp", "ab" * 32, "Q4_K_M")
    assert call.request == {"prompt": "Review: great"} and call.cache_key == "k1"


def test_recording_the_same_key_twice_keeps_one_row_with_the_latest_scores(store):
    run = store.create_run("trial")
    store.record_call(run, _key(), ERR, backend="b")
    first = store.record_call(run, _key(), OK, SCORES, backend="b")
    second = store.record_call(run, _key(), OK, SCORES[:1], backend="b")
    (call,) = store.calls_for(run)
    assert first == second == call.id
    assert call.result.ok and call.scores == SCORES[:1]
    assert _count(store.path, "SELECT count(*) FROM scores") == 1


def test_finished_and_failed_keys_split_stored_calls_by_success(store):
    run = store.create_run("trial")
    store.record_call(run, _key("ex1"), OK, backend="b")
    store.record_call(run, _key("ex2"), ERR, backend="b")
    store.record_call(run, _key("ex1", shots=2), OK, backend="b")
    store.record_call(run, _key("ex1", model="other"), ERR, backend="b")
    assert store.finished_call_keys(run) == {_key("ex1"), _key("ex1", shots=2)}
    assert store.failed_call_keys(run) == {_key("ex2"), _key("ex1", model="other")}
    assert store.failed_call_keys(run, model_key="m") == {_key("ex2")}


def test_resume_keys_belong_to_their_run_only(store):
    a, b = store.create_run("trial"), store.create_run("trial")
    store.record_call(a, _key("ex1"), OK, backend="b")
    assert store.finished_call_keys(b) == set()


def test_a_retried_error_moves_from_failed_to_finished(store):
    run = store.create_run("trial")
    store.record_call(run, _key("ex2"), ERR, backend="b")
    store.record_call(run, _key("ex2"), OK, backend="b")
    assert store.failed_call_keys(run) == set()
    assert store.finished_call_keys(run) == {_key("ex2")}


def test_recording_a_call_for_an_unknown_run_raises(store):
    with pytest.raises(InvalidValueError, match="run='ghost'"):
        store.record_call("ghost", _key(), OK, backend="b")


def test_a_call_with_one_metric_twice_is_refused_and_nothing_is_written(store):
    run = store.create_run("trial")
    twice = (MetricResult("exact", 1.0, True), MetricResult("exact", 0.0, False))
    with pytest.raises(InvalidValueError, match="scores"):
        store.record_call(run, _key(), OK, twice, backend="b")
    assert store.calls_for(run) == []


def test_calls_for_filters_by_model_and_keeps_each_calls_own_scores(store):
    run = store.create_run("trial")
    store.record_call(run, _key(model="a"), OK, SCORES[:1], backend="b")
    store.record_call(run, _key(model="b"), OK, SCORES[1:], backend="b")
    (call,) = store.calls_for(run, model_key="b")
    assert call.key.model_key == "b" and call.scores == SCORES[1:]


# ------------------------------------------------------------------------------------ cache


def test_cache_key_is_the_sha256_of_canonical_json():
    expected = hashlib.sha256(b'{"parts":{"a":1,"b":[0.5,"x"]},"v":1}').hexdigest()
    assert cache_key(b=(0.5, "x"), a=1.0) == expected


def test_cache_key_ignores_argument_order_and_float_spelling():
    assert cache_key(model="m", temperature=0) == cache_key(temperature=0.0, model="m")
    assert cache_key(top_p=0.1 + 0.2) == cache_key(top_p=0.3)


def test_cache_key_changes_with_any_setting_including_nested_dataclasses():
    base = cache_key(model="m", settings=GenerationSettings())
    assert base == cache_key(model="m", settings=dataclasses.asdict(GenerationSettings()))
    assert base != cache_key(model="m", settings=GenerationSettings(seed=1))
    assert base != cache_key(model="m2", settings=GenerationSettings())


def test_cache_get_returns_nothing_for_an_unknown_key(store):
    assert store.cache_get("0" * 64) is None


def test_cache_never_serves_a_failed_call(store):
    run = store.create_run("trial")
    store.record_call(run, _key(), ERR, backend="b", cache_key="k")
    assert store.cache_get("k") is None


def test_cache_serves_a_success_recorded_under_the_same_key_in_another_run(store):
    a, b = store.create_run("trial"), store.create_run("trial")
    store.record_call(a, _key(), ERR, backend="b", cache_key="k")
    store.record_call(b, _key(), OK, backend="b", cache_key="k")
    assert store.cache_get("k").text == "positive"


def test_a_cached_answer_carries_no_timings_memory_or_energy(store):
    run = store.create_run("trial")
    store.record_call(run, _key(), OK, backend="b", cache_key="k")
    hit = store.cache_get("k", key="ex9#0")
    assert (hit.key, hit.text, hit.tokens_in, hit.tokens_out) == ("ex9#0", "positive", 12, 1)
    assert hit.cached is True
    assert (hit.ttft_s, hit.latency_s, hit.energy_j, hit.decode_tokens_per_s) == (None,) * 4
    assert hit.peak_memory_bytes is None and hit.energy_basis == "unavailable"


def test_a_cached_result_is_stored_marked_and_without_timings_even_if_given_some(store):
    run = store.create_run("trial")
    sneaky = GenResult(key="k", text="t", latency_s=1.0, ttft_s=0.1, energy_j=9.0,
                       energy_basis="measured-rapl", cached=True)
    store.record_call(run, _key(), sneaky, backend="b")
    (call,) = store.calls_for(run)
    assert call.result.cached is True
    assert (call.result.latency_s, call.result.ttft_s, call.result.energy_j) == (None,) * 3
    assert call.result.energy_basis == "unavailable"


# ---------------------------------------------------------------------------------- secrets


def test_api_keys_never_reach_the_database_file(tmp_path, monkeypatch):
    env_secret = "corp-gateway-7f3a9c1e5b2d4f60"
    monkeypatch.setenv("MY_GATEWAY_KEY", env_secret)
    sk = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
    hf = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNm12345678"
    bearer = "eyJhbGciOiJIUzI1NiJ9.payload.signature"
    path = tmp_path / "s.db"
    with Store(path, secret_env_vars=["MY_GATEWAY_KEY"]) as s:
        run = s.create_run("trial", config={"endpoint": {"api_key": env_secret}})
        request = {"headers": {"Authorization": f"Bearer {bearer}"}, "api_key": sk,
                   "messages": [{"role": "user", "content": f"my token is {hf}"}]}
        bad = GenResult(key="k", text="", error=f"401 Unauthorized: key {sk} rejected ({env_secret})")
        s.record_call(run, _key(), bad, backend="openai", request=request)
        s.add_event(run, "error", f"call failed with {hf}")
        (call,) = s.calls_for(run)
        assert call.result.error.startswith("401 Unauthorized: key [REDACTED] rejected")
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))
    for secret in (env_secret, sk, hf, bearer, sk[:24], hf[:20]):
        assert secret.encode() not in blob, secret


def test_scrubbing_leaves_ordinary_text_and_settings_alone(store, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "1")  # too short to be a key: must not redact every "1"
    run = store.create_run("trial")
    request = {"max_tokens": 16, "key": "ex1#0", "prompt": "task-list: sk-learn 1, 2"}
    store.record_call(run, _key(), OK, backend="b", request=request)
    assert store.calls_for(run)[0].request == request


# ------------------------------------------------------------------------------ concurrency


def test_two_store_objects_on_one_file_write_and_read_at_once(tmp_path):
    path = tmp_path / "s.db"
    runner, web = Store(path), Store(path)
    run = runner.create_run("trial")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(150):
                runner.record_call(run, _key(f"ex{i}"), OK, SCORES, backend="b")
                runner.add_event(run, "progress", f"{i + 1}/150")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def read() -> None:
        try:
            last = 0
            while writer.is_alive():
                for ev in web.events_since(run, after_id=last):
                    last = ev.id
                web.calls_for(run)
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write)
    reader = threading.Thread(target=read)
    writer.start()
    reader.start()
    writer.join()
    reader.join()
    assert errors == []
    assert len(web.finished_call_keys(run)) == 150
    assert web.events_since(run, after_id=0)[-1].message == "150/150"
    runner.close()
    web.close()


def test_one_store_shared_by_threads_records_every_call(store):
    run = store.create_run("trial")
    threads = [threading.Thread(target=lambda m=m: [
        store.record_call(run, _key(f"ex{i}", model=m), OK, SCORES, backend="b")
        for i in range(40)]) for m in ("a", "b", "c", "d")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.finished_call_keys(run)) == 160


_WRITER = textwrap.dedent("""
    import sys
    from llmscout.store import CallKey, Store
    from llmscout.trial.types import GenResult, MetricResult
    s = Store(sys.argv[1])
    run = s.create_run("trial", run_id="killme")
    scores = [MetricResult(f"m{j}", 1.0, True, "x" * 500) for j in range(3)]
    i = 0
    while True:
        s.record_call(run, CallKey("m", 0, 0, f"ex{i}"), GenResult(key="k", text="y" * 2000),
                      scores, backend="b")
        i += 1
""")


def test_sigkill_in_the_middle_of_writing_leaves_only_whole_calls(tmp_path):
    path = tmp_path / "s.db"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                if path.exists() and _count(path, "SELECT count(*) FROM calls") >= 100:
                    break
            except sqlite3.OperationalError:
                pass  # schema not created yet
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    with Store(path) as s:
        assert s._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        calls = s.calls_for("killme")
        assert len(calls) >= 100
        assert all(len(c.scores) == 3 and c.result.text == "y" * 2000 for c in calls)
    assert _count(path, "SELECT count(*) FROM scores") == 3 * len(calls)


# ------------------------------------------------------------------- loads, measurements, events


def test_model_loads_round_trip_with_failures_and_details(store):
    run = store.create_run("trial")
    store.record_load(run, LoadInfo("qwen", "llamacpp", True, 1.5, 500_000_000,
                                     details={"n_ctx": 2048}))
    store.record_load(run, LoadInfo("big", "llamacpp", False, error="did not load: out of memory"))
    loads = store.loads_for(run)
    assert loads[0] == LoadInfo("qwen", "llamacpp", True, 1.5, 500_000_000,
                                details={"n_ctx": 2048})
    assert not loads[1].ok and loads[1].error == "did not load: out of memory"


def test_measurements_keep_the_estimate_next_to_what_was_measured(store):
    run = store.create_run("calibrate")
    store.record_measurement(run, "qwen", {"decode_tps": 40.0}, {"decode_tps": 36.5})
    (m,) = store.measurements_for(run)
    assert (m.model_key, m.estimate, m.measured) == ("qwen", {"decode_tps": 40.0},
                                                     {"decode_tps": 36.5})


def test_events_since_returns_only_newer_events_in_order(store):
    run = store.create_run("trial")
    first = store.add_event(run, "start", "loading")
    store.add_event(run, "progress", "1/2")
    store.add_event(run, "progress", "2/2")
    assert [e.message for e in store.events_since(run, after_id=first)] == ["1/2", "2/2"]
    assert store.events_since(run, after_id=first, limit=1)[0].kind == "progress"
