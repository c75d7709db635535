"""Quantization formats: true bits per weight, llama.cpp file-type recipes, engine support.

Block sizes of the GGML types (elements per block, bytes per block) are those of ggml's type
traits, as exposed by the ``gguf`` package (``gguf.constants.GGML_QUANT_SIZES``) and checked
against a real file (tests/test_estimate_quants.py).

A llama.cpp "file type" such as Q4_K_M is a *recipe*: most tensors get the default type (Q4_K)
but some get more bits. The rules below reproduce ``llama_tensor_get_type_impl`` and
``tensor_type_fallback`` of llama.cpp ``src/llama-quant.cpp``
(https://github.com/ggml-org/llama.cpp/blob/master/src/llama-quant.cpp, read at commit
007dbbf3fd17eefe9b47fee45f48f7ba5e62b714) as data, so the weight bytes of a recipe are computed
tensor by tensor from the architecture. Falcon-specific branches and the imatrix-only types
(IQ1/IQ2/IQ3, Q2_K_S) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from llmscout.catalog.spec import Architecture
from llmscout.errors import IncompatibleError, InvalidValueError

Engine = Literal["llamacpp", "transformers", "vllm", "mlc"]
ENGINES: tuple[str, ...] = get_args(Engine)

# name -> (elements per block, bytes per block); source: ggml type traits via gguf-py
GGML_TYPES: dict[str, tuple[int, int]] = {
    "F32": (1, 4), "F16": (1, 2), "BF16": (1, 2),
    "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22), "Q5_1": (32, 24), "Q8_0": (32, 34),
    "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144), "Q5_K": (256, 176),
    "Q6_K": (256, 210), "IQ4_NL": (32, 18), "IQ4_XS": (256, 136), "IQ3_S": (256, 110),
    "IQ3_XXS": (256, 98), "IQ2_XXS": (256, 66), "IQ2_XS": (256, 74), "IQ2_S": (256, 82),
    "IQ1_S": (256, 50), "IQ1_M": (256, 56), "TQ1_0": (256, 54), "TQ2_0": (256, 66),
    "MXFP4": (32, 17),
}


def ggml_bits(type_name: str) -> float:
    """True bits per weight of a GGML tensor type, e.g. Q4_K -> 4.5, Q6_K -> 6.5625."""
    block, size = GGML_TYPES[type_name]
    return size * 8 / block


# tensor_type_fallback: a row length not divisible by the block size falls back to these
_FALLBACK = {
    "Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0",
    "IQ4_XS": "IQ4_NL", "IQ3_S": "IQ4_NL", "IQ3_XXS": "IQ4_NL", "IQ2_XXS": "IQ4_NL",
    "IQ2_XS": "IQ4_NL", "IQ2_S": "IQ4_NL", "IQ1_S": "IQ4_NL", "IQ1_M": "IQ4_NL",
    "TQ1_0": "Q4_0", "TQ2_0": "Q4_0",
}

# Conditions of the recipe rules (i: layer / counter index, n: number of layers):
#   more_bits: i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2   (llama.cpp use_more_bits)
#   eighth: i < n/8;  sixteenth: i < n/16;  first2: i < 2;  first4: i < 4
#   gqa4: n_head / n_head_kv >= 4;  always
Rule = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Recipe:
    """A llama.cpp file type: default tensor type plus per-category overrides (first match wins)."""

    name: str
    default: str
    rules: dict[str, tuple[Rule, ...]]
    quantized: bool = True


_R = Recipe
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    _R("F32", "F32", {}, quantized=False),
    _R("F16", "F16", {}, quantized=False),
    _R("BF16", "BF16", {}, quantized=False),
    _R("Q8_0", "Q8_0", {}),
    _R("Q6_K", "Q6_K", {}),
    _R("Q5_1", "Q5_1", {}),
    _R("Q5_0", "Q5_0", {}),
    _R("Q4_1", "Q4_1", {}),
    _R("Q4_0", "Q4_0", {}),
    _R("Q5_K_M", "Q5_K", {"attn_v": (("more_bits", "Q6_K"),), "ffn_down": (("more_bits", "Q6_K"),),
                          "attn_qkv": (("always", "Q6_K"),)}),
    _R("Q5_K_S", "Q5_K", {}),
    _R("Q4_K_M", "Q4_K", {"attn_v": (("more_bits", "Q6_K"),), "ffn_down": (("more_bits", "Q6_K"),),
                          "attn_qkv": (("always", "Q5_K"),)}),
    _R("Q4_K_S", "Q4_K", {"attn_v": (("first4", "Q5_K"),), "ffn_down": (("eighth", "Q5_K"),)}),
    _R("IQ4_XS", "IQ4_XS", {"attn_v": (("gqa4", "Q5_K"),), "ffn_down": (("eighth", "Q5_K"),)}),
    _R("IQ4_NL", "IQ4_NL", {"attn_v": (("gqa4", "Q5_K"),), "ffn_down": (("eighth", "Q5_K"),)}),
    _R("Q3_K_L", "Q3_K", {"attn_v": (("always", "Q5_K"),), "ffn_down": (("always", "Q5_K"),),
                          "attn_output": (("always", "Q5_K"),), "attn_qkv": (("always", "Q4_K"),)}),
    _R("Q3_K_M", "Q3_K", {"attn_v": (("first2", "Q5_K"), ("always", "Q4_K")),
                          "ffn_down": (("sixteenth", "Q5_K"), ("always", "Q4_K")),
                          "attn_output": (("always", "Q4_K"),), "attn_qkv": (("always", "Q4_K"),)}),
    _R("Q3_K_S", "Q3_K", {}),
    _R("Q2_K", "Q2_K", {"attn_v": (("gqa4", "Q4_K"), ("always", "Q3_K")),
                        "ffn_down": (("always", "Q3_K"),), "attn_output": (("always", "Q3_K"),)}),
    # MoE experts (3-D tensors) in MXFP4, every other tensor and the output head in Q8_0
    _R("MXFP4_MOE", "Q8_0", {}),
)}
# Mixtral-style 8-expert models: attn_output goes to Q5_K for these file types (llama-quant.cpp)
_EXPERT8_ATTN_OUTPUT = {"Q2_K", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ4_XS"}


@dataclass(frozen=True, slots=True)
class QuantFormat:
    """A non-GGUF weight format: bits of the linear layers and of embeddings / output head."""

    name: str
    engines: tuple[str, ...]
    linear_bits: float
    embed_bits: float
    description: str
    source: str


_BNB = "https://arxiv.org/abs/2305.14314"
_MLC = "https://github.com/mlc-ai/mlc-llm/blob/main/python/mlc_llm/quantization/quantization.py"
# AWQ/GPTQ: int4 weights, one f16 scale and one packed 4-bit zero point per group of 128 inputs;
# embeddings and lm_head stay f16 (AutoAWQ / AutoGPTQ defaults).
_I4G128 = 4 + (16 + 4) / 128
FORMATS: dict[str, QuantFormat] = {f.name: f for f in (
    QuantFormat("fp32", ("transformers", "vllm"), 32, 32, "float32", "IEEE 754"),
    QuantFormat("fp16", ("transformers", "vllm"), 16, 16, "float16", "IEEE 754"),
    QuantFormat("bf16", ("transformers", "vllm"), 16, 16, "bfloat16", "IEEE 754"),
    QuantFormat("fp8", ("transformers", "vllm"), 8, 16,
                "FP8 E4M3 weights, per-tensor scale; embeddings/lm_head bf16",
                "https://docs.vllm.ai/en/latest/features/quantization/fp8.html"),
    QuantFormat("int8", ("transformers", "vllm"), 8 + 16 / 4096, 16,
                "8-bit weights with a per-row scale (bitsandbytes LLM.int8 / W8A8)",
                "https://arxiv.org/abs/2208.07339"),
    QuantFormat("awq", ("transformers", "vllm"), _I4G128, 16,
                "AWQ int4, group 128, f16 scale + 4-bit zero", "https://arxiv.org/abs/2306.00978"),
    QuantFormat("gptq", ("transformers", "vllm"), _I4G128, 16,
                "GPTQ int4, group 128, f16 scale + 4-bit zero", "https://arxiv.org/abs/2210.17323"),
    # NF4 with double quantization: 4 + 8/64 + 32/(64*256) = 4.127 bits (QLoRA paper, sec. 3)
    QuantFormat("nf4", ("transformers", "vllm"), 4 + 8 / 64 + 32 / (64 * 256), 16,
                "bitsandbytes NF4, block 64, double-quantized absmax; embeddings/lm_head bf16", _BNB),
    QuantFormat("q4f16_1", ("mlc",), 4 + 16 / 32, 4 + 16 / 32,
                "MLC int4, group 32, f16 scale (embeddings and final fc quantized too)", _MLC),
    QuantFormat("q4f32_1", ("mlc",), 4 + 32 / 32, 4 + 32 / 32,
                "MLC int4, group 32, f32 scale, f32 activations", _MLC),
    QuantFormat("q3f16_1", ("mlc",), 3 + 16 / 40, 3 + 16 / 40, "MLC int3, group 40, f16 scale", _MLC),
    QuantFormat("q0f16", ("mlc",), 16, 16, "MLC unquantized float16", _MLC),
    QuantFormat("q0f32", ("mlc",), 32, 32, "MLC unquantized float32", _MLC),
)}

_GGUF_ALIASES = {"MXFP4": "MXFP4_MOE"}
_ALIASES = {"float16": "fp16", "half": "fp16", "float32": "fp32", "bfloat16": "bf16",
            "int4": "awq", "bnb4": "nf4", "4bit": "nf4", "8bit": "int8", "f32": "fp32",
            "f16": "fp16"}
_GGUF_FROM_PLAIN = {"fp16": "F16", "bf16": "BF16", "fp32": "F32"}


def valid_quants(engine: str) -> list[str]:
    """Quant names that ``engine`` can run."""
    if engine == "llamacpp":
        return list(RECIPES)
    return [f.name for f in FORMATS.values() if engine in f.engines]


def all_quants() -> list[str]:
    return list(RECIPES) + list(FORMATS)


def normalize_quant(quant: str, engine: str) -> str:
    """Canonical quant name for ``engine``, or an error that says what would work.

    Raises:
        InvalidValueError: unknown quant or engine.
        IncompatibleError: a real format that this engine cannot run (Q4_K_M on vLLM...).
    """
    if engine not in ENGINES:
        raise InvalidValueError("engine", engine, "one of " + ", ".join(ENGINES))
    if not isinstance(quant, str) or not quant.strip():
        raise InvalidValueError("quant", quant, "one of " + ", ".join(valid_quants(engine)))
    raw = quant.strip()
    low = _ALIASES.get(raw.lower(), raw.lower())
    up = raw.upper()
    if engine == "llamacpp":
        name = _GGUF_ALIASES.get(up, _GGUF_FROM_PLAIN.get(low, up))
        if name in RECIPES:
            return name
        if low in FORMATS:
            raise IncompatibleError(
                f"quant '{raw}' is a {FORMATS[low].description} format; llama.cpp runs GGUF files "
                f"only: pick one of {', '.join(RECIPES)}")
    else:
        if low in FORMATS and engine in FORMATS[low].engines:
            return low
        if low in FORMATS:
            runs = ", ".join(FORMATS[low].engines)
            raise IncompatibleError(
                f"quant '{raw}' runs on {runs}, not on {engine}; on {engine} use one of "
                f"{', '.join(valid_quants(engine))}")
        if _GGUF_ALIASES.get(up, up) in RECIPES:
            why = {"transformers": "transformers de-quantizes GGUF files to full precision on load",
                   "vllm": "vLLM's GGUF support is experimental and slow",
                   "mlc": "MLC LLM compiles its own q*f* formats"}[engine]
            raise IncompatibleError(
                f"quant '{raw}' is a GGUF (llama.cpp) recipe: {why}; use engine 'llamacpp' or one "
                f"of {', '.join(valid_quants(engine))}")
    raise InvalidValueError("quant", quant, f"one of {', '.join(valid_quants(engine))} for {engine}")


# ---------------------------------------------------------------------------------------------
# Per-tensor weight sums
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WeightSummary:
    """Weight bytes of one (architecture, quant), split the way memory and speed need it."""

    total: int
    token_embd: int  # input embedding table (only one row is read per token)
    output: int  # output head; for tied embeddings the token_embd matrix, counted once in total
    layers: tuple[int, ...]  # bytes per block (all experts)
    layers_active: tuple[int, ...]  # bytes per block read for one token (routed experts only)
    largest_tensor: int
    tensor_types: dict[str, int]  # GGML type (or format) -> bytes

    @property
    def decode_bytes(self) -> int:
        """Bytes read per generated token: active blocks plus the output head."""
        return sum(self.layers_active) + self.output


def _use_more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def _condition(cond: str, i: int, n: int, gqa: int) -> bool:
    if cond == "always":
        return True
    if cond == "more_bits":
        return _use_more_bits(i, n)
    if cond == "gqa4":
        return gqa >= 4
    limit = {"eighth": n // 8, "sixteenth": n // 16, "first2": 2, "first4": 4}[cond]
    return i < limit


def _fallback(type_name: str, ncols: int) -> str:
    if ncols % GGML_TYPES[type_name][0] == 0:
        return type_name
    new = _FALLBACK.get(type_name, "F16")
    return new if ncols % GGML_TYPES[new][0] == 0 else "F16"


def _tensor_bytes(type_name: str, ncols: int, nrows: int) -> int:
    block, size = GGML_TYPES[type_name]
    return (ncols // block) * size * nrows


def _layer_tensors(a: Architecture, moe: bool) -> list[tuple[str, int, int, bool]]:
    """(category, ncols, nrows, routed) of the 2-D weights of one block, llama.cpp naming."""
    h, q, kv = a.hidden_size, a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim
    attn = [("attn_q", h, q, False), ("attn_k", h, kv, False), ("attn_v", h, kv, False),
            ("attn_output", q, h, False)]
    out = attn * (2 if a.kind == "encoder-decoder" else 1)
    gated = a.mlp == "gated"
    if moe and a.experts is not None:
        e = a.experts
        ffe = e.expert_intermediate_size
        out += [("ffn_up", h, ffe * e.num_experts, True), ("ffn_down", ffe, h * e.num_experts, True)]
        if gated:
            out.append(("ffn_gate", h, ffe * e.num_experts, True))
        if e.num_shared_experts:
            ffs = (e.shared_intermediate_size or ffe) * e.num_shared_experts
            out += [("ffn_up", h, ffs, False), ("ffn_down", ffs, h, False)]
            if gated:
                out.append(("ffn_gate", h, ffs, False))
        return out
    out += [("ffn_up", h, a.intermediate_size, False), ("ffn_down", a.intermediate_size, h, False)]
    if gated:
        out.append(("ffn_gate", h, a.intermediate_size, False))
    return out


def _gguf_type(recipe: Recipe, cat: str, i: int, a: Architecture, n_expert: int) -> str:
    new = recipe.default
    for cond, t in recipe.rules.get(cat, ()):
        if _condition(cond, i, a.num_layers, a.num_heads // a.num_kv_heads):
            new = t
            break
    if cat == "attn_v" and a.num_layers == 80 and a.model_type == "llama" and new in ("Q3_K", "Q4_K"):
        new = "Q5_K"  # LLM_TYPE_70B: attn_v is 8x smaller than attn_q, so it gets more bits
    if n_expert == 8 and cat in ("attn_v", "attn_k"):
        new = "Q8_0"
    if n_expert == 8 and cat == "attn_output" and recipe.name in _EXPERT8_ATTN_OUTPUT:
        new = "Q5_K"
    return new


def _output_type(recipe: Recipe, ncols: int) -> str:
    """Type of output.weight (and of token_embd when embeddings are tied)."""
    if not recipe.quantized:
        return recipe.default
    if ncols % GGML_TYPES[recipe.default][0] != 0:
        return "Q8_0"
    return "Q8_0" if recipe.default == "Q8_0" else "Q6_K"


def _sized(recipe: Recipe, t: str, ncols: int, nrows: int) -> tuple[str, int]:
    if recipe.quantized:
        t = _fallback(t, ncols)
    return t, _tensor_bytes(t, ncols, nrows)


def _layer_signature(i: int, n: int, moe: bool) -> tuple[bool, ...]:
    """Everything the recipe rules can tell apart about block ``i`` of ``n``."""
    return (_use_more_bits(i, n), i < n // 8, i < n // 16, i < 2, i < 4, moe)


def _block(recipe: Recipe, a: Architecture, i: int, moe: bool,
           n_expert: int) -> tuple[list[tuple[str, int]], int]:
    """[(type, bytes)] of the 2-D tensors of block ``i`` and the bytes of its routed experts."""
    out, routed = [], 0
    for cat, ncols, nrows, is_routed in _layer_tensors(a, moe):
        t = _gguf_type(recipe, cat, i, a, n_expert)
        if recipe.name == "MXFP4_MOE":
            t = "MXFP4" if is_routed else "Q8_0"
        t, b = _sized(recipe, t, ncols, nrows)
        out.append((t, b))
        routed += b if is_routed else 0
    return out, routed


def gguf_weights(a: Architecture, quant: str) -> WeightSummary:
    """Weight bytes of a GGUF file made with llama.cpp's recipe ``quant`` (no imatrix).

    1-D tensors (norms, biases, the MoE router) stay F32 as in llama.cpp. Blocks that the rules
    cannot tell apart are computed once.
    """
    recipe = RECIPES[quant]
    h, e = a.hidden_size, a.experts
    n_expert = e.num_experts if e else 0
    types: dict[str, int] = {}
    tied = a.tied_embeddings
    t, token_embd = _sized(recipe, _output_type(recipe, h) if tied else recipe.default, h,
                           a.vocab_size)
    types[t] = token_embd
    output = token_embd
    if not tied:
        t, output = _sized(recipe, _output_type(recipe, h), h, a.vocab_size)
        types[t] = types.get(t, 0) + output
    largest = max(token_embd, output)
    n = a.num_layers + ((a.num_decoder_layers or a.num_layers) if a.kind == "encoder-decoder" else 0)
    first_moe = a.num_layers - (e.num_moe_layers or a.num_layers) if e else a.num_layers
    extra = _EXTRA_NORMS.get(a.model_type, (0, 0))
    f32_per_layer = (2 * h + _bias(a) + extra[0] * h + extra[1] * a.head_dim) * 4
    f32_per_layer += h * n_expert * 4 if e else 0
    memo: dict[tuple[bool, ...], tuple[int, int, list[tuple[str, int]]]] = {}
    layers, active = [], []
    for i in range(n):
        moe = e is not None and first_moe <= i < a.num_layers
        il = i % a.num_layers
        sig = _layer_signature(il, a.num_layers, moe)
        hit = memo.get(sig)
        if hit is None:
            tensors, routed = _block(recipe, a, il, moe, n_expert)
            total_i = f32_per_layer + sum(b for _, b in tensors)
            share = e.experts_per_token / e.num_experts if (e and moe) else 1.0
            hit = memo[sig] = (total_i, total_i - routed + int(routed * share), tensors)
            largest = max([largest] + [b for _, b in tensors])
        for t, b in hit[2]:
            types[t] = types.get(t, 0) + b
        layers.append(hit[0])
        active.append(hit[1])
    total = sum(layers) + token_embd + (0 if tied else output) + h * 4
    return WeightSummary(total, token_embd, output, tuple(layers), tuple(active), largest, types)


# 1-D F32 tensors beyond attn_norm/ffn_norm, per block: (x hidden, x head_dim).
# Gemma 2/3 add post-attention and post-FFN norms; Gemma 3 and Qwen 3 add q/k norms (seen in
# the tensor list of gemma-3-270m-Q4_K_M.gguf and in the HF modeling files).
_EXTRA_NORMS = {"gemma2": (2, 0), "gemma3": (2, 2), "gemma3_text": (2, 2), "qwen3": (0, 2),
                "qwen3_moe": (0, 2)}


def _bias(a: Architecture) -> int:
    if not a.attention_bias:
        return 0
    return a.num_heads * a.head_dim + 2 * a.num_kv_heads * a.head_dim


def format_weights(a: Architecture, quant: str) -> WeightSummary:
    """Weight bytes for a non-GGUF format (uniform bits on linear layers, own bits on embeddings)."""
    from llmscout.catalog.params import count_params

    f = FORMATS[quant]
    pc = count_params(a)
    h, vocab = a.hidden_size, a.vocab_size
    token_embd = int(vocab * h * f.embed_bits / 8)
    output = token_embd
    n = a.num_layers
    embed_params = vocab * h * (1 if a.tied_embeddings else 2)
    body_total = max(pc.total - embed_params, 0)
    body_active = max(pc.active - embed_params, 0)
    per_layer = int(body_total * f.linear_bits / 8 / n)
    per_layer_active = int(body_active * f.linear_bits / 8 / n)
    total = per_layer * n + token_embd + (0 if a.tied_embeddings else output)
    return WeightSummary(total, token_embd, output, (per_layer,) * n, (per_layer_active,) * n,
                         max(token_embd, per_layer), {f.name: total})


_CACHE: dict[tuple[int, str], tuple[Architecture, WeightSummary]] = {}


def weights_for(a: Architecture, quant: str) -> WeightSummary:
    """Cached per-architecture weight sums (``quant`` must be canonical, see normalize_quant)."""
    key = (id(a), quant)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is a:
        return hit[1]
    ws = gguf_weights(a, quant) if quant in RECIPES else format_weights(a, quant)
    if len(_CACHE) > 20000:
        _CACHE.clear()
    _CACHE[key] = (a, ws)
    return ws


# A Llama-3-8B-shaped reference (https://huggingface.co/meta-llama/Meta-Llama-3-8B config.json)
# gives each recipe an effective bits/weight for models whose architecture is unknown.
_REFERENCE = Architecture(
    model_type="llama", num_layers=32, hidden_size=4096, num_heads=32, num_kv_heads=8,
    head_dim=128, intermediate_size=14336, vocab_size=128256, max_position_embeddings=8192,
    source="https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json",
)
_EFFECTIVE_BITS: dict[str, float] = {}


def effective_bits(quant: str) -> float:
    """Average bits per weight of ``quant`` over a whole model (recipe applied to a reference)."""
    if quant in _EFFECTIVE_BITS:
        return _EFFECTIVE_BITS[quant]
    if quant in FORMATS:
        bits = FORMATS[quant].linear_bits
    else:
        from llmscout.catalog.params import count_params

        ws = weights_for(_REFERENCE, quant)
        bits = ws.total * 8 / count_params(_REFERENCE).total
    _EFFECTIVE_BITS[quant] = bits
    return bits


def kv_bytes_per_element(kv_type: str, engine: str) -> float:
    """Bytes per cached K or V element; raises for types the engine does not offer."""
    table = KV_TYPES.get(engine, {})
    if kv_type not in table:
        raise InvalidValueError("kv_cache_type", kv_type, f"one of {', '.join(table)} for {engine}")
    return table[kv_type]


# llama.cpp cache types (q8_0/q4_0 need flash attention); vLLM --kv-cache-dtype fp8
KV_TYPES: dict[str, dict[str, float]] = {
    "llamacpp": {"f16": 2.0, "bf16": 2.0, "f32": 4.0, "q8_0": 34 / 32, "q5_1": 24 / 32,
                 "q5_0": 22 / 32, "q4_1": 20 / 32, "q4_0": 18 / 32, "iq4_nl": 18 / 32},
    "transformers": {"f16": 2.0, "bf16": 2.0, "f32": 4.0},
    "vllm": {"f16": 2.0, "bf16": 2.0, "fp8": 1.0},
    "mlc": {"f16": 2.0, "f32": 4.0},
}
