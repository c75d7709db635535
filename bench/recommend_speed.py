"""How fast is ``recommend`` over the whole catalog? Targets: <= 100 ms in process, <= 1 s from the CLI.

In process (catalog already loaded, as in the web app or a second call): for each scenario,
the first call (per-catalog precomputation and quality evidence computed) and the median of
warm calls. Also a cold call that loads the catalog from YAML first. Every model x quant x
engine of the catalog is in scope; the report counts how many configurations that is, how many
``estimate`` calls ``recommend`` actually made (the rest are ruled out by cheap filters or by a
lower bound of their weight bytes), and, for comparison, how long estimating every one of them
takes on its own (with the estimator's per-architecture caches already warm).

End to end: ``python -m llmscout recommend --json`` (hardware auto-detected) in a fresh
interpreter, median of several runs. Until the CLI registers the command, a two-line launcher
that adds it to ``llmscout.cli._COMMANDS`` is used instead (the report says which).

    python bench/recommend_speed.py            # writes bench/results/recommend_speed.{md,json}
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from llmscout.catalog import load_catalog
from llmscout.catalog._catalog import bundled_catalog
from llmscout.errors import LlmscoutError
from llmscout.estimate import estimate
from llmscout.hardware import lookup_hardware
from llmscout.recommend import (
    _filters,
    _recommend,
    profile_from_dict,
    recommend,
    resolve_target_hardware,
)

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
WARM_RUNS = 9
CLI_RUNS = 7
IN_PROCESS_TARGET_S = 0.100
CLI_TARGET_S = 1.0
SCENARIOS: tuple[tuple[str, dict[str, Any], str | None], ...] = (
    ("chat, this machine (auto)", {"tasks": ["chat"]}, None),
    ("code, RTX 4060", {"tasks": ["code"]}, "rtx 4060"),
    ("chat, browser", {"tasks": ["chat"], "target": "browser"}, None),
    ("qa 100k context, H100 (vLLM + llama.cpp)", {"tasks": ["qa"], "context_tokens": 100_000}, "h100"),
    ("extraction, privacy local, RTX 4090", {"tasks": ["extraction"], "privacy": "local"}, "rtx 4090"),
    ("summarization 100k/day, budget 500, 8-channel DDR5 server",
     {"tasks": ["summarization"], "requests_per_day": 100_000, "budget_per_month": 500}, "server-ddr5-4800-8ch"),
)
_LAUNCH = ("import sys, llmscout.cli as c\n"
           "c._COMMANDS = c._COMMANDS if 'recommend' in c._COMMANDS else c._COMMANDS + ('recommend',)\n"
           "sys.exit(c.main(sys.argv[1:]))")


def _clear_caches() -> None:
    _filters._PREPARED.clear()
    _recommend._QUALITY.clear()


def _configs_in_scope(models: list[Any], engines: tuple[str, ...]) -> int:
    n = 0
    for m in models:
        if m.kind == "cloud":
            n += 1
        else:
            n += sum(len(_filters.model_configs(m, e)) for e in engines)
    return n


def _brute_force_s(models: list[Any], hw: Any, engines: tuple[str, ...], profile: Any) -> float:
    """Time to estimate every configuration in scope, for comparison (estimator caches warm)."""
    t0 = time.perf_counter()
    for m in models:
        configs = [None] if m.kind == "cloud" else [c for e in engines for c in _filters.model_configs(m, e)]
        for cfg in configs:
            try:
                if cfg is None:
                    estimate(m, hw, prompt_tokens=profile.input_tokens, output_tokens=profile.output_tokens)
                else:
                    estimate(m, hw, quant=cfg.quant, engine=cfg.engine, context=profile.context_tokens,
                             prompt_tokens=profile.input_tokens, output_tokens=profile.output_tokens)
            except LlmscoutError:
                continue
    return time.perf_counter() - t0


def in_process() -> list[dict[str, Any]]:
    catalog = load_catalog()
    models = list(catalog)
    rows = []
    for name, fields, hw_name in SCENARIOS:
        profile = profile_from_dict(fields)
        hw = lookup_hardware(hw_name) if hw_name else resolve_target_hardware(profile)
        _clear_caches()
        t0 = time.perf_counter()
        rec = recommend(profile, hw, catalog)
        first = time.perf_counter() - t0
        warm = []
        for _ in range(WARM_RUNS):
            t0 = time.perf_counter()
            recommend(profile, hw, catalog)
            warm.append(time.perf_counter() - t0)
        engines = tuple(rec.stats["engines"])
        rows.append({
            "scenario": name, "hardware": hw.name, "engines": list(engines),
            "first_call_s": first, "warm_median_s": statistics.median(warm), "warm_max_s": max(warm),
            "configs_in_scope": _configs_in_scope(models, engines), "estimates_run": rec.stats["estimates"],
            "candidates": rec.stats["candidates"], "excluded": rec.stats["excluded"],
            "brute_force_s": _brute_force_s(models, hw, engines, profile),
            "pick": rec.pick.id if rec.pick else None,
        })
    return rows


def cold_in_process() -> dict[str, float]:
    """Load the catalog from YAML and recommend, in this process (caches cleared)."""
    bundled_catalog.cache_clear()
    _clear_caches()
    profile = profile_from_dict({"tasks": ["chat"]})
    hw = lookup_hardware("rtx 4060")
    t0 = time.perf_counter()
    catalog = load_catalog()
    t1 = time.perf_counter()
    recommend(profile, hw, catalog)
    t2 = time.perf_counter()
    return {"load_catalog_s": t1 - t0, "recommend_s": t2 - t1, "total_s": t2 - t0}


def end_to_end() -> dict[str, Any]:
    """Fresh interpreters with their own empty LLMSCOUT_HOME: the first run parses the catalog YAML,
    later runs use the parsed-YAML cache that run leaves in $LLMSCOUT_HOME/cache."""
    from llmscout.cli import _COMMANDS

    registered = "recommend" in _COMMANDS
    cmd = [sys.executable, "-m", "llmscout"] if registered else [sys.executable, "-c", _LAUNCH]
    times, size = [], 0
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LLMSCOUT_HOME": home}
        for _ in range(CLI_RUNS + 1):
            t0 = time.perf_counter()
            proc = subprocess.run([*cmd, "recommend", "--json"], capture_output=True, text=True,
                                  cwd=ROOT.parent, env=env)
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise SystemExit(f"llmscout recommend failed: {proc.stderr}")
            size = len(proc.stdout)
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=ROOT.parent, env=env)
        help_s = time.perf_counter() - t0
    first, warm = times[0], times[1:]
    return {"command": "python -m llmscout recommend --json" if registered else
            "python -c <launcher adding 'recommend' to llmscout.cli._COMMANDS> recommend --json",
            "registered": registered, "first_run_s": first, "median_s": statistics.median(warm),
            "max_s": max(warm), "runs": [round(t, 4) for t in warm], "json_bytes": size, "help_s": help_s}


def _markdown(data: dict[str, Any]) -> str:
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    ip, cli, cold = data["in_process"], data["end_to_end"], data["cold_in_process"]
    worst_warm = max(r["warm_median_s"] for r in ip)
    worst_first = max(r["first_call_s"] for r in ip)
    lines = [
        "# recommend: speed over the whole catalog",
        "",
        f"Generated by `python bench/recommend_speed.py` on {data['machine']} (Python {data['python']}), "
        f"{data['models']} catalog models; 1-minute load average {data['load_before']:.1f} before and "
        f"{data['load_after']:.1f} after the run on {os.cpu_count()} cores (other work on the machine slows "
        "every figure).",
        "",
        "## Result",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| in process, warm, worst scenario median | {ms(worst_warm)} | <= {ms(IN_PROCESS_TARGET_S)} |",
        f"| in process, first call (precomputation), worst scenario | {ms(worst_first)} | <= {ms(IN_PROCESS_TARGET_S)} |",
        f"| in process, cold: load catalog {ms(cold['load_catalog_s'])} + recommend {ms(cold['recommend_s'])} "
        f"| {ms(cold['total_s'])} | |",
        f"| end to end: `{cli['command']}`, median of {len(cli['runs'])} | {ms(cli['median_s'])} "
        f"(max {ms(cli['max_s'])}) | <= {ms(CLI_TARGET_S)} |",
        f"| end to end, first run (empty LLMSCOUT_HOME: catalog YAML parsed) | {ms(cli['first_run_s'])} "
        f"| <= {ms(CLI_TARGET_S)} |",
        f"| `--help` for comparison | {ms(cli['help_s'])} | |",
        "",
        "## Scenarios (in process)",
        "",
        "| scenario | engines | first call | warm median | configurations in scope | estimates run | "
        "estimating every one (brute force) | candidates | pick |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ip:
        lines.append(f"| {r['scenario']} | {', '.join(r['engines']) or '-'} | {ms(r['first_call_s'])} | "
                     f"{ms(r['warm_median_s'])} | {r['configs_in_scope']} | {r['estimates_run']} | "
                     f"{ms(r['brute_force_s'])} | {r['candidates']} | {r['pick']} |")
    lines += [
        "",
        "## Method",
        "",
        f"- Warm: median of {WARM_RUNS} calls after a first one, catalog and hardware already loaded. "
        "First call: the per-catalog caches (each model's engine x quant configurations with weight-byte "
        "lower bounds; quality evidence per task set) are cleared first.",
        "- Configurations in scope: every catalog model x the quants of its artifacts for each engine the "
        "target uses (hosted APIs count once). recommend estimates a configuration only when no cheap filter "
        "excludes the model and its weights' lower bound fits; per model it tries the engine's usual default "
        "first and smaller quants only if that fails, then estimates every configuration of the best "
        "`top + 5` models. The brute-force column times estimate() over every configuration in scope, with "
        "the estimator's per-architecture weight caches already warm; recommend's own time also covers "
        "quality evidence, scoring, the ladder, Pareto fronts, advice and the snippet.",
        f"- End to end: a fresh `python` process each run with its own empty `LLMSCOUT_HOME`, hardware "
        "auto-detected (this VM's CPU), JSON written to a pipe. The first run parses the catalog YAML and "
        f"leaves llmscout's parsed-YAML cache behind; the median is over the {CLI_RUNS} runs after it.",
        "- In process, cold: the bundled catalog's in-memory cache is cleared, so the catalog is rebuilt "
        "(from the parsed-YAML cache on disk when present) and every estimator cache starts empty.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    with tempfile.TemporaryDirectory() as home:
        os.environ["LLMSCOUT_HOME"] = home  # leave the user's state alone
        return _run()


def _run() -> int:
    data: dict[str, Any] = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
                                       f"{platform.system()}", "python": platform.python_version(),
                            "models": len(load_catalog())}
    data["load_before"] = os.getloadavg()[0]
    data["in_process"] = in_process()
    data["cold_in_process"] = cold_in_process()
    data["end_to_end"] = end_to_end()
    data["load_after"] = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "recommend_speed.json").write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / "recommend_speed.md").write_text(_markdown(data))
    print(_markdown(data))
    ok = max(r["warm_median_s"] for r in data["in_process"]) <= IN_PROCESS_TARGET_S and \
        max(data["end_to_end"]["median_s"], data["end_to_end"]["first_run_s"]) <= CLI_TARGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
