"""QA reports for leads: team view, common problems (共性问题), personal archives (个人质检档案).

``build_report(store, since=, until=, agent_id=) -> Report`` computes every figure with SQL
aggregates (:mod:`.queries`); ``render(report, fmt)`` lays it out as self-contained HTML
with inline SVG charts, Markdown, or a long-format CSV. See docs/reports.md.
"""

from __future__ import annotations

from typing import Literal

from .build import build_report, parse_day
from .model import Report

Format = Literal["html", "md", "csv"]
FORMATS: tuple[str, ...] = ("html", "md", "csv")


def render(report: Report, fmt: Format) -> str:
    """The report as text in one format (imports only the renderer it needs)."""
    if fmt == "html":
        from .html import render_html

        return render_html(report)
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(report)
    from .csv_export import render_csv

    return render_csv(report)


__all__ = ["FORMATS", "Format", "Report", "build_report", "parse_day", "render"]
