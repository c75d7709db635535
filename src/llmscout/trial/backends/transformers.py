"""Hugging Face transformers, in this process: causal LMs and encoder-decoder models (FLAN-T5).

CPU here, the GPU where torch sees one. The model's own chat template (``tokenizer.chat_template``)
is used when it has one, else plain completion (see ``prompting``). Models load with
``local_files_only=True`` by default: a trial never downloads behind the user's back.

Measured per request: tokens in/out; time to first token (a streamer records when generate hands
out each new token); decode tokens/s from the later tokens; "prefill" tokens/s as prompt tokens
divided by the time to first token (it includes the first decode step, so it is a slight
underestimate); peak memory of this process (``VmHWM``, reset before each call where Linux
allows) and ``torch.cuda.max_memory_allocated`` on a GPU; energy where
``llmscout.trial.energy`` can measure it. Unlike the llama.cpp backend this runs in the caller's
process, so a crash in torch is not contained.

Example:
    >>> with TransformersBackend("google/flan-t5-small") as b:  # doctest: +SKIP
    ...     b.load()
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from llmscout.errors import MissingDependencyError
from llmscout.trial.backends.base import (
    Backend,
    EnergyProbe,
    error_result,
    peak_rss_bytes,
    reset_peak_rss,
    truncate_at_stop,
)
from llmscout.trial.prompting import ChatTemplate, ChatTemplateError, render_prompt, with_stops
from llmscout.trial.types import GenRequest, GenResult, LoadInfo


def _rss_bytes() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class _TokenClock:
    """A generate() streamer that only notes when each new token arrives."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._seen_prompt = False

    def put(self, value: Any) -> None:
        if not self._seen_prompt:  # generate first hands over the prompt / decoder start
            self._seen_prompt = True
            return
        self.times.append(time.perf_counter())

    def end(self) -> None:
        pass


class TransformersBackend(Backend):
    """A Hugging Face model folder (or a Hub id already in the local cache).

    Args:
        model: a folder with ``config.json``, tokenizer files and weights, or a Hub id.
        device: ``"cpu"``, ``"cuda"``... (default: CUDA when available, else CPU).
        dtype: torch dtype name (``"float32"``, ``"bfloat16"``...) or ``"auto"`` (the file's).
        chat_template: ``"auto"`` (the tokenizer's, if any), ``"none"`` or Jinja text.
        local_files_only: never reach the Hub (default True).
    """

    name = "transformers"
    supports_logprobs = False
    needs_key = False
    supports_prefix_cache = False
    exact_token_counts = True

    def __init__(self, model: str | Path, *, device: str | None = None, dtype: str = "auto",
                 chat_template: Literal["auto", "none"] | str = "auto",
                 local_files_only: bool = True, trust_remote_code: bool = False) -> None:
        self.source = str(model)
        self.model = Path(model).name if Path(model).exists() else str(model)
        self.device_arg, self.dtype = device, dtype
        self.chat_template_choice = chat_template
        self.local_files_only, self.trust_remote_code = local_files_only, trust_remote_code
        self._tok: Any = None
        self._model: Any = None
        self._device = "cpu"
        self._seq2seq = False
        self._template: ChatTemplate | None = None

    @property
    def template(self) -> ChatTemplate | None:
        return self._template

    # -- loading ---------------------------------------------------------------------------------

    def load(self) -> LoadInfo:
        """Load tokenizer and weights; failures become ``LoadInfo(ok=False)``."""
        if self._model is not None:
            return LoadInfo(model=self.model, backend=self.name, ok=True)
        try:
            import torch
            import transformers
        except ImportError:
            return self._failed(str(MissingDependencyError(
                "the transformers backend", "transformers", "torch, transformers")))
        kw = {"local_files_only": self.local_files_only,
              "trust_remote_code": self.trust_remote_code}
        transformers.utils.logging.disable_progress_bar()
        _ = (transformers.AutoConfig, transformers.AutoTokenizer,  # import now, not while timed
             transformers.AutoModelForCausalLM, transformers.AutoModelForSeq2SeqLM)
        before = _rss_bytes()
        t0 = time.perf_counter()
        try:
            config = transformers.AutoConfig.from_pretrained(self.source, **kw)
            self._seq2seq = bool(getattr(config, "is_encoder_decoder", False))
            auto = (transformers.AutoModelForSeq2SeqLM if self._seq2seq
                    else transformers.AutoModelForCausalLM)
            tok = transformers.AutoTokenizer.from_pretrained(self.source, **kw)
            model = auto.from_pretrained(self.source, dtype=self.dtype, **kw)
            self._device = self.device_arg or ("cuda" if torch.cuda.is_available() else "cpu")
            model.to(self._device).eval()  # type: ignore[arg-type]
        except Exception as e:  # noqa: BLE001 - any failure to load is reported, not raised
            return self._failed(f"{type(e).__name__}: {e}")
        load_s = time.perf_counter() - t0
        self._tok, self._model = tok, model
        warmup_s = self._warm_up()
        try:
            self._template = self._choose_template(tok)
        except ChatTemplateError as e:
            self.close()
            return self._failed(str(e))
        after = _rss_bytes()
        details = {"architecture": (config.architectures or [type(model).__name__])[0],
                   "encoder_decoder": self._seq2seq, "device": self._device,
                   "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
                   "parameters": sum(p.numel() for p in model.parameters()),
                   "chat_template": self._template.origin if self._template else None,
                   "warmup_s": warmup_s, "transformers_version": transformers.__version__}
        mem = after - before if after is not None and before is not None else None
        if self._device.startswith("cuda"):
            mem = torch.cuda.memory_allocated()
        return LoadInfo(model=self.model, backend=self.name, ok=True, load_s=load_s,
                        memory_bytes=mem, details=details)

    def _warm_up(self) -> float:
        """One short generation, so the first request is not timed with torch's start-up."""
        import torch

        start = time.perf_counter()
        enc = self._tok("hello world", return_tensors="pt").to(self._device)
        tok = self._tok
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        with torch.inference_mode():
            self._model.generate(**enc, max_new_tokens=2, do_sample=False, pad_token_id=pad)
        return time.perf_counter() - start

    def _choose_template(self, tok: Any) -> ChatTemplate | None:
        choice = self.chat_template_choice
        source = None if choice == "none" else (tok.chat_template if choice == "auto" else choice)
        if not isinstance(source, str) or not source:
            return None
        tmpl = ChatTemplate(source, bos_token=tok.bos_token or "", eos_token=tok.eos_token or "",
                            origin=f"{self.model}:chat_template")
        tmpl.render([{"role": "user", "content": "hi"}])  # fail at load, not on every request
        return tmpl

    def _failed(self, why: str) -> LoadInfo:
        return LoadInfo(model=self.model, backend=self.name, ok=False,
                        error=f"did not load: {why}")

    def close(self) -> None:
        self._model = None
        self._tok = None

    # -- generating ------------------------------------------------------------------------------

    def _encode(self, text: str, templated: bool) -> Any:
        # A rendered template already holds BOS; T5-style models always want their </s>.
        special = self._seq2seq or not templated
        return self._tok(text, return_tensors="pt", add_special_tokens=special)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if self._tok is None:
            return super().count_tokens(texts)
        templated = self._template is not None
        special = self._seq2seq or not templated
        return [len(self._tok(t, add_special_tokens=special)["input_ids"]) if t else 0
                for t in texts]

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        return [self._one(r) for r in requests]

    def _one(self, req: GenRequest) -> GenResult:
        if self._model is None:
            return error_result(req, "not loaded: call load() first")
        stops: tuple[str, ...] = ()
        try:
            if req.prompt is not None:
                text, templated = req.prompt, False
            elif req.messages:
                text, stops = render_prompt(req.messages, self._template)
                templated = self._template is not None
            else:
                return error_result(req, "empty request: give messages or a prompt")
        except ChatTemplateError as e:
            return error_result(req, str(e))
        settings = with_stops(req.settings, stops)
        try:
            return self._run(req, text, templated, settings.stop)
        except Exception as e:  # noqa: BLE001 - e.g. out of memory: this request fails
            return error_result(req, f"{type(e).__name__}: {e}")

    def _gen_kwargs(self, req: GenRequest, stops: tuple[str, ...], start: int) -> dict[str, Any]:
        import torch
        from transformers import StoppingCriteriaList

        s = req.settings
        kw: dict[str, Any] = {"max_new_tokens": s.max_tokens}
        if s.temperature > 0:
            torch.manual_seed(s.seed)
            kw.update(do_sample=True, temperature=s.temperature, top_p=s.top_p, top_k=0)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        tok = self._tok
        if tok.pad_token_id is None and tok.eos_token_id is not None:
            kw["pad_token_id"] = tok.eos_token_id
        if stops:
            kw["stopping_criteria"] = StoppingCriteriaList([_StopOnText(tok, start, stops)])
        return kw

    def _run(self, req: GenRequest, text: str, templated: bool,
             stops: tuple[str, ...]) -> GenResult:
        import torch

        enc = self._encode(text, templated).to(self._device)
        n_in = int(enc["input_ids"].shape[1])
        start = 1 if self._seq2seq else n_in  # generated ids start after the prompt / BOS
        clock = _TokenClock()
        kwargs = self._gen_kwargs(req, stops, start)
        cuda = self._device.startswith("cuda")
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        reset_peak_rss()
        energy = EnergyProbe("nvml" if cuda else "rapl")
        energy.start()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self._model.generate(**enc, streamer=clock, **kwargs)
        t_end = time.perf_counter()
        joules, basis = energy.stop()
        ids = out[0, start:].tolist()
        eos = self._tok.eos_token_id
        hit_eos = eos is not None and eos in ids
        if hit_eos:  # EOS and the padding after it are not output
            ids = ids[: ids.index(eos)]
        answer, hit_stop = truncate_at_stop(self._tok.decode(ids, skip_special_tokens=True), stops)
        t_first = clock.times[0] if clock.times else None
        ttft = t_first - t0 if t_first is not None else None
        n_out = len(clock.times)
        decode = ((n_out - 1) / (t_end - t_first) if t_first is not None and n_out > 1
                  and t_end > t_first else None)
        return GenResult(
            key=req.key, text=answer, tokens_in=n_in, tokens_out=len(ids), ttft_s=ttft,
            latency_s=t_end - t0, prefill_tokens_per_s=n_in / ttft if ttft else None,
            decode_tokens_per_s=decode, peak_memory_bytes=peak_rss_bytes(),
            gpu_memory_bytes=torch.cuda.max_memory_allocated() if cuda else None,
            energy_j=joules, energy_basis=basis,  # type: ignore[arg-type]
            finish_reason="stop" if hit_eos or hit_stop else "length")


class _StopOnText:
    """Stops generation once the decoded new text contains a stop string (batch of one)."""

    def __init__(self, tok: Any, start: int, stops: tuple[str, ...]) -> None:
        self.tok, self.start, self.stops = tok, start, stops

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        text = self.tok.decode(input_ids[0, self.start:], skip_special_tokens=True)
        hit = any(s in text for s in self.stops if s)
        return torch.full((input_ids.shape[0],), hit, dtype=torch.bool, device=input_ids.device)


__all__ = ["TransformersBackend"]
