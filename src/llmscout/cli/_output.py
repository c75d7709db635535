"""The one place CLI output goes through: ``--json`` for scripts, rich tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

JSON_SCHEMA_VERSION = 1


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    return str(obj)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=_default, ensure_ascii=False)


def console(stderr: bool = False):  # -> rich.console.Console (rich imported lazily)
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def emit(as_json: bool, data: Any, render: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON, or call ``render(console)`` for humans."""
    if as_json or render is None:
        sys.stdout.write(dumps(data) + "\n")
        return
    render(console())


def table(title: str | None, columns: list[str], rows: list[list[Any]], **kw: Any):
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=title, title_justify="left", **kw)
    for col in columns:
        numeric = col.endswith((" (B)", "params", "ctx", "GB", "tok/s", "%"))
        t.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        t.add_row(*["" if v is None else escape(str(v)) for v in row])  # data is never markup
    return t


def human_count(n: int | float | None, unit: str = "") -> str:
    """1_234_000_000 -> '1.23B'."""
    if n is None:
        return "-"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            value = n / div
            return f"{value:.3g}{suffix}{unit}"
    return f"{n:g}{unit}"


def human_bytes(n: int | float | None) -> str:
    if n is None:
        return "-"
    for div, suffix in ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB")):
        if abs(n) >= div:
            return f"{n / div:.2f} {suffix}"
    return f"{int(n)} B"
