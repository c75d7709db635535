"""The Markdown report: the same sections, tables and numbers as the HTML one, without charts.

Each chart's numbers are in the table of its section. Text from results is escaped so that a
model output cannot become Markdown or HTML (``<script>`` is written as ``&lt;script&gt;``); the
first mention of a glossary term gets a footnote that explains it.
"""

from __future__ import annotations

import re
from typing import Any

from llmscout.report import _format as f
from llmscout.report._view import Column, Section, Snippet, Table, View

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def escape_md(text: Any, *, cell: bool = True) -> str:
    """``text`` as literal Markdown: markup characters backslash-escaped, ``<`` and ``>`` as entities."""
    s = _ENTITY.sub("&amp;", str(text))
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s.replace("\n", "<br>" if cell else " ")


class _Writer:
    """Renders a view; remembers which glossary terms already have their footnote."""

    def __init__(self) -> None:
        self.noted: dict[str, f.Term] = {}

    def gloss(self, text: str, cell: bool = True) -> str:
        out = []
        for span in f.spans(str(text)):
            out.append(escape_md(span.text, cell=cell))
            if span.term and span.term.key not in self.noted:
                self.noted[span.term.key] = span.term
                out.append(f"[^{span.term.key}]")
        return "".join(out)

    def cell(self, value: Any, col: Column) -> str:
        items = [value] if isinstance(value, str) else list(value or [])
        texts = [self.gloss(v) if col.gloss else escape_md(v) for v in items]
        return "<br>".join(("- " + t) if not isinstance(value, str) else t for t in texts) or " "

    def table(self, t: Table) -> list[str]:
        heads = [self.gloss(c.label) + (f" ({c.basis})" if c.basis else "") for c in t.columns]
        lines = []
        if t.caption:
            lines += [f"*{escape_md(t.caption, cell=False)}*", ""]
        lines.append("| " + " | ".join(heads) + " |")
        lines.append("| " + " | ".join("---:" if c.numeric else "---" for c in t.columns) + " |")
        for row in t.rows:
            cells = [self.cell(v, c) for v, c in zip(row, t.columns, strict=False)]
            cells += [" "] * (len(t.columns) - len(cells))
            lines.append("| " + " | ".join(cells) + " |")
        return lines

    def snippet(self, s: Snippet) -> list[str]:
        longest = max((len(m) for m in re.findall(r"`+", s.code)), default=0)
        fence = "`" * max(3, longest + 1)
        lines = [f"**{escape_md(s.title, cell=False)}**", ""] if s.title else []
        lang = re.sub(r"[^\w+-]", "", s.language)
        lines += [fence + lang, s.code.rstrip("\n"), fence]
        if s.notes:
            lines += [""] + [f"- {self.gloss(n, cell=False)}" for n in s.notes]
        return lines

    def section(self, s: Section) -> list[str]:
        lines = [f"## {escape_md(s.title, cell=False)}", ""]
        for p in s.paragraphs:
            lines += [self.gloss(p, cell=False), ""]
        if s.bullets:
            lines += [f"- {self.gloss(b, cell=False)}" for b in s.bullets] + [""]
        if s.chart:
            lines += ["*The HTML report draws this as a chart; the numbers are in the table below.*", ""]
        for t in s.tables:
            lines += self.table(t) + [""]
        if s.snippet:
            lines += self.snippet(s.snippet) + [""]
        return lines

    def render(self, view: View) -> str:
        lines = [f"# {escape_md(view.title, cell=False)}: {escape_md(view.subtitle, cell=False)}", ""]
        if view.meta:
            lines += [f"- {escape_md(k, cell=False)}: {escape_md(v, cell=False)}" for k, v in view.meta] + [""]
        lines += ["Figures marked (estimated) come from the estimator (catalog and hardware data, nothing "
                  "run); figures marked (measured) were measured on this machine. Energy always names its "
                  "basis.", ""]
        lines += ["Sections: " + ", ".join(escape_md(s.title, cell=False) for s in view.sections), ""]
        for s in view.sections:
            lines += self.section(s)
        if self.noted:
            lines += ["## Glossary", ""]
            for t in self.noted.values():
                src = f" ([source]({t.source}))" if t.source.startswith(("https://", "http://")) else ""
                lines.append(f"[^{t.key}]: **{escape_md(t.title, cell=False)}**: "
                             f"{escape_md(t.text, cell=False)}{src}")
            lines.append("")
        return "\n".join(lines).rstrip("\n") + "\n"


def render_view_markdown(view: View) -> str:
    return _Writer().render(view)


def render_markdown(result: dict[str, Any], kind: str, *, run: dict[str, Any] | None = None) -> str:
    """The report of a result as Markdown (GitHub-flavoured: tables and footnotes).

    Args and errors as for ``render_html``; the charts' numbers are in their sections' tables.
    """
    from llmscout.report._view import build_view

    return render_view_markdown(build_view(result, kind, run))
