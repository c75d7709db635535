"""A local Hugging Face model folder: config.json plus safetensors headers."""

from __future__ import annotations

import json
import struct

import pytest

from llmscout.catalog.params import count_params
from llmscout.catalog.resolve import resolve_model
from llmscout.catalog.sources.folder import folder_to_spec
from llmscout.catalog.sources.hf_config import config_to_architecture, context_from_config
from llmscout.errors import InvalidFileError, MissingFileError

# Shape of Qwen2.5-0.5B-Instruct's config.json (huggingface.co/Qwen/Qwen2.5-0.5B-Instruct)
QWEN_CONFIG = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
    "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 32768,
    "tie_word_embeddings": True, "rope_theta": 1000000.0, "sliding_window": 32768,
    "use_sliding_window": False, "torch_dtype": "bfloat16",
}


def _write_safetensors(path, tensors: dict[str, tuple[str, list[int]]]):
    header, offset = {}, 0
    sizes = {"F32": 4, "BF16": 2, "F16": 2}
    for name, (dtype, shape) in tensors.items():
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n * sizes[dtype]]}
        offset += n * sizes[dtype]
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + b"\0" * offset)


def test_config_only_folder_gives_architecture_and_computed_params(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(QWEN_CONFIG))
    spec = folder_to_spec(tmp_path)
    a = spec.architecture
    assert (a.num_layers, a.hidden_size, a.num_heads, a.num_kv_heads, a.head_dim) == (24, 896, 14, 2, 64)
    assert a.tied_embeddings and a.attention_bias and a.sliding_window is None
    # Qwen2.5-0.5B has 494,032,768 parameters (safetensors metadata on the Hub)
    assert abs(spec.params - 494_032_768) / 494_032_768 < 0.01
    assert spec.sources["params"].startswith("computed")
    assert spec.context_length == 32768


def test_safetensors_headers_give_exact_params_and_dtype(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**QWEN_CONFIG, "num_hidden_layers": 1}))
    _write_safetensors(tmp_path / "model.safetensors", {
        "embed": ("BF16", [1000, 16]), "norm": ("F32", [16]), "proj": ("BF16", [16, 16])})
    spec = folder_to_spec(tmp_path)
    assert spec.params == 1000 * 16 + 16 + 256
    assert spec.artifacts[0].precision == "bf16"
    assert spec.artifacts[0].size_bytes == (16000 + 256) * 2 + 16 * 4


def test_resolve_model_accepts_a_folder(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(QWEN_CONFIG))
    assert resolve_model(str(tmp_path)).origin == "folder"


def test_malformed_config_names_file_and_line(tmp_path):
    (tmp_path / "config.json").write_text('{\n  "model_type": "llama",\n  "hidden_size": ,\n}')
    with pytest.raises(InvalidFileError) as err:
        folder_to_spec(tmp_path)
    assert err.value.path.endswith("config.json") and err.value.line == 3


def test_config_missing_a_required_key_names_it(tmp_path):
    cfg = dict(QWEN_CONFIG)
    del cfg["num_hidden_layers"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(InvalidFileError, match="num_hidden_layers"):
        folder_to_spec(tmp_path)


def test_truncated_safetensors_is_reported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(QWEN_CONFIG))
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", 10_000) + b"{")
    with pytest.raises(InvalidFileError, match="corrupt safetensors header"):
        folder_to_spec(tmp_path)


def test_folder_without_config_and_missing_path(tmp_path):
    with pytest.raises(InvalidFileError, match="no config.json"):
        folder_to_spec(tmp_path)
    with pytest.raises(MissingFileError):
        folder_to_spec(tmp_path / "nope")


def test_mixtral_and_deepseek_style_moe_configs_are_normalised():
    mixtral = {"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
               "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
               "vocab_size": 32000, "max_position_embeddings": 32768, "num_local_experts": 8,
               "num_experts_per_tok": 2}
    a = config_to_architecture(mixtral, "test")
    assert a.experts.num_experts == 8 and a.experts.experts_per_token == 2
    pc = count_params(a)
    assert abs(pc.total - 46.7e9) / 46.7e9 < 0.01 and abs(pc.active - 12.9e9) / 12.9e9 < 0.02
    ds = {"model_type": "deepseek_v2", "hidden_size": 2048, "intermediate_size": 10944,
          "moe_intermediate_size": 1408, "num_hidden_layers": 27, "num_attention_heads": 16,
          "num_key_value_heads": 16, "vocab_size": 102400, "max_position_embeddings": 163840,
          "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6,
          "first_k_dense_replace": 1, "kv_lora_rank": 512, "qk_rope_head_dim": 64}
    b = config_to_architecture(ds, "test")
    assert b.experts.num_moe_layers == 26 and b.experts.num_shared_experts == 2 and b.kv_lora_rank == 512


def test_yarn_context_is_explained():
    cfg = {**QWEN_CONFIG, "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}
    ctx, why = context_from_config(cfg)
    assert ctx == 131072 and "yarn" in why
