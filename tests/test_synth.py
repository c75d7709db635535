"""Random-weight GGUF models: llama.cpp loads and runs every variant, and the header reader gets
the exact shape and parameter count back."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from llmscout.catalog.params import count_params
from llmscout.catalog.sources.gguf import gguf_info, gguf_to_spec
from llmscout.errors import InvalidValueError
from llmscout.synth import (
    CHATML_TEMPLATE,
    SynthError,
    SynthShape,
    build_gguf,
    smoke_run,
    synth_vocab,
)

pytest_plugins = ["_gguf_fixtures"]  # synth_gguf, tiny_shapes, tiny_gguf

requires_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed")

VARIANTS = ["llama", "qwen2", "gemma3", "moe"]
RUNS = [("llama", "F16"), ("llama", "Q8_0"), ("llama", "Q6_K"), ("llama", "Q5_K_M"),
        ("llama", "Q4_K_M"), ("llama", "Q4_0"), ("qwen2", "Q4_K_M"), ("gemma3", "Q4_K_M"),
        ("moe", "Q4_K_M")]


@requires_llama_cpp
@pytest.mark.parametrize(("variant", "quant"), RUNS)
def test_llama_cpp_loads_and_generates(synth_gguf, tiny_shapes, variant, quant):
    report = smoke_run(synth_gguf(variant, quant), n_tokens=3, n_threads=2)
    assert report["n_tokens"] == 3
    assert report["n_vocab"] == tiny_shapes[variant].vocab


@pytest.mark.parametrize("variant", VARIANTS)
def test_header_gives_the_shape_back(synth_gguf, tiny_shapes, variant):
    shape = tiny_shapes[variant]
    a = gguf_to_spec(synth_gguf(variant)).architecture
    got = (a.model_type, a.num_layers, a.hidden_size, a.num_heads, a.num_kv_heads, a.head_dim,
           a.intermediate_size, a.vocab_size, a.max_position_embeddings, a.tied_embeddings,
           a.sliding_window)
    want = (shape.arch, shape.layers, shape.hidden, shape.heads, shape.kv_heads, shape.hd,
            shape.ffn_rows, shape.vocab, shape.context, shape.tied, shape.sliding_window)
    assert got == want


def test_header_gives_the_expert_layout_back(synth_gguf, tiny_shapes):
    shape = tiny_shapes["moe"]
    e = gguf_to_spec(synth_gguf("moe")).architecture.experts
    assert (e.num_experts, e.experts_per_token, e.expert_intermediate_size) == (
        shape.experts, shape.experts_used, shape.expert_ffn)


@pytest.mark.parametrize("variant", VARIANTS)
def test_header_gives_the_exact_parameter_count(synth_gguf, tiny_shapes, variant):
    assert gguf_to_spec(synth_gguf(variant)).params == tiny_shapes[variant].param_count()


@pytest.mark.parametrize("variant", ["llama", "qwen2", "moe"])
def test_parameter_count_matches_the_architecture_formula(synth_gguf, variant):
    spec = gguf_to_spec(synth_gguf(variant))
    assert spec.params == count_params(spec.architecture).total


@requires_llama_cpp
@pytest.mark.parametrize("quant", ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0"])
def test_quantized_file_keeps_the_parameter_count_and_names_its_quant(
        synth_gguf, tiny_shapes, quant):
    info = gguf_info(synth_gguf("llama", quant))
    assert (info.quant, info.params) == (quant, tiny_shapes["llama"].param_count())


def test_gemma3_sliding_layers_follow_the_pattern(synth_dir):
    shape = SynthShape(arch="gemma3", layers=6, hidden=256, heads=4, kv_heads=1, ffn=512,
                       vocab=512, tied=True, sliding_window=32, sliding_window_pattern=3)
    arch = gguf_to_spec(build_gguf(synth_dir, shape)).architecture
    assert arch.num_sliding_layers == 4  # layers 0, 1, 3, 4 slide; 2 and 5 are global


_SWA_LOG = r"""
import sys, llama_cpp
llama_cpp.Llama(sys.argv[1], n_ctx=64, n_threads=2, verbose=True)
"""


@requires_llama_cpp
def test_llama_cpp_agrees_on_the_sliding_layers(synth_gguf, tiny_shapes):
    path = synth_gguf("gemma3")
    proc = subprocess.run([sys.executable, "-c", _SWA_LOG, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-500:]
    sliding = gguf_to_spec(path).architecture.num_sliding_layers
    assert proc.stderr.count("is_swa = 1") == sliding == 5


@requires_llama_cpp
def test_chat_template_reaches_llama_cpp(synth_gguf):
    report = smoke_run(synth_gguf("llama", "Q8_0", chat_template=CHATML_TEMPLATE), n_tokens=1)
    assert report["chat_template"] == CHATML_TEMPLATE


_ROUND_TRIP = r"""
import sys, llama_cpp
llm = llama_cpp.Llama(sys.argv[1], vocab_only=True, verbose=False)
text = sys.argv[2]
toks = llm.tokenize(text.encode(), add_bos=False)
back = llm.detokenize(toks).decode()
print(len(toks), back.removeprefix(" ") == text)  # SentencePiece adds a word-start space
"""


@requires_llama_cpp
def test_vocabulary_tokenizes_any_text(tiny_gguf):
    text = "Grüße, 世界! tokens: 42"
    proc = subprocess.run([sys.executable, "-c", _ROUND_TRIP, str(tiny_gguf), text],
                          capture_output=True, text=True, timeout=60)
    n, same = proc.stdout.split()
    assert int(n) > 0 and same == "True"


def test_vocabulary_has_the_requested_size_and_unique_tokens():
    tokens, scores, types = synth_vocab(262_144)
    assert len(tokens) == len(set(tokens)) == len(scores) == len(types) == 262_144
    assert tokens[:3] == ["<unk>", "<s>", "</s>"] and "<0xFF>" in tokens


@pytest.mark.slow
@requires_llama_cpp
def test_large_vocabulary_model_loads(tmp_path):
    shape = SynthShape(layers=1, hidden=64, heads=2, kv_heads=1, ffn=128, vocab=262_144, tied=True)
    path = build_gguf(tmp_path, shape, quant="Q8_0")
    assert gguf_info(path).vocab_size == 262_144
    assert smoke_run(path, n_tokens=2)["n_vocab"] == 262_144


def test_built_files_are_cached(synth_dir, tiny_shapes):
    first = build_gguf(synth_dir, tiny_shapes["llama"])
    stamp = first.stat().st_mtime_ns
    again = build_gguf(synth_dir, tiny_shapes["llama"])
    assert again == first and again.stat().st_mtime_ns == stamp


def test_same_seed_gives_identical_files(tmp_path, tiny_gguf, tiny_shapes):
    again = build_gguf(tmp_path, tiny_shapes["llama"], seed=0)
    assert again.read_bytes() == tiny_gguf.read_bytes()


def test_other_seed_gives_other_weights_and_another_cache_entry(synth_dir, tiny_gguf, tiny_shapes):
    other = build_gguf(synth_dir, tiny_shapes["llama"], seed=1)
    assert other != tiny_gguf and other.read_bytes() != tiny_gguf.read_bytes()


def test_explicit_file_name_is_written(tmp_path, tiny_shapes):
    path = build_gguf(tmp_path / "sub" / "model.gguf", tiny_shapes["llama"])
    assert path == tmp_path / "sub" / "model.gguf" and gguf_info(path).quant == "F16"


def test_heads_must_be_a_multiple_of_kv_heads(tmp_path):
    with pytest.raises(InvalidValueError, match="shape.kv_heads"):
        build_gguf(tmp_path, SynthShape(heads=4, kv_heads=3))


def test_sliding_window_needs_gemma3(tmp_path):
    with pytest.raises(InvalidValueError, match="shape.sliding_window"):
        build_gguf(tmp_path, SynthShape(sliding_window=128))


def test_vocabulary_beyond_262144_is_refused(tmp_path):
    with pytest.raises(InvalidValueError, match="shape.vocab"):
        build_gguf(tmp_path, SynthShape(vocab=300_000))


def test_unknown_quant_is_refused(tmp_path):
    with pytest.raises(InvalidValueError, match="Q4_K_M"):
        build_gguf(tmp_path, SynthShape(), quant="Q3_X")


@requires_llama_cpp
def test_smoke_run_reports_a_model_llama_cpp_cannot_load(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(SynthError, match="bad.gguf"):
        smoke_run(bad)
