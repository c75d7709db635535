"""Prompt building: chat templates in a sandbox, few-shot turns, completion format, token costs."""

from __future__ import annotations

import json

import pytest

from llmscout.errors import InvalidFileError
from llmscout.trial.prompting import (
    CHATML,
    COMPLETION_STOP,
    ChatTemplate,
    ChatTemplateError,
    build_request,
    gemma3_template,
    prompt_cost,
    render_prompt,
    template_from_gguf,
    template_from_hf,
    with_stops,
)
from llmscout.trial.types import Example, GenerationSettings, Message

pytest_plugins = ["_gguf_fixtures"]  # synth_gguf

SHOTS = [("Is fire hot?", "yes"), ("Is snow hot?", "no")]


def words(texts: list[str]) -> list[int]:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return [len(t.split()) for t in texts]


def test_chatml_template_renders_turns_and_generation_prompt():
    text = ChatTemplate(CHATML).render([Message("user", "Hi")])
    assert text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_without_generation_prompt_the_assistant_turn_is_not_opened():
    text = ChatTemplate(CHATML).render([Message("user", "Hi")], add_generation_prompt=False)
    assert not text.endswith("<|im_start|>assistant\n")


def test_shots_become_prior_user_and_assistant_turns():
    req = build_request("Answer yes or no.", SHOTS, "Is ice hot?", ChatTemplate(CHATML))
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "user", "assistant",
                                              "user"]
    assert req.messages[2].content == "yes" and req.messages[-1].content == "Is ice hot?"
    assert req.prefix_messages == 5


def test_shared_prefix_is_identical_across_examples():
    t = ChatTemplate(CHATML)
    a = build_request("Answer yes or no.", SHOTS, "Is ice hot?", t)
    b = build_request("Answer yes or no.", SHOTS, "Is lava hot?", t)
    assert a.messages[: a.prefix_messages] == b.messages[: b.prefix_messages]
    prefix = t.render(a.messages[: a.prefix_messages], add_generation_prompt=False)
    assert t.render(a.messages).startswith(prefix) and t.render(b.messages).startswith(prefix)


def test_no_template_gives_plain_completion_with_input_output_blocks():
    req = build_request("Classify.", SHOTS, "Is ice hot?", None)
    assert req.messages is None
    assert req.prompt == ("Classify.\n\nInput: Is fire hot?\nOutput: yes\n\n"
                          "Input: Is snow hot?\nOutput: no\n\nInput: Is ice hot?\nOutput:")


def test_completion_format_stops_before_a_made_up_next_example():
    req = build_request(None, SHOTS, "x", None, GenerationSettings(stop=("END",)))
    assert req.settings.stop == ("END", *COMPLETION_STOP)


def test_server_side_templates_get_messages():
    req = build_request("Sys", SHOTS, "x", "server")
    assert req.prompt is None and req.prefix_messages == 5


def test_examples_with_references_serve_as_shots():
    shot = Example(id="1", input="Is fire hot?", reference="yes")
    req = build_request(None, [shot], "Is ice hot?", "server")
    assert [(m.role, m.content) for m in req.messages[:2]] == [("user", "Is fire hot?"),
                                                               ("assistant", "yes")]


def test_chat_input_messages_are_kept_as_given():
    convo = (Message("user", "Hello"), Message("assistant", "Hi"), Message("user", "Bye?"))
    req = build_request(None, [], convo, "server")
    assert req.messages == convo and req.prefix_messages == 0


def test_gemma3_template_puts_system_text_in_the_first_user_turn():
    text = gemma3_template().render([Message("system", "Be brief."), Message("user", "Hi"),
                                     Message("assistant", "Hello"), Message("user", "Bye")])
    assert text == ("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                    "<start_of_turn>model\nHello<end_of_turn>\n"
                    "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")


def test_gemma3_requests_stop_at_end_of_turn():
    req = build_request(None, [], "Hi", gemma3_template())
    assert "<end_of_turn>" in req.settings.stop


def test_template_cannot_reach_python_internals():
    evil = ChatTemplate("{{ messages.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ChatTemplateError):
        evil.render([Message("user", "x")])


def test_template_cannot_modify_the_conversation():
    with pytest.raises(ChatTemplateError):
        ChatTemplate("{{ messages.append(1) }}").render([Message("user", "x")])


def test_raise_exception_in_a_template_names_its_origin():
    t = ChatTemplate("{{ raise_exception('Conversation roles must alternate') }}",
                     origin="model.gguf:tokenizer.chat_template")
    with pytest.raises(ChatTemplateError, match="model.gguf.*roles must alternate"):
        t.render([Message("user", "x")])


def test_template_helpers_strftime_now_tojson_and_special_tokens():
    t = ChatTemplate("{{ bos_token }}{{ strftime_now('%Y') | length }}"
                     "{{ messages[0] | tojson }}{{ eos_token }}", bos_token="<s>", eos_token="</s>")
    assert t.render([Message("user", "é")]) == '<s>4{"role": "user", "content": "é"}</s>'


def test_a_template_that_does_not_compile_is_reported():
    with pytest.raises(ChatTemplateError, match="compile"):
        ChatTemplate("{% for %}").render([])


def test_render_prompt_without_template_adds_the_completion_stop():
    text, stops = render_prompt([Message("user", "x")], None)
    assert text == "Input: x\nOutput:" and stops == COMPLETION_STOP


def test_with_stops_keeps_callers_first_and_once():
    s = with_stops(GenerationSettings(stop=("a", "b")), ("b", "c"))
    assert s.stop == ("a", "b", "c")


# -- finding a model's template ------------------------------------------------------------------


def test_hf_template_from_tokenizer_config(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({
        "chat_template": CHATML, "bos_token": {"content": "<s>"}, "eos_token": "</s>"}))
    t = template_from_hf(tmp_path)
    assert t.source == CHATML and (t.bos_token, t.eos_token) == ("<s>", "</s>")


def test_hf_template_file_is_preferred(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": "old"}))
    (tmp_path / "chat_template.jinja").write_text(CHATML)
    assert template_from_hf(tmp_path).source == CHATML


def test_hf_named_templates_use_the_default(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": [
        {"name": "tool_use", "template": "tools"}, {"name": "default", "template": CHATML}]}))
    assert template_from_hf(tmp_path).source == CHATML


def test_hf_folder_without_template_is_a_base_model(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text("{}")
    assert template_from_hf(tmp_path) is None


def test_malformed_tokenizer_config_names_the_file_and_line(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text('{\n"chat_template": oops}')
    with pytest.raises(InvalidFileError, match=r"tokenizer_config.json:2"):
        template_from_hf(tmp_path)


def test_gguf_template_is_read_from_the_file(synth_gguf):
    t = template_from_gguf(synth_gguf("llama", chat_template=CHATML))
    assert t.source == CHATML and t.origin.endswith(":tokenizer.chat_template")


def test_gguf_gemma3_without_template_gets_gemma_turns(synth_gguf):
    assert template_from_gguf(synth_gguf("gemma3")).origin == "builtin:gemma3"


def test_gguf_llama_without_template_means_plain_completion(synth_gguf):
    assert template_from_gguf(synth_gguf("llama")) is None


# -- token accounting ------------------------------------------------------------------------------


def test_prompt_cost_splits_completion_prompt_into_system_shots_input():
    cost = prompt_cost("Answer with one word.", SHOTS, "Is ice hot?", None, words)
    # "Answer with one word." = 4; each shot "Input: Is fire hot? Output: yes" = 6; input
    # "Input: Is ice hot? Output:" = 5
    assert (cost.system_tokens, cost.shots_tokens, cost.input_tokens) == (4, 12, 5)
    assert cost.total_tokens == len(build_request("Answer with one word.", SHOTS, "Is ice hot?",
                                                  None).prompt.split())


def test_prompt_cost_with_template_counts_markup_with_each_part():
    t = ChatTemplate(CHATML)
    cost = prompt_cost("Sys", SHOTS, "Is ice hot?", t, words)
    full = t.render(build_request("Sys", SHOTS, "Is ice hot?", t).messages)
    assert cost.total_tokens == len(full.split())
    assert cost.shots_tokens > 0 and cost.exact


def test_prompt_cost_grows_with_the_number_of_shots():
    t = ChatTemplate(CHATML)
    one = prompt_cost("Sys", SHOTS[:1], "x", t, words)
    two = prompt_cost("Sys", SHOTS, "x", t, words)
    assert two.shots_tokens > one.shots_tokens
    assert (two.system_tokens, two.input_tokens) == (one.system_tokens, one.input_tokens)


def test_prompt_cost_for_server_templates_counts_contents_and_is_not_exact():
    cost = prompt_cost("Be brief please", SHOTS, "Is ice hot?", "server", words)
    assert (cost.system_tokens, cost.shots_tokens, cost.input_tokens) == (3, 8, 3)
    assert not cost.exact


def test_prompt_cost_without_system_prompt_or_shots():
    cost = prompt_cost(None, [], "a b c", None, words)
    assert (cost.system_tokens, cost.shots_tokens) == (0, 0) and cost.input_tokens == 5
