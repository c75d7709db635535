"""Training-side estimates: fine-tuning memory (full, LoRA, QLoRA) and pretraining compute/cost.

Sources:
  * Mixed-precision AdamW keeps 16 bytes per parameter: bf16 weights (2) + bf16 gradients (2)
    + fp32 master weights, momentum and variance (4 + 4 + 4) - ZeRO, Rajbhandari et al. 2020,
    https://arxiv.org/abs/1910.02054 (sec. 3.1).
  * Activations per block: s*b*h*(34 + 5*a*s/h) bytes for a GPT block in 16-bit, of which
    11 sbh attention, 19 sbh MLP (4h intermediate), 4 sbh norms, 5 a s^2 b attention scores -
    Korthikanti et al. 2022, https://arxiv.org/abs/2205.05198 (sec. 4.1). The MLP term is scaled
    here to the real intermediate size (x1.5 for gated MLPs); flash attention drops the scores.
  * QLoRA: NF4 base weights with double quantization, 4.127 bits per parameter; bf16 compute;
    paged optimizers - Dettmers et al. 2023, https://arxiv.org/abs/2305.14314.
  * Training compute C = 6 N D FLOPs - Kaplan et al. 2020, https://arxiv.org/abs/2001.08361
    (sec. 2.1); compute-optimal D = 20 N tokens - Hoffmann et al. 2022 (Chinchilla),
    https://arxiv.org/abs/2203.15556 (table 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmscout.catalog.params import count_params
from llmscout.catalog.spec import Architecture, ModelSpec
from llmscout.errors import IncompatibleError, InvalidValueError
from llmscout.estimate.memory import MIB, usable_bytes
from llmscout.hardware.spec import Hardware

Method = Literal["full", "lora", "qlora"]
NF4_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # QLoRA double quantization: 4.127 bits
CUDA_OVERHEAD = 500 * MIB  # CUDA context + kernels (assumed)
FRAGMENTATION = 0.10  # caching-allocator slack (assumed)
DEFAULT_MFU = 0.40  # model FLOPs utilisation of large dense pretraining runs (typical 35-45%)
CHINCHILLA_TOKENS_PER_PARAM = 20
OPTIMIZER_BYTES = {"adamw": 8, "adamw_8bit": 2, "sgd": 4, "adafactor": 4}  # state bytes / param


@dataclass(frozen=True, slots=True)
class FinetuneMemory:
    """GPU memory of one fine-tuning setup, by term (bytes)."""

    method: str
    trainable_params: int
    weights_bytes: int
    gradients_bytes: int
    optimizer_bytes: int
    master_weights_bytes: int
    activations_bytes: int
    overhead_bytes: int
    total_bytes: int
    gradient_checkpointing: bool
    fits: bool | None = None  # None when no hardware was given
    usable_bytes: int | None = None
    notes: tuple[str, ...] = ()


def _arch(model: ModelSpec) -> Architecture:
    if model.architecture is None:
        raise IncompatibleError(f"{model.id} has no architecture in the catalog: fine-tuning "
                                "memory needs layers, hidden size and vocabulary")
    return model.architecture


def _pos(name: str, value: object, high: float = 1e12) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise InvalidValueError(name, value, f"a whole number from 1 to {high:g}")
    return value


def lora_params(a: Architecture, rank: int, targets: str | tuple[str, ...] = "attention") -> int:
    """Trainable LoRA parameters: rank x (in + out) for every targeted matrix of every block."""
    h, q, kv = a.hidden_size, a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim
    ff = a.intermediate_size
    shapes = {"q": (h, q), "k": (h, kv), "v": (h, kv), "o": (q, h),
              "gate": (h, ff), "up": (h, ff), "down": (ff, h)}
    if targets == "attention":
        names: tuple[str, ...] = ("q", "k", "v", "o")
    elif targets == "all-linear":
        names = ("q", "k", "v", "o", "up", "down") + (("gate",) if a.mlp == "gated" else ())
    else:
        names = tuple(targets)
        for n in names:
            if n not in shapes:
                raise InvalidValueError("target_modules", n, "attention, all-linear or names from "
                                        + ", ".join(shapes))
    return a.num_layers * sum(rank * (shapes[n][0] + shapes[n][1]) for n in names)


def activation_bytes(a: Architecture, batch: int, seq: int, checkpointing: bool,
                     flash_attention: bool = True) -> int:
    """Stored activations for backward (16-bit), plus fp32 logits and their gradient."""
    h = a.hidden_size
    ff = (a.experts.expert_intermediate_size * a.experts.experts_per_token if a.experts
          else a.intermediate_size)
    mlp = 19 * ff * (1.5 if a.mlp == "gated" else 1.0) / (4 * h)
    per_layer = seq * batch * h * (15 + mlp)
    if not flash_attention:
        per_layer += 5 * a.num_heads * seq * seq * batch
    layers = a.num_layers + (a.num_decoder_layers or 0)
    logits = 2 * seq * batch * a.vocab_size * 4
    if checkpointing:  # keep each block's input, recompute one block at a time
        return int(layers * 2 * seq * batch * h + per_layer + logits)
    return int(layers * per_layer + logits)


def finetune_memory(model: ModelSpec, method: Method = "lora", batch: int = 1, seq_len: int = 2048,
                    rank: int = 16, target_modules: str | tuple[str, ...] = "attention",
                    gradient_checkpointing: bool | None = None, optimizer: str = "adamw",
                    hardware: Hardware | None = None) -> FinetuneMemory:
    """Memory to fine-tune ``model`` with ``method`` (bf16 mixed precision), by term.

    Example:
        >>> from llmscout.catalog import get_model
        >>> fm = finetune_memory(get_model("google/gemma-3-270m"), "full")
        >>> fm.optimizer_bytes == 8 * fm.trainable_params
        True
    """
    a = _arch(model)
    batch, seq_len, rank = _pos("batch", batch, 65536), _pos("seq_len", seq_len, 10**7), \
        _pos("rank", rank, 65536)
    if method not in ("full", "lora", "qlora"):
        raise InvalidValueError("method", method, "full, lora or qlora")
    if optimizer not in OPTIMIZER_BYTES:
        raise InvalidValueError("optimizer", optimizer, "one of " + ", ".join(OPTIMIZER_BYTES))
    n = model.params or count_params(a).total
    ckpt = (method == "qlora") if gradient_checkpointing is None else gradient_checkpointing
    notes = []
    if method == "full":
        trainable = n
        weights, grads, master = 2 * n, 2 * n, 4 * n
    else:
        trainable = lora_params(a, rank, target_modules)
        embed = a.vocab_size * a.hidden_size * (1 if a.tied_embeddings else 2)
        if method == "qlora":
            weights = int((n - embed) * NF4_BITS / 8) + 2 * embed
            notes.append("paged optimizer: optimizer states can spill to CPU RAM under pressure")
        else:
            weights = 2 * n
        grads, master = 4 * trainable, 4 * trainable  # adapters train in fp32
    opt = OPTIMIZER_BYTES[optimizer] * trainable
    act = activation_bytes(a, batch, seq_len, ckpt)
    subtotal = weights + grads + master + opt + act
    overhead = CUDA_OVERHEAD + int(FRAGMENTATION * subtotal)
    total = subtotal + overhead
    usable = usable_bytes(hardware) * hardware.count if hardware is not None else None
    return FinetuneMemory(method, trainable, weights, grads, opt, master, act, overhead, total, ckpt,
                          None if usable is None else total <= usable, usable, tuple(notes))


@dataclass(frozen=True, slots=True)
class PretrainCost:
    """Compute, time, energy and money of pretraining from scratch (6 N D FLOPs)."""

    params: int
    tokens: int
    flops: float
    gpu_hours: float
    wall_clock_hours: float  # on hardware.count devices
    energy_kwh: float  # at the devices' TDP: an upper-end estimate
    cost: float | None
    mfu: float
    price_per_gpu_hour: float | None
    notes: tuple[str, ...] = ()


def pretraining_cost(params: int, hardware: Hardware, tokens: int | None = None,
                     mfu: float = DEFAULT_MFU, price_per_gpu_hour: float | None = None
                     ) -> PretrainCost:
    """GPU-hours and money to pretrain ``params`` on ``tokens`` (default Chinchilla 20 x params)."""
    params = _pos("params", params, 1e15)
    tokens = CHINCHILLA_TOKENS_PER_PARAM * params if tokens is None else _pos("tokens", tokens, 1e16)
    if isinstance(mfu, bool) or not isinstance(mfu, int | float) or not 0 < mfu <= 1:
        raise InvalidValueError("mfu", mfu, "a fraction in (0, 1]")
    if hardware.fp16_tflops is None:
        raise IncompatibleError(f"{hardware.name} has no fp16_tflops figure: give the hardware's "
                                "dense FP16/BF16 TFLOPS")
    if price_per_gpu_hour is not None and (isinstance(price_per_gpu_hour, bool) or not
                                           isinstance(price_per_gpu_hour, int | float)
                                           or not 0 <= price_per_gpu_hour <= 1e4):
        raise InvalidValueError("price_per_gpu_hour", price_per_gpu_hour, "a number from 0 to 10000")
    flops = 6.0 * params * tokens
    gpu_hours = flops / (hardware.fp16_tflops * 1e12 * mfu) / 3600
    energy = gpu_hours * (hardware.tdp_w or 0) / 1000
    notes = ["FLOPs = 6 x params x tokens (Kaplan et al. 2020)"]
    if tokens == CHINCHILLA_TOKENS_PER_PARAM * params:
        notes.append("tokens = 20 x params, compute-optimal (Hoffmann et al. 2022)")
    if not hardware.tdp_w:
        notes.append("TDP unknown: energy not estimated")
    cost = None if price_per_gpu_hour is None else gpu_hours * price_per_gpu_hour
    return PretrainCost(params, tokens, flops, gpu_hours, gpu_hours / hardware.count, energy, cost,
                        float(mfu), price_per_gpu_hour, tuple(notes))

