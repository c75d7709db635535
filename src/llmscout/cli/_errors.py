"""Mapping from exception types to one-line messages and exit codes (one table)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from llmscout import constants
from llmscout.errors import LlmscoutError

# (exception type, exit code, prefix). First match wins; LlmscoutError subclasses carry
# their own actionable message.
_TABLE: list[tuple[type[BaseException], int, str]] = [
    (LlmscoutError, 2, "error"),
    (FileNotFoundError, 2, "file not found"),
    (PermissionError, 2, "permission denied"),
    (MemoryError, 3, "out of memory"),
    (ConnectionError, 4, "network error"),
    (TimeoutError, 4, "timed out"),
    (OSError, 5, "system error"),
]


def run_guarded(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    try:
        return func(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except Exception as exc:
        if constants.debug():
            raise
        for exc_type, code, prefix in _TABLE:
            if isinstance(exc, exc_type):
                _report(args, prefix, exc, code)
                return code
        _report(args, "internal error (set LLMSCOUT_DEBUG=1 for a traceback)",
                exc, 70, kind=type(exc).__name__)
        return 70


def _report(args: argparse.Namespace, prefix: str, exc: BaseException, code: int,
            kind: str | None = None) -> None:
    message = str(exc) or type(exc).__name__
    if getattr(args, "json", False):
        payload = {"error": {"type": kind or type(exc).__name__, "message": message, "exit_code": code}}
        for attr in ("path", "line", "field", "model_id", "suggestions"):
            if getattr(exc, attr, None) is not None:
                payload["error"][attr] = getattr(exc, attr)
        print(json.dumps(payload), file=sys.stdout)
    print(f"llmscout: {prefix}: {message}", file=sys.stderr)
