"""Memory: weights, KV cache, compute buffers, runtime overhead, placement and the largest context.

Every term is a closed formula of the architecture; the llama.cpp terms were checked against
llama.cpp's own accounting (``llama_kv_cache: size``, ``sched_reserve: CPU compute buffer size``)
for Gemma 3 270M Q4_K_M with llama-cpp-python 0.3.36 on this project's machine:

===========================  =========  ====================================================
n_ctx / n_ubatch / flash      measured   formula here
===========================  =========  ====================================================
KV f16, 4096, swa_full        72.00 MiB  3 full + 15 SWA layers x 4096 cells x 1 x 256 x 2 x 2
KV f16, 4096, swa_full=False  27.00 MiB  12 MiB + 15 x 1024 cells (pad256(512 + 512))
KV q8_0, 4096, swa_full       38.25 MiB  x 34/32 bytes per element
compute 4096/512, no FA      514.50 MiB  logits 262144 x 512 x 4 + 2 x 512 x 640 x 4
compute 4096/128, no FA      128.63 MiB  same with 128
compute 131072/512, no FA   1291.76 MiB  attention: 131072 x 512 x 4 x (4 heads + 1) + scratch
compute 131072/512, FA       514.50 MiB  logits stage only
===========================  =========  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from llmscout.catalog.spec import Architecture
from llmscout.estimate.quants import WeightSummary
from llmscout.hardware.spec import Hardware

MIB = 1024**2
GIB = 1024**3

# Default share of the device memory a model may use when the hardware record says nothing:
# CPU: leave room for the OS and other programs; unified (Apple): macOS lets the GPU wire about
# two thirds to three quarters of RAM; discrete GPU: the display and driver keep a little.
USABLE_FRACTION = {"cpu": 0.80, "unified": 0.70, "gpu": 0.95}
LLAMACPP_UBATCH = 512  # llama.cpp default n_ubatch
VLLM_GPU_MEMORY_UTILIZATION = 0.9  # vLLM default (https://docs.anyscale.com/llm/batch-inference/resource-allocation/gpu-memory)
VLLM_PROFILE_TOKENS = 2048  # tokens vLLM's profiling forward pass is sized for (max_num_batched_tokens)
# Measured here: python + `import llama_cpp` RSS 46 MiB; llama.cpp's vocabulary tables about 140
# bytes per token (36 MiB for Gemma's 262,144 tokens, RSS before and after loading).
PROCESS_BASE = {"llamacpp": 50 * MIB, "transformers": 350 * MIB, "vllm": 1024 * MIB, "mlc": 150 * MIB}
VOCAB_TABLE_BYTES = 140
# CUDA context + kernels per GPU (300-500 MiB is typical for CUDA 12; an assumption, not measured)
GPU_CONTEXT = {"llamacpp": 400 * MIB, "transformers": 500 * MIB, "vllm": 1024 * MIB, "mlc": 300 * MIB}
TORCH_FRAGMENTATION = 0.05  # caching-allocator slack on weights + KV for transformers (assumed)


@dataclass(frozen=True, slots=True)
class Setup:
    """Everything memory and speed need that does not depend on the context length."""

    engine: str
    quant: str
    hardware: Hardware
    weights: WeightSummary | None  # None when the architecture is unknown
    weights_bytes: int
    arch: Architecture | None
    kv_bytes_per_element: float
    batch: int
    prompt_tokens: int
    output_tokens: int
    flash_attention: bool
    swa_full: bool
    gpu_memory_utilization: float
    context_limit: int | None
    total_params: int  # all weights (MoE: every expert)
    active_params: int  # used per token
    body_params: int  # active matmul parameters in the blocks (no embeddings, no head)
    head_params: int  # output head (vocab x hidden); 0 when unknown
    kv_type: str = "f16"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """Memory terms at one context length and where the model goes."""

    context: int
    weights_bytes: int
    kv_cache_bytes: int
    compute_buffer_bytes: int  # what the engine reserves (llama.cpp's "compute buffer size")
    compute_resident_bytes: int  # what is actually touched for this prompt (CPU RSS)
    overhead_bytes: int
    total_bytes: int  # counted against the device (CPU: resident compute; GPU: reserved)
    usable_bytes: int
    placement: str  # gpu | multi-gpu | unified | cpu | partial-offload | does-not-fit
    fits: bool
    headroom_bytes: int
    gpu_layers: int | None = None
    n_layers: int = 0
    reserved_bytes: int | None = None  # vLLM pre-allocates gpu_memory_utilization of the GPU
    notes: tuple[str, ...] = field(default=())


# -- KV cache -------------------------------------------------------------------------------
_KV_SHAPE: dict[tuple[int, str], tuple[Architecture, tuple[int, int, int]]] = {}


def kv_elements_per_token(a: Architecture, engine: str) -> tuple[int, int, int]:
    """(K+V elements per token per layer, layers with full attention, layers with a window)."""
    hit = _KV_SHAPE.get((id(a), engine))
    if hit is not None and hit[0] is a:
        return hit[1]
    shape = _kv_shape(a, engine)
    if len(_KV_SHAPE) > 20000:
        _KV_SHAPE.clear()
    _KV_SHAPE[(id(a), engine)] = (a, shape)
    return shape


def _kv_shape(a: Architecture, engine: str) -> tuple[int, int, int]:
    if a.kv_lora_rank and engine in ("llamacpp", "vllm"):
        # MLA caches the compressed latent plus the rope key, once (DeepSeek-V2 paper, sec. 2.1)
        per = a.kv_lora_rank + (a.qk_rope_head_dim or 0)
    elif a.kv_lora_rank:
        per = 2 * a.num_heads * a.head_dim  # transformers caches the decompressed K and V
    else:
        per = 2 * a.num_kv_heads * a.head_dim
    layers = (a.num_decoder_layers or a.num_layers) if a.kind == "encoder-decoder" else a.num_layers
    swa = min(a.sliding_layers, layers)
    return per, layers - swa, swa


def _pad(x: int, to: int) -> int:
    return (x + to - 1) // to * to


def cells(s: Setup, context: int) -> int:
    """KV cells of a full-attention layer: llama.cpp pads n_ctx to a multiple of 256 (measured:
    n_ctx 1000 -> 1024 cells)."""
    n = context * s.batch
    return _pad(n, 256) if s.engine == "llamacpp" else n


def swa_cells(s: Setup, context: int) -> int:
    """KV cells of a sliding-window layer (all sequences)."""
    a = s.arch
    if a is None or not a.sliding_window:
        return cells(s, context)
    if s.engine == "llamacpp":
        if s.swa_full:  # llama.cpp's C default (llama-cpp-python keeps it): full-size SWA cache
            return cells(s, context)
        # llama-kv-cache-iswa.cpp: GGML_PAD(min(n_ctx, n_swa*n_seq + n_ubatch), 256)
        ub = min(LLAMACPP_UBATCH, cells(s, context))
        return _pad(min(cells(s, context), a.sliding_window * s.batch + ub), 256)
    return min(context, a.sliding_window) * s.batch


def kv_cache_bytes(s: Setup, context: int) -> int:
    """KV cache for ``batch`` sequences of ``context`` tokens (cross-attention: the prompt)."""
    a = s.arch
    if a is None:
        return 0
    per, full, swa = kv_elements_per_token(a, s.engine)
    n = full * cells(s, context) + swa * swa_cells(s, context)
    if a.kind == "encoder-decoder":
        n += (full + swa) * min(s.prompt_tokens, context) * s.batch  # cross-attention K/V
    return int(n * per * s.kv_bytes_per_element)


# -- compute buffers / activations ------------------------------------------------------------
def _llamacpp_compute(a: Architecture, flash: bool, n_kv: int, ub: int, outputs: int) -> int:
    q_dim = a.num_heads * a.head_dim
    logits = a.vocab_size * outputs * 4 + 2 * ub * a.hidden_size * 4
    scratch = 3 * ub * (a.hidden_size + q_dim) * 4
    if flash:
        return max(logits, scratch)
    attn = n_kv * ub * 4 * (a.num_heads + 1) + scratch  # f32 KQ per head + the f32 mask
    return max(logits, attn)


def compute_buffer(s: Setup, context: int) -> tuple[int, int]:
    """(reserved, resident) activation memory for this engine at ``context``."""
    a = s.arch
    if a is None:
        return 256 * MIB, 64 * MIB
    if s.engine == "llamacpp":
        ub = min(LLAMACPP_UBATCH, cells(s, context))
        full = kv_elements_per_token(a, s.engine)[1]
        n_kv = cells(s, context) if full else swa_cells(s, context)
        reserved = _llamacpp_compute(a, s.flash_attention, n_kv, ub, ub)
        used = min(context, s.prompt_tokens + s.output_tokens)
        resident = _llamacpp_compute(a, s.flash_attention, min(n_kv, used * s.batch),
                                     min(ub, max(s.prompt_tokens, 1)), s.batch)
        return reserved, min(resident, reserved)
    ff = a.intermediate_size
    if a.experts is not None:
        ff = a.experts.expert_intermediate_size * a.experts.experts_per_token
    tokens = (VLLM_PROFILE_TOKENS if s.engine in ("vllm", "mlc")
              else min(context, max(s.prompt_tokens, 1)) * s.batch)
    act = tokens * (6 * a.hidden_size + 2 * ff) * 2 + s.batch * a.vocab_size * 4
    return act, act


def overhead_bytes(s: Setup, on_gpu: bool) -> int:
    """Runtime overhead per device: CUDA context on a GPU, the process itself on a CPU."""
    base = PROCESS_BASE[s.engine]
    if s.engine == "llamacpp" and s.arch is not None:
        base += s.arch.vocab_size * (VOCAB_TABLE_BYTES + 4 * s.batch)  # tables + output buffer
    if on_gpu:
        return GPU_CONTEXT[s.engine]
    return base


def usable_bytes(hw: Hardware) -> int:
    frac = hw.usable_memory_fraction or USABLE_FRACTION[hw.device_kind]
    return int(hw.memory_bytes * frac)


# -- placement ---------------------------------------------------------------------------------
def plan_memory(s: Setup, context: int) -> MemoryPlan:
    """Memory terms at ``context`` and the placement that fits (see module docstring)."""
    hw = s.hardware
    kv = kv_cache_bytes(s, context)
    reserved, resident = compute_buffer(s, context)
    on_gpu = hw.device_kind == "gpu"
    compute = reserved if hw.device_kind != "cpu" else resident
    overhead = overhead_bytes(s, on_gpu)
    weights = s.weights_bytes
    if s.engine == "transformers":
        overhead += int(TORCH_FRAGMENTATION * (weights + kv))
    usable = usable_bytes(hw)
    notes: list[str] = []
    n_layers = len(s.weights.layers) if s.weights else 0
    if on_gpu and s.engine == "llamacpp" and s.weights is not None:
        # llama.cpp keeps token_embd in host RAM; a tied output head gets its own GPU copy
        dev_weights = weights - s.weights.token_embd + (s.weights.output if s.arch and
                                                        s.arch.tied_embeddings else 0)
    else:
        dev_weights = weights
    per_device = (dev_weights + kv) / hw.count + compute + overhead
    total = int(per_device * hw.count)
    reserved_total = None
    if s.engine == "vllm" and on_gpu:
        reserved_total = int(hw.memory_bytes * s.gpu_memory_utilization) * hw.count
        usable = int(hw.memory_bytes * s.gpu_memory_utilization)
        notes.append(f"vLLM pre-allocates gpu_memory_utilization={s.gpu_memory_utilization} of each "
                     "GPU and fills what the model leaves with KV-cache blocks")
    kind = {"gpu": "multi-gpu" if hw.count > 1 else "gpu", "unified": "unified", "cpu": "cpu"}
    ok = per_device <= usable and _browser_ok(s, notes)
    if ok:
        return MemoryPlan(context, weights, kv, reserved, resident, overhead, total,
                          usable * hw.count, kind[hw.device_kind], True,
                          int(usable * hw.count - total), n_layers if on_gpu else None, n_layers,
                          reserved_total, tuple(notes))
    if on_gpu and s.engine in ("llamacpp", "transformers") and hw.host_memory_bytes:
        off = _offload(s, context, kv, reserved, resident, overhead, usable, notes)
        if off is not None:
            return off
    return MemoryPlan(context, weights, kv, reserved, resident, overhead, total, usable * hw.count,
                      "does-not-fit", False, int(usable * hw.count - total), 0, n_layers,
                      reserved_total, tuple(notes))


def _browser_ok(s: Setup, notes: list[str]) -> bool:
    cap = s.hardware.max_allocation_bytes
    if cap and s.weights is not None and s.weights.largest_tensor > cap:
        notes.append(f"largest weight tensor ({s.weights.largest_tensor / MIB:.0f} MiB) exceeds the "
                     f"device's largest single buffer ({cap / MIB:.0f} MiB)")
        return False
    return True


def _offload(s: Setup, context: int, kv: int, reserved: int, resident: int, overhead: int,
             usable: int, notes: list[str]) -> MemoryPlan | None:
    """Partial offload: as many blocks as fit on the GPU, the rest (and embeddings) in host RAM."""
    hw = s.hardware
    w = s.weights
    n = len(w.layers) if w else 32
    layer_w = (max(w.layers) if w else s.weights_bytes / n)
    layer_kv = kv / n
    host_usable = int((hw.host_memory_bytes or 0) * USABLE_FRACTION["cpu"])
    gpu_room = usable - overhead - reserved
    n_gpu = max(0, min(n - 1, int(gpu_room // (layer_w + layer_kv)))) if gpu_room > 0 else 0
    embeddings = (w.token_embd + (0 if s.arch and s.arch.tied_embeddings else w.output)) if w else 0
    host_need = (n - n_gpu) * (layer_w + layer_kv) + embeddings
    host_need += resident + PROCESS_BASE[s.engine]
    if host_need > host_usable:
        return None
    weights = s.weights_bytes
    gpu_used = overhead + reserved + n_gpu * (layer_w + layer_kv)
    total = int(gpu_used + host_need)
    headroom = int(min(usable - gpu_used, host_usable - host_need))
    if n_gpu == 0:
        notes.append("nothing fits on the GPU: runs on the host CPU from system RAM")
        return MemoryPlan(context, weights, kv, reserved, resident, overhead, total,
                          usable + host_usable, "cpu", True, headroom, 0, n, None, tuple(notes))
    notes.append(f"{n_gpu} of {n} blocks on the GPU, the rest in system RAM (slower)")
    return MemoryPlan(context, weights, kv, reserved, resident, overhead, total,
                      usable + host_usable, "partial-offload", True, headroom, n_gpu, n, None,
                      tuple(notes))


def _device_need(s: Setup, context: int) -> float:
    """Bytes per device at ``context`` for a full (no offload) placement: plan_memory's test."""
    kind = s.hardware.device_kind
    kv = kv_cache_bytes(s, context)
    reserved, resident = compute_buffer(s, context)
    compute = resident if kind == "cpu" else reserved
    frag = TORCH_FRAGMENTATION * (s.weights_bytes + kv) if s.engine == "transformers" else 0.0
    dev_weights = s.weights_bytes
    if kind == "gpu" and s.engine == "llamacpp" and s.weights is not None:
        dev_weights += (s.weights.output if s.arch and s.arch.tied_embeddings else 0) \
            - s.weights.token_embd
    return (dev_weights + kv) / s.hardware.count + compute + overhead_bytes(s, kind == "gpu") + frag


def _capacity(s: Setup) -> float:
    hw = s.hardware
    if s.engine == "vllm" and hw.device_kind == "gpu":
        return int(hw.memory_bytes * s.gpu_memory_utilization)
    return usable_bytes(hw)


def _search(need: Callable[[int], float], cap: float, lo: int, hi: int) -> int:
    """Largest x in [lo, hi) with need(x) <= cap, given need(lo) <= cap < need(hi), need monotone.

    Regula falsi (memory is piecewise linear in the context, so it lands in a few steps) with a
    bisection step whenever one side stalls.
    """
    n_lo, n_hi = need(lo), need(hi)
    side, same = 0, 0
    while hi - lo > 1:
        if same >= 2 or n_hi <= n_lo:
            g, same = (lo + hi) // 2, 0
        else:
            g = min(max(lo + int((cap - n_lo) * (hi - lo) / (n_hi - n_lo)), lo + 1), hi - 1)
        n_g = need(g)
        now = 1 if n_g <= cap else -1
        same, side = (same + 1 if now == side else 1), now
        if n_g > cap:
            hi, n_hi = g, n_g
            continue
        lo, n_lo = g, n_g
        if g + 1 < hi:  # the answer is usually right here
            n_next = need(g + 1)
            if n_next > cap:
                return g
            lo, n_lo = g + 1, n_next
    return lo


def offload_possible(s: Setup) -> bool:
    """Whether blocks can spill to host RAM (llama.cpp / transformers on a GPU with host RAM)."""
    return bool(s.hardware.device_kind == "gpu" and s.engine in ("llamacpp", "transformers")
                and s.hardware.host_memory_bytes)


def max_context(s: Setup, on_device_only: bool = False) -> int:
    """Largest context (tokens) that fits; memory grows monotonically with the context.

    ``on_device_only``: only placements fully on the device(s), not partial offload to host RAM.
    Returns 0 when not even one token of context fits.
    """
    limit = s.context_limit or 1_048_576
    cap = _capacity(s)
    notes: list[str] = []
    if not _browser_ok(s, notes):
        return 0
    dev = _device_need
    if dev(s, limit) <= cap:
        return limit
    if on_device_only or not offload_possible(s):
        return 0 if dev(s, 1) > cap else _search(lambda c: dev(s, c), cap, 1, limit)
    if plan_memory(s, limit).fits:
        return limit
    if not plan_memory(s, 1).fits:
        return 0
    return _search(lambda c: 0.0 if plan_memory(s, c).fits else 1.0, 0.5, 1, limit)
