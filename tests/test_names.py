"""parse_name explains model names and file names from the name alone."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmscout.catalog.names import ParsedName, parse_name
from llmscout.errors import InvalidValueError

B, M = 10**9, 10**6

# One row per name: the fields that matter for it. Fields not listed are not checked here.
EXPECTED: dict[str, dict[str, object]] = {
    "SmolLM2-360M-Instruct-q4f16_1-MLC": dict(
        family="smollm2", params=360 * M, params_label="360M", tuning=["instruct"],
        quant="q4f16_1", quant_bits=4, quant_scheme="mlc", weight_bits=4,
        activation_dtype="f16", quant_variant="_1", format="mlc"),
    "CodeLlama-13b-Instruct.Q3_K_M.gguf": dict(
        family="codellama", params=13 * B, tuning=["instruct", "code"], quant="Q3_K_M",
        quant_bits=3, quant_scheme="k-quant", k_quant_size="M", format="gguf"),
    "Llama-3.2-3B-Instruct-Q4_K_M.gguf": dict(
        family="llama-3.2", version="3.2", params=3 * B, tuning=["instruct"], quant="Q4_K_M",
        quant_bits=4, quant_scheme="k-quant", k_quant_size="M", typical_bpw=4.84,
        format="gguf"),
    "Qwen2.5-7B-Instruct-AWQ": dict(
        family="qwen2.5", params=7 * B, tuning=["instruct"], quant="AWQ", quant_bits=4,
        quant_scheme="awq", format="awq"),
    "mistralai/Mistral-7B-Instruct-v0.3": dict(
        org="mistralai", family="mistral", version="v0.3", params=7 * B, tuning=["instruct"],
        quant=None, format=None),
    "gemma-2-9b-it": dict(
        family="gemma-2", params=9 * B, tuning=["instruct"], quant=None, format=None),
    "TinyLlama-1.1B-Chat-v1.0": dict(
        family="tinyllama", version="v1.0", params=1_100_000_000, params_label="1.1B",
        tuning=["chat"]),
    "Phi-3-mini-4k-instruct": dict(
        family="phi-3", params=3_800_000_000, variant=["mini"], tuning=["instruct"],
        context_hint=4096),
    "Mixtral-8x7B-v0.1": dict(
        family="mixtral", version="v0.1", experts=8, expert_params=7 * B, params=None,
        params_label="8x7B", tuning=["base"]),
    "Qwen3-30B-A3B": dict(
        family="qwen3", params=30 * B, active_params=3 * B, params_label="30B-A3B",
        tuning=["instruct", "reasoning"]),
    "gpt-oss-20b": dict(
        family="gpt-oss", params=20 * B, tuning=["instruct", "reasoning"], quant=None),
    "flan-t5-large": dict(
        family="flan-t5", params=783 * M, params_label="large", tuning=["instruct"]),
    "Meta-Llama-3.1-8B-Instruct-Q5_K_S.gguf": dict(
        family="llama-3.1", params=8 * B, tuning=["instruct"], quant="Q5_K_S", quant_bits=5,
        k_quant_size="S", format="gguf"),
    "qwen2.5-coder-1.5b-instruct-q8_0.gguf": dict(
        family="qwen2.5", variant=["coder"], params=1_500_000_000,
        tuning=["instruct", "code"], quant="Q8_0", quant_bits=8, quant_scheme="legacy-ggml",
        format="gguf"),
    "DeepSeek-R1-Distill-Qwen-7B": dict(
        family="deepseek-r1", base_family="qwen", variant=["distill"], params=7 * B,
        tuning=["reasoning"]),
    "gemma-3-270m": dict(family="gemma-3", params=270 * M, tuning=["base"], quant=None),
    "Llama-2-7b-chat-hf": dict(
        family="llama-2", params=7 * B, tuning=["chat"], variant=["hf"], format=None),
    "Qwen2.5-7B-Instruct-GPTQ-Int4": dict(
        family="qwen2.5", params=7 * B, tuning=["instruct"], quant="GPTQ-Int4",
        quant_bits=4, quant_scheme="gptq", format="gptq"),
    "Phi-3.5-mini-instruct-IQ4_XS.gguf": dict(
        family="phi-3.5", params=3_800_000_000, tuning=["instruct"], quant="IQ4_XS",
        quant_bits=4, quant_scheme="i-quant", format="gguf"),
    "SmolLM2-135M-Instruct-q0f16-MLC": dict(
        family="smollm2", params=135 * M, tuning=["instruct"], quant="q0f16", quant_bits=16,
        quant_scheme="mlc", precision="f16", format="mlc"),
    "model-f16.gguf": dict(
        family=None, params=None, quant=None, quant_bits=16, precision="f16", format="gguf",
        unparsed=[]),
    "Mistral-Nemo-Instruct-2407": dict(
        family="mistral", variant=["nemo"], version="2407", params=None, tuning=["instruct"]),
    "Qwen1.5-MoE-A2.7B-Chat": dict(
        family="qwen1.5", variant=["moe"], params=None, active_params=2_700_000_000,
        tuning=["chat"], unparsed=[]),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_known_name_parses_to_expected_fields(name):
    got = parse_name(name).to_dict()
    expected = EXPECTED[name]
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize("name", list(EXPECTED))
def test_known_name_leaves_nothing_unparsed_and_explains_every_part(name):
    parsed = parse_name(name)
    assert parsed.unparsed == ()
    assert len(parsed.notes) >= 2


def test_mixtral_note_says_total_is_not_derivable():
    notes = " ".join(parse_name("Mixtral-8x7B-v0.1").notes)
    assert "not derivable" in notes


def test_flan_t5_size_word_note_says_it_is_the_models_naming():
    notes = " ".join(parse_name("flan-t5-xl").notes)
    assert "family's name for a size" in notes
    assert parse_name("flan-t5-xl").params == 2_850_000_000


@pytest.mark.parametrize("word,params", [
    ("small", 77 * M), ("base", 248 * M), ("large", 783 * M), ("xl", 2_850 * M),
    ("xxl", 11_300 * M)])
def test_flan_t5_size_words_map_to_parameter_counts(word, params):
    parsed = parse_name(f"google/flan-t5-{word}")
    assert (parsed.params, parsed.tuning) == (params, ("instruct",))


@pytest.mark.parametrize("word,params", [("mini", 3_800 * M), ("small", 7 * B),
                                         ("medium", 14 * B)])
def test_phi3_size_words_map_to_parameter_counts(word, params):
    assert parse_name(f"Phi-3-{word}-128k-instruct").params == params


def test_phi3_128k_context_hint():
    assert parse_name("Phi-3-mini-128k-instruct").context_hint == 131_072


def test_q4f32_1_has_f32_activations():
    parsed = parse_name("Llama-3.2-1B-Instruct-q4f32_1-MLC")
    assert (parsed.activation_dtype, parsed.weight_bits, parsed.quant_variant) == (
        "f32", 4, "_1")


def test_legacy_q4_0_is_legacy_ggml():
    parsed = parse_name("tinyllama-1.1b-chat-v1.0.Q4_0.gguf")
    assert (parsed.quant, parsed.quant_scheme, parsed.quant_bits) == ("Q4_0", "legacy-ggml", 4)


def test_iq2_xs_is_an_i_quant():
    parsed = parse_name("Meta-Llama-3-8B-Instruct-IQ2_XS.gguf")
    assert (parsed.quant_scheme, parsed.quant_bits, parsed.format) == ("i-quant", 2, "gguf")


def test_mxfp4_quant_is_4_bit():
    parsed = parse_name("gpt-oss-20b-MXFP4.gguf")
    assert (parsed.quant, parsed.quant_bits, parsed.format) == ("MXFP4", 4, "gguf")


def test_q6_k_has_no_mix_size():
    parsed = parse_name("Qwen2.5-0.5B-Instruct-Q6_K.gguf")
    assert (parsed.quant, parsed.quant_bits, parsed.k_quant_size) == ("Q6_K", 6, None)


def test_k_quant_without_extension_is_still_gguf():
    assert parse_name("Llama-3.2-3B-Instruct-Q4_K_M").format == "gguf"


def test_qwen3_base_is_base_not_reasoning():
    assert parse_name("Qwen/Qwen3-30B-A3B-Base").tuning == ("base",)


def test_old_gemma_2b_is_gemma_not_gemma_2():
    parsed = parse_name("gemma-2b-it")
    assert (parsed.family, parsed.params) == ("gemma", 2 * B)


def test_hub_url_gives_org_and_file():
    parsed = parse_name("https://huggingface.co/bartowski/Llama-3.2-3B-Instruct-GGUF/resolve/"
                        "main/Llama-3.2-3B-Instruct-Q4_K_M.gguf")
    assert (parsed.org, parsed.family, parsed.quant) == ("bartowski", "llama-3.2", "Q4_K_M")


def test_local_path_uses_file_name_and_no_org():
    parsed = parse_name("/models/gguf/Llama-3.2-1B-Instruct-Q8_0.gguf")
    assert (parsed.org, parsed.family, parsed.params) == (None, "llama-3.2", 1 * B)


def test_hub_cache_path_reads_repo_and_shard():
    parsed = parse_name("/root/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B-Instruct/"
                        "snapshots/abc/model-00001-of-00002.safetensors")
    assert (parsed.org, parsed.family, parsed.params, parsed.shard, parsed.format) == (
        "Qwen", "qwen2.5", 500 * M, (1, 2), "safetensors")


def test_ollama_tag_parses():
    parsed = parse_name("llama3.2:3b-instruct-q4_K_M")
    assert (parsed.family, parsed.params, parsed.quant) == ("llama-3.2", 3 * B, "Q4_K_M")


def test_mlx_community_4bit():
    parsed = parse_name("mlx-community/Llama-3.2-3B-Instruct-4bit")
    assert (parsed.format, parsed.quant_bits) == ("mlx", 4)


def test_notes_follow_the_order_of_the_name():
    notes = parse_name("Llama-3.2-3B-Instruct-Q4_K_M.gguf").notes
    starts = [n.split("'")[1] for n in notes]
    assert starts == ["Llama-3.2", "3B", "Instruct", "Q4_K_M", ".gguf"]


def test_explain_lists_facts_and_notes():
    text = parse_name("Qwen2.5-7B-Instruct-AWQ").explain()
    assert "family: qwen2.5" in text
    assert "quantization: AWQ (awq, 4-bit)" in text
    assert "- 'AWQ':" in text


def test_to_dict_is_json_serialisable():
    d = parse_name("Qwen3-30B-A3B").to_dict()
    assert json.loads(json.dumps(d))["tuning"] == ["instruct", "reasoning"]


def test_parsed_name_is_frozen():
    parsed = parse_name("gemma-3-270m")
    with pytest.raises(AttributeError):
        parsed.family = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", ["???", "hello world", "x" * 10_000])
def test_unknown_names_give_no_family_and_a_note(name):
    parsed = parse_name(name)
    assert parsed.family is None
    assert parsed.notes


def test_very_long_input_says_it_was_not_parsed():
    parsed = parse_name("llama-3-" * 2000)
    assert parsed.family is None
    assert "too long" in parsed.notes[0]


def test_unknown_words_are_listed_as_unparsed():
    assert parse_name("hello world").unparsed == ("hello", "world")


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_empty_or_non_string_input_raises_invalid_value(bad):
    with pytest.raises(InvalidValueError, match="name="):
        parse_name(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_but_invalid_value(text):
    try:
        parsed = parse_name(text)
    except InvalidValueError:
        assert not text.strip()
        return
    assert isinstance(parsed, ParsedName)
    json.dumps(parsed.to_dict())
    parsed.explain()


_PIECES = st.sampled_from([
    "Llama", "3.2", "3B", "Instruct", "Q4_K_M", "q4f16_1", "MLC", "gguf", "-", "_", ".", "/",
    "A3B", "8x7B", "v0.1", "2407", "4k", "it", "mini", "flan-t5", "GPTQ-Int4", "AWQ", "x",
    "models--", "hf", "f16", "IQ4_XS", "99999", "Kelvin\u212a", "\u0663",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_name_like_text_never_raises(text):
    try:
        parse_name(text)
    except InvalidValueError:
        assert not text.strip()
