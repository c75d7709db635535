"""Ready-to-run "next step" code for a recommended model, one runtime at a time.

``next_step_snippet(model, runtime, quant)`` returns the code (Python, a shell command or
JavaScript) plus notes: where the weights come from, how big the download is, and whether a
licence must be accepted first. API keys are never written into the code: cloud snippets read
them from the environment variable the catalog names (``CloudOffer.api_key_env``).

The calls follow each project's own documentation:
- llama-cpp-python: ``Llama.from_pretrained(repo_id, filename)`` (filename may be a glob);
- Transformers: ``apply_chat_template`` (https://huggingface.co/docs/transformers/chat_templating);
- Ollama: ``ollama run hf.co/{user}/{repo}:{quant}`` (https://huggingface.co/docs/hub/ollama);
- WebLLM: ``CreateMLCEngine(modelId)`` (https://app.unpkg.com/@mlc-ai/web-llm@0.2.78/files/lib/engine.d.ts);
- MLC LLM: ``MLCEngine("HF://mlc-ai/...")`` (https://llm.mlc.ai/docs/deploy/python_engine.html);
- OpenAI-compatible APIs: ``OpenAI(base_url=..., api_key=os.environ[...])``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from llmscout.catalog.spec import Artifact, ModelSpec
from llmscout.errors import IncompatibleError, InvalidValueError

Runtime = Literal["llamacpp", "transformers", "ollama", "webllm", "openai", "mlc"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)

# preferred quants when none is asked for: the usual size/quality balance first
_GGUF_PREFERENCE = ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q5_K_S", "Q6_K", "Q8_0", "Q4_0")
_MLC_PREFERENCE = ("q4f16_1", "q4f32_1", "q0f16", "q0f32")
_HF_FORMATS = ("safetensors", "pytorch", "awq", "gptq")
_PROMPT = "Explain in two sentences what a context window is."
_BASE_PROMPT = "Q: What is a context window?\nA:"  # base models continue text


@dataclass(frozen=True, slots=True)
class Snippet:
    """Code to try a model, with what to know before running it."""

    runtime: str
    language: Literal["python", "bash", "javascript"]
    code: str
    notes: tuple[str, ...]
    artifact: Artifact | None = None


# -- artifacts ----------------------------------------------------------------------------------

def _label(a: Artifact) -> str:
    return a.quant or a.precision or a.format


def _runtime_formats(runtime: str) -> tuple[str, ...]:
    return {"llamacpp": ("gguf",), "ollama": ("gguf",), "webllm": ("mlc",), "mlc": ("mlc",),
            "transformers": _HF_FORMATS, "openai": ()}[runtime]


def _usable(model: ModelSpec, runtime: str) -> bool:
    if runtime == "openai":
        return model.cloud is not None
    if runtime == "ollama" and model.origin == "ollama":
        return True
    needs_repo = runtime in ("ollama", "webllm", "mlc")  # these fetch from a Hugging Face repo
    return any(a.format in _runtime_formats(runtime) and (a.repo if needs_repo else (a.repo or a.file or a.url))
               for a in model.artifacts)


def available_runtimes(model: ModelSpec) -> list[str]:
    """Runtimes for which the catalog knows weights (or an API) for ``model``."""
    return [rt for rt in RUNTIMES if _usable(model, rt)]


def _what_exists(model: ModelSpec) -> str:
    if model.kind == "cloud" and not model.artifacts:
        return f"{model.id} is a hosted model with closed weights; only runtime 'openai' applies"
    forms = sorted({f"{a.format} {_label(a)}" if _label(a) != a.format else a.format for a in model.artifacts})
    have = ", ".join(forms) if forms else "no downloadable weights"
    runtimes = available_runtimes(model)
    nxt = f"; try runtime {', '.join(repr(r) for r in runtimes)}" if runtimes else ""
    return f"the catalog lists {have} for {model.id}{nxt}"


def _pick(model: ModelSpec, runtime: str, quant: str | None, preference: Iterable[str]) -> Artifact:
    formats = _runtime_formats(runtime)
    usable = [a for a in model.artifacts if a.format in formats and (a.repo or a.file or a.url)]
    if not usable:
        kind = "/".join(formats)
        raise IncompatibleError(f"No {kind} weights of {model.id} are known, so runtime '{runtime}' cannot "
                                f"run it: {_what_exists(model)}.")
    if quant:
        wanted = quant.lower()
        match = [a for a in usable if _label(a).lower() == wanted]
        if not match:
            have = ", ".join(sorted({_label(a) for a in usable}))
            raise IncompatibleError(f"{model.id} has no {quant} build for '{runtime}'; available: {have}.")
        usable = match
    rank = {q.lower(): i for i, q in enumerate(preference)}
    # prefer the preferred quant, then artifacts with an exact file and a known repo
    usable.sort(key=lambda a: (rank.get(_label(a).lower(), len(rank)), a.repo is None, a.file is None))
    return usable[0]


def _size(a: Artifact) -> str:
    if not a.size_bytes:
        return "download size not in the catalog"
    gib = a.size_bytes / 2**30
    return f"download about {gib:.1f} GiB" if gib >= 1 else f"download about {a.size_bytes / 2**20:.0f} MiB"


def _weights_notes(model: ModelSpec, a: Artifact) -> list[str]:
    where = f"https://huggingface.co/{a.repo}" if a.repo else (a.url or "see the model's page")
    notes = [f"Weights: {_label(a)} from {where} ({_size(a)})."]
    if model.gated:
        own = a.repo is not None and a.repo.split("/")[0].lower() == model.id.split("/")[0].lower()
        if own:
            notes.append(f"Gated model: log in and accept the licence ({model.license}) on "
                         f"https://huggingface.co/{a.repo} first, then set HF_TOKEN to a read access token.")
        elif a.repo is None:
            notes.append(f"These weights do not come from the gated repo https://huggingface.co/{model.id}, "
                         f"but its licence ({model.license}) still applies: read it before use.")
        else:
            notes.append(f"The original repo https://huggingface.co/{model.id} is gated; this copy may not be, "
                         f"but its licence ({model.license}) still applies: read it before use.")
    if model.commercial is False:
        notes.append(f"Licence {model.license}: not for commercial use.")
    if model.is_base:
        notes.append("Base model: it continues text and does not follow instructions; prompt it with a few "
                     "examples of the pattern you want (few-shot) or use an instruct variant.")
    return notes


def _py_str(text: str) -> str:
    return repr(str(text))


# -- per runtime ------------------------------------------------------------------------------

def _llamacpp(model: ModelSpec, quant: str | None, n_ctx: int) -> Snippet:
    a = _pick(model, "llamacpp", quant, _GGUF_PREFERENCE)
    notes = ["Install: pip install llama-cpp-python huggingface_hub"]
    if a.repo:
        filename = a.file or f"*{a.quant or a.precision or ''}.gguf"
        load = (f"llm = Llama.from_pretrained(\n    repo_id={_py_str(a.repo)},\n"
                f"    filename={_py_str(filename)},\n    n_ctx={n_ctx},\n)")
        if not a.file:
            notes.append(f"The filename is a pattern; if it matches several files in {a.repo}, "
                         "give the exact file name.")
    else:
        local = a.file or f"{model.id.split('/')[-1]}-{a.quant}.gguf"
        load = f"llm = Llama(model_path={_py_str(local)}, n_ctx={n_ctx})"
        notes.append(f"Download {local} first from {a.url or 'its source'} and adjust the path.")
    if model.is_base:
        call = (f"out = llm({_py_str(_BASE_PROMPT)}, max_tokens=128, stop=['Q:'])\n"
                "print(out['choices'][0]['text'])")
    else:
        call = (f"out = llm.create_chat_completion(\n    messages=[{{'role': 'user', 'content': {_py_str(_PROMPT)}}}],\n"
                "    max_tokens=256,\n)\nprint(out['choices'][0]['message']['content'])")
    code = f"from llama_cpp import Llama\n\n{load}\n{call}\n"
    return Snippet("llamacpp", "python", code, tuple(notes + _weights_notes(model, a)), a)


def _transformers(model: ModelSpec, quant: str | None) -> Snippet:
    a = _pick(model, "transformers", quant, ("bf16", "fp16", "fp32"))
    repo = a.repo or model.id
    seq2seq = bool(model.architecture and model.architecture.kind == "encoder-decoder")
    cls = "AutoModelForSeq2SeqLM" if seq2seq else "AutoModelForCausalLM"
    head = (f"from transformers import AutoTokenizer, {cls}\n\nrepo = {_py_str(repo)}\n"
            f"tokenizer = AutoTokenizer.from_pretrained(repo)\nmodel = {cls}.from_pretrained(repo)\n")
    if seq2seq:
        body = (f"inputs = tokenizer({_py_str(_PROMPT)}, return_tensors='pt')\n"
                "output = model.generate(**inputs, max_new_tokens=128)\n"
                "print(tokenizer.decode(output[0], skip_special_tokens=True))\n")
    elif model.is_base:
        body = (f"inputs = tokenizer({_py_str(_BASE_PROMPT)}, return_tensors='pt')\n"
                "output = model.generate(**inputs, max_new_tokens=128)\n"
                "print(tokenizer.decode(output[0][inputs['input_ids'].shape[1]:], skip_special_tokens=True))\n")
    else:
        body = (f"messages = [{{'role': 'user', 'content': {_py_str(_PROMPT)}}}]\n"
                "inputs = tokenizer.apply_chat_template(\n    messages, add_generation_prompt=True, "
                "return_tensors='pt', return_dict=True,\n)\n"
                "output = model.generate(**inputs, max_new_tokens=256)\n"
                "print(tokenizer.decode(output[0][inputs['input_ids'].shape[1]:], skip_special_tokens=True))\n")
    notes = ["Install: pip install transformers torch (add accelerate to spread a large model over devices)"]
    if a.format in ("awq", "gptq"):
        notes.append(f"{a.format.upper()} weights also need the matching quantization package and, in "
                     "practice, an NVIDIA GPU.")
    return Snippet("transformers", "python", head + body, tuple(notes + _weights_notes(model, a)), a)


def _ollama(model: ModelSpec, quant: str | None) -> Snippet:
    if model.origin == "ollama":
        name = model.id.removeprefix("ollama:")
        code = f"ollama run {name}\n"
        return Snippet("ollama", "bash", code, (f"{name} is already pulled on your Ollama server.",),
                       model.artifacts[0] if model.artifacts else None)
    a = _pick(model, "ollama", quant, _GGUF_PREFERENCE)
    if not a.repo:
        raise IncompatibleError(f"Ollama pulls GGUF files from Hugging Face repos, and the catalog knows no repo "
                                f"for {model.id}'s {_label(a)} file ({a.url or a.file}); "
                                "create a Modelfile with FROM <path to the .gguf> after downloading it.")
    ref = f"hf.co/{a.repo}" + (f":{a.quant}" if a.quant else "")
    code = f"ollama pull {ref}\nollama run {ref} {_shell_quote(_PROMPT)}\n"
    notes = ["Needs Ollama installed and running (ollama serve)."]
    if a.quant and a.file and a.quant.lower() not in a.file.lower():
        notes.append(f"The file {a.file} does not carry '{a.quant}' in its name; if Ollama cannot find the tag, "
                     f"download the file and use a Modelfile instead.")
    return Snippet("ollama", "bash", code, tuple(notes + _weights_notes(model, a)), a)


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _mlc_id(a: Artifact) -> str:
    return (a.repo or a.file or "").rstrip("/").split("/")[-1]


def _webllm(model: ModelSpec, quant: str | None) -> Snippet:
    a = _pick(model, "webllm", quant, _MLC_PREFERENCE)
    model_id = _mlc_id(a)
    code = (
        'import { CreateMLCEngine } from "@mlc-ai/web-llm";\n\n'
        f'const engine = await CreateMLCEngine("{model_id}", {{\n'
        "  initProgressCallback: (report) => console.log(report.text),\n});\n"
        "const reply = await engine.chat.completions.create({\n"
        f'  messages: [{{ role: "user", content: "{_PROMPT}" }}],\n}});\n'
        "console.log(reply.choices[0].message.content);\n"
    )
    notes = ["Install: npm install @mlc-ai/web-llm; runs in a browser with WebGPU (recent Chrome or Edge).",
             f"'{model_id}' must be in WebLLM's prebuilt model list (webllm.prebuiltAppConfig) of the "
             "version you install; otherwise add it to appConfig."]
    return Snippet("webllm", "javascript", code, tuple(notes + _weights_notes(model, a)), a)


def _mlc(model: ModelSpec, quant: str | None) -> Snippet:
    a = _pick(model, "mlc", quant, _MLC_PREFERENCE)
    if not a.repo:
        raise IncompatibleError(f"MLC LLM loads weights from a Hugging Face repo, and none is known for "
                                f"{model.id}: {_what_exists(model)}.")
    ref = f"HF://{a.repo}"
    code = (f"from mlc_llm import MLCEngine\n\nmodel = {_py_str(ref)}\nengine = MLCEngine(model)\n"
            f"response = engine.chat.completions.create(\n    messages=[{{'role': 'user', 'content': "
            f"{_py_str(_PROMPT)}}}],\n    model=model,\n    stream=False,\n)\n"
            "print(response.choices[0].message.content)\nengine.terminate()\n")
    notes = ["Install the mlc-llm package for your GPU (see https://llm.mlc.ai/docs/install/mlc_llm.html); "
             "the first run compiles the model for your device."]
    return Snippet("mlc", "python", code, tuple(notes + _weights_notes(model, a)), a)


def _openai(model: ModelSpec) -> Snippet:
    offer = model.cloud
    if offer is None:
        runtimes = ", ".join(repr(r) for r in available_runtimes(model)) or "none known"
        raise IncompatibleError(f"{model.id} has no hosted API in the catalog (runtimes: {runtimes}). To use "
                                "the OpenAI client with it, serve it yourself (llama.cpp server, Ollama, vLLM) and "
                                "point base_url at that server.")
    env = offer.api_key_env or f"{offer.provider.upper().replace('-', '_')}_API_KEY"
    base = offer.base_url if offer.base_url and offer.base_url.startswith("http") else None
    base_arg = f"    base_url={_py_str(base)},\n" if base else ""
    code = (f"import os\n\nfrom openai import OpenAI\n\nclient = OpenAI(\n{base_arg}"
            f"    api_key=os.environ[{_py_str(env)}],\n)\n"
            f"response = client.chat.completions.create(\n    model={_py_str(offer.api_model or model.id)},\n"
            f"    messages=[{{'role': 'user', 'content': {_py_str(_PROMPT)}}}],\n)\n"
            "print(response.choices[0].message.content)\n")
    notes = ["Install: pip install openai",
             f"Set your {offer.provider} API key in the environment first: export {env}=... (never put it in code).",
             f"Price: {offer.input_per_mtok:g} USD per million input tokens, {offer.output_per_mtok:g} per million "
             f"output tokens (as of {offer.price_date}; {offer.source})."]
    if not offer.api_key_env:
        notes.append(f"The catalog names no key variable for {offer.provider}; {env} is a guess.")
    if base is None:
        notes.append("The catalog has no endpoint for this provider; add base_url for its OpenAI-compatible API.")
    return Snippet("openai", "python", code, tuple(notes), None)


def next_step_snippet(model: ModelSpec, runtime: Runtime, quant: str | None = None, *,
                      context_tokens: int | None = None) -> Snippet:
    """Code to try ``model`` with ``runtime`` (optionally a given quant), plus notes.

    Args:
        model: the catalog record; its artifacts say which files exist where.
        runtime: llamacpp, transformers, ollama, webllm, openai or mlc.
        quant: a quant/precision name such as Q4_K_M, q4f16_1 or bf16 (default: a sensible one).
        context_tokens: context window for llama.cpp (default: min(model context, 4096)).

    Raises:
        InvalidValueError: an unknown runtime.
        IncompatibleError: no weights (or API) for that runtime or quant; the message says what exists.

    Example:
        >>> from llmscout.catalog import get_model
        >>> print(next_step_snippet(get_model("microsoft/phi-4"), "ollama").code)  # doctest: +SKIP
        ollama pull hf.co/bartowski/phi-4-GGUF:Q4_K_M
        ...
    """
    if runtime not in RUNTIMES:
        raise InvalidValueError("runtime", runtime, "one of " + ", ".join(RUNTIMES))
    if runtime == "openai":
        return _openai(model)
    if model.kind == "cloud" and not model.artifacts:
        raise IncompatibleError(f"{model.id} has closed weights, so runtime '{runtime}' cannot run it; "
                                "use runtime 'openai' (its hosted API).")
    if runtime == "llamacpp":
        n_ctx = context_tokens or min(model.context_length or 4096, 4096)
        return _llamacpp(model, quant, n_ctx)
    if runtime == "transformers":
        return _transformers(model, quant)
    if runtime == "ollama":
        return _ollama(model, quant)
    if runtime == "webllm":
        return _webllm(model, quant)
    return _mlc(model, quant)
