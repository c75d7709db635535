"""Write the report of a stored run: an HTML file and, next to it, its Markdown version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmscout.errors import IncompatibleError, InvalidValueError

LATEST = "latest"


def _run_meta(run: Any) -> dict[str, Any]:
    return {"run": run.id, "kind": run.kind, "status": run.status, "created": run.created_at,
            "llmscout version": run.tool_version}


def _markdown_path(html_path: Path, markdown: bool | str | Path) -> Path | None:
    if markdown is False or markdown is None:
        return None
    if markdown is True:
        return html_path.with_suffix(".md")
    return Path(markdown)


def resolve_run(store: Any, run_id: str) -> Any:
    """The stored run ``run_id`` ('latest': the newest recommend or trial run)."""
    if run_id == LATEST:
        runs = [r for r in store.list_runs(limit=20) if r.kind in ("trial", "recommend")]
        if not runs:
            raise InvalidValueError("run", run_id, "a stored run: none yet - run 'llmscout recommend' "
                                    "or 'llmscout trial' first")
        return runs[0]
    return store.get_run(run_id)


def write_report(run_id: str, path: str | Path, store: Any = None,
                 markdown: bool | str | Path = True) -> list[Path]:
    """Write the report of stored run ``run_id`` to ``path`` (HTML) and its Markdown version.

    Args:
        run_id: a run id from the store, or "latest".
        path: the HTML file to write (folders are created).
        store: a ``llmscout.store.Store``; default: the one under ``$LLMSCOUT_HOME``.
        markdown: True: next to the HTML with the suffix ``.md``; a path: there; False: none.

    Returns:
        The files written, HTML first.

    Raises:
        InvalidValueError: no run with that id.
        IncompatibleError: the run has no result yet, or is of a kind without a report.

    Example:
        >>> write_report("3f9c2a1b7d4e", "report.html")          # doctest: +SKIP
        [PosixPath('report.html'), PosixPath('report.md')]
    """
    from llmscout.report._html import render_view_html
    from llmscout.report._markdown import render_view_markdown
    from llmscout.report._view import REPORT_KINDS, build_view

    if store is None:
        from llmscout.store import Store

        store = Store()
    run = resolve_run(store, run_id)
    if run.kind not in REPORT_KINDS:
        raise IncompatibleError(f"run {run.id} is a {run.kind} run; reports exist for "
                                + " and ".join(REPORT_KINDS) + " runs")
    if not isinstance(run.result, dict):
        raise IncompatibleError(f"run {run.id} ({run.kind}, {run.status}) has no result yet - "
                                "let it finish (or resume it) and write the report again")
    result = dict(run.result)
    if not result.get("hardware") and run.hardware:
        result["hardware"] = run.hardware
    view = build_view(result, run.kind, _run_meta(run))
    html_path = Path(path)
    md_path = _markdown_path(html_path, markdown)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_view_html(view), encoding="utf-8")
    written = [html_path]
    if md_path is not None:
        md_path.parent.mkdir(parents=True, exist_ok=True)
        md_path.write_text(render_view_markdown(view), encoding="utf-8")
        written.append(md_path)
    return written
