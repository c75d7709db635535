"""Reports of recommend and trial runs: one self-contained HTML file and a Markdown version.

The HTML file carries its styles, the plotly.js bundle and the figures inline, so it opens
offline; every string from a result is escaped. The Markdown file has the same sections and
numbers, with each chart's figures in a table.

Example:
    >>> from llmscout.report import write_report, render_markdown
    >>> write_report(run_id, "report.html")             # doctest: +SKIP
    [PosixPath('report.html'), PosixPath('report.md')]
    >>> print(render_markdown(recommendation.to_dict(), "recommend"))  # doctest: +SKIP
"""

from __future__ import annotations

from llmscout.report._html import render_html
from llmscout.report._markdown import render_markdown
from llmscout.report._view import REPORT_KINDS, ReportKind
from llmscout.report._write import write_report

__all__ = ["REPORT_KINDS", "ReportKind", "render_html", "render_markdown", "write_report"]
