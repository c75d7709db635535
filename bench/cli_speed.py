"""Start-up and lookup speed of the CLI and the GGUF header reader (targets from the issues).

    python bench/cli_speed.py     -> bench/results/cli_speed.md and .json

Targets: `llmscout --help` < 0.3 s; reading a 262k-vocabulary GGUF header in <= 0.2 s (the
`gguf` package's reader takes 8-18 s there because it materialises every token string).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RUNS = 7


def _time_cmd(args: list[str], env: dict) -> list[float]:
    subprocess.run(args, capture_output=True, env=env, check=True)  # warm the bytecode cache
    out = []
    for _ in range(RUNS):
        t = time.perf_counter()
        subprocess.run(args, capture_output=True, env=env, check=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    from llmscout.catalog.sources.gguf import read_gguf_header
    from llmscout.estimate.calibrate import packaged_gguf

    env = {**os.environ, "LLMSCOUT_HOME": tempfile.mkdtemp(), "HF_HUB_OFFLINE": "1"}
    py = [sys.executable, "-m", "llmscout"]
    rows = {
        "llmscout --help": (_time_cmd([*py, "--help"], env), 0.3),
        "llmscout models list --json (224 models)": (_time_cmd([*py, "models", "list", "--json"], env), None),
        "llmscout models show google/gemma-3-270m --json": (
            _time_cmd([*py, "models", "show", "google/gemma-3-270m", "--json"], env), None),
    }
    gguf = packaged_gguf()
    read_gguf_header(gguf)
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        read_gguf_header(gguf)
        times.append(time.perf_counter() - t)
    rows["GGUF header read, Gemma 3 270M (262k vocab), in process"] = (times, 0.2)
    load = os.getloadavg()[0]
    result = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "load_average_1m": load, "runs": RUNS,
              "rows": {k: {"median_s": statistics.median(v), "min_s": min(v), "target_s": t} for k, (v, t) in rows.items()}}
    lines = ["# CLI and GGUF-reader speed", "",
             f"Generated {result['generated_at']} by `bench/cli_speed.py`; {RUNS} runs each after a warm-up; "
             f"1-minute load average {load:.2f} on 2 cores.", "",
             "| what | median | best | target |", "|---|---|---|---|"]
    for k, r in result["rows"].items():
        tgt = "-" if r["target_s"] is None else f"< {r['target_s']} s ({'met' if r['median_s'] < r['target_s'] else 'NOT met'})"
        lines.append(f"| {k} | {r['median_s'] * 1000:.0f} ms | {r['min_s'] * 1000:.0f} ms | {tgt} |")
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "cli_speed.json").write_text(json.dumps(result, indent=1))
    (ROOT / "results" / "cli_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
