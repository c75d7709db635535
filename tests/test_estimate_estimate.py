"""estimate(): the record, defaults, errors, JSON form, explanation and estimate_all."""

from __future__ import annotations

import json
import time

import pytest

from llmscout.catalog import ModelSpec, get_model, load_catalog
from llmscout.errors import IncompatibleError, InvalidValueError
from llmscout.estimate import Estimate, estimate, estimate_all
from llmscout.hardware import GIB, Hardware

GEMMA = "google/gemma-3-270m"
LLAMA = "meta-llama/Llama-3.1-8B-Instruct"


def hw(kind="gpu", memory_gb=24.0, bw=1000.0, **kw) -> Hardware:
    base = dict(fp16_tflops=100.0, tdp_w=300.0, idle_w=30.0, cores=8)
    base.update(kw)
    return Hardware(id=f"test-{kind}", name=f"Test {kind}", vendor="test", device_kind=kind,
                    memory_bytes=int(memory_gb * GIB), bandwidth_gbs=bw, source="test", **base)


REQUIRED = {
    "model": {"id", "params"}, "hardware": {"name", "memory_bytes", "bandwidth_gbs"},
    "memory": {"weights_bytes", "kv_cache_bytes", "compute_buffer_bytes", "overhead_bytes",
               "total_bytes"},
    "speed": {"prefill_tokens_per_s", "decode_tokens_per_s", "decode_low", "decode_high", "basis",
              "ttft_s"},
    "energy": {"joules_per_token", "wh_per_request", "basis"},
    "cost": {"per_request", "per_month", "currency", "electricity_price_per_kwh"},
}


def test_to_dict_has_the_documented_keys_and_is_json():
    d = estimate(get_model(GEMMA), hw("cpu", 16)).to_dict()
    for key in ("quant", "engine", "context", "file_size_bytes", "fits", "placement",
                "max_context", "explain"):
        assert key in d
    for group, keys in REQUIRED.items():
        assert keys <= set(d[group]), group
    json.dumps(d)  # must not raise


def test_explain_lists_each_step_with_formula_and_inputs():
    steps = estimate(get_model(GEMMA), hw("cpu", 16)).explain()
    names = [s["step"] for s in steps]
    assert names[:4] == ["weights", "kv_cache", "compute_buffer", "overhead"]
    assert {"decode", "prefill", "energy", "cost"} <= set(names)
    assert all(s["formula"] and isinstance(s["inputs"], dict) for s in steps)
    assert "llama-quant.cpp" in steps[0]["source"] or steps[0]["source"]


def test_gemma_uses_the_real_file_size_from_the_catalog():
    e = estimate(get_model(GEMMA), hw("cpu", 16), quant="Q4_K_M")
    assert e.file_size_bytes == 253_113_024 and e.file_size_source == "artifact"
    assert e.memory.weights_bytes == pytest.approx(246_587_904, rel=0.001)


def test_default_context_is_4096_within_the_model_limit():
    assert estimate(get_model(LLAMA), hw()).context == 4096
    assert estimate(get_model("google/flan-t5-base"), hw(), engine="transformers",
                    prompt_tokens=100, output_tokens=50).context == 512


def test_default_quant_on_a_cpu_is_q4_k_m():
    assert estimate(get_model(LLAMA), hw("cpu", 32)).quant == "Q4_K_M"


def test_default_quant_on_a_big_gpu_is_the_best_that_fits():
    assert estimate(get_model(LLAMA), hw("gpu", 24)).quant == "Q8_0"
    assert estimate(get_model(LLAMA), hw("gpu", 8)).quant in ("Q6_K", "Q5_K_M", "Q4_K_M")


def test_default_quant_when_nothing_fits_is_the_smallest_and_says_so():
    e = estimate(get_model(LLAMA), hw("gpu", 2))
    assert e.quant == "Q2_K" and not e.fits and e.placement == "does-not-fit"


def test_context_beyond_the_models_limit_is_incompatible_not_clamped():
    with pytest.raises(IncompatibleError, match="131,072"):
        estimate(get_model(LLAMA), hw(), context=200_000)


def test_prompt_and_output_longer_than_the_context_are_incompatible():
    with pytest.raises(IncompatibleError, match="do not fit"):
        estimate(get_model(LLAMA), hw(), context=1000, prompt_tokens=900, output_tokens=200)


@pytest.mark.parametrize(("kw", "field"), [
    ({"batch": 0}, "batch"), ({"context": -1}, "context"), ({"context": 10**9}, "context"),
    ({"prompt_tokens": -5}, "prompt_tokens"), ({"output_tokens": 1.5}, "output_tokens"),
    ({"electricity_price": -0.1}, "electricity_price"), ({"threads": 0}, "threads"),
    ({"requests_per_month": -1}, "requests_per_month"), ({"engine": "ollama"}, "engine"),
    ({"quant": "Q9_X"}, "quant"), ({"kv_cache_type": "q2"}, "kv_cache_type"),
    ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
    ({"hardware_price": -10.0}, "hardware_price"), ({"batch": True}, "batch"),
])
def test_bad_numbers_and_names_are_invalid_values(kw, field):
    with pytest.raises(InvalidValueError) as err:
        estimate(get_model(LLAMA), hw(), **kw)
    assert err.value.field == field


def test_bad_hardware_is_named():
    with pytest.raises(InvalidValueError) as err:
        estimate(get_model(LLAMA), hw(memory_gb=0))
    assert err.value.field == "hardware.memory_bytes"


def test_fp8_cache_on_llama_cpp_is_incompatible():
    with pytest.raises(IncompatibleError, match="vllm"):
        estimate(get_model(LLAMA), hw(), kv_cache_type="fp8")


def test_gguf_quant_on_vllm_is_incompatible():
    with pytest.raises(IncompatibleError):
        estimate(get_model(LLAMA), hw(), quant="Q4_K_M", engine="vllm")


def test_cloud_model_gets_prices_and_a_published_energy_range():
    e = estimate(get_model("openai/gpt-4o-mini"), hw(), prompt_tokens=1000, output_tokens=500)
    assert e.placement == "cloud" and e.fits and e.speed is None
    offer = get_model("openai/gpt-4o-mini").cloud
    assert e.cost.per_request == pytest.approx((1000 * offer.input_per_mtok
                                                + 500 * offer.output_per_mtok) / 1e6)
    d = e.to_dict()
    assert d["energy"]["basis"] == "published estimate, not measured"
    json.dumps(d)


def test_model_without_architecture_still_gets_weights_and_a_note():
    m = ModelSpec(id="x/y", name="y", family="y", developer="x", kind="open", tuning=("base",),
                  license="mit", sources={"params": "test"}, params=7_000_000_000)
    e = estimate(m, hw(), quant="Q4_K_M")
    assert e.memory.weights_bytes == pytest.approx(7e9 * 4.894 / 8, rel=0.01)
    assert e.memory.kv_cache_bytes == 0
    assert any("KV cache" in n for n in e.notes)


def test_mxfp4_artifact_runs_on_llama_cpp():
    e = estimate(get_model("openai/gpt-oss-20b"), hw("gpu", 24), quant="MXFP4", context=4096)
    assert e.quant == "MXFP4_MOE" and e.fits


def test_max_context_on_device_never_exceeds_max_context():
    device = hw("gpu", 12, host_memory_bytes=64 * GIB)
    e = estimate(get_model(LLAMA), device, quant="Q4_K_M")
    assert e.max_context_on_device <= e.max_context
    assert e.max_context_on_device < 131072 == e.max_context


def test_estimate_is_frozen():
    e = estimate(get_model(GEMMA), hw())
    assert isinstance(e, Estimate)
    with pytest.raises(AttributeError):
        e.quant = "Q8_0"  # type: ignore[misc]


def test_estimate_all_skips_what_cannot_run_and_covers_cloud_models():
    models = [get_model(GEMMA), get_model(LLAMA), get_model("openai/gpt-4o")]
    res = estimate_all(models, hw(), quants=["Q4_K_M", "awq"], engines=("llamacpp", "vllm"))
    combos = {(e.model_id, e.engine, e.quant) for e in res}
    assert (LLAMA, "llamacpp", "Q4_K_M") in combos and (LLAMA, "vllm", "awq") in combos
    assert ("openai/gpt-4o", "cloud", None) in combos
    assert not any(e.engine == "vllm" and e.quant == "Q4_K_M" for e in res)


def test_estimate_all_is_fast_for_the_whole_catalog():
    models = list(load_catalog())
    device = hw("gpu", 24)
    quants = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q2_K"]
    estimate_all(models, device, quants=quants)  # fills the per-architecture caches
    best = min(_timed(lambda: estimate_all(models, device, quants=quants)) for _ in range(3))
    # target: ~100 ms for ~1000 estimates; a generous bound for slow, shared CI machines
    assert best < 1.0


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
