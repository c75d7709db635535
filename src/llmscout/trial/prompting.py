"""Turning a task (system prompt, few-shot examples, one input) into what a model is given.

Two formats, chosen by the model:

* **Chat** - the model has a chat template (GGUF ``tokenizer.chat_template``, or
  ``chat_template`` in a Hugging Face ``tokenizer_config.json`` / ``chat_template.jinja``), or it
  sits behind a server that applies its own (``"server"``). Few-shot examples become earlier
  user/assistant turns, so the model sees them the way it was trained to see a conversation.
  Templates are rendered by ``ChatTemplate.render`` in Jinja's ``ImmutableSandboxedEnvironment``
  with the helpers Hugging Face templates expect (``raise_exception``, ``bos_token``,
  ``eos_token``, ``add_generation_prompt``, ``strftime_now``, ``tojson``).
* **Completion** - base models without a template. The prompt is plain text::

      <system prompt>

      Input: <shot 1 input>
      Output: <shot 1 output>

      Input: <the example's input>
      Output:

  and ``"\\nInput:"`` is added to the stop strings so a base model does not go on inventing
  the next example.

The packaged Gemma 3 270M GGUF is a base model without a template; ``GEMMA3_TEMPLATE`` gives it
Gemma's turn format (``<start_of_turn>user`` ... ``<end_of_turn>``, ``<start_of_turn>model``;
there is no system role, so system text opens the first user turn), as documented at
https://ai.google.dev/gemma/docs/capabilities/text/chat and
https://ai.google.dev/gemma/docs/formatting.

``build_request`` puts the shared part (system prompt + shots) first and marks it with
``GenRequest.prefix_messages``: it is byte-identical for every example of a trial, so llama.cpp
reuses its KV cache from one example to the next. ``prompt_cost`` tells how many tokens the
system prompt, the shots and the input take (what the shots cost, for the report).

Example:
    >>> t = ChatTemplate(CHATML)
    >>> req = build_request("Answer yes or no.", [("Is fire hot?", "yes")], "Is ice hot?", t)
    >>> req.prefix_messages
    3
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from llmscout.errors import InvalidFileError, LlmscoutError
from llmscout.trial.types import Example, GenerationSettings, GenRequest, Message

if TYPE_CHECKING:
    from jinja2 import Template

# ChatML (Qwen and many fine-tunes); also handy in tests.
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Gemma 3 turns (format: https://ai.google.dev/gemma/docs/formatting). Gemma has no system
# role: system text opens the first user turn, separated by a blank line.
GEMMA3_TEMPLATE = (
    "{{ bos_token }}{% set ns = namespace(system='') %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.system = ns.system + m['content'] + '\\n\\n' %}"
    "{% else %}{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "{{ '<start_of_turn>' + role + '\\n' }}{% if role == 'user' %}{{ ns.system }}"
    "{% set ns.system = '' %}{% endif %}{{ m['content'] | trim }}{{ '<end_of_turn>\\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)
GEMMA3_STOP = ("<end_of_turn>",)

INPUT_LABEL = "Input: "
OUTPUT_LABEL = "Output:"
COMPLETION_STOP = ("\nInput:",)  # a base model would go on with the next made-up example

Shot: TypeAlias = "tuple[str, str] | Example"
ChatInput: TypeAlias = "str | Sequence[Message]"


class ChatTemplateError(LlmscoutError, ValueError):
    """A chat template that does not compile or refuses the conversation it is given."""


@dataclass(frozen=True, slots=True)
class ChatTemplate:
    """A model's Jinja chat template and the special tokens it refers to.

    ``origin`` says where it came from ("/m.gguf:tokenizer.chat_template",
    "builtin:gemma3", ...) so error messages can name it.
    """

    source: str
    bos_token: str = ""
    eos_token: str = ""
    origin: str = ""
    stop: tuple[str, ...] = ()  # end-of-turn markers worth stopping at (besides EOS)

    def render(self, messages: Sequence[Message | dict[str, str]],
               add_generation_prompt: bool = True) -> str:
        """The conversation as the model's text.

        Raises:
            ChatTemplateError: the template does not compile, or it refuses the conversation
                (its own ``raise_exception``, e.g. roles that do not alternate).
        """
        from jinja2 import TemplateError

        msgs = [m if isinstance(m, dict) else {"role": m.role, "content": m.content}
                for m in messages]
        where = self.origin or "chat template"
        try:
            return _compile(self.source).render(
                messages=msgs, add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token, eos_token=self.eos_token)
        except ChatTemplateError as e:
            raise ChatTemplateError(f"{where}: {e}") from None
        except TemplateError as e:
            raise ChatTemplateError(f"{where}: cannot render: {e}") from None


# What a backend applies to messages: its own template, the server's, or none (completion).
PromptTemplate: TypeAlias = "ChatTemplate | Literal['server'] | None"


def _raise_exception(message: str) -> None:
    raise ChatTemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(value: Any, indent: int | None = None, ensure_ascii: bool = False,
            sort_keys: bool = False) -> str:
    # Hugging Face templates call tojson with these keywords; Jinja's own escapes HTML.
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys)


@lru_cache(maxsize=32)
def _compile(source: str) -> Template:
    """Compile once per template text, in a sandbox (templates come from downloaded files)."""
    from jinja2 import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except TemplateError as e:
        raise ChatTemplateError(f"does not compile: {e}") from None


# -- finding a model's template ------------------------------------------------------------------


def template_from_gguf(path: str | Path) -> ChatTemplate | None:
    """The GGUF's ``tokenizer.chat_template``, or ``GEMMA3_TEMPLATE`` for a Gemma 3 file without
    one, or None (a base model: use plain completion)."""
    from llmscout.catalog.sources.gguf import gguf_info

    info = gguf_info(path)
    if info.chat_template:
        return ChatTemplate(info.chat_template, origin=f"{path}:tokenizer.chat_template")
    if info.architecture.startswith("gemma3"):
        return gemma3_template()
    return None


def gemma3_template(bos_token: str = "<bos>") -> ChatTemplate:
    """Gemma 3 turns for GGUFs that carry no template (the packaged Gemma 3 270M)."""
    return ChatTemplate(GEMMA3_TEMPLATE, bos_token=bos_token, eos_token="<eos>",
                        origin="builtin:gemma3", stop=GEMMA3_STOP)


def _token_text(value: Any) -> str:
    """A special token from tokenizer_config.json: a string or ``{"content": ...}``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def template_from_hf(model_dir: str | Path) -> ChatTemplate | None:
    """The chat template saved with a Hugging Face tokenizer, or None.

    Looks at ``chat_template.jinja`` (newer transformers), then ``chat_template`` in
    ``tokenizer_config.json`` (a string, or a list of ``{name, template}`` where ``default`` is
    used).

    Raises:
        InvalidFileError: ``tokenizer_config.json`` is not valid JSON.
    """
    d = Path(model_dir).expanduser()
    cfg_path = d / "tokenizer_config.json"
    cfg: dict[str, Any] = {}
    if cfg_path.is_file():
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise InvalidFileError(cfg_path, f"not valid JSON: {e.msg}", line=e.lineno) from None
    source, origin = None, ""
    jinja_file = d / "chat_template.jinja"
    if jinja_file.is_file():
        source, origin = jinja_file.read_text(encoding="utf-8"), str(jinja_file)
    else:
        raw = cfg.get("chat_template")
        if isinstance(raw, list):
            named = {t.get("name"): t.get("template") for t in raw if isinstance(t, dict)}
            raw = named.get("default") or next(iter(named.values()), None)
        if isinstance(raw, str):
            source, origin = raw, f"{cfg_path}:chat_template"
    if not source:
        return None
    return ChatTemplate(source, bos_token=_token_text(cfg.get("bos_token")),
                        eos_token=_token_text(cfg.get("eos_token")), origin=origin)


# -- building requests ---------------------------------------------------------------------------


def _input_messages(x: ChatInput) -> list[Message]:
    if isinstance(x, str):
        return [Message("user", x)]
    return [m if isinstance(m, Message) else Message(m["role"], m["content"]) for m in x]


def _shot_pair(shot: Shot) -> tuple[ChatInput, str]:
    if isinstance(shot, Example):
        return shot.input, shot.reference or ""
    inp, out = shot
    return inp, out


def conversation(system_prompt: str | None, shots: Sequence[Shot],
                 example_input: ChatInput) -> tuple[list[Message], int]:
    """(messages, number of leading messages shared by every example: system + shots)."""
    msgs: list[Message] = [Message("system", system_prompt)] if system_prompt else []
    for shot in shots:
        inp, out = _shot_pair(shot)
        msgs += _input_messages(inp)
        msgs.append(Message("assistant", out))
    prefix = len(msgs)
    return msgs + _input_messages(example_input), prefix


def completion_text(messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
    """Messages as a plain completion prompt (see the module docstring for the layout)."""
    parts: list[str] = []
    for m in messages:
        if m.role == "system":
            parts.append(m.content + "\n\n")
        elif m.role == "user":
            parts.append(f"{INPUT_LABEL}{m.content}\n{OUTPUT_LABEL}")
        else:
            parts.append(f" {m.content}\n\n")
    text = "".join(parts)
    if not add_generation_prompt and text.endswith(OUTPUT_LABEL):
        text = text[: -len(OUTPUT_LABEL)]
    return text


def render_prompt(messages: Sequence[Message], template: ChatTemplate | None,
                  add_generation_prompt: bool = True) -> tuple[str, tuple[str, ...]]:
    """(text, stop strings the format needs): the template's rendering, or completion text."""
    if template is None:
        return completion_text(messages, add_generation_prompt), COMPLETION_STOP
    return template.render(messages, add_generation_prompt), template.stop


def with_stops(settings: GenerationSettings, stops: Sequence[str]) -> GenerationSettings:
    """``settings`` with ``stops`` added (kept once, caller's first)."""
    merged = tuple(dict.fromkeys((*settings.stop, *stops)))
    return settings if merged == settings.stop else replace(settings, stop=merged)


def build_request(system_prompt: str | None, shots: Sequence[Shot], example_input: ChatInput,
                  template: PromptTemplate, settings: GenerationSettings | None = None,
                  key: str = "") -> GenRequest:
    """The request for one example.

    Args:
        system_prompt: the task's instructions (None or "" for none).
        shots: few-shot examples, ``(input, output)`` pairs or ``Example`` with a reference.
        example_input: the example's text, or chat messages.
        template: the backend's ``template``: a ``ChatTemplate`` or ``"server"`` gives chat
            messages (shots as earlier turns, ``prefix_messages`` = system + shot messages);
            None gives a plain completion ``prompt`` with ``"\\nInput:"`` as a stop string.
        settings: decoding settings (default ``GenerationSettings()``).
        key: the caller's id for the request.

    Returns:
        A ``GenRequest`` whose shared prefix is identical for every example of the task.
    """
    settings = settings or GenerationSettings()
    msgs, prefix = conversation(system_prompt, shots, example_input)
    if template is None:
        return GenRequest(prompt=completion_text(msgs),
                          settings=with_stops(settings, COMPLETION_STOP), key=key)
    if isinstance(template, ChatTemplate) and template.stop:
        settings = with_stops(settings, template.stop)
    return GenRequest(messages=tuple(msgs), settings=settings, prefix_messages=prefix, key=key)


# -- what the prompt costs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromptCost:
    """Prompt tokens by part. Template markup is counted with the part it wraps; the
    generation prompt (e.g. ``<|im_start|>assistant``) with the input."""

    system_tokens: int
    shots_tokens: int
    input_tokens: int
    exact: bool  # counted with the model's tokenizer (else estimated from characters)

    @property
    def total_tokens(self) -> int:
        return self.system_tokens + self.shots_tokens + self.input_tokens


def _render_or_none(msgs: Sequence[Message], template: ChatTemplate | None,
                    agp: bool) -> str | None:
    try:
        return render_prompt(msgs, template, agp)[0]
    except ChatTemplateError:  # e.g. a template that insists on a user turn first
        return None


def prompt_cost(system_prompt: str | None, shots: Sequence[Shot], example_input: ChatInput,
                template: PromptTemplate, count_tokens: Callable[[list[str]], list[int]],
                exact: bool = True) -> PromptCost:
    """How many tokens the system prompt, the shots and the input take for this model.

    The conversation is rendered three times (system only, system + shots, everything) and
    the token counts are differenced, so a part's count includes the template's markup around
    it. With ``"server"`` (the template is not known here) the message contents are counted.

    Args:
        count_tokens: the backend's ``count_tokens`` (one count per text).
        exact: whether ``count_tokens`` is the model's tokenizer (``Backend.exact_token_counts``).
    """
    msgs, prefix = conversation(system_prompt, shots, example_input)
    n_sys = 1 if system_prompt else 0
    if template == "server":
        counts = count_tokens([m.content for m in msgs])
        return PromptCost(sum(counts[:n_sys]), sum(counts[n_sys:prefix]), sum(counts[prefix:]),
                          exact=False)
    tmpl = template if isinstance(template, ChatTemplate) else None
    texts = [_render_or_none(msgs[:n_sys], tmpl, False) if n_sys else "",
             _render_or_none(msgs[:prefix], tmpl, False) if prefix else "",
             render_prompt(msgs, tmpl, True)[0]]
    if None in texts:  # a partial conversation the template refuses: count contents instead
        counts = count_tokens([m.content for m in msgs])
        return PromptCost(sum(counts[:n_sys]), sum(counts[n_sys:prefix]), sum(counts[prefix:]),
                          exact=False)
    wanted = [t for t in texts if t]
    got = iter(count_tokens(wanted)) if wanted else iter(())
    sys_n, pre_n, full_n = (next(got) if t else 0 for t in texts)
    pre_n = max(pre_n, sys_n)
    return PromptCost(sys_n, pre_n - sys_n, max(0, full_n - pre_n), exact=exact)


__all__ = [
    "CHATML", "COMPLETION_STOP", "GEMMA3_TEMPLATE", "ChatTemplate", "ChatTemplateError",
    "PromptCost", "PromptTemplate", "build_request", "completion_text", "conversation",
    "gemma3_template", "prompt_cost", "render_prompt", "template_from_gguf", "template_from_hf",
    "with_stops",
]
