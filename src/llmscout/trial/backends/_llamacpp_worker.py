"""The child process that holds one llama.cpp model (see ``llamacpp.py`` for why a child).

Started as ``python -m llmscout.trial.backends._llamacpp_worker '<load args as JSON>'``. It loads
the model, writes one JSON line (``{"ok": true, ...facts}`` or ``{"ok": false, "error": ...}``),
then answers JSON-line requests from stdin in order until ``{"op": "exit"}`` or end of input:

* ``{"op": "generate", "prompt", "max_tokens", "temperature", "top_p", "seed", "stop"}`` ->
  text, token counts, prefix tokens reused, TTFT, prefill/decode speed, finish reason;
* ``{"op": "tokenize", "texts"}`` -> ``{"counts": [...]}``.

The protocol uses a private copy of the stdout descriptor; descriptor 1 is pointed at stderr so
nothing llama.cpp prints can corrupt it. Timings are wall clock around llama.cpp's calls.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO


def _protocol_stream() -> TextIO:
    """A line-buffered writer on a copy of stdout; stdout itself then goes to stderr."""
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _disable_cpu_repack(llama_cpp_module: Any) -> None:
    """Load without llama.cpp's extra CPU buffer types (weight repacking): works around ggml's
    AMX kernel faulting in some VMs (see /work/shared/LOCAL-MODELS.md), 5-15% slower decode."""
    low = llama_cpp_module.llama_cpp
    original = low.llama_model_default_params

    def params() -> Any:
        p = original()
        p.use_extra_bufts = False
        return p

    low.llama_model_default_params = params


def load(args: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Load the model; (Llama, facts for the parent)."""
    import llama_cpp

    if not args.get("cpu_repack", True):
        _disable_cpu_repack(llama_cpp)
    t0 = time.perf_counter()
    llm = llama_cpp.Llama(
        model_path=args["path"], n_ctx=args["n_ctx"], n_threads=args["n_threads"],
        n_threads_batch=args["n_threads"], n_batch=args["n_batch"], n_ubatch=args["n_batch"],
        n_gpu_layers=args["n_gpu_layers"], use_mmap=False, flash_attn=args["flash_attn"],
        seed=args["seed"], no_perf=False, verbose=True)
    load_s = time.perf_counter() - t0
    warmup_s = _warm_up(llm)
    model = llm._model

    def text_of(tok: int) -> str:
        return model.token_get_text(tok) if tok >= 0 else ""

    meta = llm.metadata
    return llm, {
        "ok": True, "load_s": load_s, "warmup_s": warmup_s, "n_ctx": llm.n_ctx(),
        "n_vocab": llm.n_vocab(),
        "chat_template": meta.get("tokenizer.chat_template"),
        "architecture": meta.get("general.architecture", ""),
        "model_name": meta.get("general.name", ""),
        "bos_token": text_of(llm.token_bos()), "eos_token": text_of(llm.token_eos()),
        "add_bos": meta.get("tokenizer.ggml.add_bos_token", "true") != "false",
        "llama_cpp_version": llama_cpp.__version__,
    }


def _warm_up(llm: Any) -> float:
    """Run the batch and single-token graphs once so the first request is timed like the rest
    (llama.cpp builds and allocates a graph shape the first time it sees it)."""
    start = time.perf_counter()
    toks = llm.tokenize(b"Hello world, this is a warm-up.", add_bos=True)[:16]
    llm.eval(toks)
    for tok in toks[:4]:
        llm.eval([tok])
    llm.reset()
    return time.perf_counter() - start


def _tokenize(llm: Any, text: str, bos_text: str) -> list[int]:
    # A template that writes the BOS text itself must not get a second BOS from the tokenizer.
    add_bos = not (bos_text and text.startswith(bos_text))
    return llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)


def _earliest_stop(text: str, stops: list[str]) -> int:
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else -1


def generate(llm: Any, req: dict[str, Any], bos_text: str) -> dict[str, Any]:
    """Greedy (temperature 0) or sampled generation of one prompt, timed."""
    import llama_cpp

    t0 = time.perf_counter()
    tokens = _tokenize(llm, req["prompt"], bos_text)
    n_ctx = llm.n_ctx()
    if len(tokens) >= n_ctx:
        return {"ok": False, "error": f"prompt has {len(tokens)} tokens; the context holds "
                                      f"{n_ctx} (load with a larger n_ctx)"}
    max_tokens = min(int(req["max_tokens"]), n_ctx - len(tokens))
    stops: list[str] = list(req.get("stop") or [])
    evals: list[tuple[int, float]] = []  # (tokens evaluated, seconds) per llama.cpp eval call
    plain_eval = type(llm).eval

    def timed_eval(toks: Any) -> None:
        start = time.perf_counter()
        plain_eval(llm, toks)
        evals.append((len(toks), time.perf_counter() - start))

    llm.eval = timed_eval  # instance attribute: Llama.generate calls self.eval
    llm.set_seed(int(req.get("seed", 0)))
    temp = float(req.get("temperature", 0.0))
    sampling = {"temp": temp, "top_p": float(req.get("top_p", 1.0)), "top_k": 0, "min_p": 0.0,
                "repeat_penalty": 1.0} if temp > 0 else {"temp": 0.0}
    out: list[int] = []
    finish, text, t_first = "length", "", None
    try:
        for tok in llm.generate(tokens, reset=True, **sampling):
            if t_first is None:
                t_first = time.perf_counter()
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, tok):
                finish = "stop"
                break
            out.append(tok)
            text = llm.detokenize(out, special=True).decode("utf-8", errors="ignore")
            cut = _earliest_stop(text, stops) if stops else -1
            if cut >= 0:
                text, finish = text[:cut], "stop"
                break
            if len(out) >= max_tokens:
                break
    finally:
        del llm.eval
    t_end = time.perf_counter()
    return _timings(tokens, out, evals, text, finish, t0, t_first, t_end)


def _timings(tokens: list[int], out: list[int], evals: list[tuple[int, float]], text: str,
             finish: str, t0: float, t_first: float | None, t_end: float) -> dict[str, Any]:
    prefill_n, prefill_s = evals[0] if evals else (0, 0.0)
    decode_s = t_end - t_first if t_first is not None else 0.0
    return {
        "ok": True, "text": text, "tokens_in": len(tokens), "tokens_out": len(out),
        "prefix_tokens_reused": max(0, len(tokens) - prefill_n) if evals else 0,
        "ttft_s": (t_first - t0) if t_first is not None else None, "latency_s": t_end - t0,
        "prefill_tokens_per_s": prefill_n / prefill_s if prefill_s > 0 else None,
        "decode_tokens_per_s": (len(out) - 1) / decode_s if len(out) > 1 and decode_s > 0
        else None,
        "finish_reason": finish,
    }


def serve(args: dict[str, Any], inp: TextIO, out: TextIO) -> int:
    """Load, report, then answer requests until exit or end of input."""
    try:
        llm, facts = load(args)
    except Exception as e:  # noqa: BLE001 - reported to the parent as "did not load"
        out.write(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}) + "\n")
        return 1
    out.write(json.dumps(facts) + "\n")
    bos_text = facts["bos_token"] if facts["add_bos"] else ""
    for line in inp:
        if not line.strip():
            continue
        req = json.loads(line)
        op = req.get("op")
        if op == "exit":
            break
        try:
            if op == "generate":
                reply = generate(llm, req, bos_text)
            elif op == "tokenize":
                reply = {"ok": True, "counts": [len(_tokenize(llm, t, bos_text)) if t else 0
                                                for t in req["texts"]]}
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as e:  # noqa: BLE001 - one failed request, the model stays loaded
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(reply) + "\n")
    return 0


def main(argv: list[str]) -> int:  # pragma: no cover - runs in the child process
    out = _protocol_stream()
    return serve(json.loads(argv[0]), sys.stdin, out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
