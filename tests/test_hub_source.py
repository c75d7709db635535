"""The Hugging Face Hub source, against recorded responses replayed on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _replay import ReplayServer
from llmscout.catalog.resolve import resolve_model
from llmscout.catalog.sources import hub
from llmscout.errors import OfflineError, UnknownModelError

DATA = Path(__file__).parent / "data" / "hub"
TOKEN = "hf_test_secret_token_123"


def _route(method, path, headers, body):
    path = path.replace("someone/qwen-finetune", "Qwen/Qwen2.5-0.5B-Instruct")
    if path.startswith("/api/models/"):
        repo = path[len("/api/models/"):].split("?")[0]
        f = DATA / (repo.replace("/", "--") + ".info.json")
        return (200, json.loads(f.read_text())) if f.is_file() else (404, {"error": "Repository not found"})
    if "/resolve/main/config.json" in path:
        repo = path.lstrip("/").split("/resolve/")[0]
        f = DATA / (repo.replace("/", "--") + ".config.json")
        info = json.loads((DATA / (repo.replace("/", "--") + ".info.json")).read_text())
        if info.get("gated") and headers.get("authorization") != f"Bearer {TOKEN}":
            return 403, {"error": "Access to model is restricted"}
        return 200, json.loads(f.read_text())
    return 404, {"error": "not found"}


@pytest.fixture
def hub_server(monkeypatch):
    with ReplayServer(_route) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        # huggingface_hub reads HF_HUB_OFFLINE once at import; another test may have imported it
        import huggingface_hub.constants as hf_constants

        monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
        yield server


def test_public_repo_gives_exact_params_architecture_and_licence(hub_server):
    spec = hub.hub_to_spec("Qwen/Qwen2.5-0.5B-Instruct")
    assert spec.params == 494_032_768 and spec.origin == "hub"
    assert spec.architecture.num_kv_heads == 2 and spec.architecture.tied_embeddings
    assert spec.license == "apache-2.0" and spec.commercial is True and spec.gated is False
    assert "instruct" in spec.tuning
    assert spec.context_length == 32768


def test_results_are_cached_and_marked(hub_server):
    hub.fetch_hub_record("Qwen/Qwen2.5-0.5B-Instruct")
    n = len(hub_server.requests)
    again = hub.fetch_hub_record("Qwen/Qwen2.5-0.5B-Instruct")
    assert again["cached"] is True and len(hub_server.requests) == n


def test_gated_repo_without_token_says_how_to_get_access(hub_server):
    spec = hub.hub_to_spec("meta-llama/Llama-3.2-1B")
    assert spec.gated is True and spec.architecture is None
    assert "HF_TOKEN" in spec.notes
    assert spec.params == 1_235_814_400  # still known from the public model info


def test_token_is_sent_but_never_cached(hub_server, monkeypatch, _isolated_home):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    spec = hub.hub_to_spec("meta-llama/Llama-3.2-1B", refresh=True)
    assert spec.architecture.num_layers == 16
    assert any(r["headers"].get("authorization") == f"Bearer {TOKEN}" for r in hub_server.requests)
    for f in (_isolated_home / "cache").rglob("*"):
        if f.is_file():
            assert TOKEN not in f.read_text()


def test_unknown_repo_is_unknown_model(hub_server):
    with pytest.raises(UnknownModelError):
        hub.fetch_hub_record("nobody/nothing")


def test_offline_mode_gives_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="offline"):
        hub.fetch_hub_record("Qwen/Qwen2.5-0.5B-Instruct")


def test_unreachable_hub_is_an_offline_error(monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(OfflineError, match="cannot reach"):
        hub.fetch_hub_record("Qwen/Qwen2.5-0.5B-Instruct", timeout=2)


def test_resolve_model_falls_back_to_the_hub_for_repo_ids_not_in_the_catalog(hub_server):
    spec = resolve_model("someone/qwen-finetune")
    assert spec.origin == "hub" and spec.params == 494_032_768


def test_resolve_model_offline_gives_did_you_mean_not_a_network_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UnknownModelError):
        resolve_model("someone/qwen-finetune")
