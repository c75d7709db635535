"""The published estimation formulas of llmfit and whichllm, as baselines for the accuracy bench.

`bench/estimate_accuracy.py` shows, on the same measured llama.cpp rows, the errors of llmscout's
estimates and of what these two tools would have predicted. Each function below re-expresses one
tool's math and constants in our own words (no code copied); every constant carries the file and
line region it was read from.

Call both with the same arguments::

    llmfit_estimate(params, active_params, quant, context, arch, hardware, file_bytes=None)
    whichllm_estimate(params, active_params, quant, context, arch, hardware, file_bytes=None)

- ``params``: total parameter count (a count, not billions); ``active_params``: parameters used
  per token for a mixture of experts, else ``None`` (or equal to ``params``).
- ``quant``: GGUF quant name as the tools spell it ("Q4_K_M", "Q8_0", "F16" ...).
- ``context``: the context length (tokens) the run allocated.
- ``arch``: num_layers, hidden_size, num_heads, num_kv_heads, head_dim, vocab_size,
  tied_embeddings; optional: architecture ("llama", "gemma3" ...), sliding_window,
  sliding_window_pattern, num_experts, num_experts_used, expert_ffn (per-expert FFN width),
  shared_expert_ffn.
- ``hardware``: memory_bytes (VRAM for "gpu", RAM for "cpu", the shared pool for "unified"),
  bandwidth_gbs, fp16_tflops, device_kind ("cpu" | "gpu" | "unified"), threads; optional:
  ram_bytes (system RAM beside a discrete GPU), vendor ("nvidia" | "amd" | "apple" | "intel"),
  cpu_arch ("x86_64" | "aarch64"), ddr_bandwidth_gbs.
- ``file_bytes``: size of the real GGUF file when there is one (only whichllm uses it).

Both return ``{"memory_bytes", "decode_tokens_per_s", "prefill_tokens_per_s", "fits",
"run_mode"}``. Neither tool estimates prefill speed or time to first token, so
``prefill_tokens_per_s`` is always ``None``. Neither uses ``fp16_tflops``.

llmfit (github.com/AlexsJones/llmfit, Rust; read at commit
3f44fd30a43d2619146f7bc0aa66c90aa54d78e6, 2026-08-22; files llmfit-core/src/fit.rs,
llmfit-core/src/models.rs, llmfit-core/src/hardware.rs, docs/how-it-works.md)
    Memory: params (billions) x a bytes-per-parameter table per quant + an fp16 KV cache
    (2 x layers x kv_heads x head_dim x context x 2 bytes, in GiB; sliding windows ignored) +
    0.5 "GB" runtime overhead. The sum is compared against memory pools measured in GiB, so we
    report it as GiB (the weight term is really in 1e9-byte units; llmfit mixes the two).
    Decode on a GPU whose bandwidth it knows: bandwidth / (params x nominal bytes per param)
    x 0.55 efficiency x a run-mode factor (GPU 1.0, CPU+GPU offload 0.5, MoE offload 0.8);
    mixtures of experts have their own paths (active parameters, a cache-pressure penalty, DDR
    streaming when experts spill to RAM). On a CPU it ignores bandwidth entirely: 70 / params_B
    (90 on aarch64) x a per-quant speed multiplier x 1.1 when there are 8 or more logical cores
    x 0.3. Unknown GPUs use per-backend constants (CUDA 220, Metal 160 ...) the same way.
    llmfit also replaces the formula by measured numbers when it has any (your runs, community
    runs, localmaxxing medians: docs/tui.md line 181); this baseline is the formula alone.
    Accuracy claim: a test replays the localmaxxing leaderboard cache through the estimator and
    records "Baseline when set (2026-07, 152 rows): median 0.87, per-preset 0.67-1.19" for
    estimated/measured decode tok/s on GPU-resident rows (fit.rs lines 2737-2739; the test only
    fails outside a median of 0.5-2.0). Code comments cite single validation points: RTX 4090
    Qwen3.5-27B Q4 ~40 tok/s, T4 7B F16 ~16 tok/s, M1 Max 7B Q4_0 ~61 tok/s (fit.rs 1214-1217).
    No memory accuracy claim was found.

whichllm (github.com/Andyyyy64/whichllm, Python; the real project: PyPI name and author
Andyyyy64 in pyproject.toml, a homebrew tap, 240 commits; the other repos named whichllm are
forks or unrelated. Read at commit a89755167b92c5c7d05ec5325b1a2e65eedfa7b5, v0.5.14,
2026-06-29; files src/whichllm/engine/{vram,performance,quantization,compatibility,ranker}.py,
src/whichllm/data/{quantization,framework}.py, src/whichllm/hardware/memory.py,
src/whichllm/models/fetcher.py, README.md, docs/scoring.md)
    Memory: the GGUF file size when it has a file (else params x a bytes-per-weight table) +
    an empirical KV cache of 3.5 MiB per billion parameters per 1024 context tokens (no layer
    or head counts, although the README says "GQA KV cache"; sliding windows shrink it for
    gemma2/gemma3/gpt_oss/cohere2 only) + activations (400 MB + 0.08 byte/param + 150 MB per
    4096 tokens) + 500 MB framework overhead.
    Decode on a GPU: bandwidth / bytes read per token (file size, scaled for MoE by the active
    share with a bandwidth-dependent floor) x a per-quant efficiency (0.40 F16 ... 0.55 Q4_K_M)
    x a vendor factor (nvidia 1.0, amd 0.78, apple 0.82, intel 0.65) x 0.45 (0.85 on shared
    memory) when layers spill to RAM. On a CPU it ignores bandwidth and threads:
    max(0.3, 18 / params_B x quant efficiency / 0.45).
    Accuracy claim: none measured. The README and docs/scoring.md call the figure "a point
    estimate, not a live benchmark" and attach a range of 0.60-1.60x ("medium": normal GPU) or
    0.35-2.00x ("low": CPU-only, partial offload, unknown bandwidth); the 0.85-1.20x "high"
    band is "reserved for future measured-speed data".

Choices we had to make (both tools): the quant is pinned to the one that was measured (both
tools would otherwise pick their own best-fitting quant), the context is the one the run used
(llmfit's default caps it at 8192, whichllm defaults to 4096), the runtime is llama.cpp (llmfit
would choose MLX on Apple), and the bandwidth given is taken as "recognized" (llmfit uses its
bandwidth formula only for GPUs in its lookup table).
"""

from __future__ import annotations

from llmscout.errors import InvalidValueError

_GIB = 1024**3
_DEVICE_KINDS = ("cpu", "gpu", "unified")


# ---------------------------------------------------------------- shared helpers


def _check(hardware: dict) -> str:
    kind = hardware.get("device_kind")
    if kind not in _DEVICE_KINDS:
        raise InvalidValueError("hardware.device_kind", kind, " | ".join(_DEVICE_KINDS))
    return kind


def _is_moe(params: float, active_params: float | None) -> bool:
    return active_params is not None and 0 < active_params < params


def _result(memory: float, decode: float, fits: bool, run_mode: str) -> dict:
    return {"memory_bytes": memory, "decode_tokens_per_s": decode, "prefill_tokens_per_s": None,
            "fits": fits, "run_mode": run_mode}


# ---------------------------------------------------------------- llmfit

# llmfit-core/src/models.rs lines 13-38 (`quant_bpp`): bytes per parameter for memory; unknown
# quants count as 0.58.
_LLMFIT_MEMORY_BPP = {"F32": 4.0, "F16": 2.0, "BF16": 2.0, "Q8_0": 1.05, "Q6_K": 0.80,
                      "Q5_K_M": 0.68, "Q4_K_M": 0.58, "Q4_0": 0.58, "Q3_K_M": 0.48, "Q2_K": 0.37}
_LLMFIT_MEMORY_BPP_DEFAULT = 0.58
# models.rs lines 64-88 (`quant_bytes_per_param`): nominal bytes for the bandwidth formula. F32 is
# missing there, so it takes the 0.5 default like any unknown quant (transcribed as is).
_LLMFIT_SPEED_BPP = {"F16": 2.0, "BF16": 2.0, "Q8_0": 1.0, "Q6_K": 0.75, "Q5_K_M": 0.625,
                     "Q4_K_M": 0.5, "Q4_0": 0.5, "Q3_K_M": 0.375, "Q2_K": 0.25}
_LLMFIT_SPEED_BPP_DEFAULT = 0.5
# models.rs lines 40-63 (`quant_speed_multiplier`), used by the constant (CPU) path; default 1.0.
_LLMFIT_QUANT_SPEED = {"F16": 0.6, "BF16": 0.6, "Q8_0": 0.8, "Q6_K": 0.95, "Q5_K_M": 1.0,
                       "Q4_K_M": 1.15, "Q4_0": 1.15, "Q3_K_M": 1.25, "Q2_K": 1.35}
# models.rs line 889: runtime overhead added to every memory estimate ("GB", compared as GiB).
_LLMFIT_OVERHEAD_GIB = 0.5
# fit.rs lines 50-52: default bandwidth efficiency; lines 63-73: run-mode speed factors.
_LLMFIT_EFFICIENCY = 0.55
_LLMFIT_MODE_FACTOR = {"gpu": 1.0, "moe_offload": 0.8, "cpu_offload": 0.5, "cpu_only": 0.3}
# fit.rs lines 1420-1432: tok/s x billions-of-params constants when the GPU is not recognized
# (llama.cpp runtime); lines 1463-1469: the CPU constant, 90 on aarch64 builds, else 70.
_LLMFIT_BACKEND_K = {"cuda": 220.0, "metal": 160.0, "rocm": 180.0, "vulkan": 150.0,
                     "sycl": 100.0, "cpu_arm": 90.0, "cpu_x86": 70.0, "ascend": 390.0}
# fit.rs lines 1161-1178: DDR bandwidth for MoE expert streaming, measured at run time by llmfit,
# else 50 GB/s. We take hardware["ddr_bandwidth_gbs"] when given.
_LLMFIT_DDR_DEFAULT_GBS = 50.0
# fit.rs lines 1133-1141: MoE cache-pressure penalty; models.rs line 819: fixed-part bytes/param.
_LLMFIT_PRESSURE_THRESHOLD, _LLMFIT_PRESSURE_FLOOR, _LLMFIT_PRESSURE_RATIO = 0.60, 0.30, 0.50
_LLMFIT_MOE_FIXED_BPP = 3.2


def llmfit_kv_gib(context: int, arch: dict) -> float:
    """fp16 KV cache in GiB: models.rs lines 905-933 (the precise path; head_dim is known)."""
    per_layer = 2.0 * arch["num_kv_heads"] * arch["head_dim"] * context * 2.0
    return per_layer * arch["num_layers"] / _GIB


def llmfit_memory_gib(params: float, quant: str, context: int, arch: dict) -> float:
    """Weights + KV + overhead, models.rs lines 877-892 (`estimate_memory_gb_with_kv`)."""
    weights = params / 1e9 * _LLMFIT_MEMORY_BPP.get(quant, _LLMFIT_MEMORY_BPP_DEFAULT)
    return weights + llmfit_kv_gib(context, arch) + _LLMFIT_OVERHEAD_GIB


def _llmfit_cpu_tps(speed_params_b: float, quant: str, hardware: dict) -> float:
    """Constant path on a CPU, fit.rs lines 1463-1480: K / params_B x quant x threads x 0.3."""
    k = 90.0 if hardware.get("cpu_arch") == "aarch64" else 70.0
    tps = k / speed_params_b * _LLMFIT_QUANT_SPEED.get(quant, 1.0)
    if hardware.get("threads", 1) >= 8:  # sysinfo's cpus().len(): logical cores
        tps *= 1.1
    return max(tps * _LLMFIT_MODE_FACTOR["cpu_only"], 0.1)


def _llmfit_backend_tps(speed_params_b: float, quant: str, hardware: dict, mode: str) -> float:
    """Constant path for an unrecognized GPU, fit.rs lines 1417-1443 and 1476-1480."""
    default = "metal" if hardware["device_kind"] == "unified" else "cuda"
    k = _LLMFIT_BACKEND_K[hardware.get("backend", default)]
    tps = k / speed_params_b * _LLMFIT_QUANT_SPEED.get(quant, 1.0)
    if hardware.get("threads", 1) >= 8:
        tps *= 1.1
    return max(tps * _LLMFIT_MODE_FACTOR[mode], 0.1)


def _llmfit_moe_pressure(params: float, quant: str, arch: dict, vram_gib: float) -> float:
    """Cache-pressure penalty for all experts resident in VRAM, fit.rs lines 1322-1367."""
    util = params / 1e9 * _LLMFIT_MEMORY_BPP.get(quant, _LLMFIT_MEMORY_BPP_DEFAULT) / vram_gib
    if util > 1.0 or util < _LLMFIT_PRESSURE_THRESHOLD:
        return 1.0
    n_experts = arch.get("num_experts")
    if n_experts:
        ratio = 1.0 - arch.get("num_experts_used", 1) / n_experts
    else:
        ratio = _LLMFIT_PRESSURE_RATIO
    return max(1.0 - (util - _LLMFIT_PRESSURE_THRESHOLD) * ratio, _LLMFIT_PRESSURE_FLOOR)


def _llmfit_moe_split(arch: dict) -> tuple[float, float] | None:
    """(active expert FFN, fixed) parameters in billions, models.rs lines 830-873; None if unknown."""
    needed = ("num_experts_used", "expert_ffn", "vocab_size")
    if any(arch.get(key) is None for key in needed):
        return None
    hidden, layers = float(arch["hidden_size"]), float(arch["num_layers"])
    active_ffn = layers * arch["num_experts_used"] * 3.0 * hidden * arch["expert_ffn"]
    attention = layers * (2.0 * arch["num_heads"] + 2.0 * arch["num_kv_heads"]) * arch["head_dim"] * hidden
    shared_ffn = layers * 3.0 * hidden * arch.get("shared_expert_ffn", 0)
    router = layers * arch.get("num_experts", 8) * hidden
    head_and_embedding = 2.0 * arch["vocab_size"] * hidden  # counted twice even when tied
    fixed = attention + shared_ffn + router + head_and_embedding
    return active_ffn / 1e9, fixed / 1e9


def _llmfit_moe_gpu_tps(params: float, speed_params_b: float, quant: str, arch: dict,
                        hardware: dict) -> float:
    """All experts in VRAM, fit.rs lines 1369-1406: two-component model, else tiered overhead."""
    bandwidth = hardware["bandwidth_gbs"]
    pressure = _llmfit_moe_pressure(params, quant, arch, hardware["memory_bytes"] / _GIB)
    bpp = _LLMFIT_MEMORY_BPP.get(quant, _LLMFIT_MEMORY_BPP_DEFAULT)
    split = _llmfit_moe_split(arch)
    if split is not None:  # tier 1: no efficiency factor on this path
        per_token_gb = split[0] * bpp + split[1] * _LLMFIT_MOE_FIXED_BPP
        return max(bandwidth / per_token_gb * pressure, 0.1)
    n_experts = arch.get("num_experts")
    if n_experts is None:
        overhead = 0.60
    else:
        overhead = next(f for limit, f in ((8, 0.90), (16, 0.85), (32, 0.80), (64, 0.70),
                                           (float("inf"), 0.40)) if n_experts <= limit)
    raw = bandwidth / (speed_params_b * bpp) * _LLMFIT_EFFICIENCY * overhead
    return max(raw * pressure, 0.1)


def _llmfit_moe_offload_tps(speed_params_b: float, quant: str, hardware: dict) -> float:
    """Active experts streamed from system RAM, fit.rs lines 1262-1282."""
    active_gb = speed_params_b * _LLMFIT_SPEED_BPP.get(quant, _LLMFIT_SPEED_BPP_DEFAULT)
    ddr = hardware.get("ddr_bandwidth_gbs", _LLMFIT_DDR_DEFAULT_GBS)
    seconds = active_gb / ddr + active_gb / (hardware["bandwidth_gbs"] * _LLMFIT_EFFICIENCY)
    return max(_LLMFIT_MODE_FACTOR["moe_offload"] / seconds, 0.1)


def _llmfit_gpu_mode(params: float, active: float | None, quant: str, memory_gib: float,
                     hardware: dict) -> tuple[str, bool]:
    """Run mode and fit on a GPU, fit.rs lines 417-498 and 825-919 (our quant, not its pick)."""
    vram_gib = hardware["memory_bytes"] / _GIB
    if hardware["device_kind"] == "unified" or memory_gib <= vram_gib:
        return "gpu", memory_gib <= vram_gib
    ram_gib = hardware.get("ram_bytes", 0) / _GIB
    if _is_moe(params, active):
        bpp = _LLMFIT_MEMORY_BPP.get(quant, _LLMFIT_MEMORY_BPP_DEFAULT)
        active_vram = max(active * bpp / _GIB * 1.1, 0.5)
        offloaded = (params - active) * bpp / _GIB
        if active_vram <= vram_gib and offloaded <= ram_gib:
            return "moe_offload", True
    if memory_gib <= ram_gib:
        return "cpu_offload", True
    return "gpu", False  # too tight: llmfit reports it against VRAM


def llmfit_estimate(params: float, active_params: float | None, quant: str, context: int,
                    arch: dict, hardware: dict, *, file_bytes: int | None = None) -> dict:
    """What llmfit's formulas predict for this GGUF on this machine (``file_bytes`` is unused).

    Memory is llmfit's GiB figure in bytes. Decode follows fit.rs `estimate_tps` (lines
    1181-1481). llmfit does not estimate prefill or time to first token: ``None``.

    Example:
        >>> arch = {"num_layers": 32, "num_kv_heads": 8, "head_dim": 128}
        >>> gpu = {"device_kind": "gpu", "memory_bytes": 24 * 2**30, "bandwidth_gbs": 1000.0}
        >>> round(llmfit_estimate(7e9, None, "Q4_K_M", 4096, arch, gpu)["decode_tokens_per_s"], 2)
        157.14
    """
    kind = _check(hardware)
    memory_gib = llmfit_memory_gib(params, quant, context, arch)
    moe = _is_moe(params, active_params)
    # fit.rs lines 1191-1198: speed uses active parameters for MoE, floored at 0.1 B
    speed_params_b = max((active_params if moe else params) / 1e9, 0.1)
    if kind == "cpu":
        fits = memory_gib <= hardware["memory_bytes"] / _GIB
        return _result(memory_gib * _GIB, _llmfit_cpu_tps(speed_params_b, quant, hardware),
                       fits, "cpu_only")
    mode, fits = _llmfit_gpu_mode(params, active_params, quant, memory_gib, hardware)
    if not hardware.get("bandwidth_gbs"):
        tps = _llmfit_backend_tps(speed_params_b, quant, hardware, mode)
    elif moe and mode == "moe_offload":
        tps = _llmfit_moe_offload_tps(speed_params_b, quant, hardware)
    elif moe and mode == "gpu":
        tps = _llmfit_moe_gpu_tps(params, speed_params_b, quant, arch, hardware)  # mode factor 1.0
    else:  # fit.rs lines 1410-1414: the dense bandwidth roofline
        weights_gb = speed_params_b * _LLMFIT_SPEED_BPP.get(quant, _LLMFIT_SPEED_BPP_DEFAULT)
        raw = hardware["bandwidth_gbs"] / weights_gb * _LLMFIT_EFFICIENCY
        tps = max(raw * _LLMFIT_MODE_FACTOR[mode], 0.1)
    return _result(memory_gib * _GIB, tps, fits, mode)


# ---------------------------------------------------------------- whichllm

# src/whichllm/data/quantization.py lines 3-44: bytes per weight, used only when there is no
# GGUF file (ranker.py lines 148-156 synthesises one, defaulting to 0.5625).
_WHICHLLM_BPW = {"F32": 4.0, "F16": 2.0, "BF16": 2.0, "Q8_0": 1.0625, "Q6_K": 0.8125,
                 "Q5_K_M": 0.6875, "Q5_K_S": 0.6875, "Q5_0": 0.625, "Q4_K_M": 0.5625,
                 "Q4_K_S": 0.5625, "Q4_0": 0.5, "Q3_K_M": 0.4375, "Q3_K_S": 0.4375,
                 "Q3_K_L": 0.4375, "Q2_K": 0.3125, "IQ4_XS": 0.5, "IQ4_NL": 0.5,
                 "IQ3_XXS": 0.375, "IQ2_XXS": 0.25}
_WHICHLLM_BPW_DEFAULT = 0.5625
# engine/vram.py line 14: KV bytes per billion parameters per 1024 tokens; line 19: MoE models
# use active params x 4 in place of the parameter count.
_WHICHLLM_KV_PER_BPARAM_PER_KCTX = 3.5 * 1024 * 1024
_WHICHLLM_MOE_ATTENTION_MULTIPLIER = 4.0
# engine/vram.py lines 84-86 (activations) and data/framework.py line 4 (framework overhead).
_WHICHLLM_ACTIVATION_FLOOR = 400_000_000
_WHICHLLM_ACTIVATION_PER_PARAM = 0.08
_WHICHLLM_ACTIVATION_PER_4K_CTX = 150_000_000
_WHICHLLM_FRAMEWORK = 500_000_000
# models/fetcher.py lines 190-206: the only architectures whose sliding window it honours,
# with (default window, fraction of global layers); lines 259-289 resolve config overrides.
_WHICHLLM_SWA = {"gemma2": (4096, 0.5), "gemma3": (1024, 1.0 / 6.0), "gpt_oss": (128, 0.5),
                 "cohere2": (4096, 0.25)}
# engine/performance.py lines 16-54: per-quant efficiency; lines 60-65 and 89-92: vendor factor
# (0.7 for any other vendor); lines 72-74: MoE read-ratio floor.
_WHICHLLM_EFFICIENCY = {"F32": 0.30, "F16": 0.40, "BF16": 0.40, "Q8_0": 0.45, "Q6_K": 0.50,
                        "Q5_K_M": 0.52, "Q5_K_S": 0.52, "Q5_0": 0.50, "Q4_K_M": 0.55,
                        "Q4_K_S": 0.55, "Q4_0": 0.53, "Q3_K_M": 0.50, "Q3_K_S": 0.48,
                        "Q3_K_L": 0.50, "Q2_K": 0.45, "IQ4_XS": 0.52, "IQ4_NL": 0.50,
                        "IQ3_S": 0.45, "IQ3_M": 0.45, "IQ3_XS": 0.45, "IQ3_XXS": 0.42,
                        "IQ2_S": 0.40, "IQ2_M": 0.40, "IQ2_XXS": 0.38}
_WHICHLLM_EFFICIENCY_DEFAULT = 0.45
_WHICHLLM_VENDOR = {"nvidia": 1.00, "amd": 0.78, "apple": 0.82, "intel": 0.65}
_WHICHLLM_VENDOR_DEFAULT = 0.7
_WHICHLLM_MOE_REF_GBS, _WHICHLLM_MOE_FLOOR_AT_REF, _WHICHLLM_MOE_FLOOR_MAX = 256.0, 0.05, 0.25


def _whichllm_kv_context(context: int, arch: dict) -> float:
    """Context that fills the KV cache, engine/vram.py lines 22-45 (SWA for four archs only)."""
    defaults = _WHICHLLM_SWA.get(str(arch.get("architecture", "")).lower())
    if defaults is None:
        return float(context)
    window = arch.get("sliding_window")
    if not isinstance(window, int) or window <= 0:
        window = defaults[0]
    pattern = arch.get("sliding_window_pattern")
    ratio = 1.0 / pattern if isinstance(pattern, int) and pattern > 0 else defaults[1]
    return ratio * context + (1.0 - ratio) * min(context, window)


def whichllm_memory_parts(params: float, active_params: float | None, quant: str, context: int,
                          arch: dict, file_bytes: int | None = None) -> dict:
    """Weights, KV, activations and framework bytes, engine/vram.py lines 48-100."""
    moe = _is_moe(params, active_params)
    if file_bytes is not None:  # engine/quantization.py lines 68-71: a real GGUF's file size
        weights = int(file_bytes)
    else:
        weights = int(params * _WHICHLLM_BPW.get(quant.upper(), _WHICHLLM_BPW_DEFAULT))
    if moe:
        kv_params_b = active_params / 1e9 * _WHICHLLM_MOE_ATTENTION_MULTIPLIER
    else:
        kv_params_b = params / 1e9
    kv_ctx_k = _whichllm_kv_context(context, arch) / 1024
    kv = max(int(kv_params_b * kv_ctx_k * _WHICHLLM_KV_PER_BPARAM_PER_KCTX), 0)
    activation = (_WHICHLLM_ACTIVATION_FLOOR
                  + int((active_params if moe else params) * _WHICHLLM_ACTIVATION_PER_PARAM)
                  + int(context / 4096 * _WHICHLLM_ACTIVATION_PER_4K_CTX))
    return {"weights": weights, "kv": kv, "activation": activation,
            "framework": _WHICHLLM_FRAMEWORK}


def _whichllm_usable_ram(total: int) -> int:
    """RAM left for a model, hardware/memory.py lines 21-29: reserve 15 % clamped to 4-32 GiB."""
    reserve = max(4 * _GIB, min(int(total * 0.15), 32 * _GIB))
    return max(0, total - reserve)


def _whichllm_fit(required: int, hardware: dict) -> tuple[str, bool]:
    """Fit type, engine/compatibility.py lines 191-223 (one GPU, no RAM budget)."""
    kind = hardware["device_kind"]
    if kind == "cpu":
        return "cpu_only", _whichllm_usable_ram(hardware["memory_bytes"]) >= required
    pool = hardware["memory_bytes"]
    if pool >= required:
        return "full_gpu", True
    # a shared-memory / Apple GPU has no separate RAM to spill into (lines 156-160)
    ram = 0 if kind == "unified" else _whichllm_usable_ram(hardware.get("ram_bytes", 0))
    if kind == "gpu" and pool > 0 and pool + ram >= required:
        return "partial_offload", True
    return "cpu_only", ram >= required


def _whichllm_moe_read_ratio(params: float, active_params: float, bandwidth_gbs: float) -> float:
    """Share of stored weights read per token for MoE, engine/performance.py lines 102-122."""
    floor = _WHICHLLM_MOE_FLOOR_MAX
    if bandwidth_gbs > 0:
        floor = _WHICHLLM_MOE_FLOOR_AT_REF * max(1.0, bandwidth_gbs / _WHICHLLM_MOE_REF_GBS)
    floor = min(_WHICHLLM_MOE_FLOOR_MAX, floor)
    return min(1.0, max(active_params / params, floor))


def _whichllm_decode(params: float, active_params: float | None, quant: str, weights: int,
                     fit_type: str, hardware: dict) -> float:
    """Decode tok/s, engine/performance.py lines 218-284."""
    efficiency = _WHICHLLM_EFFICIENCY.get(quant.upper(), _WHICHLLM_EFFICIENCY_DEFAULT)
    moe = _is_moe(params, active_params)
    if hardware["device_kind"] == "cpu" or fit_type == "cpu_only":
        # lines 234-245: an inverse-size heuristic; bandwidth and threads play no part
        params_b = (active_params if moe else params) / 1e9
        if params_b <= 0:
            return 0.0
        return max(0.3, 18.0 / max(params_b, 0.5) * efficiency / _WHICHLLM_EFFICIENCY_DEFAULT)
    bandwidth = hardware.get("bandwidth_gbs") or 0.0
    if bandwidth == 0:
        return 0.0
    read = weights * (_whichllm_moe_read_ratio(params, active_params, bandwidth) if moe else 1.0)
    shared = hardware["device_kind"] == "unified"
    default_vendor = "apple" if shared else "nvidia"
    vendor = hardware.get("vendor", default_vendor)
    efficiency *= _WHICHLLM_VENDOR.get(vendor, _WHICHLLM_VENDOR_DEFAULT)
    if fit_type == "partial_offload":
        efficiency *= 0.85 if (shared or vendor == "apple") else 0.45
    return bandwidth * 1e9 / read * efficiency


def whichllm_estimate(params: float, active_params: float | None, quant: str, context: int,
                      arch: dict, hardware: dict, *, file_bytes: int | None = None) -> dict:
    """What whichllm's formulas predict for this GGUF on this machine.

    ``file_bytes`` (the real GGUF size) replaces params x bytes-per-weight, as whichllm does for
    any repository that lists GGUF files. Vendor defaults to nvidia for "gpu" and apple for
    "unified" (whichllm's vendor factor needs one). whichllm does not estimate prefill or time to
    first token: ``None``.

    Example:
        >>> gpu = {"device_kind": "gpu", "memory_bytes": 24 * 2**30, "bandwidth_gbs": 1000.0}
        >>> round(whichllm_estimate(7e9, None, "Q4_K_M", 4096, {}, gpu)["decode_tokens_per_s"], 2)
        139.68
    """
    _check(hardware)
    parts = whichllm_memory_parts(params, active_params, quant, context, arch, file_bytes)
    required = sum(parts.values())
    fit_type, fits = _whichllm_fit(required, hardware)
    decode = _whichllm_decode(params, active_params, quant, parts["weights"], fit_type, hardware)
    return _result(required, decode, fits, fit_type)
