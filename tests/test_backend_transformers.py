"""Hugging Face transformers on tiny random-weight models built here (no model hub)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from llmscout.trial.backends import get_backend  # noqa: E402
from llmscout.trial.backends.transformers import TransformersBackend  # noqa: E402
from llmscout.trial.prompting import build_request, render_prompt  # noqa: E402
from llmscout.trial.types import GenerationSettings, GenRequest  # noqa: E402

WORDS = ["the", "a", "cat", "dog", "sat", "on", "mat", "is", "good", "bad", "positive",
         "negative", "yes", "no", "hello", "world", "review", "label", "fine"]
CHAT = ("{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|>"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant{% endif %}")
SHOTS = [("good cat", "positive"), ("bad dog", "negative")]


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>"]
    vocab = {t: i for i, t in enumerate(specials + WORDS + [w.upper() for w in WORDS])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", pad_token="<pad>")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Folders of a tiny Llama (plain and with a chat template) and a tiny T5."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

    root = tmp_path_factory.mktemp("hf-models")
    tok = _tokenizer()
    n = len(tok)
    torch.manual_seed(0)
    llama = LlamaForCausalLM(LlamaConfig(
        vocab_size=n, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=1, eos_token_id=2, pad_token_id=0))
    t5 = T5ForConditionalGeneration(T5Config(
        vocab_size=n, d_model=32, d_ff=64, d_kv=8, num_layers=2, num_decoder_layers=2,
        num_heads=4, pad_token_id=0, eos_token_id=2, decoder_start_token_id=0))
    for name, model, template in (("llama", llama, None), ("llama-chat", llama, CHAT),
                                  ("t5", t5, None)):
        tok.chat_template = template
        model.save_pretrained(root / name)
        tok.save_pretrained(root / name)
    return root


@pytest.fixture(scope="module")
def causal(models):
    b = TransformersBackend(models / "llama")
    info = b.load()
    assert info.ok, info.error
    yield b
    b.close()


def settings(n: int = 6, **kw) -> GenerationSettings:
    return GenerationSettings(max_tokens=n, **kw)


def test_causal_model_loads_from_a_local_folder(causal):
    info = causal.load()
    assert info.ok and info.backend == "transformers"
    fresh = TransformersBackend(causal.source).load()
    assert fresh.load_s > 0 and fresh.memory_bytes is not None
    assert fresh.details["encoder_decoder"] is False and fresh.details["parameters"] > 0


def test_base_model_gets_a_plain_completion_prompt(causal):
    assert causal.template is None
    req = build_request("Label.", SHOTS, "fine cat", causal.template, settings())
    assert req.prompt.endswith("Input: fine cat\nOutput:")


def test_generation_is_measured(causal):
    [r] = causal.generate([GenRequest(prompt="the cat sat on", settings=settings(6), key="k")])
    assert r.ok and r.key == "k" and 0 < r.tokens_out <= 6
    assert r.tokens_in == causal.count_tokens(["the cat sat on"])[0]
    assert 0 < r.ttft_s <= r.latency_s and r.prefill_tokens_per_s > 0
    assert r.peak_memory_bytes > 50 * 2**20 and r.gpu_memory_bytes is None
    if r.tokens_out > 1:
        assert r.decode_tokens_per_s > 0


def test_greedy_generation_is_repeatable(causal):
    req = GenRequest(prompt="the dog is", settings=settings(5))
    a, b = causal.generate([req, req])
    assert a.text == b.text


def test_max_tokens_bounds_the_answer(causal):
    [r] = causal.generate([GenRequest(prompt="hello world", settings=settings(2))])
    assert r.tokens_out <= 2
    if r.finish_reason == "length":
        assert r.tokens_out == 2


def test_stop_string_cuts_the_answer(causal):
    [full] = causal.generate([GenRequest(prompt="the cat sat on", settings=settings(8))])
    assert full.text.strip(), "the random model should say something"
    stop = full.text.split()[-1]
    [cut] = causal.generate([GenRequest(prompt="the cat sat on",
                                        settings=settings(8, stop=(stop,)))])
    assert cut.text == full.text[: full.text.find(stop)] and cut.finish_reason == "stop"


def test_sampling_with_a_seed_is_repeatable(causal):
    req = GenRequest(prompt="the", settings=settings(6, temperature=1.0, seed=7))
    a, b = causal.generate([req, req])
    assert a.text == b.text


def test_chat_template_of_the_tokenizer_is_used(models):
    with TransformersBackend(models / "llama-chat") as b:
        info = b.load()
        assert info.ok and b.template is not None and "<|im_start|>" in b.template.source
        req = build_request("Label reviews.", SHOTS, "fine cat", b.template, settings(3))
        [r] = b.generate([req])
        text, _ = render_prompt(req.messages, b.template)
        assert r.ok and r.tokens_in == b.count_tokens([text])[0]


def test_chat_template_can_be_switched_off(models):
    with TransformersBackend(models / "llama-chat", chat_template="none") as b:
        assert b.load().ok and b.template is None


def test_encoder_decoder_model_generates(models):
    with get_backend("transformers", model=models / "t5") as b:
        info = b.load()
        assert info.ok and info.details["encoder_decoder"] is True
        [r] = b.generate([GenRequest(prompt="review the cat", settings=settings(4))])
        assert r.ok and 0 < r.tokens_out <= 4 and r.ttft_s <= r.latency_s


def test_missing_folder_is_a_load_failure(tmp_path):
    info = TransformersBackend(tmp_path / "nothing-here").load()
    assert not info.ok and info.error.startswith("did not load:")


def test_hub_id_not_in_the_local_cache_is_a_load_failure():
    info = TransformersBackend("some-org/not-downloaded-model").load()
    assert not info.ok and info.error.startswith("did not load:")


def test_generate_before_load_is_an_error_result(models):
    [r] = TransformersBackend(models / "llama").generate([GenRequest(prompt="hi", key="k")])
    assert not r.ok and "load()" in r.error
