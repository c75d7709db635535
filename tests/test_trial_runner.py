"""The trial runner on real components: llama.cpp on real GGUF files (Gemma 3 270M and tiny
synthetic models), a real local HTTP server speaking the OpenAI API, and real SQLite."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llmscout.errors import (
    IncompatibleError,
    InvalidValueError,
    MissingFileError,
    UnknownModelError,
)
from llmscout.store import Store
from llmscout.synth import CHATML_TEMPLATE, SynthShape
from llmscout.trial import TrialResult, run_trial
from llmscout.trial._candidates import Candidate, order_candidates, resolve_candidate
from llmscout.trial.ladder import plan_order

pytest_plugins = ["_gguf_fixtures"]  # synth_gguf, gemma_gguf

BIG_SHAPE = SynthShape(layers=2, hidden=512, heads=4, kv_heads=2, ffn=1024, vocab=512)


# -- a real local server that speaks the OpenAI API and counts what it is asked ---------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scripted(BaseHTTPRequestHandler):
    """Answers by the last user message: ``Repeat: W`` -> W; ``Fail: W`` -> HTTP 400 while the
    server's ``failing`` is set, else W; ``Vary: W`` -> W twice in three calls, else "other";
    a judge prompt (``Rubric:``) -> "Score: 9". Every request is logged in order."""

    def log_message(self, *args):
        pass

    def _send(self, code: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def do_GET(self):
        self._send(200, {"data": [{"id": "echo"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        srv = self.server
        users = [m["content"] for m in body.get("messages") or [] if m["role"] == "user"]
        text = users[-1] if users else body.get("prompt", "")
        with srv.lock:
            srv.log.append({"model": body.get("model"), "text": text,
                            "messages": body.get("messages"), "seed": body.get("seed")})
            n = len(srv.log)
        time.sleep(srv.delay)
        kind, _, word = text.rpartition("\n")[2].partition(": ")
        if "Rubric:" in text:
            answer = "The answer is right. Score: 9"
        elif kind == "Fail" and srv.failing:
            return self._send(400, {"error": {"message": "scripted failure"}})
        elif kind == "Vary":
            answer = word if n % 3 else "other"
        else:
            answer = word or "?"
        self._send(200, {"choices": [{"message": {"role": "assistant", "content": answer},
                                      "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 12, "completion_tokens": 2}})


class ScriptedServer:
    def __init__(self, delay: float = 0.0) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Scripted)
        self.httpd.lock = threading.Lock()
        self.httpd.log = []
        self.httpd.delay = delay
        self.httpd.failing = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def log(self) -> list[dict]:
        return self.httpd.log

    def texts(self, since: int = 0) -> list[str]:
        return [r["text"].rpartition("\n")[2] for r in self.log[since:]]

    def declare(self, home: Path, name: str = "fake", model: str = "echo") -> str:
        (home / "endpoints.yaml").write_text(
            f"- name: {name}\n  base_url: {self.base_url}\n  model: {model}\n  timeout_s: 30\n")
        return f"{name}:{model}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


def write_task(folder: Path, inputs: list[str], *, references: list[str] | None = None,
               metrics: str = "[exact]", bar: float = 0.5, shots: str = "[0]",
               pool: list[tuple[str, str]] | None = None, extra: str = "",
               ids: list[str] | None = None) -> Path:
    """A task file over ``inputs`` (reference: the word after ': ' unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    refs = references or [t.partition(": ")[2] for t in inputs]
    ids = ids or [f"e{i:02d}" for i in range(len(inputs))]
    with (folder / "examples.jsonl").open("w") as fh:
        for i, (text, ref) in enumerate(zip(inputs, refs, strict=True)):
            fh.write(json.dumps({"id": ids[i], "input": text, "reference": ref}) + "\n")
    few = ""
    if pool:
        with (folder / "pool.jsonl").open("w") as fh:
            for i, (text, ref) in enumerate(pool):
                fh.write(json.dumps({"id": f"p{i}", "input": text, "reference": ref}) + "\n")
        few = "few_shot: {pool: pool.jsonl}\n"
    path = folder / "task.yaml"
    path.write_text(f"name: t\nexamples: examples.jsonl\n{few}shots: {shots}\n"
                    f"system_prompt: Answer with one word.\nmetrics: {metrics}\n"
                    f"bar: {{pass_rate: {bar}, confidence: 0.9}}\n"
                    f"generation: {{max_tokens: 4, temperature: 0}}\ncandidates: [packaged]\n"
                    + extra)
    return path


REGEX_ALWAYS = '[{name: regex, params: {pattern: "^"}}]'
REGEX_NEVER = '[{name: regex, params: {pattern: "^IMPOSSIBLE-ANSWER$"}}]'
POOL = [("Repeat: sun", "sun"), ("Repeat: moon", "moon")]


@pytest.fixture
def chat_models(synth_gguf):
    """(small, big) synthetic llama GGUFs with a ChatML template."""
    return (synth_gguf("llama", "F16", chat_template=CHATML_TEMPLATE),
            synth_gguf(BIG_SHAPE, "F16", chat_template=CHATML_TEMPLATE))


# -- the climb on llama.cpp --------------------------------------------------------------------


def test_smallest_model_that_meets_the_bar_wins_and_bigger_ones_never_load(tmp_path, chat_models):
    small, big = chat_models
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(8)], metrics=REGEX_ALWAYS, bar=0.6)
    with Store(tmp_path / "s.db") as store:
        result = run_trial(task, models=[str(big), str(small)], store=store)
        loaded = {info.model for info in store.loads_for(result.run_id)}
    assert result.winner["model"] == small.name and result.winner["shots"] == 0
    assert loaded == {small.name}
    assert result.verdict["message"].startswith(f"the smallest model that meets the bar is {small.name}")


def test_climb_tries_more_shots_then_the_bigger_model_and_advises_when_none_meets_the_bar(
        tmp_path, chat_models):
    small, big = chat_models
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(8)], metrics=REGEX_NEVER,
                      shots="[0, 2]", pool=POOL)
    with Store(tmp_path / "s.db") as store:
        result = run_trial(task, models=[str(big), str(small)], store=store)
        order = list(dict.fromkeys((c.key.model_key, c.key.shots)
                                   for c in store.calls_for(result.run_id)))
    assert order == [(small.name, 0), (small.name, 2), (big.name, 0), (big.name, 2)]
    assert result.winner is None and result.verdict["message"].startswith("none meets the bar")
    assert {a["kind"] for a in result.verdict["advice"]} >= {"more_shots", "bigger_model"}


def test_a_model_that_does_not_load_is_a_result_and_the_climb_continues(tmp_path, chat_models,
                                                                        synth_gguf):
    small, _ = chat_models
    # same size as small, so tried first; its chat template does not compile
    broken = synth_gguf("llama", "F16", chat_template="{% if %}broken")
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)], metrics=REGEX_ALWAYS)
    result = run_trial(task, models=[str(broken), str(small)])
    block = next(m for m in result.models if m["model"] == broken.name)
    assert block["load"]["ok"] is False and block["load"]["error"].startswith("did not load")
    assert result.winner["model"] == small.name


def test_a_base_model_without_template_gets_completion_blocks_with_its_shots(tmp_path, synth_gguf):
    base = synth_gguf("llama", "F16")
    task = write_task(tmp_path, ["Repeat: a", "Repeat: b"], metrics=REGEX_ALWAYS, shots="[2]",
                      pool=POOL, bar=0.5)
    with Store(tmp_path / "s.db") as store:
        result = run_trial(task, models=[str(base)], store=store)
        prompt = store.calls_for(result.run_id)[0].request["prompt"]
    assert prompt.startswith("Answer with one word.\n\nInput: Repeat: sun\nOutput: sun\n\n"
                             "Input: Repeat: moon\nOutput: moon\n\nInput: Repeat: ")


# -- the packaged Gemma: prompts, prefix reuse, measurements ---------------------------------------


@pytest.fixture(scope="module")
def gemma_run(gemma_gguf, tmp_path_factory):
    """The sample task on the real Gemma 3 270M: 0 and 3 shots, at most 8 examples."""
    from llmscout.trial.taskfile import sample_task

    folder = tmp_path_factory.mktemp("gemma")
    store = Store(folder / "s.db")
    task = sample_task()
    result = run_trial(task, models=[str(gemma_gguf)], shots=[0, 3], max_examples=8,
                       store=store)
    yield result, store
    store.close()


def test_gemma_verdict_is_in_plain_words_and_saved_as_the_run_result(gemma_run, gemma_gguf):
    result, store = gemma_run
    stored = store.get_run(result.run_id)
    assert stored.status == "done" and stored.result["verdict"] == result.verdict
    assert TrialResult.from_dict(stored.result) == result
    assert f"best was {gemma_gguf.name} with" in result.verdict["message"] or \
        f"meets the bar is {gemma_gguf.name} with" in result.verdict["message"]


def test_examples_of_a_rung_share_the_prompt_prefix_so_llama_cpp_reuses_it(gemma_run):
    result, store = gemma_run
    three = [c for c in store.calls_for(result.run_id) if c.key.shots == 3]
    assert len(three) >= 2
    shots_tokens = next(p for p in result.models[0]["prompt_cost"] if p["shots"] == 3)
    assert all(c.result.prefix_tokens_reused >= shots_tokens["shots_tokens"] for c in three[1:])


def test_every_call_is_stored_with_scores_timings_and_estimated_energy(gemma_run):
    result, store = gemma_run
    calls = store.calls_for(result.run_id)
    assert len(calls) == len(result.examples) == result.ladder["calls_used"]
    for c in calls:
        assert [s.metric for s in c.scores] == ["choice"]
        assert c.result.latency_s > 0 and c.result.tokens_in > 0
        assert c.result.energy_basis == "estimated" and c.result.energy_j > 0
        assert c.model_file_sha256 and c.quant == "Q4_K_M"


def test_measured_medians_are_stored_next_to_the_estimate(gemma_run):
    result, store = gemma_run
    [m] = store.measurements_for(result.run_id)
    assert m.estimate["available"] and m.estimate["quant"] == "Q4_K_M"
    assert m.measured["decode_tokens_per_s"] > 0 and m.measured["calls_measured"] > 0
    assert result.models[0]["load"]["ok"] and result.models[0]["load"]["memory_bytes"] > 0


def test_shot_costs_are_counted_with_the_models_tokenizer(gemma_run):
    result, _ = gemma_run
    costs = {p["shots"]: p for p in result.models[0]["prompt_cost"]}
    assert costs[0]["shots_tokens"] == 0 and costs[3]["shots_tokens"] > 30 and costs[3]["exact"]


def test_deterministic_calls_come_from_the_cache_on_a_second_run(gemma_run, gemma_gguf):
    first, store = gemma_run
    again = run_trial(first.task["path"], models=[str(gemma_gguf)], shots=[0, 3], max_examples=8,
                      store=store)
    calls = store.calls_for(again.run_id)
    assert calls and all(c.result.cached for c in calls)
    assert all(c.result.latency_s is None and c.result.energy_j is None for c in calls)
    assert [e["output"] for e in again.examples] == [e["output"] for e in first.examples]
    assert again.models[0]["measured"]["calls_measured"] == 0


# -- resume, errors, cache, samples, judge (a local OpenAI-compatible server) ------------------


def failing_first(n: int, fail: int) -> tuple[list[str], list[str]]:
    """Ids whose plan order puts ``fail`` 'Fail:' examples first, and their inputs."""
    ids = [f"x{i}" for i in range(n)]
    order = plan_order(ids, 0)
    inputs = {i: (f"Fail: f{k}" if k < fail else f"Repeat: r{k}") for k, i in enumerate(order)}
    return ids, [inputs[i] for i in ids]


def test_errors_are_stored_counted_as_failures_and_never_served_from_the_cache(
        tmp_path, server, _isolated_home):
    model = server.declare(_isolated_home)
    ids, inputs = failing_first(6, 2)
    task = write_task(tmp_path, inputs, ids=ids, bar=0.5)
    first = run_trial(task, models=[model])
    errors = [e for e in first.examples if e["error"]]
    assert len(errors) == 2 and not any(e["pass"] for e in errors) and first.winner is not None
    seen = len(server.log)
    run_trial(task, models=[model])
    assert sorted(server.texts(seen)) == ["Fail: f0", "Fail: f1"]


def test_retry_errors_reruns_only_the_failed_calls(tmp_path, server, _isolated_home):
    model = server.declare(_isolated_home)
    ids, inputs = failing_first(6, 2)
    task = write_task(tmp_path, inputs, ids=ids, bar=0.5)
    first = run_trial(task, models=[model], cache=False)
    server.httpd.failing = False
    seen = len(server.log)
    again = run_trial(task, resume=first.run_id, retry_errors=True, cache=False)
    assert sorted(server.texts(seen)) == ["Fail: f0", "Fail: f1"]
    assert again.run_id == first.run_id and not any(e["error"] for e in again.examples)


def test_resume_of_a_finished_run_makes_no_call(tmp_path, server, _isolated_home):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)])
    first = run_trial(task, models=[model], cache=False)
    seen = len(server.log)
    again = run_trial(None, resume=first.run_id, cache=False)
    assert len(server.log) == seen and again.verdict == first.verdict


def test_resume_refuses_a_task_whose_examples_changed(tmp_path, server, _isolated_home):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)])
    first = run_trial(task, models=[model])
    with (tmp_path / "examples.jsonl").open("a") as fh:
        fh.write(json.dumps({"id": "new", "input": "Repeat: z", "reference": "z"}) + "\n")
    with pytest.raises(IncompatibleError, match="different task"):
        run_trial(task, resume=first.run_id)


def test_samples_are_one_request_each_and_their_consistency_is_reported(
        tmp_path, server, _isolated_home):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Vary: v{i}" for i in range(6)], bar=0.5,
                      extra="")
    text = task.read_text().replace("temperature: 0}", "temperature: 0.7, n: 3}")
    task.write_text(text)
    result = run_trial(task, models=[model])
    per_example = {}
    for e in result.examples:
        per_example.setdefault(e["example_id"], []).append(e["sample_idx"])
    assert per_example and all(sorted(v) == [0, 1, 2] for v in per_example.values())
    assert len(server.log) == 3 * len(per_example)
    assert len({r["seed"] for r in server.log[:3]}) == 3
    assert result.models[0]["rungs"][0]["consistency"] == pytest.approx(2 / 3)


def test_judge_metric_is_scored_by_a_model_through_the_backends(tmp_path, server, _isolated_home):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)],
                      metrics="[{name: judge, params: {rubric: Is it the repeated word?}}]")
    result = run_trial(task, models=[model], judge=model)
    judged = [r for r in server.log if "Rubric:" in r["text"]]
    assert result.winner is not None and len(judged) == len(result.examples)
    assert result.examples[0]["scores"][0]["detail"] == "judge score 9 of 10"


def test_a_judge_metric_without_a_judge_model_is_refused_before_any_call(tmp_path, server,
                                                                         _isolated_home):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, ["Repeat: a"], metrics="[{name: judge, params: {rubric: ok?}}]")
    with pytest.raises(IncompatibleError, match="--judge"):
        run_trial(task, models=[model])
    assert server.log == []


def test_winner_cost_per_month_follows_its_energy_per_request(tmp_path, server, _isolated_home):
    from llmscout import constants

    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)])
    result = run_trial(task, models=[model], volume=50_000, cache=False)
    cost = result.cost_at_volume
    expected = cost["wh_per_request"] / 1000 * constants.electricity_price() * 50_000
    assert cost["energy_basis"] == "estimated" and cost["per_month"] == pytest.approx(expected)


# -- options and candidates --------------------------------------------------------------------


def test_shots_above_zero_without_a_pool_are_refused(tmp_path):
    task = write_task(tmp_path, ["Repeat: a"])
    with pytest.raises(InvalidValueError, match="few-shot pool"):
        run_trial(task, models=["packaged"], shots=[0, 2])


def test_candidates_are_ordered_small_to_large_with_cloud_last():
    cands = [Candidate("cloud", "c", "openai", kind="cloud", params=1),
             Candidate("big", "b", "llamacpp", params=7_000_000_000),
             Candidate("unknown", "u", "llamacpp"),
             Candidate("small", "s", "llamacpp", params=500_000_000)]
    assert [c.key for c in order_candidates(cands)] == ["small", "big", "unknown", "cloud"]


def test_endpoint_names_resolve_to_the_openai_backend(server, _isolated_home):
    cand = resolve_candidate(server.declare(_isolated_home, "mine", "tiny"))
    assert (cand.key, cand.backend, cand.kind) == ("mine:tiny", "openai", "local")


def test_packaged_resolves_to_the_gemma_shipped_on_pypi():
    cand = resolve_candidate("packaged")
    assert cand.backend == "llamacpp" and cand.catalog_id == "google/gemma-3-270m"


def test_an_unknown_model_suggests_close_catalog_ids():
    with pytest.raises(UnknownModelError, match="did you mean"):
        resolve_candidate("qwen2.5-0.5b-instrct")


def test_a_missing_gguf_path_names_the_file(tmp_path):
    with pytest.raises(MissingFileError, match="nothere.gguf"):
        resolve_candidate(str(tmp_path / "nothere.gguf"))


def test_from_recommend_takes_the_recommenders_top_models_smallest_first():
    import llmscout.recommend
    from llmscout.hardware import lookup_hardware
    from llmscout.trial import resolve_candidates, sample_task

    if getattr(llmscout.recommend, "recommend", None) is None:
        pytest.skip("this installation has no recommender")
    task = sample_task()  # candidates: {from_recommend: {tasks: [classification]}, top: 3}
    cands = resolve_candidates(task, None, lookup_hardware("rtx 4090"))
    assert 1 <= len(cands) <= task.candidates.top
    assert all(c.source == "recommend" for c in cands)
    sizes = [c.params for c in cands if c.kind == "local" and c.params]
    assert sizes == sorted(sizes)
