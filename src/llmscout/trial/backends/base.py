"""The interface every backend implements: load a model, answer a batch of requests, close.

Small and batch-shaped on purpose (lm-evaluation-harness ``api/model.py`` is the model): a backend
is given a list of ``GenRequest`` and returns one ``GenResult`` per request, in order. A request
that fails (timeout, server error, crashed model process) becomes ``GenResult(error=...)``; only a
programming error raises. Capabilities are class attributes so callers can choose without
loading anything.

Example:
    >>> from llmscout.trial.backends import get_backend
    >>> with get_backend("llamacpp", model_path="m.gguf") as b:  # doctest: +SKIP
    ...     info = b.load()
    ...     results = b.generate([GenRequest(prompt="Hello")])
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from llmscout.trial.types import GenRequest, GenResult, LoadInfo

if TYPE_CHECKING:
    from llmscout.trial.prompting import PromptTemplate

CHARS_PER_TOKEN = 4.0  # rough English average, used only where no tokenizer is at hand


class Backend(abc.ABC):
    """A model that answers requests. Subclasses set the class attributes and the three methods.

    Use as a context manager to be sure ``close()`` runs (it frees the model process/memory);
    entering does not load: call ``load()`` to get the ``LoadInfo`` the report needs.
    """

    name: ClassVar[str] = ""
    supports_logprobs: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    supports_prefix_cache: ClassVar[bool] = False  # reuses the KV cache of a shared prompt prefix
    exact_token_counts: ClassVar[bool] = False  # count_tokens uses the model's own tokenizer

    model: str = ""  # what the report calls the model (file name, HF id, endpoint:model)

    @abc.abstractmethod
    def load(self) -> LoadInfo:
        """Load the model; a failure is ``LoadInfo(ok=False, error="did not load: ...")``."""

    @abc.abstractmethod
    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        """One result per request, in order; per-request failures are ``GenResult(error=...)``."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Free the model (process, memory, connections). Safe to call twice."""

    @property
    def template(self) -> PromptTemplate:
        """How this backend turns messages into text, for ``prompting.build_request``.

        A ``ChatTemplate`` (rendered here), ``"server"`` (the server applies its own template)
        or ``None`` (no template: plain completion). Known after ``load()``.
        """
        return None

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens in each text; an estimate (characters / 4) unless ``exact_token_counts``."""
        return [max(1, round(len(t) / CHARS_PER_TOKEN)) if t else 0 for t in texts]

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def error_result(request: GenRequest, error: str, **measured: Any) -> GenResult:
    """The result of a request that failed (text is empty, ``ok`` is False)."""
    return GenResult(key=request.key, text="", error=error, **measured)


def truncate_at_stop(text: str, stops: tuple[str, ...] | list[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop string; (text, whether one was found)."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def peak_rss_bytes(pid: int | None = None) -> int | None:
    """Peak resident memory (``VmHWM``) of a process from /proc, None where unavailable."""
    path = Path(f"/proc/{pid or os.getpid()}/status")
    try:
        for line in path.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset this process's ``VmHWM`` to its current RSS (Linux ``clear_refs`` value 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class EnergyProbe:
    """Energy of one request through ``llmscout.trial.energy.EnergyMeter`` (RAPL / NVML).

    Where nothing can measure (no powercap, no NVIDIA GPU, module missing) the result is
    ``(None, "unavailable")`` and the runner estimates energy from time and power figures.
    Never raises: a broken meter only loses the figure.
    """

    def __init__(self, source: str = "auto") -> None:
        self._meter: Any = None
        try:
            from llmscout.trial.energy import EnergyMeter

            self._meter = EnergyMeter(source)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001
            self._meter = None

    def start(self) -> None:
        if self._meter is None:
            return
        try:
            self._meter.__enter__()
        except Exception:  # noqa: BLE001
            self._meter = None

    def stop(self) -> tuple[float | None, str]:
        """(joules, basis) since ``start()``; basis is an ``EnergyBasis`` value."""
        if self._meter is None:
            return None, "unavailable"
        try:
            self._meter.__exit__(None, None, None)
            reading = self._meter.reading
        except Exception:  # noqa: BLE001
            return None, "unavailable"
        finally:
            self._meter = None
        if reading is None or reading.joules is None:
            return None, "unavailable"
        return float(reading.joules), str(reading.basis)


__all__ = ["Backend", "EnergyProbe", "error_result", "peak_rss_bytes", "reset_peak_rss",
           "truncate_at_stop"]
