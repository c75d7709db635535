"""`llmscout estimate` and `llmscout calibrate` as a user runs them."""

from __future__ import annotations

import json

import pytest

from llmscout.estimate.calibrate import calibrate
from llmscout.estimate.service import estimate_for, load_calibration

REQUIRED = ["model.id", "model.params", "quant", "engine", "context", "hardware.name",
            "hardware.memory_bytes", "hardware.bandwidth_gbs", "file_size_bytes", "memory.weights_bytes",
            "memory.kv_cache_bytes", "memory.compute_buffer_bytes", "memory.overhead_bytes",
            "memory.total_bytes", "fits", "placement", "max_context", "speed.prefill_tokens_per_s",
            "speed.decode_tokens_per_s", "speed.decode_low", "speed.decode_high", "speed.basis",
            "energy.joules_per_token", "energy.basis", "cost.per_request", "cost.per_month"]


def _get(d, dotted):
    for part in dotted.split("."):
        d = d[part]
    return d


def test_estimate_json_has_every_documented_key(cli):
    res = cli("estimate", "meta-llama/Llama-3.1-8B-Instruct", "--hardware", "RTX 4060", "--context", "8k", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    for key in REQUIRED:
        _get(data, key)  # KeyError names the missing key
    assert data["hardware"]["name"] == "NVIDIA GeForce RTX 4060" and data["context"] == 8192
    assert data["speed"]["decode_low"] <= data["speed"]["decode_tokens_per_s"] <= data["speed"]["decode_high"]
    assert data["energy"]["basis"] == "estimated"
    assert data["cloud_comparison"], "local estimates are compared with cloud prices"


def test_context_beyond_the_model_limit_is_explained_not_clamped(cli):
    res = cli("estimate", "google/gemma-3-270m", "--context", "200k")
    assert res.returncode == 2 and "32,768" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("args, words", [
    (["--batch", "-1"], "batch"),
    (["--hardware", "RTX 4999"], "did you mean"),
    (["--memory-gb", "-8"], "memory"),
    (["--quant", "Q3_X_Z"], "Q4_K_M"),
])
def test_bad_input_gets_a_one_line_message(cli, args, words):
    res = cli("estimate", "google/gemma-3-270m", *args)
    assert res.returncode == 2, res.stderr
    assert words.lower() in res.stderr.lower() and res.stderr.count("\n") == 1


def test_explain_shows_formulas_and_sources(cli):
    res = cli("estimate", "google/gemma-3-270m", "--hardware", "RTX 4090", "--explain")
    assert res.returncode == 0, res.stderr
    assert "source:" in res.stdout and "bytes read per token" in res.stdout


def test_finetune_block_contrasts_adapting_with_pretraining():
    d = estimate_for("meta-llama/Llama-3.1-8B-Instruct", hardware="RTX 4090", finetune="qlora")
    ft = d["finetune"]
    assert ft["method"] == "qlora" and ft["memory"]["total_bytes"] < 24 * 2**30
    assert ft["pretraining_from_scratch"]["gpu_hours"] > 10_000


@pytest.mark.slow
def test_calibrate_makes_this_machine_calibrated_and_the_file_measured(gemma_gguf):
    report = calibrate(gemma_gguf, context=1024, prompt_tokens=128, depths=(0,), gen_tokens=8)
    cal = load_calibration()
    assert cal is not None and report["saved_to"]
    m = report["measured"]
    assert m["prefill_tokens_per_s"] > 0 and m["decode"][0]["decode_tokens_per_s"] > 0
    # the fitted formula reproduces what was measured
    assert report["after"]["prefill_tokens_per_s"] == pytest.approx(m["prefill_tokens_per_s"], rel=0.05)
    same = estimate_for(str(gemma_gguf), explain=False)
    assert same["speed"]["basis"] == "measured"
    other = estimate_for("Qwen/Qwen2.5-0.5B-Instruct", explain=False)
    assert other["speed"]["basis"] == "calibrated"


pytest_plugins = ["_gguf_fixtures"]
