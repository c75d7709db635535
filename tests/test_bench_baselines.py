"""llmfit's and whichllm's published formulas (bench/baselines.py), checked against hand arithmetic.

Every expected number is worked out in the comment beside it from the constants the two tools
publish, so a slip in transcribing a constant or a branch fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from baselines import llmfit_estimate, whichllm_estimate, whichllm_memory_parts  # noqa: E402

from llmscout.errors import InvalidValueError  # noqa: E402

GIB = 2**30
# A Llama-2-7B-like shape: 32 layers, 8 KV heads of 128 -> fp16 KV at 4096 tokens is
# 2 * 8 * 128 * 4096 * 2 bytes * 32 layers = 536,870,912 bytes = 0.5 GiB.
ARCH_7B = {"num_layers": 32, "hidden_size": 4096, "num_heads": 32, "num_kv_heads": 8,
           "head_dim": 128, "vocab_size": 32000, "tied_embeddings": False}
GPU_1000 = {"device_kind": "gpu", "memory_bytes": 24 * GIB, "bandwidth_gbs": 1000.0,
            "fp16_tflops": 165.0, "threads": 16}
CPU_2T = {"device_kind": "cpu", "memory_bytes": 16 * GIB, "bandwidth_gbs": 40.0,
          "fp16_tflops": 1.0, "threads": 2}
MOE_ARCH = {**ARCH_7B, "num_experts": 128, "num_experts_used": 8}


# ------------------------------------------------------------------ llmfit


def test_llmfit_memory_is_weights_plus_kv_plus_half_a_gib():
    # 7 B x 0.58 (Q4_K_M) = 4.06, + 0.5 KV + 0.5 overhead = 5.06 GiB
    est = llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, GPU_1000)
    assert est["memory_bytes"] == pytest.approx(5.06 * GIB)


def test_llmfit_gpu_decode_is_bandwidth_over_nominal_size_times_055():
    # 1000 GB/s / (7 B x 0.5 byte) x 0.55 = 157.142857
    est = llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, GPU_1000)
    assert est["decode_tokens_per_s"] == pytest.approx(157.142857, rel=1e-6)
    assert est["run_mode"] == "gpu" and est["fits"]


def test_llmfit_f16_uses_two_bytes_for_both_memory_and_speed():
    # memory 7 x 2.0 + 0.5 + 0.5 = 15 GiB; decode 1000 / 14 x 0.55 = 39.285714
    est = llmfit_estimate(7e9, None, "F16", 4096, ARCH_7B, GPU_1000)
    assert est["memory_bytes"] == pytest.approx(15 * GIB)
    assert est["decode_tokens_per_s"] == pytest.approx(39.285714, rel=1e-6)


def test_llmfit_cpu_decode_ignores_bandwidth():
    # 70 / 7 B x 1.15 (Q4_K_M) x 0.3 (cpu-only) = 3.45; fewer than 8 threads: no 1.1 bonus
    est = llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, CPU_2T)
    assert est["decode_tokens_per_s"] == pytest.approx(3.45)
    faster_memory = llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, {**CPU_2T, "bandwidth_gbs": 400.0})
    assert faster_memory["decode_tokens_per_s"] == pytest.approx(3.45)


def test_llmfit_cpu_with_eight_threads_gets_ten_percent():
    # 3.45 x 1.1 = 3.795
    est = llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, {**CPU_2T, "threads": 8})
    assert est["decode_tokens_per_s"] == pytest.approx(3.795)


def test_llmfit_cpu_constant_is_90_on_aarch64():
    # 90 / 7 x 1.15 x 0.3 = 4.435714
    est = llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, {**CPU_2T, "cpu_arch": "aarch64"})
    assert est["decode_tokens_per_s"] == pytest.approx(4.435714, rel=1e-6)


def test_llmfit_dense_model_spilling_to_ram_is_halved():
    # 70 B: 40.6 + 0.5 + 0.5 = 41.6 GiB > 24 GiB VRAM, < 128 GiB RAM -> cpu_offload
    # decode 1000 / 35 x 0.55 x 0.5 = 7.857143
    hw = {**GPU_1000, "ram_bytes": 128 * GIB}
    est = llmfit_estimate(70e9, None, "Q4_K_M", 4096, ARCH_7B, hw)
    assert est["run_mode"] == "cpu_offload"
    assert est["decode_tokens_per_s"] == pytest.approx(7.857143, rel=1e-6)


def test_llmfit_unrecognised_gpu_uses_the_cuda_constant():
    # no bandwidth: 220 / 7 x 1.15 x 1.1 (16 threads) x 1.0 (gpu) = 39.757143
    est = llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, {**GPU_1000, "bandwidth_gbs": None})
    assert est["decode_tokens_per_s"] == pytest.approx(39.757143, rel=1e-6)


def test_llmfit_moe_on_gpu_uses_active_params_and_expert_overhead():
    # 30 B total / 3 B active, 128 experts -> overhead 0.40; 17.4 GiB of 80 GiB: no pressure
    # 2000 / (3 x 0.58) x 0.55 x 0.40 = 252.873563
    hw = {**GPU_1000, "memory_bytes": 80 * GIB, "bandwidth_gbs": 2000.0}
    est = llmfit_estimate(30e9, 3e9, "Q4_K_M", 4096, MOE_ARCH, hw)
    assert est["decode_tokens_per_s"] == pytest.approx(252.873563, rel=1e-6)


def test_llmfit_moe_with_expert_width_uses_two_component_model():
    # 8 layers x 2 experts x 3 x 1024 x 1536 = 0.075497472 B active FFN (x 0.58 bytes)
    # fixed: attention 8 x (2x16 + 2x4) x 64 x 1024 + router 8 x 8 x 1024 + 2 x 32000 x 1024
    #      = 0.086573056 B (x 3.2 bytes); 1000 / (0.043788534 + 0.277033779) = 3116.990183
    arch = {"num_layers": 8, "hidden_size": 1024, "num_heads": 16, "num_kv_heads": 4,
            "head_dim": 64, "vocab_size": 32000, "tied_embeddings": False, "num_experts": 8,
            "num_experts_used": 2, "expert_ffn": 1536}
    est = llmfit_estimate(0.45e9, 0.2e9, "Q4_K_M", 4096, arch, GPU_1000)
    assert est["decode_tokens_per_s"] == pytest.approx(3116.990183, rel=1e-6)


def test_llmfit_moe_filling_vram_gets_cache_pressure_penalty():
    # util 17.4 / 24 = 0.725; penalty 1 - (0.725 - 0.6) x (1 - 8/128) = 0.8828125
    # 1000 / 1.74 x 0.22 x 0.8828125 = 111.619971
    est = llmfit_estimate(30e9, 3e9, "Q4_K_M", 4096, MOE_ARCH, GPU_1000)
    assert est["decode_tokens_per_s"] == pytest.approx(111.619971, rel=1e-6)


def test_llmfit_moe_offload_streams_active_experts_from_ddr():
    # 18.4 GiB > 8 GiB VRAM; active 1.78 GiB fits, 14.6 GiB spills to RAM -> moe_offload
    # 1.5 GB active: 0.8 / (1.5 / 50 + 1.5 / (1000 x 0.55)) = 24.444444
    hw = {**GPU_1000, "memory_bytes": 8 * GIB, "ram_bytes": 64 * GIB}
    est = llmfit_estimate(30e9, 3e9, "Q4_K_M", 4096, MOE_ARCH, hw)
    assert est["run_mode"] == "moe_offload"
    assert est["decode_tokens_per_s"] == pytest.approx(24.444444, rel=1e-6)


def test_llmfit_does_not_estimate_prefill():
    assert llmfit_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, GPU_1000)["prefill_tokens_per_s"] is None


# ------------------------------------------------------------------ whichllm


def test_whichllm_memory_adds_kv_activations_and_framework():
    # weights 7e9 x 0.5625 = 3,937,500,000; KV 7 x 4 x 3.5 MiB = 102,760,448;
    # activations 400e6 + 0.08 x 7e9 + 150e6 = 1,110,000,000; framework 500,000,000
    est = whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, GPU_1000)
    assert est["memory_bytes"] == 5_650_260_448


def test_whichllm_uses_the_real_file_size_when_given():
    # 4,368,439,296 + 102,760,448 + 1,110,000,000 + 500,000,000; decode 1e12 / 4,368,439,296 x 0.55
    est = whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, GPU_1000, file_bytes=4_368_439_296)
    assert est["memory_bytes"] == 6_081_199_744
    assert est["decode_tokens_per_s"] == pytest.approx(125.903089, rel=1e-6)


def test_whichllm_gpu_decode_is_bandwidth_over_file_times_quant_efficiency():
    # 1e12 / 3,937,500,000 x 0.55 (Q4_K_M) x 1.0 (nvidia) = 139.682540
    est = whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, GPU_1000)
    assert est["decode_tokens_per_s"] == pytest.approx(139.682540, rel=1e-6)
    assert est["run_mode"] == "full_gpu"


def test_whichllm_unified_memory_defaults_to_apple_factor():
    # 400e9 / 3,937,500,000 x 0.55 x 0.82 = 45.815873
    hw = {**GPU_1000, "device_kind": "unified", "memory_bytes": 36 * GIB, "bandwidth_gbs": 400.0}
    est = whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, hw)
    assert est["decode_tokens_per_s"] == pytest.approx(45.815873, rel=1e-6)


def test_whichllm_partial_offload_on_discrete_gpu_is_045():
    # 5.65 GB needed > 4 GiB VRAM; RAM 64 GiB -> partial_offload; 139.682540 x 0.45 = 62.857143
    hw = {**GPU_1000, "memory_bytes": 4 * GIB, "ram_bytes": 64 * GIB}
    est = whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, hw)
    assert est["run_mode"] == "partial_offload"
    assert est["decode_tokens_per_s"] == pytest.approx(62.857143, rel=1e-6)


def test_whichllm_cpu_decode_is_an_inverse_size_heuristic():
    # 18 / 7 x 0.55 / 0.45 = 3.142857, whatever the bandwidth
    est = whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, CPU_2T)
    assert est["decode_tokens_per_s"] == pytest.approx(3.142857, rel=1e-6)


def test_whichllm_cpu_floors_small_models_at_half_a_billion():
    # 270 M counts as 0.5 B: 18 / 0.5 x 0.55 / 0.45 = 44.0
    est = whichllm_estimate(270e6, None, "Q4_K_M", 4096, ARCH_7B, CPU_2T)
    assert est["decode_tokens_per_s"] == pytest.approx(44.0)


def test_whichllm_moe_reads_a_bandwidth_dependent_floor_share():
    # active share 0.1 < floor 0.05 x 1000 / 256 = 0.1953125
    # 1e12 / (16,875,000,000 x 0.1953125) x 0.55 = 166.874074
    hw = {**GPU_1000, "memory_bytes": 80 * GIB}
    est = whichllm_estimate(30e9, 3e9, "Q4_K_M", 4096, MOE_ARCH, hw)
    assert est["decode_tokens_per_s"] == pytest.approx(166.874074, rel=1e-6)


def test_whichllm_moe_kv_uses_four_times_active_params():
    # KV 3 B x 4 x 4 x 3.5 MiB = 176,160,768; activations 400e6 + 0.08 x 3e9 + 150e6 = 790e6
    parts = whichllm_memory_parts(30e9, 3e9, "Q4_K_M", 4096, MOE_ARCH)
    assert parts["kv"] == 176_160_768
    assert parts["activation"] == 790_000_000


def test_whichllm_sliding_window_shrinks_kv_for_gemma3():
    # 4096 / 6 + 5/6 x 512 = 1109.33 tokens; 1 B x 1109.33 / 1024 x 3.5 MiB = 3,975,850
    arch = {"architecture": "gemma3", "sliding_window": 512, "sliding_window_pattern": 6}
    assert whichllm_memory_parts(1e9, None, "Q4_K_M", 4096, arch)["kv"] == 3_975_850


def test_whichllm_ignores_sliding_window_outside_its_allowlist():
    # llama: full context, 1 B x 4 x 3.5 MiB = 14,680,064
    arch = {"architecture": "llama", "sliding_window": 512, "sliding_window_pattern": 6}
    assert whichllm_memory_parts(1e9, None, "Q4_K_M", 4096, arch)["kv"] == 14_680_064


def test_whichllm_does_not_estimate_prefill():
    assert whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, CPU_2T)["prefill_tokens_per_s"] is None


def test_unknown_device_kind_names_the_field():
    with pytest.raises(InvalidValueError, match="hardware.device_kind"):
        whichllm_estimate(7e9, None, "Q4_K_M", 4096, ARCH_7B, {**GPU_1000, "device_kind": "tpu"})
