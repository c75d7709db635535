"""Decode/prefill speed, bands, calibration."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmscout.catalog import Architecture, Experts, ModelSpec, get_model
from llmscout.errors import InvalidValueError
from llmscout.estimate import Calibration, estimate
from llmscout.estimate import speed as sp
from llmscout.hardware import GIB, Hardware


def hw(kind="gpu", memory_gb=24.0, bw=1000.0, **kw) -> Hardware:
    base = dict(fp16_tflops=100.0, tdp_w=300.0, idle_w=30.0, cores=8)
    base.update(kw)
    return Hardware(id=f"test-{kind}", name=f"Test {kind}", vendor="test", device_kind=kind,
                    memory_bytes=int(memory_gb * GIB), bandwidth_gbs=bw, source="test", **base)


LLAMA = dict(model_type="llama", num_layers=32, hidden_size=4096, num_heads=32, num_kv_heads=8,
             head_dim=128, intermediate_size=14336, vocab_size=128256,
             max_position_embeddings=131072, source="test")


def model(**arch_kw) -> ModelSpec:
    a = Architecture(**{**LLAMA, **arch_kw})
    return ModelSpec(id="test/llama-like", name="t", family="t", developer="t", kind="open",
                     tuning=("base",), license="x", sources={"x": "y"}, params=8_030_261_248,
                     architecture=a, context_length=131072)


def test_decode_is_effective_bandwidth_over_bytes_per_token():
    m = model()
    e = estimate(m, hw(bw=1000.0), quant="Q8_0", context=4096, prompt_tokens=512,
                 output_tokens=256)
    from llmscout.estimate.quants import weights_for

    ws = weights_for(m.architecture, "Q8_0")
    depth = 512 + 128  # average depth over the generation
    kv_read = 32 * 8 * 128 * 2 * 2 * depth
    step = (ws.decode_bytes + kv_read) / (1000e9 * 0.65) + 32 * sp.STEP_OVERHEAD_PER_LAYER_S["llamacpp"]
    assert e.speed.decode_tokens_per_s == pytest.approx(1 / step)
    assert e.speed.basis == "formula"


def test_untied_input_embeddings_are_not_read_per_token():
    from llmscout.estimate.quants import weights_for

    ws = weights_for(model().architecture, "Q8_0")
    assert ws.decode_bytes == ws.total - ws.token_embd - 4096 * 4


@settings(max_examples=60, deadline=None)
@given(bw=st.floats(5, 8000), kind=st.sampled_from(["gpu", "cpu", "unified"]),
       quant=st.sampled_from(["F16", "Q8_0", "Q4_K_M", "Q2_K"]), threads=st.integers(1, 64),
       model_id=st.sampled_from(["google/gemma-3-270m", "meta-llama/Llama-3.1-8B-Instruct",
                                 "mistralai/Mixtral-8x7B-v0.1", "google/gemma-2-9b-it"]),
       count=st.integers(1, 4), batch=st.integers(1, 8))
def test_decode_never_exceeds_the_bandwidth_limit(bw, kind, quant, threads, model_id, count, batch):
    device = hw(kind, 512, bw=bw, count=count if kind == "gpu" else 1)
    e = estimate(get_model(model_id), device, quant=quant, engine="llamacpp", context=2048,
                 threads=threads, batch=batch)
    s = e.speed
    assert s.decode_tokens_per_s <= s.bandwidth_limit_tokens_per_s
    assert s.decode_high <= s.bandwidth_limit_tokens_per_s
    assert s.decode_low < s.decode_tokens_per_s <= s.decode_high


def test_moe_decodes_from_active_parameters_only():
    dense = estimate(model(), hw(memory_gb=200), quant="Q8_0", context=4096)
    moe_model = model(experts=Experts(num_experts=8, experts_per_token=2,
                                      expert_intermediate_size=14336))
    moe = estimate(moe_model, hw(memory_gb=200), quant="Q8_0", context=4096)
    assert moe.memory.weights_bytes > 3 * dense.memory.weights_bytes
    assert moe.speed.decode_tokens_per_s > dense.speed.decode_tokens_per_s / 2


def test_longer_context_slows_decode():
    short = estimate(model(), hw(memory_gb=80), quant="Q4_K_M", context=4096, prompt_tokens=100)
    long = estimate(model(), hw(memory_gb=80), quant="Q4_K_M", context=65536, prompt_tokens=60000)
    assert long.speed.decode_tokens_per_s < short.speed.decode_tokens_per_s


def test_cpu_decode_is_capped_per_thread():
    cpu = hw("cpu", 64, bw=400.0)
    one = estimate(model(), cpu, quant="Q4_K_M", context=4096, threads=1)
    many = estimate(model(), cpu, quant="Q4_K_M", context=4096, threads=32)
    assert one.speed.effective_bandwidth_gbs == sp.PER_THREAD_GBS
    assert many.speed.effective_bandwidth_gbs == pytest.approx(400.0 * 0.65)


def test_partial_offload_is_slower_than_a_full_gpu():
    big = estimate(model(), hw(memory_gb=24), quant="Q8_0", context=4096)
    small = estimate(model(), hw(memory_gb=6, host_memory_bytes=64 * GIB,
                                 host_bandwidth_gbs=60.0), quant="Q8_0", context=4096)
    assert small.placement == "partial-offload"
    assert small.speed.decode_tokens_per_s < big.speed.decode_tokens_per_s / 2


def test_vllm_tensor_parallel_speeds_up_decode_but_llama_cpp_layer_split_does_not():
    one = hw(memory_gb=80, interconnect_gbs=450.0)
    two = hw(memory_gb=80, interconnect_gbs=450.0, count=2)
    v1 = estimate(model(), one, quant="bf16", engine="vllm", context=4096)
    v2 = estimate(model(), two, quant="bf16", engine="vllm", context=4096)
    l1 = estimate(model(), one, quant="Q8_0", context=4096)
    l2 = estimate(model(), two, quant="Q8_0", context=4096)
    assert v2.speed.decode_tokens_per_s > 1.3 * v1.speed.decode_tokens_per_s
    assert l2.speed.decode_tokens_per_s == pytest.approx(l1.speed.decode_tokens_per_s, rel=0.05)


def test_time_to_first_token_is_prompt_over_prefill_speed():
    e = estimate(model(), hw(), quant="Q4_K_M", context=4096, prompt_tokens=2000)
    assert e.speed.ttft_s == pytest.approx(2000 / e.speed.prefill_tokens_per_s)


def test_prefill_is_faster_per_token_than_decode_on_a_gpu():
    e = estimate(model(), hw(), quant="Q4_K_M", context=4096, prompt_tokens=2000)
    assert e.speed.prefill_tokens_per_s > 5 * e.speed.decode_tokens_per_s


def test_formula_band_is_wider_than_calibrated():
    cal = Calibration.from_dict({"hardware": {"test-gpu": {"bandwidth_efficiency": {"llamacpp": 0.8},
                                                           "compute_efficiency": {"*": 0.6}}}})
    f = estimate(model(), hw(), quant="Q4_K_M", context=4096)
    c = estimate(model(), hw(), quant="Q4_K_M", context=4096, calibration=cal)
    assert c.speed.basis == "calibrated"
    assert c.speed.bandwidth_efficiency == 0.8 and c.speed.compute_efficiency == 0.6
    width = lambda s: (s.decode_high - s.decode_low) / s.decode_tokens_per_s  # noqa: E731
    assert width(c.speed) < width(f.speed)


def test_measurement_by_model_id_and_quant_overrides_the_formula():
    cal = Calibration.from_dict({"measurements": [
        {"hardware_id": "test-gpu", "model": "test/llama-like", "quant": "Q4_K_M",
         "engine": "llamacpp", "decode_tokens_per_s": 42.0, "prefill_tokens_per_s": 900.0,
         "source": "llmscout calibrate", "date": "2026-11-22"}]})
    e = estimate(model(), hw(), quant="Q4_K_M", context=4096, calibration=cal)
    assert (e.speed.basis, e.speed.decode_tokens_per_s, e.speed.prefill_tokens_per_s) == \
        ("measured", 42.0, 900.0)
    other = estimate(model(), hw(), quant="Q8_0", context=4096, calibration=cal)
    assert other.speed.basis == "formula"


def test_measurement_by_file_sha256():
    sha = "ab" * 32
    cal = Calibration.from_dict({"measurements": [
        {"hardware_id": "test-gpu", "model": sha, "engine": "llamacpp",
         "decode_tokens_per_s": 7.0}]})
    e = estimate(model(), hw(), quant="Q4_K_M", context=4096, calibration=cal, model_sha256=sha)
    assert e.speed.basis == "measured" and e.speed.decode_tokens_per_s == 7.0


def test_calibration_round_trips_through_json():
    raw = {"hardware": {"rtx-4090": {"bandwidth_efficiency": {"llamacpp": 0.75},
                                     "compute_efficiency": {}, "source": "calibrate",
                                     "date": "2026-11-22"}},
           "measurements": [{"hardware_id": "rtx-4090", "model": "m", "engine": "llamacpp",
                             "quant": "Q4_K_M", "decode_tokens_per_s": 100.0,
                             "prefill_tokens_per_s": None, "context": 4096, "threads": None,
                             "source": None, "date": None}]}
    cal = Calibration.from_dict(json.loads(json.dumps(raw)))
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
    assert cal.to_dict() == raw


@pytest.mark.parametrize(("raw", "field"), [
    ({"hardware": {"x": {"bandwidth_efficiency": {"llamacpp": 3}}}},
     "hardware.x.bandwidth_efficiency.llamacpp"),
    ({"hardware": {"x": {"compute_efficiency": {"vllm": -0.1}}}}, "hardware.x.compute_efficiency.vllm"),
    ({"measurements": [{"model": "m", "engine": "llamacpp"}]}, "measurements[0].hardware_id"),
    ({"measurements": [{"hardware_id": "h", "model": "m", "engine": "e",
                        "decode_tokens_per_s": 0}]}, "measurements[0].decode_tokens_per_s"),
    ({"measurements": [{"hardware_id": "h", "model": "m", "engine": "e", "speed": 1}]},
     "measurements[0].speed"),
])
def test_bad_calibration_names_the_field(raw, field):
    with pytest.raises(InvalidValueError) as err:
        Calibration.from_dict(raw)
    assert err.value.field == field


def test_cpu_peak_uses_the_widest_isa_and_clock():
    cpu = hw("cpu", isa=("avx2", "avx512f"), extra={"clock_ghz": 3.0})
    assert sp.cpu_peak_tflops(cpu, 4) == pytest.approx(4 * 64 * 3.0 / 1000)
    assert sp.cpu_peak_tflops(hw("cpu"), 4) is None


def test_per_type_costs_and_overheads_change_decode_as_the_model_says():
    from llmscout.catalog import get_model
    from llmscout.estimate import estimate
    from llmscout.estimate.speed import Calibration, HardwareCalibration
    from llmscout.hardware import lookup_hardware

    hw = lookup_hardware("RTX 4090")
    model = get_model("meta-llama/Llama-3.1-8B-Instruct")

    def dec(**kw):
        cal = Calibration(hardware={hw.id: HardwareCalibration({"llamacpp": 0.65}, {"llamacpp": 0.55}, **kw)})
        return estimate(model, hw, quant="Q4_K_M", context=2048, calibration=cal).speed.decode_tokens_per_s

    base = dec()
    # every type twice as expensive per byte: the weight-streaming part of a step doubles
    slower = dec(decode_type_cost={"Q4_K": 2.0, "Q6_K": 2.0, "F32": 2.0})
    assert 0.45 * base < slower < 0.6 * base
    # a fixed 10 ms per token caps decode below 100 tokens/s
    assert dec(token_overhead_s=0.01) < 100


def test_bad_type_cost_in_a_calibration_file_names_the_field():
    import pytest

    from llmscout.errors import InvalidValueError
    from llmscout.estimate.speed import Calibration

    with pytest.raises(InvalidValueError, match="decode_type_cost.Q4_K"):
        Calibration.from_dict({"hardware": {"x": {"decode_type_cost": {"Q4_K": -1}}}})
