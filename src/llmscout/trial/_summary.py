"""What a trial measured per model, the estimator's prediction next to it, and the calls.

Only calls that ran in a trial count toward timings and energy: cached answers and failed
calls are left out of the medians (their counts are reported). Energy keeps its basis:
``measured-rapl``/``measured-nvml`` where a meter read it, ``estimated`` (power model x time)
otherwise.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llmscout.errors import LlmscoutError
from llmscout.trial.metrics import consistency

if TYPE_CHECKING:
    from llmscout.hardware.spec import Hardware
    from llmscout.store import CallRecord
    from llmscout.trial._candidates import Candidate
    from llmscout.trial.taskfile import TaskFile
    from llmscout.trial.types import Example, LoadInfo

_MEDIAN_FIELDS = {
    "ttft_s": "ttft_s", "latency_s": "latency_s", "prefill_tokens_per_s": "prefill_tokens_per_s",
    "decode_tokens_per_s": "decode_tokens_per_s", "tokens_in": "tokens_in",
    "tokens_out": "tokens_out", "prefix_tokens_reused": "prefix_tokens_reused",
    "energy_j": "energy_j",
}


def _median(values: Sequence[float | int | None]) -> float | None:
    got = [v for v in values if v is not None]
    return float(statistics.median(got)) if got else None


def measured_medians(calls: Sequence[CallRecord]) -> dict[str, Any]:
    """Medians over the calls that ran (not cached, no error), with counts of the others."""
    ran = [c.result for c in calls if not c.result.cached and c.result.error is None]
    out: dict[str, Any] = {name: _median([getattr(r, attr) for r in ran])
                           for name, attr in _MEDIAN_FIELDS.items()}
    peaks = [r.peak_memory_bytes for r in ran if r.peak_memory_bytes is not None]
    out["peak_memory_bytes"] = max(peaks) if peaks else None
    bases = Counter(r.energy_basis for r in ran if r.energy_j is not None)
    out["energy_basis"] = bases.most_common(1)[0][0] if bases else "unavailable"
    out["calls"] = len(calls)
    out["calls_measured"] = len(ran)
    out["calls_cached"] = sum(c.result.cached for c in calls)
    out["calls_failed"] = sum(c.result.error is not None for c in calls)
    return out


def rung_stats(calls: Sequence[CallRecord], task: TaskFile,
               examples: dict[str, Example]) -> list[dict[str, Any]]:
    """Per (shots, system prompt) of one model: calls, errors, cached, and answer consistency
    over samples when the task asks for n > 1."""
    groups: dict[tuple[int, int], list[CallRecord]] = defaultdict(list)
    for c in calls:
        groups[(c.key.shots, c.key.system_prompt_idx)].append(c)
    out = []
    for (shots, idx), group in sorted(groups.items()):
        row: dict[str, Any] = {"shots": shots, "system_prompt_idx": idx, "calls": len(group),
                               "errors": sum(c.result.error is not None for c in group),
                               "cached": sum(c.result.cached for c in group)}
        if task.generation.n > 1:
            row["consistency"] = _consistency(group, examples)
        out.append(row)
    return out


def _consistency(calls: Sequence[CallRecord], examples: dict[str, Example]) -> float | None:
    """Mean over examples of the share of samples giving the majority answer."""
    by_example: dict[str, list[str]] = defaultdict(list)
    for c in calls:
        if c.result.error is None:
            by_example[c.key.example_id].append(c.result.text)
    values = []
    for ex_id, outputs in by_example.items():
        if len(outputs) > 1:
            ex = examples.get(ex_id)
            values.append(consistency(outputs, ex.choices if ex else None))
    return sum(values) / len(values) if values else None


def model_spec(candidate: Candidate, load: LoadInfo | None) -> Any:
    """The model's record for the estimator: the GGUF's header, else the catalog's; or None."""
    path = (load.details.get("path") if load is not None else None) or candidate.path
    try:
        if candidate.backend == "llamacpp" and path:
            from llmscout.catalog.sources.gguf import gguf_to_spec

            return gguf_to_spec(path)
        if candidate.catalog_id:
            from llmscout.catalog import get_model

            return get_model(candidate.catalog_id)
    except (LlmscoutError, OSError, ValueError):
        return None
    return None


def predicted(candidate: Candidate, load: LoadInfo | None, hardware: Hardware,
              measured: dict[str, Any]) -> dict[str, Any]:
    """The estimator's figures for this model, quant and context on this hardware, with this
    machine's calibration, at the measured prompt and answer lengths."""
    from llmscout.estimate._estimate import estimate
    from llmscout.estimate.service import load_calibration

    spec = model_spec(candidate, load)
    if spec is None:
        return {"available": False, "why": "no record of this model for the estimator"}
    details = load.details if load is not None else {}
    quant = details.get("quant") or (spec.artifacts[0].quant if spec.origin == "gguf"
                                     and spec.artifacts else None)
    prompt = max(1, round(measured.get("tokens_in") or 1))
    output = max(1, round(measured.get("tokens_out") or 1))
    try:
        est = estimate(spec, hardware, quant=quant, engine="llamacpp"
                       if candidate.backend == "llamacpp" else "transformers",
                       context=max(details.get("n_ctx") or 4096, prompt + output),
                       prompt_tokens=prompt, output_tokens=output,
                       calibration=load_calibration(), model_sha256=details.get("sha256"),
                       threads=details.get("n_threads"))
    except (LlmscoutError, ValueError) as exc:
        return {"available": False, "why": str(exc)}
    speed, energy, memory = est.speed, est.energy, est.memory
    return {
        "available": True, "model": est.model_id, "quant": est.quant, "context": est.context,
        "prompt_tokens": prompt, "output_tokens": output, "fits": est.fits,
        "ttft_s": speed.ttft_s if speed else None,
        "prefill_tokens_per_s": speed.prefill_tokens_per_s if speed else None,
        "decode_tokens_per_s": speed.decode_tokens_per_s if speed else None,
        "speed_basis": speed.basis if speed else None,
        "memory_bytes": memory.total_bytes if memory else None,
        "energy_j": energy.wh_per_request * 3600 if energy else None,
        "energy_basis": energy.basis if energy else None,
    }


def model_block(candidate: Candidate, calls: Sequence[CallRecord], load: LoadInfo | None,
                hardware: Hardware, task: TaskFile, examples: dict[str, Example]) -> dict[str, Any]:
    """One entry of ``TrialResult.models``."""
    measured = measured_medians(calls)
    block: dict[str, Any] = {
        "model": candidate.key, "backend": candidate.backend, "kind": candidate.kind,
        "load": _load_dict(load), "measured": measured, "rungs": rung_stats(calls, task, examples),
        "prompt_cost": (load.details.get("prompt_cost") if load is not None else None),
    }
    block["predicted"] = (predicted(candidate, load, hardware, measured)
                          if load is not None and load.ok and measured["calls_measured"]
                          else {"available": False, "why": "nothing measured to compare with"})
    return block


def _load_dict(load: LoadInfo | None) -> dict[str, Any] | None:
    if load is None:
        return None
    details = {k: v for k, v in load.details.items() if k != "prompt_cost"}
    return {"ok": load.ok, "load_s": load.load_s, "memory_bytes": load.memory_bytes,
            "error": load.error, "details": details}


def call_passed(call: CallRecord, task: TaskFile) -> bool:
    """Whether a stored call passed: no error, and the task's pass rule over its scores."""
    if call.result.error is not None or len(call.scores) != len(task.metrics):
        return False
    return task.passes(call.scores)


def example_rows(calls: Sequence[CallRecord], examples: dict[str, Example],
                 task: TaskFile) -> list[dict[str, Any]]:
    """Every call: what was asked, answered and scored (raw text; the report escapes it)."""
    rows = []
    for c in calls:
        ex = examples.get(c.key.example_id)
        raw = ex.input if ex is not None else None
        rows.append({
            "model": c.key.model_key, "shots": c.key.shots,
            "system_prompt_idx": c.key.system_prompt_idx, "example_id": c.key.example_id,
            "sample_idx": c.key.sample_idx,
            "input": raw if isinstance(raw, str) or raw is None
            else [{"role": m.role, "content": m.content} for m in raw],
            "reference": ex.reference if ex is not None else None,
            "output": c.result.text, "scores": [s.to_dict() for s in c.scores],
            "pass": call_passed(c, task), "error": c.result.error, "cached": c.result.cached,
            "latency_s": c.result.latency_s,
        })
    return rows


__all__ = ["call_passed", "example_rows", "measured_medians", "model_block", "model_spec", "predicted",
           "rung_stats"]
