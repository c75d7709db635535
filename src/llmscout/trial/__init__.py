"""Verify on real examples: run a task on candidate models, smallest first, until one meets the bar.

>>> from llmscout.trial import run_trial
>>> result = run_trial("sample", models=["packaged"], shots=[0, 1, 3])  # doctest: +SKIP
>>> result.verdict["message"]                                           # doctest: +SKIP

Parts: ``taskfile`` (the task: examples, prompts, metrics, bar), ``metrics`` (scoring),
``prompting`` (chat templates, few-shot prompts), ``backends`` (llama.cpp, OpenAI-compatible
HTTP, transformers), ``ladder`` (the start-small climb with early stopping), ``runner`` (all of
it together, with the store for resume and caching).
"""

from __future__ import annotations

from llmscout.trial._candidates import Candidate, resolve_candidate, resolve_candidates
from llmscout.trial.ladder import Ladder, LadderResult, Rung
from llmscout.trial.runner import (
    DEFAULT_VOLUME,
    PromptBuilder,
    TrialProgress,
    TrialResult,
    load_result,
    run_trial,
)
from llmscout.trial.taskfile import SAMPLE_TASK, TaskFile, load_task, sample_task
from llmscout.trial.types import (
    Example,
    GenerationSettings,
    GenRequest,
    GenResult,
    LoadInfo,
    Message,
    MetricResult,
)

__all__ = [
    "DEFAULT_VOLUME", "SAMPLE_TASK", "Candidate", "Example", "GenRequest", "GenResult",
    "GenerationSettings", "Ladder", "LadderResult", "LoadInfo", "Message", "MetricResult",
    "PromptBuilder", "Rung", "TaskFile", "TrialProgress", "TrialResult", "load_result",
    "load_task", "resolve_candidate", "resolve_candidates", "run_trial", "sample_task",
]
