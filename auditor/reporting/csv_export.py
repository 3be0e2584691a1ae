"""The report as one CSV in long ("tidy") format: one figure per row.

Why long rather than one table per section: a report has a dozen sections with different
columns, and a single CSV file cannot hold several tables without a format of its own.
One row per figure keeps it one file that a spreadsheet pivot table or
``pandas.read_csv(...).pivot(...)`` reshapes any way, and new figures never break
existing readers. The columns:

``section``   which part of the report (total, day, week, timing, criterion, ...)
``agent_id``  the agent a figure belongs to (empty for team figures)
``day``       a day (YYYY-MM-DD) or ISO week (YYYY-Www), when the figure is per period
``criterion`` a rubric criterion id, when the figure is per criterion
``key``       the rest of the row's identity: a histogram bin, a pattern, a chat id, a
              typo count, a measure name
``metric``    what the value is (chats, pass_rate, mean_score, share, quote, ...)
``value``     the value: counts as integers, shares as fractions 0..1 (not percentages),
              scores and seconds as numbers, quotes and levels as text

docs/reports.md lists every section and metric. Text cells pass through
:mod:`auditor.spreadsheet` (no chat text or id becomes a formula; numbers stay numbers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ..spreadsheet import safe_row
from .model import AgentArchive, Bucket, Report

COLUMNS = ("section", "agent_id", "day", "criterion", "key", "metric", "value")

CsvRow = tuple[str, str, str, str, str, str, Any]


def _value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        return round(v, 6)
    return v


def _figures(*pairs: tuple[str, Any]) -> tuple[tuple[str, Any], ...]:
    """(metric, value) pairs of mixed value types, typed for the loops below."""
    return pairs


def _bucket_rows(section: str, b: Bucket, agent: str = "", day: str = "") -> Iterator[CsvRow]:
    for metric, v in _figures(
        ("chats", b.chats),
        ("passed", b.passed),
        ("pass_rate", b.pass_rate),
        ("mean_score", b.mean_score),
        ("fatal", b.fatal),
        ("queued", b.queued),
    ):
        yield (section, agent, day, "", "", metric, v)


def _agent_rows(a: AgentArchive) -> Iterator[CsvRow]:
    ag = a.agent_id
    yield from _bucket_rows("agent", a.total, ag)
    for b in a.days:
        yield from _bucket_rows("agent_day", b, ag, b.label)
    for b in a.weeks or []:
        yield from _bucket_rows("agent_week", b, ag, b.label)
    for w in a.worst:
        for metric, v in _figures(
            ("failed", w.failed), ("share", w.share), ("team_share", w.team_share)
        ):
            yield ("agent_criterion", ag, "", w.criterion, "", metric, v)
    for which, chats in (("best", a.best_chats), ("worst", a.worst_chats)):
        for rank, c in enumerate(chats, 1):
            yield (f"agent_{which}_chat", ag, c.day, "", c.chat_id, "rank", rank)
            yield (f"agent_{which}_chat", ag, c.day, "", c.chat_id, "score", c.score)
    for rev in a.reviews or []:
        key = (ag, rev.day, rev.criterion, rev.chat_id)
        yield ("agent_review", *key, "model_level", rev.model_level)
        yield ("agent_review", *key, "human_level", rev.human_level)
        yield ("agent_review", *key, "reviewer", rev.reviewer)


def report_rows(r: Report) -> Iterator[CsvRow]:
    """Every figure of the report as a (section, agent, day, criterion, key, metric, value)."""
    p = r.period
    for metric, v in _figures(
        ("since", p.since.isoformat()),
        ("until", p.until.isoformat()),
        ("days", p.days),
        ("agent_id", p.agent_id),
        ("rubrics", " ".join(r.rubrics)),
        ("generated_at", r.generated_at),
    ):
        yield ("period", "", "", "", "", metric, v)
    yield from _bucket_rows("total", r.total)
    if r.previous is not None:
        yield from _bucket_rows("previous_period", r.previous)
    for b in r.days:
        yield from _bucket_rows("day", b, day=b.label)
    for b in r.weeks or []:
        yield from _bucket_rows("week", b, day=b.label)
    for h in r.timing:
        for metric, v in _figures(
            ("limit_s", h.limit_s),
            ("timed", h.timed),
            ("over_limit", h.over_limit),
            ("share_over", h.share_over),
            ("median_s", h.median_s),
            ("p90_s", h.p90_s),
        ):
            yield ("timing", "", "", "", h.metric, metric, v)
        for i, n in enumerate(h.counts):
            yield ("timing_bin", "", "", "", f"{h.metric} {h.bin_label(i)}", "chats", n)
    for c in r.criteria:
        yield ("criterion", "", "", c.criterion, "", "failed", c.failed)
        yield ("criterion", "", "", c.criterion, "", "share", c.share)
        if p.agent_id is not None:
            yield (
                "criterion",
                "",
                "",
                c.criterion,
                "",
                "team_share",
                r.team_shares.get(c.criterion),
            )
    yield ("fatal", "", "", "", "", "total", r.fatal_total)
    yield ("total", "", "", "", "", "provisional", r.provisional)
    for f in r.fatal:
        yield ("fatal", f.agent_id or "", f.day, f.criterion, f.chat_id, "quote", f.quote)
    ty = r.typos
    for metric, v in _figures(
        ("checked", ty.checked),
        ("total_typos", ty.total_typos),
        ("limit", ty.limit),
        ("over_limit", ty.over_limit),
        ("share_over", ty.share_over),
    ):
        yield ("typos", "", "", "", "", metric, v)
    for n, chats in ty.distribution:
        yield ("typos_distribution", "", "", "", str(n), "chats", chats)
    rv = r.review
    yield ("review", "", "", "", "", "queued", rv.queued)
    yield ("review", "", "", "", "", "reviews_table", rv.available)
    if rv.available:
        for metric, v in _figures(
            ("reviews", rv.reviews),
            ("reviewed_chats", rv.reviewed_chats),
            ("pending", rv.pending),
            ("items", rv.items),
            ("exact_agreement", rv.exact),
        ):
            yield ("review", "", "", "", "", metric, v)
        for agr in rv.agreement:
            for metric, v in _figures(
                ("items", agr.items), ("agree", agr.agree), ("exact_agreement", agr.exact)
            ):
                yield ("review_criterion", "", "", agr.criterion, "", metric, v)
        for d in rv.disputes_by_criterion:
            for metric, n in (("disputes", d.disputes), ("accepted", d.accepted),
                              ("rejected", d.rejected), ("open", d.open)):  # fmt: skip
                yield ("dispute_criterion", "", "", d.key or "", "", metric, n)
        for d in rv.disputes_by_agent:
            for metric, n in (("disputes", d.disputes), ("accepted", d.accepted),
                              ("rejected", d.rejected), ("open", d.open)):  # fmt: skip
                yield ("dispute_agent", d.key or "", "", "", "", metric, n)
    for prob in r.problems:
        yield ("problem", "", "", prob.criterion, "", "failed", prob.failed)
        yield ("problem", "", "", prob.criterion, "", "share", prob.share)
        for pat in prob.patterns:
            key = pat.pattern or ""
            yield ("problem_pattern", "", "", prob.criterion, key, "chats", pat.chats)
            for e in pat.examples:
                ag = e.agent_id or ""
                yield ("problem_example", ag, e.day, prob.criterion, key, "chat_id", e.chat_id)
                yield ("problem_example", ag, e.day, prob.criterion, key, "quote", e.quote)
    for a in r.agents:
        yield from _agent_rows(a)


def render_csv(r: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report_rows(r):
        writer.writerow(safe_row([*row[:-1], _value(row[-1])]))
    return buf.getvalue()
