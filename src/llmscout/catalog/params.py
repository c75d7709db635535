"""Parameter counts from an architecture: a consistency check on catalog facts and a fallback.

Counts the weight matrices of a standard transformer block (as in HF ``modeling_llama.py`` and
llama.cpp's ``llm_build_llama``): attention q/k/v/o, the MLP (gated: gate+up+down, plain:
up+down), norms, embeddings and the output head unless tied. Small extras (QK-norms, rotary
tables, conv layers) are not counted; they are well under 1% of any catalogued model.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmscout.catalog.spec import Architecture


@dataclass(frozen=True, slots=True)
class ParamCount:
    total: int
    active: int  # per token: differs from total only for mixture-of-experts
    embedding: int  # input embedding table (+ output head when untied)
    per_layer_attention: int
    per_layer_mlp_active: int


def _attention(a: Architecture, cross: bool = False) -> int:
    q_out = a.num_heads * a.head_dim
    kv_out = a.num_kv_heads * a.head_dim
    weights = a.hidden_size * q_out + 2 * a.hidden_size * kv_out + q_out * a.hidden_size
    bias = (q_out + 2 * kv_out) if a.attention_bias else 0
    return weights + bias


def _mlp(hidden: int, inter: int, kind: str) -> int:
    mats = 3 if kind == "gated" else 2
    bias = (inter + hidden) if kind == "plain" else 0  # plain MLPs (GPT-2/Phi-2 style) keep biases
    return mats * hidden * inter + bias


def count_params(a: Architecture) -> ParamCount:
    """Total and active parameters implied by the architecture."""
    h = a.hidden_size
    embed = a.vocab_size * h
    head = 0 if a.tied_embeddings else a.vocab_size * h
    attn = _attention(a)
    norms = 2 * h
    if a.kind == "encoder-decoder":
        dec_layers = a.num_decoder_layers or a.num_layers
        mlp = _mlp(h, a.intermediate_size, a.mlp)
        enc = a.num_layers * (attn + mlp + norms)
        dec = dec_layers * (2 * attn + mlp + 3 * h)
        total = embed + head + enc + dec + 2 * h
        return ParamCount(total, total, embed + head, attn, mlp)
    if a.experts is None:
        mlp = _mlp(h, a.intermediate_size, a.mlp)
        total = embed + head + a.num_layers * (attn + mlp + norms) + h
        return ParamCount(total, total, embed + head, attn, mlp)
    e = a.experts
    moe_layers = a.num_layers if e.num_moe_layers is None else e.num_moe_layers
    dense_layers = a.num_layers - moe_layers
    expert = _mlp(h, e.expert_intermediate_size, a.mlp)
    shared = e.num_shared_experts * _mlp(h, e.shared_intermediate_size or e.expert_intermediate_size, a.mlp)
    router = h * e.num_experts
    dense_mlp = _mlp(h, a.intermediate_size, a.mlp)
    base = embed + head + a.num_layers * (attn + norms) + dense_layers * dense_mlp + h
    total = base + moe_layers * (e.num_experts * expert + shared + router)
    active_mlp = e.experts_per_token * expert + shared + router
    active = base + moe_layers * active_mlp
    return ParamCount(total, active, embed + head, attn, active_mlp)
