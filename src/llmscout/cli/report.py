"""``llmscout report RUN``: a stored run as a self-contained HTML file and a Markdown file."""

from __future__ import annotations

import argparse

from llmscout.cli import _output as out

_EXAMPLES = """examples:
  llmscout report 3f9c2a1b7d4e                       (writes llmscout-report-3f9c2a1b7d4e.html and .md)
  llmscout report latest --out report.html
  llmscout report 3f9c2a1b7d4e --out r.html --markdown notes/r.md

The HTML file embeds its charts and plotly.js: it opens offline, nothing is fetched."""


def register(sub: argparse._SubParsersAction) -> None:
    from llmscout.cli import json_flag

    p = sub.add_parser("report", help="write the HTML and Markdown report of a recommend or trial run",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="the run id (from the store), or 'latest'")
    p.add_argument("--out", metavar="PATH.html", help="the HTML file (default: llmscout-report-RUN.html)")
    p.add_argument("--markdown", metavar="PATH.md", help="the Markdown file (default: the HTML path with .md)")
    json_flag(p)
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from llmscout.report import write_report
    from llmscout.report._write import resolve_run
    from llmscout.store import Store

    with Store() as store:
        run = resolve_run(store, args.run)
        html_path = Path(args.out) if args.out else Path(f"llmscout-report-{run.id}.html")
        files = write_report(run.id, html_path, store=store,
                             markdown=Path(args.markdown) if args.markdown else True)
    data = {"run": run.id, "kind": run.kind, "html": str(files[0]),
            "markdown": str(files[1]) if len(files) > 1 else None,
            "html_bytes": files[0].stat().st_size}

    def render(con) -> None:
        con.print(f"{run.kind} run {run.id}: report written", markup=False)
        for path in files:
            con.print(f"  {path}", markup=False)

    out.emit(args.json, data, render)
    return 0
