"""A running Ollama server's models, against recorded responses replayed on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _replay import ReplayServer
from llmscout.catalog.params import count_params
from llmscout.catalog.sources.ollama import list_ollama_models
from llmscout.errors import OfflineError

DATA = Path(__file__).parent / "data" / "ollama"


def _route(method, path, headers, body):
    if path == "/api/tags":
        return 200, json.loads((DATA / "tags.json").read_text())
    if path == "/api/show":
        name = json.loads(body)["model"].replace(":", "_")
        f = DATA / f"show-{name}.json"
        return (200, json.loads(f.read_text())) if f.is_file() else (404, {"error": "model not found"})
    return 404, {"error": "not found"}


@pytest.fixture
def ollama():
    with ReplayServer(_route) as server:
        yield server


def test_lists_every_pulled_model_with_quant_and_size(ollama):
    models = {m.name: m for m in list_ollama_models(ollama.url)}
    assert set(models) == {"llama3.2:3b", "qwen2.5:0.5b"}
    llama = models["llama3.2:3b"]
    assert llama.id == "ollama:llama3.2:3b" and llama.origin == "ollama"
    assert llama.artifacts[0].quant == "Q4_K_M" and llama.artifacts[0].size_bytes == 2019393189
    assert llama.params == 3_212_749_888


def test_architecture_comes_from_the_gguf_metadata_and_tie_is_inferred(ollama):
    llama = {m.name: m for m in list_ollama_models(ollama.url)}["llama3.2:3b"]
    a = llama.architecture
    assert (a.num_layers, a.hidden_size, a.num_heads, a.num_kv_heads, a.vocab_size) == (28, 3072, 24, 8, 128256)
    assert a.tied_embeddings is True  # Llama 3.2 3B ties its output head: only that matches 3.21B
    assert abs(count_params(a).total - llama.params) / llama.params < 0.01
    assert llama.context_length == 131072 and llama.tuning == ("instruct",)


def test_missing_vocabulary_leaves_architecture_unknown_not_wrong(ollama):
    qwen = {m.name: m for m in list_ollama_models(ollama.url)}["qwen2.5:0.5b"]
    assert qwen.architecture is None and qwen.params == 494_032_768


def test_unreachable_server_says_how_to_fix_it():
    with pytest.raises(OfflineError, match="ollama serve"):
        list_ollama_models("http://127.0.0.1:9")
