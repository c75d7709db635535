"""Memory terms, placement and the largest context."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmscout.catalog import ModelSpec, get_model
from llmscout.estimate import estimate
from llmscout.estimate import memory as mem
from llmscout.estimate._estimate import build_setup
from llmscout.hardware import GIB, Hardware

MIB = 2**20


def hw(kind="gpu", memory_gb=24.0, bw=1000.0, **kw) -> Hardware:
    return Hardware(id=f"test-{kind}", name=f"Test {kind}", vendor="test", device_kind=kind,
                    memory_bytes=int(memory_gb * GIB), bandwidth_gbs=bw, source="test",
                    fp16_tflops=100.0, tdp_w=300.0, idle_w=30.0, cores=8, **kw)


def setup(model_id="google/gemma-3-270m", quant="Q4_K_M", device=None, engine="llamacpp",
          kv="f16", batch=1, prompt=512, output=256, swa_full=None, flash=None):
    s, _ = build_setup(get_model(model_id), device or hw("cpu", 16), quant, engine, kv, batch,
                       prompt, output, flash, swa_full, 0.9)
    return s


def test_llama_3_1_8b_kv_cache_at_8k_f16_is_one_gib():
    # 32 layers x 8 kv heads x 128 x 2 (K,V) x 8192 x 2 bytes
    s = setup("meta-llama/Llama-3.1-8B-Instruct")
    assert mem.kv_cache_bytes(s, 8192) == 32 * 8 * 128 * 2 * 8192 * 2 == GIB


def test_q8_0_kv_cache_is_34_32nds_of_a_byte_per_element():
    s = setup("meta-llama/Llama-3.1-8B-Instruct", kv="q8_0")
    assert mem.kv_cache_bytes(s, 8192) == GIB // 2 * 34 // 32


def test_kv_cache_scales_with_batch():
    s = setup("meta-llama/Llama-3.1-8B-Instruct", batch=4)
    assert mem.kv_cache_bytes(s, 8192) == 4 * GIB


# Measured with llama-cpp-python 0.3.36 on gemma-3-270m-Q4_K_M.gguf (llama_kv_cache: size = ...)
@pytest.mark.parametrize(("ctx", "swa_full", "mib"), [
    (4096, True, 12.0 + 60.0), (4096, False, 12.0 + 15.0), (32768, False, 96.0 + 15.0),
    (512, True, 1.5 + 7.5), (256, False, 0.75 + 3.75),
])
def test_gemma_kv_cache_matches_llama_cpp(ctx, swa_full, mib):
    assert mem.kv_cache_bytes(setup(swa_full=swa_full), ctx) == mib * MIB


def test_swa_cache_is_window_plus_ubatch_padded_to_256():
    s = setup(swa_full=False)
    assert mem.swa_cells(s, 4096) == 1024  # window 512 + ubatch 512 (measured: 1024 cells)
    assert mem.swa_cells(s, 100) == 256


def test_llama_cpp_pads_the_context_to_256_cells():
    s = setup(swa_full=False)  # measured: n_ctx 1000 -> 1024 cells, 3 full layers = 3.00 MiB
    assert mem.kv_cache_bytes(s, 1000) == (3.0 + 15.0) * MIB


def dataclass_replace(s, **kw):
    import dataclasses

    return dataclasses.replace(s, **kw)


# Measured: sched_reserve "CPU compute buffer size" for the same file
@pytest.mark.parametrize(("ctx", "flash", "mib"), [
    (4096, False, 514.50), (32768, False, 514.50), (131072, False, 1291.76), (131072, True, 514.50),
    (256, False, 257.25),
])
def test_gemma_compute_buffer_matches_llama_cpp(ctx, flash, mib):
    s = dataclass_replace(setup(swa_full=False, flash=flash), context_limit=None)
    reserved, _ = mem.compute_buffer(s, ctx)
    assert reserved / MIB == pytest.approx(mib, rel=0.005)


def test_quantized_kv_turns_flash_attention_on():
    assert setup(kv="q8_0").flash_attention is True
    assert setup().flash_attention is False


def test_cpu_total_counts_only_the_resident_compute_buffer():
    p = mem.plan_memory(setup(), 4096)
    assert p.compute_resident_bytes < p.compute_buffer_bytes
    assert p.total_bytes == p.weights_bytes + p.kv_cache_bytes + p.compute_resident_bytes \
        + p.overhead_bytes


def test_gpu_total_counts_the_reserved_compute_buffer_and_cuda_context():
    p = mem.plan_memory(setup(device=hw("gpu", 24)), 4096)
    assert p.placement == "gpu"
    assert p.overhead_bytes == mem.GPU_CONTEXT["llamacpp"]
    assert p.total_bytes >= p.compute_buffer_bytes + p.kv_cache_bytes


def test_model_too_big_for_the_gpu_without_host_ram_does_not_fit():
    p = mem.plan_memory(setup("meta-llama/Llama-3.1-8B-Instruct", "Q8_0", hw("gpu", 6)), 4096)
    assert (p.fits, p.placement) == (False, "does-not-fit")
    assert p.headroom_bytes < 0


def test_partial_offload_puts_some_blocks_on_the_gpu():
    device = hw("gpu", 6, host_memory_bytes=64 * GIB, host_bandwidth_gbs=80.0)
    p = mem.plan_memory(setup("meta-llama/Llama-3.1-8B-Instruct", "Q8_0", device), 4096)
    assert p.placement == "partial-offload" and p.fits
    assert 0 < p.gpu_layers < 32


def test_two_gpus_hold_what_one_cannot():
    one = mem.plan_memory(setup("meta-llama/Llama-3.1-8B-Instruct", "F16", hw("gpu", 12)), 4096)
    two = mem.plan_memory(setup("meta-llama/Llama-3.1-8B-Instruct", "F16",
                                hw("gpu", 12, count=2)), 4096)
    assert not one.fits
    assert two.fits and two.placement == "multi-gpu"


def test_vllm_reserves_gpu_memory_utilization_of_the_gpu():
    p = mem.plan_memory(setup("meta-llama/Llama-3.1-8B-Instruct", "bf16", hw("gpu", 80),
                              engine="vllm"), 8192)
    assert p.reserved_bytes == int(80 * GIB * 0.9)
    assert any("gpu_memory_utilization" in n for n in p.notes)


def test_browser_rejects_a_tensor_larger_than_the_largest_buffer():
    browser = hw("unified", 8, max_allocation_bytes=128 * MIB, usable_memory_fraction=0.75)
    p = mem.plan_memory(setup("meta-llama/Llama-3.1-8B-Instruct", "q4f16_1", browser,
                              engine="mlc"), 2048)
    assert not p.fits
    assert "largest single buffer" in p.notes[0]


def test_mla_caches_the_latent_once_per_layer():
    s = setup("deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct", "Q4_K_M")
    a = s.arch
    assert mem.kv_cache_bytes(s, 1024) == a.num_layers * (512 + 64) * 1024 * 2


def test_encoder_decoder_adds_cross_attention_over_the_prompt():
    s = setup("google/flan-t5-base", "bf16", engine="transformers", prompt=100, output=50)
    per_token = 12 * 2 * 12 * 64 * 2  # decoder layers x K,V x heads x head_dim x bytes
    assert mem.kv_cache_bytes(s, 512) == per_token * (512 + 100)


def test_usable_fraction_defaults_by_device_kind():
    assert mem.usable_bytes(hw("cpu", 10)) == int(10 * GIB * 0.8)
    assert mem.usable_bytes(hw("unified", 10, usable_memory_fraction=0.5)) == 5 * GIB


# -- properties --------------------------------------------------------------------------------------
MODELS = ["google/gemma-3-270m", "meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mixtral-8x7B-v0.1",
          "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct", "google/gemma-2-9b-it"]


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(MODELS), c1=st.integers(1, 32768), c2=st.integers(1, 32768),
       kind=st.sampled_from(["gpu", "cpu", "unified"]), swa=st.booleans(),
       engine=st.sampled_from(["llamacpp", "transformers", "vllm"]))
def test_memory_grows_with_context(model, c1, c2, kind, swa, engine):
    quant = "Q4_K_M" if engine == "llamacpp" else "bf16"
    s = setup(model, quant, hw(kind, 24), engine=engine, swa_full=swa)
    lo, hi = sorted((c1, c2))
    a, b = mem.plan_memory(s, lo), mem.plan_memory(s, hi)
    assert a.kv_cache_bytes <= b.kv_cache_bytes
    assert mem._device_need(s, lo) <= mem._device_need(s, hi)


@settings(max_examples=30, deadline=None)
@given(model=st.sampled_from(MODELS), gb=st.floats(1.0, 64.0), kind=st.sampled_from(["gpu", "cpu"]),
       quant=st.sampled_from(["Q8_0", "Q4_K_M", "Q2_K"]), batch=st.integers(1, 4))
def test_max_context_fits_and_one_more_token_does_not(model, gb, kind, quant, batch):
    m = get_model(model)
    device = hw(kind, gb)
    e = estimate(m, device, quant=quant, context=64, prompt_tokens=16, output_tokens=16,
                 batch=batch)
    n = e.max_context
    limit = m.context_length
    if n == 0:
        assert not mem.plan_memory(_setup_of(m, device, quant, batch), 1).fits
        return
    s = _setup_of(m, device, quant, batch)
    assert mem.plan_memory(s, n).fits
    if n < limit:
        assert not mem.plan_memory(s, n + 1).fits


def _setup_of(m: ModelSpec, device: Hardware, quant: str, batch: int):
    s, _ = build_setup(m, device, quant, "llamacpp", "f16", batch, 16, 16, None, None, 0.9)
    return s


def test_search_finds_the_boundary_of_a_step_function():
    assert mem._search(lambda x: float(x >= 777), 0.5, 1, 10_000) == 776
