"""Does early stopping reach the same decision as evaluating every example, with <= 50% of the calls?

The suite is a set of simulated ladders whose per-example pass/fail vectors are fixed in
advance, so the answer of full evaluation is known exactly. Each ladder has 3 models x
(0, 4) shots = 6 rungs, N examples (50-400) and a bar (0.6-0.9):

- every example gets a difficulty; each rung passes exactly round(rate x N) examples, the
  easiest ones for that rung (difficulty + rung-specific noise), so rungs of one ladder pass
  overlapping sets, as real models do;
- rates: the three models' base rates are drawn in 0.3-0.95 and sorted (bigger models are
  better), 4 shots add -0.05 to +0.10; in 30% of ladders one rung is moved to within 3 points
  of the bar (the hard cases, where a random prefix says little);
- full evaluation runs each rung on every example, in climb order, until one reaches the bar
  (passes >= bar x N); early stopping runs ``llmscout.trial.ladder.Ladder`` on the same vectors.

Reported: agreement of the winner (same rung or both none), agreement of each rung's
accept/reject decision (every rung tested on its own, not only those the climb reached), and
calls used by the early-stopping ladder as a fraction of the full-evaluation ladder's calls.

    python bench/early_stopping.py                     # the simulated suite
    python bench/early_stopping.py --recorded runs.json  # also rows from real runs

A recorded file holds real pass/fail vectors (e.g. from llama.cpp runs)::

    {"name": "sst2 on gemma/qwen", "bar": 0.8, "confidence": 0.95,
     "rungs": [{"model": "gemma-3-270m", "shots": 0, "system_prompt_idx": 0,
                "outcomes": {"ex-1": true, "ex-2": false}}, ...]}

Results: bench/results/early_stopping.md (tables + method) and .json (every ladder).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from llmscout.errors import InvalidFileError, InvalidValueError
from llmscout.trial.ladder import (
    Ladder,
    Rung,
    RungResult,
    SequentialTest,
    climb_order,
    plan_order,
)

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
SUITE_SEED = 20261122
LADDERS = 1000
SIZES = (50, 100, 150, 200, 300, 400)
BARS = (0.6, 0.7, 0.8, 0.9)
MODELS = ("small", "medium", "large")
SHOTS = (0, 4)
HARD_SHARE = 0.3
NEAR = 0.03  # "near the bar": |rate - bar| <= NEAR


# ---------------------------------------------------------------- one ladder, both ways


def _meets(passes: int, n: int, bar: float) -> bool:
    return passes >= math.ceil(bar * n - 1e-9)


def evaluate_recorded(outcomes_by_rung: Mapping[Rung | tuple, Mapping[str, bool] | Sequence[bool]],
                      bar: float = 0.8, confidence: float = 0.95, seed: int = 0,
                      min_examples: int = 5, method: str = "clopper-pearson",
                      look_ratio: float = 1.5) -> dict:
    """Early stopping vs full evaluation on recorded pass/fail vectors, one ladder.

    ``outcomes_by_rung`` maps each rung (smallest model first) to ``{example_id: passed}``
    (or a list of booleans, ids "0", "1", ...); every rung must cover the same examples.
    Returns the full and early winners, per-rung decisions both ways, and the calls used.
    """
    vectors = {_as_rung(r): _as_mapping(v) for r, v in outcomes_by_rung.items()}
    ids = _common_ids(vectors)
    rungs = climb_order(list(vectors))
    full_rungs, calls_full, winner_full = [], 0, None
    for rung in rungs:
        passes = sum(vectors[rung].values())
        full_rungs.append({**rung.to_dict(), "passes": passes, "rate": passes / len(ids),
                           "full": "accept" if _meets(passes, len(ids), bar) else "reject"})
        if winner_full is None:
            calls_full += len(ids)
            if full_rungs[-1]["full"] == "accept":
                winner_full = rung
    ladder = Ladder(rungs, bar, confidence, seed, example_ids=ids, min_examples=min_examples,
                    method=method, look_ratio=look_ratio)
    while (call := ladder.next_call()) is not None:
        ladder.record(call[0], call[1], vectors[call[0]][call[1]])
    result = ladder.result()
    order = plan_order(ids, seed)
    for row, rung in zip(full_rungs, rungs, strict=True):
        seen = result.for_rung(rung)
        if seen.decision == "continue":  # the climb ended before this rung: test it on its own
            seen = _run_alone(vectors[rung], order, bar, confidence, min_examples, method,
                              look_ratio)
        row.update(early=seen.decision, n=seen.n, basis=seen.basis)
    return {"examples": len(ids), "bar": bar, "confidence": confidence, "seed": seed,
            "winner_full": _label(winner_full), "winner_early": _label(result.winner),
            "calls_full": calls_full, "calls_early": result.calls_used, "rungs": full_rungs}


def _run_alone(vector: Mapping[str, bool], order: list[str], bar: float, confidence: float,
               min_examples: int, method: str, look_ratio: float):
    test = SequentialTest(bar, confidence, min(min_examples, len(order)), len(order), method,
                          look_ratio)
    for example_id in order:
        if test.update(vector[example_id]).done:
            break
    d = test.decision
    return RungResult(Rung("alone"), d.n, d.passes, (0.0, 1.0), d.verdict, d.basis)


def _as_rung(rung: Rung | tuple | str) -> Rung:
    if isinstance(rung, Rung):
        return rung
    if isinstance(rung, str):
        return Rung(rung)
    return Rung(*rung)


def _as_mapping(vector: Mapping[str, bool] | Sequence[bool]) -> dict[str, bool]:
    if isinstance(vector, Mapping):
        return {str(k): bool(v) for k, v in vector.items()}
    return {str(i): bool(v) for i, v in enumerate(vector)}


def _common_ids(vectors: dict[Rung, dict[str, bool]]) -> list[str]:
    if not vectors:
        raise InvalidValueError("outcomes_by_rung", {}, "at least one rung with outcomes")
    first_rung, first = next(iter(vectors.items()))
    for rung, vector in vectors.items():
        if vector.keys() != first.keys():
            missing = sorted(first.keys() ^ vector.keys())[:5]
            raise InvalidValueError(f"outcomes_by_rung[{rung.label()}]", missing,
                                    f"the same example ids as {first_rung.label()}")
    return list(first)


def _label(rung: Rung | None) -> str | None:
    return rung.label() if rung else None


# ---------------------------------------------------------------- the simulated suite


def simulate_ladder(index: int, seed: int = SUITE_SEED) -> tuple[dict[Rung, dict[str, bool]], float]:
    """One ladder's fixed pass/fail vectors and its bar (see the module docstring)."""
    rng = random.Random(seed * 100_003 + index)
    size, bar = rng.choice(SIZES), rng.choice(BARS)
    bases = sorted(rng.uniform(0.3, 0.95) for _ in MODELS)
    rates = {Rung(m, s): base + (rng.uniform(-0.05, 0.10) if s else 0.0)
             for m, base in zip(MODELS, bases, strict=True) for s in SHOTS}
    if rng.random() < HARD_SHARE:
        rung = rng.choice(list(rates))
        rates[rung] = bar + rng.uniform(-NEAR, NEAR)
    difficulty = [rng.gauss(0.0, 1.0) for _ in range(size)]
    vectors = {}
    for rung, rate in rates.items():
        passes = round(min(max(rate, 0.3), 0.95) * size)
        score = sorted(range(size), key=lambda i: difficulty[i] + rng.gauss(0.0, 0.7))
        easiest = set(score[:passes])
        vectors[rung] = {f"ex{i:03d}": i in easiest for i in range(size)}
    return vectors, bar


def run_suite(ladders: int = LADDERS, seed: int = SUITE_SEED, **options) -> list[dict]:
    rows = []
    for index in range(ladders):
        vectors, bar = simulate_ladder(index, seed)
        rows.append({"ladder": index, **evaluate_recorded(vectors, bar, seed=index, **options)})
    return rows


# ---------------------------------------------------------------- summaries


def summarise(rows: list[dict]) -> dict:
    fractions = [r["calls_early"] / r["calls_full"] for r in rows]
    rung_rows = [dict(g, ladder=r.get("ladder"), examples=r["examples"], bar=r["bar"])
                 for r in rows for g in r["rungs"]]
    agree = [r for r in rung_rows if r["early"] == r["full"]]
    near = [r for r in rung_rows if _in_band(abs(r["rate"] - r["bar"]), 0.0, NEAR)]
    return {
        "ladders": len(rows),
        "winner_agreement": _share(sum(r["winner_full"] == r["winner_early"] for r in rows),
                                   len(rows)),
        "rung_decisions": len(rung_rows),
        "rung_agreement": _share(len(agree), len(rung_rows)),
        "rung_agreement_near_bar": _share(sum(r["early"] == r["full"] for r in near), len(near)),
        "calls_fraction": {"mean": statistics.fmean(fractions),
                           "median": statistics.median(fractions),
                           "p90": _quantile(fractions, 0.9), "worst": max(fractions)},
        "calls_early": sum(r["calls_early"] for r in rows),
        "calls_full": sum(r["calls_full"] for r in rows),
        "rung_fraction_mean": statistics.fmean(r["n"] / r["examples"] for r in rung_rows),
        "stops_by": {b: sum(r["basis"] == b for r in rung_rows) for b in ("bound", "count")},
        "disagreements": [r for r in rung_rows if r["early"] != r["full"]],
        "winner_disagreements": [{k: r[k] for k in ("ladder", "examples", "bar", "winner_full",
                                                    "winner_early")}
                                 for r in rows if r["winner_full"] != r["winner_early"]],
    }


def breakdown(rows: list[dict], key) -> list[dict]:
    groups: dict = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    out = []
    for name in sorted(groups):
        s = summarise(groups[name])
        out.append({"group": name, "ladders": s["ladders"],
                    "winner_agreement": s["winner_agreement"]["rate"],
                    "rung_agreement": s["rung_agreement"]["rate"],
                    "calls_mean": s["calls_fraction"]["mean"],
                    "calls_median": s["calls_fraction"]["median"],
                    "calls_worst": s["calls_fraction"]["worst"]})
    return out


def rung_breakdown(rows: list[dict]) -> list[dict]:
    """Per-rung fraction of examples used, by distance of the rung's rate from the bar."""
    bands = ((0.0, NEAR), (NEAR, 0.1), (0.1, 0.2), (0.2, 1.0))  # |rate - bar|
    out = []
    for lo, hi in bands:
        sel = [g | {"examples": r["examples"]} for r in rows for g in r["rungs"]
               if _in_band(abs(g["rate"] - r["bar"]), lo, hi)]
        if not sel:
            continue
        out.append({"distance": f"{lo:.2f}-{hi:.2f}", "rungs": len(sel),
                    "agreement": _share(sum(g["early"] == g["full"] for g in sel), len(sel))["rate"],
                    "examples_used_mean": statistics.fmean(g["n"] / g["examples"] for g in sel)})
    return out


def _in_band(distance: float, lo: float, hi: float) -> bool:
    """(lo, hi], with the first band [0, hi] (small float slack: rates are k / N)."""
    return (distance > lo + 1e-12 or lo == 0.0) and distance <= hi + 1e-12


def _share(hits: int, total: int) -> dict:
    return {"agree": hits, "total": total, "rate": hits / total if total else None}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------- recorded runs


def load_recorded(path: Path) -> tuple[str, dict, dict]:
    """A recorded file's name, outcomes by rung and options (bar, confidence)."""
    try:
        data = json.loads(path.read_text())
        rungs = {Rung(r["model"], int(r.get("shots", 0)), int(r.get("system_prompt_idx", 0))):
                 r["outcomes"] for r in data["rungs"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidFileError(path, f"not a recorded-outcomes file ({exc})") from exc
    options = {k: data[k] for k in ("bar", "confidence") if k in data}
    return data.get("name", path.stem), rungs, options


# ---------------------------------------------------------------- report


def write_report(suite: dict, variants: list[dict], recorded: list[dict], elapsed: float) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    # one line per ladder (without its rungs: the suite is regenerated from the seed)
    ladders = [json.dumps({k: v for k, v in row.items() if k != "rungs"})
               for row in suite["ladders"]]
    head = {"suite_seed": SUITE_SEED, "suite": {k: v for k, v in suite.items() if k != "ladders"},
            "variants": variants, "recorded": recorded}
    text = json.dumps(head, indent=1)[:-2] + ',\n "ladders": [\n  ' + ",\n  ".join(ladders)
    (RESULTS / "early_stopping.json").write_text(text + "\n ]\n}\n")
    (RESULTS / "early_stopping.md").write_text(render_markdown(suite, variants, recorded, elapsed))


def render_markdown(suite: dict, variants: list[dict], recorded: list[dict], elapsed: float) -> str:
    s = suite["summary"]
    calls = s["calls_fraction"]
    lines = [
        "# Early stopping vs evaluating every example",
        "",
        "Generated by `python bench/early_stopping.py` (deterministic: suite seed "
        f"{SUITE_SEED}; {elapsed:.0f} s here). Method and suite: see the end of this file.",
        "",
        "## Result (default settings: Clopper-Pearson, 95% confidence, min 5 examples, "
        "looks x1.5)",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| same winner as full evaluation | {_pct(s['winner_agreement'])} | >= 95% |",
        f"| same accept/reject per rung | {_pct(s['rung_agreement'])} | |",
        f"| ... for rungs within {NEAR:.2f} of the bar | {_pct(s['rung_agreement_near_bar'])} | |",
        f"| calls used / full-evaluation calls, mean | {calls['mean']:.1%} | <= 50% |",
        f"| ... median | {calls['median']:.1%} | |",
        f"| ... 90th percentile | {calls['p90']:.1%} | |",
        f"| ... worst ladder | {calls['worst']:.1%} | |",
        f"| all calls, early / full | {s['calls_early']:,} / {s['calls_full']:,} "
        f"({s['calls_early'] / s['calls_full']:.1%}) | |",
        f"| rung stops by bound / by count | {s['stops_by']['bound']} / {s['stops_by']['count']} | |",
        "",
    ]
    lines += _disagreement_lines(s)
    lines += _table("By number of examples", "examples", suite["by_examples"])
    lines += _table("By bar", "bar", suite["by_bar"])
    lines += ["## Examples used per rung, by distance of its rate from the bar", "",
              "| distance | rungs | same decision | examples used (mean) |", "|---|---|---|---|"]
    lines += [f"| {b['distance']} | {b['rungs']} | {b['agreement']:.1%} | "
              f"{b['examples_used_mean']:.1%} |" for b in suite["by_distance"]]
    lines += ["", "## Other settings on the same suite", "",
              "| setting | same winner | same per rung | calls mean | median | worst |",
              "|---|---|---|---|---|---|"]
    for v in variants:
        vs = v["summary"]
        lines.append(f"| {v['name']} | {_pct(vs['winner_agreement'])} | "
                     f"{_pct(vs['rung_agreement'])} | {vs['calls_fraction']['mean']:.1%} | "
                     f"{vs['calls_fraction']['median']:.1%} | {vs['calls_fraction']['worst']:.1%} |")
    lines += ["", *_recorded_lines(recorded), *method_text(s["ladders"])]
    return "\n".join(lines) + "\n"


def _disagreement_lines(s: dict) -> list[str]:
    out = ["## Disagreements", ""]
    if not s["disagreements"]:
        return out + ["None: every rung's early decision matched full evaluation.", ""]
    out += ["Every rung whose early decision differs from full evaluation:", "",
            "| ladder | rung | N | bar | full-set rate | full | early | stopped after | by |",
            "|---|---|---|---|---|---|---|---|---|"]
    for d in s["disagreements"]:
        out.append(f"| {d['ladder']} | {d['model']} {d['shots']}-shot | {d['examples']} | "
                   f"{d['bar']} | {d['rate']:.3f} | {d['full']} | {d['early']} | {d['n']} | "
                   f"{d['basis']} |")
    differ = s["winner_disagreements"]
    out += ["", f"Ladders whose winner differs: {len(differ)}"
            + (" (" + ", ".join(f"{d['ladder']}: full {d['winner_full']}, early {d['winner_early']}"
                                for d in differ) + ")" if differ else "") + ".",
            _why(s["disagreements"]), ""]
    return out


def _why(disagreements: list[dict]) -> str:
    by_bound = [d for d in disagreements if d["basis"] == "bound"]
    widest = max(abs(d["rate"] - d["bar"]) for d in disagreements)
    return (f"{len(by_bound)} of {len(disagreements)} disagreements are stops by bound (stops by "
            f"count cannot be wrong); the full-set rates are all within {widest:.3f} of the bar: "
            "a random prefix pointed the wrong way, the rare event the error budget allows.")


def _table(title: str, name: str, groups: list[dict]) -> list[str]:
    out = [f"## {title}", "", f"| {name} | ladders | same winner | same per rung | calls mean | "
           "median | worst |", "|---|---|---|---|---|---|---|"]
    out += [f"| {g['group']} | {g['ladders']} | {g['winner_agreement']:.1%} | "
            f"{g['rung_agreement']:.1%} | {g['calls_mean']:.1%} | {g['calls_median']:.1%} | "
            f"{g['calls_worst']:.1%} |" for g in groups]
    return out + [""]


def _recorded_lines(recorded: list[dict]) -> list[str]:
    out = ["## Recorded runs (real models)", ""]
    if not recorded:
        return out + ["None yet: add rows with `--recorded FILE.json` (format in the script's "
                      "docstring) from real llama.cpp runs.", ""]
    out += ["| run | N | bar | winner (full) | winner (early) | calls early / full |",
            "|---|---|---|---|---|---|"]
    out += [f"| {r['name']} | {r['examples']} | {r['bar']} | {r['winner_full']} | "
            f"{r['winner_early']} | {r['calls_early']} / {r['calls_full']} |" for r in recorded]
    return out + [""]


def _pct(share: dict) -> str:
    if share["rate"] is None:
        return "n/a"
    return f"{share['rate']:.2%} ({share['agree']}/{share['total']})"


def method_text(ladders: int) -> list[str]:
    return [
        "## Method",
        "",
        f"- Suite: {ladders} ladders; each has N examples drawn from {list(SIZES)}, a bar from "
        f"{list(BARS)} and 6 rungs (models {', '.join(MODELS)} x {list(SHOTS)} shots, climbed in that "
        "order). Every example has a difficulty (normal); a rung passes exactly round(rate x N) "
        "examples, its easiest by difficulty + normal noise (sd 0.7), so the full-set rate is "
        "known exactly. Model base rates are uniform in 0.3-0.95, sorted; 4 shots add -0.05 to "
        f"+0.10 (clipped to 0.3-0.95). In {HARD_SHARE:.0%} of ladders one rung's rate is moved to "
        f"within {NEAR} of the bar.",
        "- Full evaluation: every example on each rung, in climb order, until a rung passes "
        ">= bar x N (the winner); its calls are N x the rungs it climbed.",
        "- Early stopping: `llmscout.trial.ladder.Ladder` on the same vectors, examples in a "
        "seeded hash order (seed = ladder index), the same order on every rung. A rung stops when "
        "the count settles the full-set answer (no error possible) or, at a look (5, 8, 12, 18, ... "
        "examples: x1.5), when a one-sided Clopper-Pearson bound at error (1 - confidence) / "
        "(number of looks) is on one side of the bar (Bonferroni alpha-spending: any wrong stop "
        "over all looks has probability <= 5%).",
        "- Per-rung agreement runs every rung's test on its own (not only the rungs the climb "
        "reached), so a ladder contributes 6 decisions.",
        "- Why exact agreement is impossible: a stop by bound is a statement about the model's "
        "rate, made from a prefix of the examples; when the full-set rate sits close to the bar a "
        "random prefix can be on the other side of it. The error budget caps how often that can "
        "end a rung, not that it never does.",
    ]


# ---------------------------------------------------------------- main


VARIANTS = (
    ("Wilson bounds", {"method": "wilson"}),
    ("looks x1.25", {"look_ratio": 1.25}),
    ("looks x2", {"look_ratio": 2.0}),
    ("90% confidence", {"confidence": 0.90}),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladders", type=int, default=LADDERS)
    parser.add_argument("--recorded", type=Path, action="append", default=[])
    parser.add_argument("--no-variants", action="store_true", help="only the default settings")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = run_suite(args.ladders)
    suite = {"summary": summarise(rows),
             "by_examples": breakdown(rows, lambda r: r["examples"]),
             "by_bar": breakdown(rows, lambda r: r["bar"]),
             "by_distance": rung_breakdown(rows), "ladders": rows}
    variants = []
    if not args.no_variants:
        for name, options in VARIANTS:
            summary = summarise(run_suite(args.ladders, **options))
            variants.append({"name": name, "options": options, "summary": summary})
    recorded = []
    for path in args.recorded:
        name, outcomes, options = load_recorded(path)
        recorded.append({"name": name, **evaluate_recorded(outcomes, **options)})
    elapsed = time.perf_counter() - start
    write_report(suite, variants, recorded, elapsed)
    s = suite["summary"]
    print(f"winner agreement {s['winner_agreement']['rate']:.2%}, rung agreement "
          f"{s['rung_agreement']['rate']:.2%}, calls mean {s['calls_fraction']['mean']:.1%} "
          f"median {s['calls_fraction']['median']:.1%} worst {s['calls_fraction']['worst']:.1%} "
          f"({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
