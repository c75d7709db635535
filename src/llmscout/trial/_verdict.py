"""The verdict of a trial in plain words, what to try when nothing meets the bar, and what the
winner costs per month at the user's volume."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llmscout.errors import LlmscoutError

if TYPE_CHECKING:
    from llmscout.hardware.spec import Hardware
    from llmscout.trial._candidates import Candidate
    from llmscout.trial.ladder import LadderResult, RungResult
    from llmscout.trial.taskfile import TaskFile

GIB = 1024**3


def _shots(n: int) -> str:
    return f"{n} shot" + ("" if n == 1 else "s")


def _rung_words(r: RungResult, task: TaskFile) -> str:
    prompt = (f", system prompt {r.rung.system_prompt_idx + 1}"
              if len(task.system_prompts) > 1 else "")
    return f"{r.rung.model_key} with {_shots(r.rung.shots)}{prompt}"


def _rate_words(r: RungResult, task: TaskFile) -> str:
    lo, hi = r.interval
    how = {"count": " (settled by count: the remaining examples could not change it)",
           "bound": " (settled by the confidence bound)"}.get(r.basis, "")
    return (f"{r.passes}/{r.n} examples passed ({(r.pass_rate or 0):.0%}); "
            f"{task.bar.confidence:.0%} interval {lo:.0%}-{hi:.0%}, bar {task.bar.pass_rate:.0%}"
            + how)


def rung_dict(r: RungResult) -> dict[str, Any]:
    return {"model": r.rung.model_key, "shots": r.rung.shots,
            "system_prompt_idx": r.rung.system_prompt_idx, "pass_rate": r.pass_rate,
            "interval": list(r.interval), "n": r.n, "passes": r.passes, "basis": r.basis}


def verdict(result: LadderResult | None, task: TaskFile, candidates: Sequence[Candidate],
            hardware: Hardware, pool_size: int, not_loaded: Mapping[str, str]) -> dict[str, Any]:
    """``{"winner", "best", "message", "advice"}`` for the ladder's result."""
    if result is not None and result.winner is not None:
        won = result.for_rung(result.winner)
        return {"winner": rung_dict(won), "best": rung_dict(won), "advice": [],
                "message": f"the smallest model that meets the bar is {_rung_words(won, task)}: "
                           f"{_rate_words(won, task)}"}
    best = result.for_rung(result.best) if result is not None and result.best else None
    if best is None:
        why = "; ".join(f"{k}: {v}" for k, v in not_loaded.items()) or "no example was evaluated"
        return {"winner": None, "best": None, "message": f"no model could be evaluated ({why})",
                "advice": [{"kind": "load", "message": "fix the loading errors above, or name "
                            "other models (--models packaged,./model.gguf,ollama:MODEL)"}]}
    unfinished = "" if result is None or result.done else " (the climb did not finish)"
    message = (f"none meets the bar{unfinished}; best was {_rung_words(best, task)}: "
               f"{_rate_words(best, task)}")
    return {"winner": None, "best": rung_dict(best), "message": message,
            "advice": advice(result, best, task, candidates, hardware, pool_size)}


def advice(result: LadderResult | None, best: RungResult, task: TaskFile,
           candidates: Sequence[Candidate], hardware: Hardware,
           pool_size: int) -> list[dict[str, Any]]:
    """What to try next when no rung meets the bar: more shots, a bigger model, fine-tuning."""
    out: list[dict[str, Any]] = []
    most = max(task.shots)
    if pool_size > most:
        out.append({"kind": "more_shots", "shots": min(pool_size, max(2 * most, most + 2)),
                    "message": f"try more shots: up to {most} were tried and the few-shot pool "
                               f"has {pool_size} examples (shots: [{most}, "
                               f"{min(pool_size, max(2 * most, most + 2))}])"})
    else:
        out.append({"kind": "more_shots", "shots": max(most * 2, 3),
                    "message": f"add worked examples to show: a few-shot pool with at least "
                               f"{max(most * 2, 3)} examples (few_shot: {{pool: FILE}})"})
    local = [c for c in candidates if c.kind == "local"]
    largest = max((c for c in local if c.params), key=lambda c: c.params or 0, default=None)
    size = f" ({largest.params / 1e9:.2g}B parameters)" if largest and largest.params else ""
    out.append({"kind": "bigger_model", "message": "try a bigger model than "
                f"{largest.key if largest else best.rung.model_key}{size}: see 'llmscout "
                "recommend' for models that fit this machine"})
    tune = finetune_advice(best, candidates, hardware)
    if tune is not None:
        out.append(tune)
    return out


def finetune_advice(best: RungResult, candidates: Sequence[Candidate],
                    hardware: Hardware) -> dict[str, Any] | None:
    """Fine-tuning the best model on the user's examples, with LoRA/QLoRA memory estimates."""
    from llmscout.estimate.finetune import finetune_memory
    from llmscout.trial._summary import model_spec

    cand = next((c for c in candidates if c.key == best.rung.model_key), None)
    spec = model_spec(cand, None) if cand is not None else None
    if spec is None or spec.kind != "open":
        return None
    memory: dict[str, Any] = {}
    try:
        for method in ("lora", "qlora"):
            fm = finetune_memory(spec, method, seq_len=512, hardware=hardware)
            memory[method] = {"total_bytes": fm.total_bytes, "fits": fm.fits,
                              "trainable_params": fm.trainable_params}
    except (LlmscoutError, ValueError):
        return None
    lora, qlora = memory["lora"], memory["qlora"]
    fits = "fits" if lora["fits"] else "does not fit"
    return {"kind": "finetune", "model": best.rung.model_key, "memory": memory,
            "message": f"fine-tune {best.rung.model_key} on your examples: LoRA needs about "
                       f"{lora['total_bytes'] / GIB:.1f} GiB ({fits} on {hardware.name}), "
                       f"QLoRA about {qlora['total_bytes'] / GIB:.1f} GiB (sequences of 512 "
                       "tokens, batch 1; estimate.finetune)"}


def cost_at_volume(winner: Mapping[str, Any] | None, candidate: Candidate | None,
                   measured: Mapping[str, Any] | None, volume: int) -> dict[str, Any] | None:
    """The winner's cost per month at ``volume`` requests: electricity for the energy each
    request took here (measured or estimated), or the API price of a cloud model."""
    from llmscout import constants
    from llmscout.estimate.cost import cloud_cost, compare_with_cloud, local_cost

    if winner is None or candidate is None or not measured:
        return None
    tokens_in = round(measured.get("tokens_in") or 0)
    tokens_out = round(measured.get("tokens_out") or 0)
    spec = _catalog(candidate.catalog_id)
    if candidate.kind == "cloud":
        if spec is None or spec.cloud is None:
            return {"available": False, "why": f"no price known for {candidate.key}"}
        c = cloud_cost(spec.cloud, tokens_in, tokens_out, volume)
        return {"available": True, **c.to_dict(), "prompt_tokens": tokens_in,
                "output_tokens": tokens_out}
    joules = measured.get("energy_j")
    if joules is None:
        return {"available": False, "why": "no energy figure for the winner"}
    cost = local_cost(joules / 3600, volume, constants.electricity_price())
    clouds = _cloud_models()
    rows = compare_with_cloud(cost, clouds, tokens_in, tokens_out) if clouds else []
    return {"available": True, **cost.to_dict(), "wh_per_request": joules / 3600,
            "energy_basis": measured.get("energy_basis"), "prompt_tokens": tokens_in,
            "output_tokens": tokens_out,
            "cloud_comparison": sorted(rows, key=lambda r: r["per_month"])[:3]}


def _catalog(model_id: str | None) -> Any:
    if not model_id:
        return None
    from llmscout.catalog import load_catalog

    catalog = load_catalog()
    return catalog.get(model_id) if model_id in catalog else None


def _cloud_models() -> list[Any]:
    from llmscout.catalog import load_catalog

    return [m for m in load_catalog() if m.kind == "cloud"]


__all__ = ["advice", "cost_at_volume", "finetune_advice", "rung_dict", "verdict"]
