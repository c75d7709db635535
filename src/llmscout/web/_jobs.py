"""Trials started from the web app: one at a time, in a background thread.

The trial runner records the run, its calls and its progress events in the store, so the pages
follow a trial through the REST API (``/api/runs/{id}/events``) exactly as they would follow
one started from the CLI. A job is only the link between the request that started a trial and
the run it created: its status, the run id once known, and the error if it failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from llmscout.errors import LlmscoutError

JobStatus = Literal["running", "done", "failed"]
MAX_JOBS_KEPT = 200
CALLBACK_EVENTS = ("start", "call")  # progress kinds the web app adds to the run's events


class TrialBusyError(LlmscoutError, RuntimeError):
    """A trial is already running (HTTP 409): the models share this machine's cores."""

    http_status = 409

    def __init__(self, job: Job) -> None:
        self.job_id = job.id
        where = f" (run {job.run_id})" if job.run_id else ""
        super().__init__(f"a trial is already running{where}: wait for it to finish, then start "
                         "the next one")


class UnknownJobError(LlmscoutError, KeyError):
    """No job with this id (HTTP 404)."""

    http_status = 404

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no trial job '{job_id}' (jobs last as long as the server)")

    def __str__(self) -> str:
        return str(self.args[0])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclasses.dataclass
class Job:
    id: str
    task: str
    options: dict[str, Any]
    status: JobStatus = "running"
    run_id: str | None = None
    error: dict[str, Any] | None = None
    started_at: str = dataclasses.field(default_factory=_now)
    finished_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _default_runner() -> Callable[..., Any]:
    try:
        from llmscout.trial.runner import run_trial
    except ImportError as exc:
        from llmscout.errors import MissingDependencyError

        raise MissingDependencyError("trials (llmscout.trial.runner)", "llamacpp",
                                     f"this llmscout build cannot run trials: {exc}") from None
    return run_trial


def _run_id_of(value: Any) -> str | None:
    """The run id carried by a progress report or a result, whatever its shape."""
    rid = value.get("run_id") if isinstance(value, dict) else getattr(value, "run_id", None)
    return rid if isinstance(rid, str) and rid else None


class TrialJobs:
    """Starts trials in a background thread, one at a time.

    Args:
        store: the run store the runner writes to (shared with the web app's readers).
        runner: ``run_trial`` (default: ``llmscout.trial.runner.run_trial``, imported on use).
    """

    def __init__(self, store: Any, runner: Callable[..., Any] | None = None) -> None:
        self.store = store
        self._runner = runner
        self._jobs: dict[str, Job] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, task: Any, *, models: list[str] | None = None, shots: list[int] | None = None,
              max_examples: int | None = None) -> Job:
        """Start ``run_trial(task, ...)`` in a thread; raises TrialBusyError while one runs."""
        runner = self._runner or _default_runner()
        options = {"models": models, "shots": shots, "max_examples": max_examples}
        with self._lock:
            busy = next((j for j in self._jobs.values() if j.status == "running"), None)
            if busy is not None:
                raise TrialBusyError(busy)
            job = Job(id=uuid.uuid4().hex[:12], task=getattr(task, "name", str(task)),
                      options=options)
            self._jobs[job.id] = job
            self._forget_old()
            thread = threading.Thread(target=self._work, args=(job, runner, task, options),
                                      name=f"llmscout-trial-{job.id}", daemon=True)
            self._threads[job.id] = thread
        thread.start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise UnknownJobError(job_id)
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job ends (tests and shutdown); returns it."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)
        return self.get(job_id)

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status != "running"]
        for job_id in finished[: max(0, len(self._jobs) - MAX_JOBS_KEPT)]:
            self._jobs.pop(job_id, None)
            self._threads.pop(job_id, None)

    def _work(self, job: Job, runner: Callable[..., Any], task: Any,
              options: dict[str, Any]) -> None:
        def progress(report: Any) -> None:
            job.run_id = job.run_id or _run_id_of(report)
            self._record(job, report)

        try:
            result = runner(task, store=self.store, progress=progress, **options)
        except Exception as exc:  # the job reports any failure; the server keeps running
            self._failed(job, exc)
            return
        job.run_id = job.run_id or _run_id_of(result)
        job.status = "done"
        job.finished_at = _now()

    def _record(self, job: Job, report: Any) -> None:
        """Store the progress the runner does not store itself: the start and each call.

        (The runner records ``load``, ``rung`` and ``done`` events; a page polling the events
        of a run sees these, whoever started the run.)
        """
        kind = getattr(report, "kind", None)
        if job.run_id is None or kind not in CALLBACK_EVENTS:
            return
        if kind == "start":
            total = getattr(report, "models_total", 0)
            message = (f"{getattr(report, 'examples', 0)} examples, {total} candidate"
                       f"{'' if total == 1 else 's'}")
        else:
            rung: Any = getattr(report, "rung", None)
            label = rung.label() if hasattr(rung, "label") else str(getattr(report, "model", ""))
            message = f"{label}: {getattr(report, 'n', 0)} of {getattr(report, 'examples', 0)} examples"
        self.store.add_event(job.run_id, kind, message)

    def _failed(self, job: Job, exc: BaseException) -> None:
        error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__}
        for attr in ("path", "line", "field", "model_id"):
            if getattr(exc, attr, None) is not None:
                error[attr] = getattr(exc, attr)
        job.error = error
        job.status = "failed"
        job.finished_at = _now()
        if job.run_id:
            with contextlib.suppress(LlmscoutError):  # the run row is gone: the job still tells
                self.store.add_event(job.run_id, "error", error["message"])
