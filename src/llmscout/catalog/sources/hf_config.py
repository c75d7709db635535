"""Hugging Face ``config.json`` → ``Architecture``: the one parser of HF configs (folder and Hub).

Key names differ between model types (``n_layer`` for GPT-2, ``num_local_experts`` for Mixtral,
``n_routed_experts`` for DeepSeek); they are normalised here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmscout.catalog.spec import Architecture, Experts, SpecError

_ALIASES: dict[str, tuple[str, ...]] = {
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model", "dim"),
    "num_heads": ("num_attention_heads", "n_head", "num_heads", "n_heads"),
    "intermediate_size": ("intermediate_size", "n_inner", "d_ff", "ffn_dim", "ffn_hidden_size"),
    "max_position_embeddings": ("max_position_embeddings", "n_positions", "seq_length", "max_seq_len"),
}
# model types whose config class defaults tie_word_embeddings to False (PretrainedConfig: True)
_UNTIED_BY_DEFAULT = {
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "phi", "phi3",
    "phimoe", "deepseek_v2", "deepseek_v3", "gpt_oss", "olmo2", "granite", "stablelm",
}
_PLAIN_MLP_TYPES = {"phi", "gpt2", "falcon", "gpt_neox", "stablelm", "starcoder2", "gpt_bigcode", "opt"}


def _first(cfg: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        if cfg.get(n) is not None:
            return cfg[n]
    return None


def _text_config(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    """Multimodal configs (Gemma 3, LLaVA, Qwen2-VL) nest the language model's config."""
    for key in ("text_config", "language_config", "llm_config"):
        sub = cfg.get(key)
        if isinstance(sub, Mapping) and _first(sub, _ALIASES["num_layers"]):
            return {**sub, "model_type": sub.get("model_type", cfg.get("model_type"))}
    return cfg


def _experts(cfg: Mapping[str, Any], num_layers: int) -> Experts | None:
    n = _first(cfg, ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"))
    if not n or int(n) <= 1:
        return None
    per_tok = _first(cfg, ("num_experts_per_tok", "experts_per_token", "moe_top_k", "top_k"))
    inter = _first(cfg, ("moe_intermediate_size", "expert_intermediate_size", "intermediate_size"))
    shared = int(cfg.get("n_shared_experts") or 0)
    shared_inter = cfg.get("shared_expert_intermediate_size")
    if shared_inter and not shared:
        shared = 1  # Qwen-MoE: one shared expert of its own width
    first_dense = int(cfg.get("first_k_dense_replace") or 0)
    return Experts(
        num_experts=int(n),
        experts_per_token=int(per_tok or 2),
        expert_intermediate_size=int(inter),
        num_shared_experts=shared,
        shared_intermediate_size=int(shared_inter) if shared_inter else None,
        num_moe_layers=(num_layers - first_dense) if first_dense else None,
    )


def _sliding(cfg: Mapping[str, Any], num_layers: int) -> tuple[int | None, int | None]:
    window = cfg.get("sliding_window")
    if not window or cfg.get("use_sliding_window") is False:
        return None, None
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list) and layer_types:
        return int(window), sum(1 for t in layer_types if "sliding" in str(t))
    pattern = cfg.get("sliding_window_pattern")
    if isinstance(pattern, int) and pattern > 1:  # every pattern-th layer is global
        return int(window), num_layers - num_layers // pattern
    if cfg.get("model_type") in {"gemma2", "gpt_oss"}:  # alternate local/global
        return int(window), num_layers // 2
    return int(window), None


def _tied(cfg: Mapping[str, Any], raw: Mapping[str, Any], model_type: str) -> bool:
    for source in (cfg, raw):
        if source.get("tie_word_embeddings") is not None:
            return bool(source["tie_word_embeddings"])
    return model_type not in _UNTIED_BY_DEFAULT


def config_to_architecture(raw: Mapping[str, Any], source: str) -> Architecture:
    """Normalise an HF config dict; raises ``SpecError`` naming the missing key."""
    cfg = _text_config(raw)
    model_type = str(cfg.get("model_type") or raw.get("model_type") or "unknown")

    def need(field: str) -> int:
        value = _first(cfg, _ALIASES[field])
        if value is None:
            raise SpecError(_ALIASES[field][0], f"missing from config.json (model_type {model_type})")
        return int(value)

    layers = need("num_layers")
    hidden = need("hidden_size")
    heads = need("num_heads")
    kv = cfg.get("num_key_value_heads") or cfg.get("num_kv_heads")
    if kv is None:
        kv = 1 if cfg.get("multi_query") else heads
    head_dim = cfg.get("head_dim") or cfg.get("d_kv") or hidden // heads
    inter = _first(cfg, _ALIASES["intermediate_size"]) or 4 * hidden
    vocab = cfg.get("vocab_size") or cfg.get("padded_vocab_size")
    if not vocab:
        raise SpecError("vocab_size", f"missing from config.json (model_type {model_type})")
    max_pos = _first(cfg, _ALIASES["max_position_embeddings"]) or 2048
    window, sliding_layers = _sliding({**cfg, "model_type": model_type}, layers)
    is_t5 = model_type in {"t5", "mt5", "umt5"} or bool(cfg.get("is_encoder_decoder"))
    gated = str(cfg.get("feed_forward_proj", "")).startswith("gated") or model_type not in _PLAIN_MLP_TYPES
    if is_t5:
        gated = str(cfg.get("feed_forward_proj", "")).startswith("gated")
        max_pos = max_pos if "n_positions" in cfg else 512  # relative positions: no hard limit
    arch_classes = raw.get("architectures") or []
    return Architecture(
        model_type=model_type,
        arch_class=arch_classes[0] if arch_classes else None,
        num_layers=layers,
        hidden_size=hidden,
        num_heads=heads,
        num_kv_heads=int(kv),
        head_dim=int(head_dim),
        intermediate_size=int(inter),
        vocab_size=int(vocab),
        max_position_embeddings=int(max_pos),
        tied_embeddings=_tied(cfg, raw, model_type),
        mlp="gated" if gated else "plain",
        attention_bias=bool(cfg.get("attention_bias") or model_type in {"qwen2", "qwen2_moe"}),
        rope_theta=float(cfg["rope_theta"]) if cfg.get("rope_theta") else None,
        rope_scaling=dict(cfg["rope_scaling"]) if isinstance(cfg.get("rope_scaling"), Mapping) else None,
        sliding_window=window,
        num_sliding_layers=sliding_layers,
        experts=_experts(cfg, layers),
        kind="encoder-decoder" if is_t5 else "decoder",
        num_decoder_layers=int(cfg["num_decoder_layers"]) if is_t5 and cfg.get("num_decoder_layers") else None,
        kv_lora_rank=int(cfg["kv_lora_rank"]) if cfg.get("kv_lora_rank") else None,
        qk_rope_head_dim=int(cfg["qk_rope_head_dim"]) if cfg.get("qk_rope_head_dim") else None,
        source=source,
    )


def context_from_config(raw: Mapping[str, Any]) -> tuple[int, str]:
    """The context length a config supports and where that figure comes from."""
    cfg = _text_config(raw)
    base = _first(cfg, _ALIASES["max_position_embeddings"])
    scaling = cfg.get("rope_scaling")
    if isinstance(scaling, Mapping) and base:
        kind = scaling.get("rope_type") or scaling.get("type")
        orig = scaling.get("original_max_position_embeddings")
        factor = scaling.get("factor")
        if kind == "yarn" and factor and orig and int(orig * factor) > int(base):
            return int(orig * factor), f"rope_scaling yarn factor {factor} x {orig}"
        return int(base), f"max_position_embeddings (rope_scaling {kind})"
    if base:
        return int(base), "max_position_embeddings"
    return 512, "default for relative-position models (no max_position_embeddings)"
