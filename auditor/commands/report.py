"""`auditor report`: the QA lead's weekly report, or one agent's personal archive."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Literal, cast

import click

from .options import db_option, open_store


@click.command()
@click.option("--since", default=None, metavar="DATE", help="First day (YYYY-MM-DD).")
@click.option(
    "--until", default=None, metavar="DATE", help="Last day (default: the last day with data)."
)
@click.option(
    "--agent", "agent_id", default=None, metavar="ID", help="One agent's personal QA archive."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "csv"]),
    default=None,
    help="Output format (default: from the -o suffix, else html).",
)
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="FILE",
    help="Where to write it ('-' for stdout; default: report.html / .md / .csv).",
)
@db_option
def report(
    since: str | None,
    until: str | None,
    agent_id: str | None,
    fmt: str | None,
    output: str | None,
    db_path: str | None,
) -> None:
    """Write the QA report: trend, response times, failing criteria, fatal errors, typos,
    review agreement, common problems (共性问题) and each agent's archive (个人质检档案).

    The period defaults to the last 7 days with data. The HTML file is self-contained
    (charts inline, nothing fetched), so it can be mailed or archived as it is.

    \b
    Examples:
      auditor report
      auditor report --since 2026-11-01 --until 2026-11-30 -o november.html
      auditor report --agent agent-007 -o agent-007.html
      auditor report --format md -o - | less
      auditor report --format csv -o week.csv
    """
    from auditor.atomic import write_text_atomic
    from auditor.reporting import build_report, parse_day, render

    start = time.perf_counter()
    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output and output != "-" else ""
        fmt = {"md": "md", "markdown": "md", "csv": "csv"}.get(suffix, "html")
    if output is None:
        output = f"report.{fmt}"
    store = open_store(db_path, readonly=True)
    try:
        rep = build_report(
            store,
            since=parse_day(since, "--since") if since else None,
            until=parse_day(until, "--until") if until else None,
            agent_id=agent_id,
        )
    finally:
        store.close()
    text = render(rep, cast("Literal['html', 'md', 'csv']", fmt))
    if output == "-":
        sys.stdout.write(text)
        return
    # utf-8-sig for CSV: Excel reads Chinese text right only with the byte-order mark.
    # written atomically: a reader (or a crash) never sees half a report
    write_text_atomic(output, text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    p = rep.period
    who = f"agent {p.agent_id}, " if p.agent_id else ""
    click.echo(
        f"Report written to {output} ({who}{rep.total.chats:,} chats, {p.since} – {p.until}) "
        f"in {time.perf_counter() - start:.1f} s",
        err=True,
    )
