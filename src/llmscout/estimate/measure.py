"""Measure a GGUF model for real with llama.cpp (llama-cpp-python), in a child process.

A child process because a llama.cpp crash (segfault, abort, out of memory) would otherwise kill
the caller: here it becomes a ``MeasureError`` naming what happened. The child loads the model
with ``use_mmap=False`` (with mmap, weights that llama.cpp repacks are counted twice in RSS) and
reports:

* llama.cpp's own buffer accounting, parsed from its load log: model buffers (CPU, CPU_REPACK,
  GPU), KV cache, compute buffer, output buffer;
* peak resident memory of the process (``VmHWM``) and its baseline before loading;
* prefill and decode tokens/s timed around llama.cpp's eval calls (wall clock). Decode is timed at several context depths: the prompt is prefilled to the
  depth, then ``gen_tokens`` single-token evaluations follow (sampling excluded: it is not part
  of the model's cost). Token ids are random but fixed by the seed; speed does not depend on
  the values.

Run directly for a quick look: ``python -m llmscout.estimate.measure MODEL.gguf``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmscout.errors import LlmscoutError, MissingFileError

MIB = 1024 * 1024
_BUFFER_RE = re.compile(r"(?P<where>\w+):\s+(?P<dev>[\w_]+)\s+(?P<kind>model|KV|compute|output) buffer size =\s+"
                        r"(?P<mib>[0-9.]+) MiB")


class MeasureError(LlmscoutError, RuntimeError):
    """The model could not be loaded or run (the child's exit status and last log lines say why)."""


@dataclass(frozen=True, slots=True)
class DepthTiming:
    depth: int  # tokens already in the KV cache when decoding starts
    decode_tokens: int
    decode_tokens_per_s: float


@dataclass(frozen=True, slots=True)
class Measurement:
    path: str
    file_size_bytes: int
    n_ctx: int
    n_threads: int
    n_batch: int
    n_gpu_layers: int
    load_s: float
    prefill_tokens: int
    prefill_tokens_per_s: float
    decode: tuple[DepthTiming, ...]
    buffers_bytes: dict[str, int]  # "model:CPU", "model:CPU_REPACK", "KV:CPU", "compute:CPU", ...
    rss_baseline_bytes: int
    rss_peak_bytes: int
    llama_cpp_version: str
    flash_attn: bool = False
    swa_full: bool = True  # llama-cpp-python's default: sliding-window layers cache the full context
    extra: dict[str, Any] = field(default_factory=dict)

    def buffer_total(self, kind: str) -> int:
        return sum(v for k, v in self.buffers_bytes.items() if k.startswith(kind + ":"))

    @property
    def model_buffer_bytes(self) -> int:
        return self.buffer_total("model")

    @property
    def kv_buffer_bytes(self) -> int:
        return self.buffer_total("KV")

    @property
    def compute_buffer_bytes(self) -> int:
        return self.buffer_total("compute")

    @property
    def llama_total_bytes(self) -> int:
        """Everything llama.cpp allocated by its own accounting."""
        return sum(self.buffers_bytes.values())

    @property
    def decode_tokens_per_s(self) -> float | None:
        """Decode speed at the shallowest measured depth (None for a memory-only measurement)."""
        return self.decode[0].decode_tokens_per_s if self.decode else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(model_buffer_bytes=self.model_buffer_bytes, kv_buffer_bytes=self.kv_buffer_bytes,
                 compute_buffer_bytes=self.compute_buffer_bytes, llama_total_bytes=self.llama_total_bytes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Measurement:
        keep = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        keep["decode"] = tuple(DepthTiming(**t) for t in d["decode"])
        return cls(**keep)


def parse_buffers(log: str) -> dict[str, int]:
    """llama.cpp's 'X buffer size = N MiB' lines → {'kind:device': bytes} (summed per key)."""
    out: dict[str, int] = {}
    for m in _BUFFER_RE.finditer(log):
        if m.group("where").startswith("~"):
            continue
        key = f"{m.group('kind')}:{m.group('dev')}"
        out[key] = out.get(key, 0) + int(round(float(m.group("mib")) * MIB))
    return out


def measure_gguf(path: str | Path, n_ctx: int = 4096, prompt_tokens: int = 512, gen_tokens: int = 32,
                 depths: tuple[int, ...] = (0,), n_threads: int | None = None, n_batch: int = 512,
                 n_gpu_layers: int = 0, flash_attn: bool = False, swa_full: bool = True, seed: int = 0,
                 timeout_s: float = 900) -> Measurement:
    """Load ``path`` in a child process and measure memory, prefill and decode (see module doc)."""
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise MissingFileError(p)
    if max(depths, default=0) + gen_tokens > n_ctx or prompt_tokens > n_ctx:
        raise ValueError(f"depths/prompt must fit in n_ctx={n_ctx}")
    args = {"path": str(p), "n_ctx": n_ctx, "prompt_tokens": prompt_tokens, "gen_tokens": gen_tokens,
            "depths": list(depths), "n_threads": n_threads or os.cpu_count() or 1, "n_batch": n_batch,
            "n_gpu_layers": n_gpu_layers, "flash_attn": flash_attn, "swa_full": swa_full, "seed": seed}
    try:
        proc = subprocess.run([sys.executable, "-m", "llmscout.estimate.measure", "--child", json.dumps(args)],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise MeasureError(f"{p.name}: measurement took longer than {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        why = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
        raise MeasureError(f"{p.name}: did not load or run ({why}): {tail[-400:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["buffers_bytes"] = parse_buffers(proc.stderr)
    return Measurement.from_dict(result)


def _rss() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in bytes, from /proc (Linux) or resource."""
    try:
        text = Path("/proc/self/status").read_text()
        vals = {k: int(v.split()[0]) * 1024 for k, v in (ln.split(":", 1) for ln in text.splitlines() if ":" in ln)
                if k in ("VmRSS", "VmHWM")}
        return vals["VmRSS"], vals["VmHWM"]
    except (OSError, KeyError, ValueError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak *= 1 if sys.platform == "darwin" else 1024
        return peak, peak


def _child(args: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - runs in the child
    import random
    import time

    import llama_cpp

    baseline, _ = _rss()
    t0 = time.perf_counter()
    llm = llama_cpp.Llama(args["path"], n_ctx=args["n_ctx"], n_threads=args["n_threads"],
                          n_threads_batch=args["n_threads"], n_batch=args["n_batch"], n_ubatch=args["n_batch"],
                          n_gpu_layers=args["n_gpu_layers"], use_mmap=False, flash_attn=args["flash_attn"],
                          verbose=True, seed=args["seed"], no_perf=False, swa_full=args["swa_full"])
    load_s = time.perf_counter() - t0
    rng = random.Random(args["seed"])
    n_vocab = llm.n_vocab()
    specials = {llm.token_bos(), llm.token_eos()}
    tokens = [t for t in (rng.randrange(4, n_vocab) for _ in range(args["n_ctx"])) if t not in specials]

    def timed(fn) -> float:
        # Wall clock around llama.cpp's eval: llama_perf_context reads 0 through this binding.
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    n_p = args["prompt_tokens"]
    t_p = 0.0
    if n_p or args["depths"]:
        llm.reset()
        llm.eval(tokens[:64])  # warm-up: page in weights (use_mmap=False loads them), build graphs
        for tok in tokens[:4]:
            llm.eval([tok])  # and the single-token graph (the first one costs ~0.5 s)
        llm.reset()
    if n_p:
        t_p = timed(lambda: llm.eval(tokens[:n_p]))
    decode = []
    for depth in args["depths"]:
        llm.reset()
        if depth:
            llm.eval(tokens[:depth])
        gen = tokens[depth: depth + args["gen_tokens"]]

        def run(gen=gen) -> None:
            for tok in gen:
                llm.eval([tok])

        t_e = timed(run)
        decode.append({"depth": depth, "decode_tokens": len(gen), "decode_tokens_per_s": len(gen) / t_e})
    _, peak = _rss()
    return {"path": args["path"], "file_size_bytes": os.path.getsize(args["path"]), "n_ctx": args["n_ctx"],
            "n_threads": args["n_threads"], "n_batch": args["n_batch"], "n_gpu_layers": args["n_gpu_layers"],
            "load_s": load_s, "prefill_tokens": n_p, "prefill_tokens_per_s": n_p / t_p if t_p else 0.0,
            "decode": decode, "rss_baseline_bytes": baseline, "rss_peak_bytes": peak,
            "llama_cpp_version": llama_cpp.__version__, "flash_attn": args["flash_attn"],
            "swa_full": args["swa_full"]}


def main(argv: list[str]) -> int:  # pragma: no cover - exercised through measure_gguf
    if argv[:1] == ["--child"]:
        result = _child(json.loads(argv[1]))
        sys.stdout.flush()
        print(json.dumps(result), flush=True)
        return 0
    m = measure_gguf(argv[0], depths=(0, 1024))
    print(json.dumps(m.to_dict(), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
