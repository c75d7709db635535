"""The HTML report: one self-contained file (styles, plotly.js and the figures inline).

Rendered with Jinja2 with autoescaping on, so every string from a result (model names, inputs,
model outputs, reasons) is escaped; the only markup built outside the template is the glossary
link, whose text is escaped here before it is wrapped.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from llmscout.report import _format as f

TEMPLATES = Path(__file__).parent / "templates"


def gloss_html(text: Any) -> Any:
    """``text`` escaped, each glossary term's first mention in an ``<abbr>`` with its explanation."""
    from markupsafe import Markup, escape

    parts = []
    for span in f.spans(str(text)):
        if span.term is None:
            parts.append(escape(span.text))
        else:
            tip = f"{span.term.title}: {span.term.text}"
            parts.append(Markup('<abbr class="term" title="{}"><a href="#g-{}">{}</a></abbr>').format(
                tip, span.term.key, span.text))
    return Markup("").join(parts)


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=False, lstrip_blocks=False)
    env.filters["gloss"] = gloss_html
    return env


def render_view_html(view: Any) -> str:
    from markupsafe import Markup

    from llmscout import __version__
    from llmscout.report._charts import figures_json, plotly_js
    from llmscout.report._view import terms_used

    figure_ids = set(view.charts)
    # figures_json and plotly_js are made safe for a <script> element by _charts (no '<' or '</script')
    context = {"view": view, "terms": terms_used(view), "version": __version__, "figure_ids": figure_ids,
               "figures_json": Markup(figures_json(view.charts)) if figure_ids else "",
               "plotly_js": Markup(plotly_js()) if figure_ids else ""}
    return _environment().get_template("report.html.j2").render(**context)


def render_html(result: dict[str, Any], kind: str, *, run: dict[str, Any] | None = None) -> str:
    """The report of a result as one self-contained HTML document.

    Args:
        result: a recommendation (``Recommendation.to_dict()``) or a trial (``TrialResult.to_dict()``)
            as JSON data, e.g. a run's stored result.
        kind: "recommend" or "trial".
        run: facts about the stored run to show in the header (id, created_at, status ...).

    Raises:
        InvalidValueError: an unknown ``kind``, or a ``result`` that is not a mapping.

    Example:
        >>> html = render_html(store.get_run(run_id).result, "trial")   # doctest: +SKIP
    """
    from llmscout.report._view import build_view

    return render_view_html(build_view(result, kind, run))
