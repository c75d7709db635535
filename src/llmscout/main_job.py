"""The main job (``make run`` / ``llmscout run``): the whole tool once, offline, in minutes.

1. detect this machine;
2. recommend models for the bundled sample task's profile (skipped, with a note, where this
   installation has no recommender);
3. verify: run the sample task on the packaged Gemma 3 270M at 0, 1 and 3 shots;
4. print the verdict and write the HTML report where the report module exists.

Everything runs locally: the model comes from a PyPI package, the catalog and hardware database
ship with llmscout. On 2 cores the trial takes well under a minute (early stopping ends each
rung after a handful of examples when the answer is clear).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmscout.errors import LlmscoutError

if TYPE_CHECKING:
    from llmscout.store import Store
    from llmscout.trial.runner import TrialProgress

MAIN_MODEL = "packaged"
MAIN_SHOTS = (0, 1, 3)


def run_main_job(*, report: str | Path | None = None, max_examples: int | None = None,
                 progress: Callable[[TrialProgress], None] | None = None,
                 say: Callable[[str], None] | None = print, print_verdict: bool = True,
                 store: Store | None = None, model: str = MAIN_MODEL,
                 shots: Sequence[int] = MAIN_SHOTS) -> dict[str, Any]:
    """Detect, recommend, verify, report; returns what it found (JSON-able).

    Args:
        report: where to write the HTML report (default ``$LLMSCOUT_HOME/reports/RUN.html``).
        max_examples: score at most this many of the sample task's examples.
        progress: passed to ``run_trial``; say: where progress lines go (None: nowhere).
        store, model, shots: the trial's store, model and shot counts (defaults above).
    """
    from llmscout.hardware import detect_machine
    from llmscout.trial.runner import run_trial
    from llmscout.trial.taskfile import sample_task

    tell = say or (lambda _text: None)
    machine = detect_machine()
    hw = machine.as_hardware()
    tell(f"this machine: {hw.name} ({hw.device_kind}, {hw.cores or '?'} cores, "
         f"{hw.memory_bytes / 1024**3:.1f} GiB usable, {hw.bandwidth_gbs:g} GB/s)")
    task = sample_task()
    notes: list[str] = []
    recommended = _recommend(task, hw, notes)
    for line in recommended.get("lines", []):
        tell(line)
    for note in notes:
        tell(f"note: {note}")
    tell(f"verifying: task '{task.name}' on {model} at {', '.join(map(str, shots))} shots")
    result = run_trial(task, models=[model], shots=list(shots), max_examples=max_examples,
                       progress=progress, hardware=hw, store=store)
    if print_verdict:
        tell("verdict: " + result.verdict["message"])
    written = _report(result.run_id, report, notes, store)
    if written:
        tell(f"report: {written}")
    elif notes and print_verdict:
        tell(f"note: {notes[-1]}")
    return {"machine": {"os": machine.os, "cpu": machine.cpu_model, "cores": machine.physical_cores,
                        "ram_total_bytes": machine.ram_total_bytes,
                        "gpus": [g.name for g in machine.gpus]},
            "hardware": hw.to_dict(), "recommend": {k: v for k, v in recommended.items()
                                                     if k != "lines"},
            "trial": result.to_dict(), "report": written, "notes": notes}


def _recommend(task: Any, hw: Any, notes: list[str]) -> dict[str, Any]:
    """The recommender's top models for the sample task's profile, if there is a recommender."""
    from llmscout.recommend.profile import profile_from_dict
    from llmscout.trial._candidates import recommended_ids

    recommend = getattr(importlib.import_module("llmscout.recommend"), "recommend", None)
    if recommend is None:
        notes.append("recommend skipped: this installation has no recommender yet")
        return {"available": False, "models": []}
    profile_data = task.candidates.from_recommend or {}
    try:
        ranked = recommend(profile_from_dict(profile_data, base_dir=task.path.parent), hw)
    except LlmscoutError as exc:
        notes.append(f"recommend failed: {exc}")
        return {"available": False, "models": []}
    ids = recommended_ids(ranked)[: task.candidates.top]
    lines = [f"recommended for '{task.name}' ({', '.join(f'{k}={v}' for k, v in profile_data.items())}):"]
    lines += [f"  {i}. {model_id}" for i, model_id in enumerate(ids, 1)] or ["  (none fits)"]
    return {"available": True, "profile": dict(profile_data), "models": ids, "lines": lines}


def _report(run_id: str, path: str | Path | None, notes: list[str],
            store: Store | None) -> str | None:
    try:
        module = importlib.import_module("llmscout.report")
    except ImportError:
        module = None
    write_report = getattr(module, "write_report", None)
    if write_report is None:
        notes.append("report not written: this installation has no report module yet")
        return None
    from llmscout.constants import home

    target = Path(path) if path else home() / "reports" / f"{run_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    if store is not None:
        write_report(run_id, target, store=store)
    else:
        write_report(run_id, target)
    return str(target)


__all__ = ["MAIN_MODEL", "MAIN_SHOTS", "run_main_job"]
