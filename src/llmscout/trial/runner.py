"""The trial runner: try the task on candidate models, smallest first, until one meets the bar.

``run_trial`` resolves the candidates (``_candidates``), builds the rungs (model x shots x
system prompt, shots ascending) and drives the :class:`~llmscout.trial.ladder.Ladder`. For each
call the ladder asks for, it builds the prompt (system prompt + the first k examples of the
few-shot pool as earlier turns, or completion blocks for a model without a chat template; the
shared prefix is identical for every example, so llama.cpp reuses its KV cache from one example
to the next), runs it on the model's backend, scores it with the task's metrics and records the
call with its scores in the store (one transaction), then reports the outcome to the ladder.

A model is loaded once, when the ladder first reaches it, and closed when the climb moves on; a
model that does not load is a result ("did not load: ...") and the climb continues without it.
With ``generation.n`` > 1 each sample is its own request and an example passes when more than
half of its samples pass; consistency over the samples is reported.

Store, resume, cache: every call is stored under its key (model, shots, system prompt, example,
sample), so a run that was interrupted or killed resumes with ``resume=RUN_ID`` without redoing
a finished call; ``retry_errors=True`` also reruns the calls that failed. Deterministic calls
(temperature 0, n = 1) are served from earlier runs' answers when everything that changes the
output is equal (``_cache_key``); errors are never served, and cached calls never count toward
latency or energy. Energy is measured where ``EnergyMeter`` can (RAPL/NVML), else estimated from
the device's power model x the call's prefill and decode time, and labelled ``estimated``.

Example:
    >>> result = run_trial("sample", models=["packaged"], shots=[0, 3])  # doctest: +SKIP
    >>> result.verdict["message"]                                        # doctest: +SKIP
    'the smallest model that meets the bar is gemma3-270m with 3 shots: ...'
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from llmscout.errors import IncompatibleError, InvalidValueError
from llmscout.trial._candidates import Candidate, resolve_candidate, resolve_candidates
from llmscout.trial.ladder import Ladder, LadderResult, Rung
from llmscout.trial.types import Example, GenerationSettings, GenRequest, GenResult, LoadInfo

if TYPE_CHECKING:
    from llmscout.hardware.spec import Hardware
    from llmscout.store import CallKey, CallRecord, Store
    from llmscout.trial.backends.base import Backend
    from llmscout.trial.prompting import PromptTemplate
    from llmscout.trial.taskfile import TaskFile

ProgressKind = Literal["start", "load", "call", "rung", "done"]
DEFAULT_VOLUME = 1000  # requests per month for ``cost_at_volume``
JUDGE_SETTINGS = GenerationSettings(max_tokens=256, temperature=0.0)


@dataclass(frozen=True, slots=True)
class TrialProgress:
    """One step of a trial, for progress displays (``run_trial(progress=callback)``)."""

    kind: ProgressKind
    run_id: str
    model: str | None = None
    rung: Rung | None = None
    n: int = 0  # examples evaluated on ``rung``
    examples: int = 0  # examples in the trial (N)
    models_done: int = 0
    models_total: int = 0
    message: str = ""
    example: str | None = None  # the example id a "call" event is about


@dataclass(frozen=True, slots=True)
class TrialResult:
    """What a trial found; ``to_dict()`` is also stored as the run's ``result_json``.

    ``verdict["winner"]`` is the smallest configuration that meets the bar (or None), with
    ``verdict["message"]`` in plain words and ``verdict["advice"]`` when none meets it.
    """

    run_id: str
    status: str
    task: dict[str, Any]
    hardware: dict[str, Any]
    candidates: tuple[dict[str, Any], ...]
    ladder: dict[str, Any]
    verdict: dict[str, Any]
    models: tuple[dict[str, Any], ...]
    examples: tuple[dict[str, Any], ...]
    cost_at_volume: dict[str, Any] | None

    @property
    def winner(self) -> dict[str, Any] | None:
        return self.verdict.get("winner")

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "task": self.task,
                "hardware": self.hardware, "candidates": list(self.candidates),
                "ladder": self.ladder, "verdict": self.verdict, "models": list(self.models),
                "examples": list(self.examples), "cost_at_volume": self.cost_at_volume}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialResult:
        return cls(data["run_id"], data["status"], data["task"], data["hardware"],
                   tuple(data["candidates"]), data["ladder"], data["verdict"],
                   tuple(data["models"]), tuple(data["examples"]), data.get("cost_at_volume"))


class PromptBuilder:
    """Requests for one task: system prompt, the first k pool examples as shots, the example.

    The shots are the same k examples, in the same order, for every example of a rung, so the
    prompt prefix is byte-identical and a backend with a prefix cache prefills it once.
    """

    def __init__(self, task: TaskFile, pool: Sequence[Example]) -> None:
        self.task = task
        self._shots = [(task.render(ex), ex.reference or "") for ex in pool]
        self._inputs: dict[str, Any] = {}  # rendered once per example, reused on every rung

    def render(self, example: Example) -> Any:
        if example.id not in self._inputs:
            self._inputs[example.id] = self.task.render(example)
        return self._inputs[example.id]

    def shots(self, k: int) -> list[tuple[Any, str]]:
        return self._shots[:k]

    def system_prompt(self, idx: int) -> str | None:
        return self.task.system_prompts[idx] or None

    def request(self, rung: Rung, example: Example, template: PromptTemplate,
                sample_idx: int = 0) -> GenRequest:
        from llmscout.trial.prompting import build_request

        settings = self.task.generation
        if sample_idx:  # each sample its own seed, or a seeded sampler repeats itself
            settings = replace(settings, seed=settings.seed + sample_idx)
        return build_request(self.system_prompt(rung.system_prompt_idx), self.shots(rung.shots),
                             self.render(example), template, settings,
                             key=f"{example.id}#{sample_idx}")


def run_trial(task: TaskFile | str | Path | None, models: Sequence[str] | None = None,
              shots: Sequence[int] | None = None, max_examples: int | None = None,
              resume: str | None = None, retry_errors: bool = False, store: Store | None = None,
              progress: Callable[[TrialProgress], None] | None = None, *,
              judge: str | None = None, volume: int = DEFAULT_VOLUME,
              hardware: Hardware | str | None = None, cache: bool = True) -> TrialResult:
    """Run (or resume) a trial and return what it found.

    Args:
        task: a ``TaskFile``, a task file path, or ``"sample"`` (the bundled task); None only
            with ``resume`` (the run's task file is used).
        models: candidate references (see ``_candidates``) instead of the task's candidates.
        shots: shot counts instead of the task's; max_examples: score at most this many.
        resume: the id of a stored run to continue; its options are used unless given here.
        retry_errors: with ``resume``, rerun the calls that failed (finished ones never rerun).
        store: where runs live (default ``$LLMSCOUT_HOME/llmscout.db``).
        progress: called with a ``TrialProgress`` after each load, call and rung.
        judge: the model that scores the ``judge`` metric (a candidate reference).
        volume: requests per month for ``cost_at_volume``.
        hardware: the device the trial runs on (default: this machine, detected).
        cache: serve deterministic calls from earlier runs' answers.

    Raises:
        InvalidValueError: bad shots/max_examples, an unknown run id, or a non-trial run.
        IncompatibleError: the task changed since the run being resumed, a judge metric without
            a judge model, or no candidate.
        InvalidFileError, MissingFileError: a bad task or examples file (file, line, field).
    """
    from llmscout.store import Store

    own = store is None
    store = store if store is not None else Store()
    try:
        return _run(store, task, models, shots, max_examples, resume, retry_errors, progress,
                    judge, volume, hardware, cache)
    finally:
        if own:
            store.close()


def _run(store: Store, task_ref: Any, models: Sequence[str] | None, shots: Sequence[int] | None,
         max_examples: int | None, resume: str | None, retry_errors: bool,
         progress: Callable[[TrialProgress], None] | None, judge: str | None, volume: int,
         hardware: Hardware | str | None, cache: bool) -> TrialResult:
    run = store.get_run(resume) if resume else None
    if run is not None and run.kind != "trial":
        raise InvalidValueError("resume", resume, "the id of a trial run (see 'llmscout runs list')")
    config = run.config if run is not None else {}
    task = _configured(_task(task_ref, config), shots if shots is not None else config.get("shots"),
                       max_examples if max_examples is not None else config.get("max_examples"))
    judge = judge or config.get("judge")
    _check_judge(task, judge)
    _check_volume(volume)
    scored, pool = task.load_examples()
    hw = _hardware(hardware)
    if models is None and config.get("candidates"):
        candidates = [Candidate.from_dict(c) for c in config["candidates"]]
    else:
        candidates = resolve_candidates(task, models, hw)
    fingerprint = task.fingerprint()
    if run is not None and run.task_fingerprint != fingerprint:
        raise IncompatibleError(f"run {run.id} was made with a different task (examples, prompts, "
                                "metrics, shots or settings changed): start a new run without "
                                "--resume")
    new_config = {"task_path": str(task.path), "task_name": task.name, "models": list(models or
                  config.get("models") or []) or None, "shots": list(task.shots),
                  "max_examples": task.max_examples, "judge": judge, "volume": volume,
                  "candidates": [c.to_dict() for c in candidates]}
    if run is None:
        run_id = store.create_run("trial", config=new_config, hardware=hw.to_dict(),
                                  task_fingerprint=fingerprint)
    else:
        run_id = run.id
        store.update_run(run_id, status="running", config=new_config)
    trial = _Trial(task=task, scored=scored, pool=pool, candidates=candidates, store=store,
                   run_id=run_id, hardware=hw, progress=progress, retry_errors=retry_errors,
                   judge=judge, cache=cache)
    trial.emit("start", message=f"run {run_id}" + (" (resumed)" if run else ""))
    try:
        ladder = trial.climb()
    except KeyboardInterrupt:
        store.update_run(run_id, status="interrupted")
        store.add_event(run_id, "interrupted", f"resume with: llmscout trial --resume {run_id}")
        raise
    except BaseException:
        store.update_run(run_id, status="failed")
        raise
    result = _result(trial, ladder, volume)
    store.update_run(run_id, status="done", result=result.to_dict())
    store.add_event(run_id, "done", result.verdict["message"])
    trial.emit("done", message=result.verdict["message"])
    return result


def _task(ref: Any, config: dict[str, Any]) -> TaskFile:
    from llmscout.trial.taskfile import SAMPLE_TASK, TaskFile, load_task

    if isinstance(ref, TaskFile):
        return ref
    if ref is None:
        if not config.get("task_path"):
            raise InvalidValueError("task", None, "a task file, 'sample', or resume=RUN_ID")
        ref = config["task_path"]
    return load_task(SAMPLE_TASK if str(ref) == "sample" else ref)


def _configured(task: TaskFile, shots: Iterable[int] | None, max_examples: int | None) -> TaskFile:
    """``task`` with the caller's shot counts and example limit (checked like the task file's)."""
    changes: dict[str, Any] = {}
    if shots is not None:
        values = list(shots)
        ok = values and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                            for v in values)
        if not ok or len(set(values)) != len(values):
            raise InvalidValueError("shots", values, "distinct whole numbers >= 0, e.g. 0,1,3")
        if max(values) > 0 and task.few_shot is None:
            raise InvalidValueError("shots", values, f"0 only: {task.path} has no few-shot pool "
                                    "(add 'few_shot: {pool: FILE}')")
        changes["shots"] = tuple(sorted(values))
    if max_examples is not None:
        if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
            raise InvalidValueError("max_examples", max_examples, "a whole number >= 1")
        changes["max_examples"] = max_examples
    return replace(task, **changes) if changes else task


def _check_judge(task: TaskFile, judge: str | None) -> None:
    for spec in task.metrics:
        if spec.name == "judge" and not (judge or spec.params.get("model")):
            raise IncompatibleError(f"{task.path}: metric 'judge' needs a judge model: give one "
                                    "with --judge MODEL (e.g. --judge ollama:llama3.1)")


def _check_volume(volume: int) -> None:
    if isinstance(volume, bool) or not isinstance(volume, int) or volume < 1:
        raise InvalidValueError("volume", volume, "requests per month, a whole number >= 1")


def _hardware(hardware: Hardware | str | None) -> Hardware:
    from llmscout.hardware import resolve_hardware

    if hardware is None or isinstance(hardware, str):
        return resolve_hardware(hardware)
    return hardware


def _majority(passes: Iterable[bool]) -> bool:
    values = list(passes)
    return sum(values) * 2 > len(values)


def _template_id(template: PromptTemplate) -> Any:
    if template is None or isinstance(template, str):
        return template
    return {"source": template.source, "bos": template.bos_token, "eos": template.eos_token,
            "stop": list(template.stop)}


class _Trial:
    """One invocation of a run: the ladder, the loaded model, and the calls it makes."""

    def __init__(self, *, task: TaskFile, scored: Sequence[Example], pool: Sequence[Example],
                 candidates: Sequence[Candidate], store: Store, run_id: str, hardware: Hardware,
                 progress: Callable[[TrialProgress], None] | None, retry_errors: bool,
                 judge: str | None, cache: bool) -> None:
        self.task, self.store, self.run_id, self.hw = task, store, run_id, hardware
        self.examples = {ex.id: ex for ex in scored}
        self.pool_size = len(pool)
        self.prompts = PromptBuilder(task, pool)
        self.candidates = list(candidates)
        self.by_key = {c.key: c for c in candidates}
        self.rungs = [Rung(c.key, k, p) for c in candidates for k in sorted(task.shots)
                      for p in range(len(task.system_prompts))]
        self.progress, self.retry_errors, self.cache = progress, retry_errors, cache
        self.judge_ref = judge
        self.dropped: dict[str, str] = {}  # model key -> why it did not load
        self.loads: dict[str, LoadInfo] = {}  # loaded in this invocation
        self.current: tuple[str, Backend] | None = None
        self.done_samples: dict[CallKey, bool] = {}
        self.outcomes: list[tuple[Rung, str, bool]] = []
        self._judge: Backend | None = None
        self._power: dict[str, tuple[float, float]] = {}

    # -- progress ----------------------------------------------------------------------------

    def emit(self, kind: ProgressKind, model: str | None = None, rung: Rung | None = None,
             n: int = 0, message: str = "", example: str | None = None) -> None:
        if self.progress is None:
            return
        keys = [c.key for c in self.candidates]
        done = len(keys) if kind == "done" else (keys.index(model) if model in keys else 0)
        self.progress(TrialProgress(kind, self.run_id, model, rung, n, len(self.examples), done,
                                    len(keys), message, example))

    # -- the climb -----------------------------------------------------------------------------

    def climb(self) -> LadderResult | None:
        self._load_stored()
        ladder = self._ladder()
        try:
            while ladder is not None and (call := ladder.next_call()) is not None:
                rung, example_id = call
                backend = self._backend(rung.model_key)
                if backend is None:  # did not load: climb on without its rungs
                    ladder = self._ladder()
                    continue
                passed = self._example(backend, rung, self.examples[example_id])
                self.outcomes.append((rung, example_id, passed))
                ladder.record(rung, example_id, passed)
                self._after_call(ladder, rung, example_id)
        finally:
            self._switch_off()
            if self._judge is not None:
                self._judge.close()
        return ladder.result() if ladder is not None else None

    def _ladder(self) -> Ladder | None:
        rungs = [r for r in self.rungs if r.model_key not in self.dropped]
        if not rungs:
            return None
        known = set(rungs)
        bar = self.task.bar
        return Ladder(rungs, bar.pass_rate, bar.confidence, self.task.seed,
                      example_ids=list(self.examples),
                      outcomes=[o for o in self.outcomes if o[0] in known])

    def _after_call(self, ladder: Ladder, rung: Rung, example_id: str) -> None:
        status = ladder.status()
        if status.current == rung:
            self.emit("call", rung.model_key, rung, status.n, example=example_id)
            return
        r = ladder.result().for_rung(rung)
        words = {"accept": "meets the bar", "reject": "falls short"}.get(r.decision, r.decision)
        message = f"{rung.label()}: {words} ({r.passes}/{r.n} passed)"
        self.store.add_event(self.run_id, "rung", message)
        self.emit("call", rung.model_key, rung, r.n, example=example_id)
        self.emit("rung", rung.model_key, rung, r.n, message)

    def _load_stored(self) -> None:
        """Outcomes of calls stored by earlier invocations of this run (resume)."""
        from llmscout.trial._summary import call_passed

        n = self.task.generation.n
        known = set(self.rungs)
        samples: dict[tuple[Rung, str], dict[int, bool]] = defaultdict(dict)
        for rec in self.store.calls_for(self.run_id):
            if rec.result.error is not None and self.retry_errors:
                continue
            if rec.key.example_id not in self.examples or rec.key.sample_idx >= n:
                continue
            passed = call_passed(rec, self.task)
            self.done_samples[rec.key] = passed
            rung = Rung(rec.key.model_key, rec.key.shots, rec.key.system_prompt_idx)
            samples[(rung, rec.key.example_id)][rec.key.sample_idx] = passed
        for (rung, example_id), got in samples.items():
            if rung in known and len(got) == n:
                self.outcomes.append((rung, example_id, _majority(got.values())))

    # -- models ----------------------------------------------------------------------------------

    def _backend(self, key: str) -> Backend | None:
        """The loaded backend for ``key``, loading it (once) and closing the previous one."""
        if self.current is not None and self.current[0] == key:
            return self.current[1]
        self._switch_off()
        cand = self.by_key[key]
        self.emit("load", key, message=f"loading {key}")
        backend = cand.open()
        info = backend.load()
        if info.ok:
            info = self._describe(cand, backend, info)
        self.store.record_load(self.run_id, info, model_key=key)
        self.loads[key] = info
        said = f"{key}: loaded in {info.load_s or 0:.1f} s" if info.ok else f"{key}: {info.error}"
        self.store.add_event(self.run_id, "load", said)
        self.emit("load", key, message=said)
        if not info.ok:
            backend.close()
            self.dropped[key] = info.error or "did not load"
            return None
        self.current = (key, backend)
        return backend

    def _switch_off(self) -> None:
        if self.current is not None:
            self.current[1].close()
            self.current = None

    def _describe(self, cand: Candidate, backend: Backend, info: LoadInfo) -> LoadInfo:
        """Add what identifies the model's answers (file sha256, quant) and the shots' cost."""
        details = dict(info.details)
        sha = quant = None
        if cand.backend == "llamacpp" and details.get("path"):
            from llmscout.catalog.sources.gguf import gguf_to_spec
            from llmscout.estimate.service import file_sha256

            sha = file_sha256(details["path"])
            arts = gguf_to_spec(details["path"]).artifacts
            quant = (arts[0].quant or arts[0].precision) if arts else None
            identity = sha
        elif cand.backend == "openai":
            ep = backend.endpoint  # type: ignore[attr-defined]
            identity = f"{ep.base_url}|{ep.model}"
        else:
            identity = str(cand.options.get("model") or cand.key)
        details.update(sha256=sha, quant=quant, identity=identity,
                       prompt_cost=self._prompt_costs(backend))
        return replace(info, details=details)

    def _prompt_costs(self, backend: Backend) -> list[dict[str, Any]]:
        """Prompt tokens of the system prompt, the shots and one input, per shot count."""
        from llmscout.trial.prompting import ChatTemplateError, prompt_cost

        example = next(iter(self.examples.values()))
        out = []
        for k in sorted(self.task.shots):
            try:
                pc = prompt_cost(self.prompts.system_prompt(0), self.prompts.shots(k),
                                 self.prompts.render(example), backend.template,
                                 backend.count_tokens, backend.exact_token_counts)
            except ChatTemplateError:
                continue
            out.append({"shots": k, **asdict(pc), "total_tokens": pc.total_tokens})
        return out

    # -- calls -----------------------------------------------------------------------------------

    def _example(self, backend: Backend, rung: Rung, example: Example) -> bool:
        """Run (what is left of) one example's samples; whether the example passes."""
        from llmscout.store import CallKey

        cand = self.by_key[rung.model_key]
        details = self.loads[rung.model_key].details
        passes = []
        for s in range(self.task.generation.n):
            key = CallKey(rung.model_key, rung.shots, rung.system_prompt_idx, example.id, s)
            if key in self.done_samples:
                passes.append(self.done_samples[key])
                continue
            request = self.prompts.request(rung, example, backend.template, s)
            result, ck = self._call(backend, cand, request, details)
            scores = self._score(result, example)
            self.store.record_call(self.run_id, key, result, scores, backend=cand.backend,
                                   model_file_sha256=details.get("sha256"),
                                   quant=details.get("quant"),
                                   cache_key=ck if result.ok else None, request=request)
            passed = result.ok and self.task.passes(scores)
            self.done_samples[key] = passed
            passes.append(passed)
        return _majority(passes)

    def _call(self, backend: Backend, cand: Candidate, request: GenRequest,
              details: dict[str, Any]) -> tuple[GenResult, str | None]:
        from llmscout import __version__

        ck = None
        if self.cache and request.settings.deterministic:
            ck = self.store.cache_key(
                tool=__version__, backend=cand.backend, model=details.get("identity"),
                quant=details.get("quant"), template=_template_id(backend.template),
                messages=request.messages, prompt=request.prompt, settings=request.settings)
            hit = self.store.cache_get(ck, key=request.key)
            if hit is not None:
                return hit, ck
        [result] = backend.generate([request])
        return self._with_energy(result, cand, details), ck

    def _with_energy(self, result: GenResult, cand: Candidate,
                     details: dict[str, Any]) -> GenResult:
        """Fill in estimated energy (power model x time) where nothing measured it."""
        if (not result.ok or result.cached or result.energy_j is not None
                or cand.kind != "local" or not result.latency_s):
            return result
        if cand.key not in self._power:
            from llmscout.estimate.energy import (
                DECODE_UTILISATION,
                PREFILL_UTILISATION,
                device_power,
            )

            threads = details.get("n_threads")
            (pre, _, _), _ = device_power(self.hw, PREFILL_UTILISATION, threads)
            (dec, _, _), _ = device_power(self.hw, DECODE_UTILISATION, threads)
            self._power[cand.key] = (pre, dec)
        pre_w, dec_w = self._power[cand.key]
        prefill_s = min(result.ttft_s or 0.0, result.latency_s)
        joules = pre_w * prefill_s + dec_w * (result.latency_s - prefill_s)
        return replace(result, energy_j=joules, energy_basis="estimated")

    def _score(self, result: GenResult, example: Example) -> list[Any]:
        from llmscout.trial.metrics import score

        if not result.ok:
            return []
        out = []
        for spec in self.task.metrics:
            if spec.name == "judge":
                params = {k: v for k, v in spec.params.items() if k != "model"}
                out.append(score(replace(spec, params=params), result.text, example,
                                 judge=self._judge_call))
            else:
                out.append(score(spec, result.text, example))
        return out

    def _judge_call(self, prompt: str) -> str:
        """The judge model's reply to a grading prompt (the judge is loaded once)."""
        from llmscout.trial.prompting import build_request

        if self._judge is None:
            ref = self.judge_ref or next(str(m.params["model"]) for m in self.task.metrics
                                         if m.name == "judge" and m.params.get("model"))
            backend = resolve_candidate(ref, "judge").open()
            info = backend.load()
            if not info.ok:
                backend.close()
                raise IncompatibleError(f"the judge model {ref} {info.error}")
            self._judge = backend
        request = build_request(None, [], prompt, self._judge.template, JUDGE_SETTINGS, key="judge")
        [reply] = self._judge.generate([request])
        return reply.text if reply.ok else f"(the judge failed: {reply.error})"


# -- the result ----------------------------------------------------------------------------------


def _latest_loads(store: Store, run_id: str) -> dict[str, LoadInfo]:
    return {info.model: info for info in store.loads_for(run_id)}


def _result(trial: _Trial, ladder: LadderResult | None, volume: int) -> TrialResult:
    from llmscout.trial._summary import example_rows, measured_medians, model_block
    from llmscout.trial._verdict import cost_at_volume, verdict

    task, store, run_id = trial.task, trial.store, trial.run_id
    calls = store.calls_for(run_id)
    by_model: dict[str, list[CallRecord]] = defaultdict(list)
    for c in calls:
        by_model[c.key.model_key].append(c)
    loads = _latest_loads(store, run_id)
    models = []
    for cand in trial.candidates:
        if cand.key not in loads and cand.key not in by_model:
            continue
        block = model_block(cand, by_model.get(cand.key, []), loads.get(cand.key), trial.hw,
                            task, trial.examples)
        if block["predicted"].get("available"):
            store.record_measurement(run_id, cand.key, block["predicted"], block["measured"])
        models.append(block)
    not_loaded = {k: (v.error or "") for k, v in loads.items() if not v.ok}
    judged = verdict(ladder, task, trial.candidates, trial.hw, trial.pool_size, not_loaded)
    winner = judged["winner"]
    cost = None
    if winner is not None:
        won = [c for c in by_model.get(winner["model"], []) if c.key.shots == winner["shots"]
               and c.key.system_prompt_idx == winner["system_prompt_idx"]]
        cost = cost_at_volume(winner, trial.by_key.get(winner["model"]), measured_medians(won),
                              volume)
    result = TrialResult(
        run_id=run_id, status="done", task=_task_block(task, len(trial.examples), trial.pool_size),
        hardware=trial.hw.to_dict(),
        candidates=tuple({**c.to_dict(), "tried": c.key in loads,
                          "loaded": loads[c.key].ok if c.key in loads else None}
                         for c in trial.candidates),
        ladder=ladder.to_dict() if ladder is not None else _empty_ladder(task, len(trial.examples)),
        verdict=judged, models=tuple(models),
        examples=tuple(example_rows(calls, trial.examples, task)), cost_at_volume=cost)
    # plain JSON data (lists, not tuples), the same in memory as in the store's result_json
    return TrialResult.from_dict(json.loads(json.dumps(result.to_dict(), default=str)))


def _task_block(task: TaskFile, examples: int, pool: int) -> dict[str, Any]:
    return {"name": task.name, "path": str(task.path), "fingerprint": task.fingerprint(),
            "bar": task.bar.pass_rate, "confidence": task.bar.confidence,
            "metrics": [m.to_dict() for m in task.metrics], "pass_rule": task.pass_rule,
            "shots": list(task.shots), "system_prompts": list(task.system_prompts),
            "generation": asdict(task.generation), "examples": examples, "pool": pool}


def _empty_ladder(task: TaskFile, examples: int) -> dict[str, Any]:
    return {"winner": None, "best": None, "meets_bar": False, "done": True,
            "bar": task.bar.pass_rate, "confidence": task.bar.confidence, "examples": examples,
            "calls_used": 0, "rungs": []}


def load_result(run_id: str, store: Store | None = None) -> TrialResult | None:
    """The stored result of a finished trial run, or None while it has none."""
    from llmscout.store import Store

    own = store is None
    store = store if store is not None else Store()
    try:
        run = store.get_run(run_id)
        return TrialResult.from_dict(run.result) if run.result else None
    finally:
        if own:
            store.close()


__all__ = ["DEFAULT_VOLUME", "PromptBuilder", "TrialProgress", "TrialResult", "load_result",
           "run_trial"]
