"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts.

Nothing is fetched when the file is opened (no fonts, scripts or images from the
network), so it can be mailed or archived and still open years later. CJK text is drawn by
the browser's own fonts through the CSS font stack.
"""

from __future__ import annotations

import shlex

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from . import charts, fmt
from .model import Report


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("auditor.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=fmt.pct,
        num=fmt.num,
        secs=fmt.secs,
        quote=fmt.quote,
        delta=fmt.delta_points,
        shell=shlex.quote,
    )
    return env


def render_html(report: Report) -> str:
    """The whole report as an HTML document (a string; the caller writes it)."""
    is_agent = report.period.agent_id is not None
    trend = report.weeks or report.days
    trend_title = "Mean score and pass rate per " + ("ISO week" if report.weeks else "day")
    team_shares = report.team_shares if is_agent else None  # an agent is drawn against them
    svgs = {
        "trend": charts.score_trend_svg(trend, trend_title) if report.total.chats else "",
        "timing": [charts.timing_svg(h) for h in report.timing if h.timed],
        "criteria": charts.criteria_svg(report.criteria, team_shares) if report.criteria else "",
        "sparks": {
            a.agent_id: charts.sparkline_svg([d.mean_score for d in (a.weeks or a.days)])
            for a in report.agents
        },
    }
    return _env().get_template("report.html.j2").render(r=report, svg=svgs, is_agent=is_agent)
