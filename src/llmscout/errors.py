"""Every error llmscout raises on purpose, each with a message that says what to do next.

The CLI maps these types to one-line messages (see ``cli._main``); a traceback is shown only
with ``LLMSCOUT_DEBUG=1``. Subclasses also inherit the matching builtin so library users can
catch ``FileNotFoundError`` or ``ValueError`` as usual.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class LlmscoutError(Exception):
    """Base class: an error whose message is meant for the user, not a traceback."""

    exit_code = 1


class UnknownModelError(LlmscoutError, KeyError):
    """A model id that no source knows."""

    def __init__(self, model_id: str, candidates: Iterable[str] = ()) -> None:
        self.model_id = model_id
        self.suggestions = did_you_mean(model_id, candidates)
        msg = f"No model '{model_id}'"
        if self.suggestions:
            msg += " - did you mean " + ", ".join(f"'{s}'" for s in self.suggestions) + "?"
        else:
            msg += " - run 'llmscout models list' to see the catalog"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownHardwareError(LlmscoutError, KeyError):
    """A hardware name that the database does not know."""

    def __init__(self, name: str, candidates: Iterable[str] = ()) -> None:
        self.name = name
        self.suggestions = did_you_mean(name, candidates)
        msg = f"No hardware matching '{name}'"
        if self.suggestions:
            msg += " - did you mean " + ", ".join(f"'{s}'" for s in self.suggestions) + "?"
        msg += " (or give figures: --memory-gb, --bandwidth-gbs, --tflops, --device-kind)"
        super().__init__(msg)

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidFileError(LlmscoutError, ValueError):
    """A file that exists but cannot be used: malformed, truncated, wrong format or bad field."""

    def __init__(
        self, path: str | Path, problem: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.problem = problem
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}: {what}{problem}")


class MissingFileError(LlmscoutError, FileNotFoundError):
    """A path the user gave that does not exist."""

    def __init__(self, path: str | Path, hint: str = "") -> None:
        self.path = str(path)
        super().__init__(f"{path}: no such file or folder" + (f" - {hint}" if hint else ""))

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidValueError(LlmscoutError, ValueError):
    """An option or field with a value that is out of range or not one of the allowed ones."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r} is not valid: expected {expected}")


class MissingDependencyError(LlmscoutError, ImportError):
    """An optional extra is needed for this feature."""

    def __init__(self, feature: str, extra: str, package: str | None = None) -> None:
        self.feature = feature
        self.extra = extra
        pkg = f" ({package})" if package else ""
        super().__init__(
            f"{feature} needs an optional dependency{pkg}: pip install 'llmscout[{extra}]'"
        )


class OfflineError(LlmscoutError, ConnectionError):
    """A network source was asked for while offline, or could not be reached."""


class IncompatibleError(LlmscoutError, ValueError):
    """A combination that cannot work (context beyond the model's limit, quant not available...)."""


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Closest candidates to ``word``, case-insensitively; substring matches first."""
    cands = list(dict.fromkeys(candidates))
    low = word.lower()
    by_lower: dict[str, str] = {}
    for c in cands:
        by_lower.setdefault(c.lower(), c)
    subs = [c for c in cands if low and low in c.lower()]
    subs.sort(key=len)
    close = difflib.get_close_matches(low, list(by_lower), n=n, cutoff=0.5)
    out = subs[:n] + [by_lower[c] for c in close]
    return list(dict.fromkeys(out))[:n]
