"""The glossary: complete, well-formed entries, forgiving lookup and linking of terms in text."""

from __future__ import annotations

import pytest

from llmscout.errors import InvalidFileError, InvalidValueError
from llmscout.recommend.glossary import (
    explain_term,
    glossary_terms,
    link_terms,
    load_glossary,
    split_sentences,
)

REQUIRED = [
    "quantization", "mlc-quant-naming", "k-quants", "legacy-quants", "i-quants", "gguf", "safetensors", "awq",
    "gptq", "mlc-webllm", "context-length", "rope-scaling", "instruct-vs-base", "chat-template", "kv-cache",
    "gqa-mqa", "sliding-window-attention", "moe", "lora", "qlora", "full-fine-tuning", "few-shot-prompting",
    "system-prompt", "tokens", "prefill-decode", "time-to-first-token", "memory-bandwidth", "unified-memory",
    "offloading", "perplexity", "arena-elo", "mmlu", "humaneval", "ifeval", "gated-model", "open-weights",
    "distillation", "reasoning-models", "temperature",
]


def test_every_required_term_has_an_entry():
    assert set(REQUIRED) <= set(glossary_terms())


def test_terms_are_listed_once_each():
    terms = glossary_terms()
    assert len(terms) == len(set(terms))


@pytest.mark.parametrize("key", REQUIRED)
def test_entries_have_3_to_6_sentences_a_source_and_known_related_terms(key):
    entry = explain_term(key)
    assert 3 <= len(entry.sentences) <= 6
    assert entry.source.startswith("https://")
    assert all(url.startswith("https://") for url in entry.also)
    assert entry.related and set(entry.related) <= set(glossary_terms())
    assert key not in entry.related


@pytest.mark.parametrize(("query", "key"), [
    ("kv-cache", "kv-cache"), ("KV Cache", "kv-cache"), ("kv_cache", "kv-cache"), ("GGUF", "gguf"),
    ("YaRN", "rope-scaling"), ("Mixture of Experts", "moe"), ("TTFT", "time-to-first-token"),
    ("quantisation", "quantization"), ("perplexty", "perplexity"), ("Grouped-Query Attention", "gqa-mqa"),
    ("base", "instruct-vs-base"), ("HF_TOKEN", "gated-model"),
])
def test_lookup_forgives_case_spelling_and_aliases(query, key):
    assert explain_term(query).key == key


@pytest.mark.parametrize(("quant", "key"), [
    ("Q4_K_M", "k-quants"), ("Q5_K_S", "k-quants"), ("q6_k", "k-quants"), ("Q5_K_L", "k-quants"),
    ("Q4_0", "legacy-quants"), ("Q8_0", "legacy-quants"), ("q5_1", "legacy-quants"),
    ("IQ2_XXS", "i-quants"), ("IQ4_XS", "i-quants"), ("iq3_m", "i-quants"),
    ("q4f16_1", "mlc-quant-naming"), ("q4f32_1", "mlc-quant-naming"), ("q0f16", "mlc-quant-naming"),
])
def test_quantization_names_lead_to_their_family(quant, key):
    assert explain_term(quant).key == key


def test_unknown_term_suggests_close_ones():
    with pytest.raises(InvalidValueError) as err:
        explain_term("cache")
    assert "kv-cache" in str(err.value)
    assert err.value.field == "term"


def test_unrelated_term_points_to_the_list():
    with pytest.raises(InvalidValueError, match="glossary_terms"):
        explain_term("zebra crossing")


def test_text_joins_the_sentences():
    entry = explain_term("tokens")
    assert entry.text.startswith("Models read and write text as tokens")
    assert "0.75" in entry.text or "three quarters" in entry.text


def test_link_terms_lists_mentions_in_order():
    text = "Use the Q4_K_M GGUF: the MoE model reaches 30 tokens/s once the KV cache fits."
    assert link_terms(text) == ["k-quants", "gguf", "moe", "tokens", "kv-cache"]


def test_link_terms_ignores_words_inside_other_words_and_lookup_only_aliases():
    assert link_terms("A database keeps the instructions at its base.") == []


def test_link_terms_finds_multiword_aliases_and_quant_names():
    found = link_terms("This base model ships as q4f16_1 for WebLLM; IQ2_XXS is smaller.")
    assert found == ["instruct-vs-base", "mlc-quant-naming", "mlc-webllm", "i-quants"]


def test_sentence_split_keeps_decimals_and_file_names():
    assert split_sentences("It uses 4.5 bits per weight. See config.json for more. Done.") == (
        "It uses 4.5 bits per weight.", "See config.json for more.", "Done.")


def test_a_malformed_glossary_file_names_the_bad_entry(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("terms:\n  x:\n    title: X\n    text: One. Two.\n    source: https://example.org\n")
    with pytest.raises(InvalidFileError) as err:
        load_glossary(path)
    assert err.value.field == "terms.x.text"
    assert "2 sentences" in str(err.value)


def test_a_related_term_without_entry_is_rejected(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("terms:\n  x:\n    title: X\n    text: One. Two. Three.\n    source: https://example.org\n"
                    "    related: [nope]\n")
    with pytest.raises(InvalidFileError, match="nope"):
        load_glossary(path)
