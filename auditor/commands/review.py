"""`auditor review …` (the human spot-check queue) and `auditor agreement` (model vs reviewers).

A thin layer: parse options, call auditor.review / auditor.review.sheets / auditor.evaluation,
render. The policies and the sheet format are described in docs/review.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from auditor.commands.options import db_option, open_store
from auditor.errors import ReviewImportError
from auditor.reasons import PRIORITY

if TYPE_CHECKING:
    from auditor.review import QueueFilter, QueueItem
    from auditor.store import Store

console = Console()

rubric_option = click.option(
    "--rubric", "rubric_name", default=None, help="Rubric name, if audited under several."
)


def _open(db_path: str | None, *, readonly: bool = True) -> Store:
    return open_store(db_path, readonly=readonly)


def _dump(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def queue_filter_options(default_status: str) -> Any:
    """The filters shared by `review list` and `review export`."""

    def decorate(f: Any) -> Any:
        for opt in reversed(
            (
                click.option("--reason", type=click.Choice(PRIORITY), help="Only this reason."),
                click.option("--agent", "agent_id", default=None, help="Only this agent."),
                click.option("--criterion", default=None, help="Only items asking for it."),
                click.option("--since", default=None, help="First chat day: YYYY-MM-DD or 7d."),
                click.option("--until", default=None, help="Last chat day: YYYY-MM-DD or 1d."),
                click.option(
                    "--status",
                    type=click.Choice(["open", "done", "all"]),
                    default=default_status,
                    show_default=True,
                    help="open: some criterion still unreviewed.",
                ),
                rubric_option,
            )
        ):
            f = opt(f)
        return f

    return decorate


def _filters(**kw: Any) -> QueueFilter:
    from auditor.review import QueueFilter, resolve_day

    return QueueFilter(
        reason=kw["reason"],
        agent_id=kw["agent_id"],
        criterion=kw["criterion"],
        since=resolve_day(kw["since"]),
        until=resolve_day(kw["until"]),
        status=kw["status"],
        rubric_name=kw["rubric_name"],
    )


@click.group()
def review() -> None:
    """The human spot-check queue: list, show, score, export/import sheets, calibrate.

    Chats are queued after each audit, once per rubric, with every reason that applies
    (most urgent first): fatal, suspected_injection, unscored, critical_failure,
    low_confidence, random_sample, agent_quota. Reviews only append; a chat's effective
    score uses the latest human level per criterion. See docs/review.md.

    \b
    Examples:
      auditor review list --reason fatal
      auditor review show zh-000123
      auditor review score zh-000123 --criterion empathy --level poor --comment "no apology"
      auditor review export --format xlsx -o today.xlsx --limit 200
      auditor review import today.xlsx --reviewer wang
    """


@review.command("list")
@queue_filter_options("open")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    help="Items to show, most urgent first (0: all). The total is always shown.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON.")
@db_option
def list_command(limit: int, as_json: bool, db_path: str | None, **kw: Any) -> None:
    """List queued chats, most urgent first (then the oldest chat day).

    \b
    Examples:
      auditor review list
      auditor review list --reason critical_failure --agent agent-007 --since 7d
      auditor review list --criterion empathy --status all --limit 0
    """
    from auditor.review import list_queue

    store = _open(db_path)
    filters = _filters(**kw)
    items, total = list_queue(store, filters, limit or None)
    if as_json:
        _dump({"total": total, "items": [_item_json(i) for i in items]})
        return
    if not items:
        console.print(f"No {filters.status if filters.status != 'all' else ''} queue items match.")
        return
    t = Table(title=f"Review queue ({filters.status})")
    for col in ("chat", "rubric", "agent", "day", "reasons", "to review"):
        t.add_column(col)
    for i in items:
        t.add_row(
            escape(i.chat_id), i.rubric_name, escape(i.agent_id or ""), i.day or "",
            ", ".join(i.reasons), _targets_cell(i),
        )  # fmt: skip
    console.print(t)
    counts = store.queue_reason_counts(filters)
    by_reason = ", ".join(f"{r} {counts[r]:,}" for r in PRIORITY if r in counts)
    console.print(f"showing {len(items):,} of {total:,} · by reason: {by_reason}")
    if total > len(items):
        console.print("more match: raise --limit (0 = all), or narrow with --reason/--agent")


def _targets_cell(item: QueueItem) -> str:
    """Criteria grouped under the most urgent reason asking for them; long groups counted."""
    parts = []
    for reason in item.reasons:
        crits = [c for c, rs in item.targets.items() if rs[0] == reason]
        if crits:
            names = ", ".join(crits) if len(crits) <= 3 else f"{len(crits)} criteria"
            parts.append(f"{reason}: {escape(names)}")
    done = sum(1 for c in item.targets if c in item.reviewed)
    return "; ".join(parts) + f" [dim]({done}/{len(item.targets)} reviewed)[/]"


def _item_json(i: QueueItem) -> dict[str, Any]:
    return {
        "chat_id": i.chat_id,
        "rubric_name": i.rubric_name,
        "rubric": i.rubric,
        "agent_id": i.agent_id,
        "day": i.day,
        "reasons": i.reasons,
        "targets": i.targets,
        "reviewed": i.reviewed,
        "status": i.status,
        "queued_at": i.queued_at,
    }


@review.command()
@click.argument("chat_id")
@rubric_option
@click.option("--json", "as_json", is_flag=True, help="Model result, effective result, reviews.")
@db_option
def show(chat_id: str, rubric_name: str | None, as_json: bool, db_path: str | None) -> None:
    """Show a queued chat: the transcript with the model's evidence marked, the model's
    levels and confidence, the reviews so far and the effective result.

    \b
    Examples:
      auditor review show zh-000123
      auditor review show zh-000123 --json | jq .effective.score
    """
    from auditor.render import render_chat
    from auditor.review import effective_result, queue_item, resolve_audited

    store = _open(db_path)
    ref = resolve_audited(store, chat_id, rubric_name)
    item = queue_item(store, chat_id, ref.rubric_name)
    reviews = store.reviews(chat_id, ref.rubric_name)
    eff = effective_result(store, chat_id, ref.rubric_name)
    assert eff is not None
    if as_json:
        _dump(
            {
                "result": ref.result.to_json(),
                "effective": eff.to_json(),
                "queue": _item_json(item) if item else None,
                "reviews": reviews,
            }
        )
        return
    model = ref.result.to_json()
    if item:
        model["review"] = {"queued": True, "reasons": item.reasons}
    render_chat(model, store.transcript(ref.transcript_hash) or {"messages": []})
    t = Table(title="Review")
    for col in ("criterion", "queued for", "model", "reviews (oldest first)", "effective"):
        t.add_column(col)
    model_side: dict[str, str] = {f.criterion: f.status for f in ref.result.findings}
    for g in ref.result.grades:
        conf = f" ({g.confidence:.2f})" if g.confidence is not None else ""
        model_side[g.criterion] = (g.level or g.status) + conf
    eff_side: dict[str, str] = {f.criterion: f.status for f in eff.findings}
    eff_side |= {g.criterion: g.level or g.status for g in eff.grades}
    targets = item.targets if item else {}
    by_crit: dict[str, list[dict[str, Any]]] = {}
    for r in reviews:
        by_crit.setdefault(r["criterion"], []).append(r)
    for crit in ref.rubric.criteria:
        if crit.id not in targets and crit.id not in by_crit:
            continue
        given = "\n".join(
            f"{escape(r['reviewer'])}: {r['level']} {r['created_at'][:16]}"
            + (f" — {escape(r['comment'])}" if r["comment"] else "")
            for r in by_crit.get(crit.id, [])
        )
        t.add_row(
            crit.id,
            ", ".join(targets.get(crit.id, [])),
            model_side.get(crit.id, ""),
            given or "[yellow]not reviewed[/]",
            eff_side.get(crit.id, ""),
        )
    console.print(t)
    verdict = "passed" if eff.passed else "failed"
    status = f"; queue item {item.status}" if item else "; not queued"
    console.print(
        f"effective score [bold]{eff.score:g}[/] ({verdict}); model score {ref.result.score:g}"
        + status
    )


@review.command()
@click.argument("chat_id")
@click.option("--criterion", required=True, help="Criterion id of the chat's rubric.")
@click.option("--level", required=True, help="A level id; pass|fail|na for a check.")
@click.option("--comment", default="", help="Why (shown to the agent and at calibration).")
@click.option("--reviewer", default=None, help="Your name (default: $AUDITOR_REVIEWER, OS user).")
@rubric_option
@db_option
def score(
    chat_id: str,
    criterion: str,
    level: str,
    comment: str,
    reviewer: str | None,
    rubric_name: str | None,
    db_path: str | None,
) -> None:
    """Add a human review of one criterion of a chat (appended; earlier reviews stay).

    \b
    Examples:
      auditor review score zh-000123 --criterion empathy --level poor --comment "no apology"
      auditor review score zh-000123 --criterion forbidden_phrase --level pass --reviewer li
    """
    from auditor.review import (
        effective_result,
        queue_item,
        record_review,
        resolve_audited,
        reviewer_name,
    )

    store = _open(db_path, readonly=True)
    who = reviewer_name(reviewer)
    rid = record_review(
        store, chat_id, criterion, level, reviewer=who, comment=comment, rubric_name=rubric_name
    )
    ref = resolve_audited(store, chat_id, rubric_name)
    eff = effective_result(store, chat_id, ref.rubric_name)
    item = queue_item(store, chat_id, ref.rubric_name)
    assert eff is not None
    left = [c for c in item.targets if c not in item.reviewed] if item else []
    status = f"; still to review: {', '.join(left)}" if left else ("; item done" if item else "")
    click.echo(
        f"review #{rid}: {chat_id} {criterion}={level} by {who}. "
        f"Effective score {eff.score:g} ({'passed' if eff.passed else 'failed'}), "
        f"model {ref.result.score:g}{status}"
    )


@review.command()
@queue_filter_options("open")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="Sheet format (default: from the -o suffix).",
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File.")
@click.option("--limit", default=0, help="At most this many chats, most urgent first (0: all).")
@db_option
def export(fmt: str | None, output: str, limit: int, db_path: str | None, **kw: Any) -> None:
    """Write a sheet for reviewers: one row per queued chat x criterion to review.

    Context columns (reasons, the model's level, confidence, evidence, the transcript),
    then empty human_level, comment and reviewer columns to fill in. The xlsx has a
    dropdown of the allowed levels on every row and a "levels" sheet describing them.

    \b
    Examples:
      auditor review export -o today.xlsx --limit 200
      auditor review export --format csv -o empathy.csv --criterion empathy
    """
    from auditor.review.sheets import export_queue

    if fmt is None:
        fmt = "xlsx" if Path(output).suffix.lower() == ".xlsx" else "csv"
    store = _open(db_path)
    result = export_queue(store, output, fmt, _filters(**kw), limit or None)
    more = result.total - result.items
    click.echo(
        f"{len(result.rows):,} rows ({result.items:,} chats) written to {output}"
        + (f"; {more:,} more chats match (raise --limit)" if more else ""),
        err=True,
    )


@review.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--reviewer",
    default=None,
    help="Reviewer for rows with an empty reviewer cell (default: $AUDITOR_REVIEWER).",
)
@db_option
def import_command(path: str, reviewer: str | None, db_path: str | None) -> None:
    """Import a filled-in sheet (csv or xlsx) as reviews, all or nothing.

    Unknown chats, criteria or levels, and rows without a reviewer, are reported with
    their line numbers and nothing is imported. Rows with an empty human_level are
    skipped; rows repeating the reviewer's latest review are not added again.

    \b
    Examples:
      auditor review import today.xlsx --reviewer wang
      auditor review import filled.csv
    """
    import os

    from auditor.review.sheets import import_reviews

    store = _open(db_path)
    default = reviewer or os.environ.get("AUDITOR_REVIEWER") or None
    try:
        summary = import_reviews(store, path, reviewer=default)
    except ReviewImportError as e:
        for line in e.errors:
            click.echo(f"  {line}", err=True)
        raise
    click.echo(
        f"imported {summary.imported:,} reviews from {path} "
        f"({summary.skipped_empty:,} rows without a level skipped, "
        f"{summary.unchanged:,} already recorded)"
    )


@review.command()
@click.option("--since", default=None, help="First review day: YYYY-MM-DD or 7d.")
@click.option("--until", default=None, help="Last review day: YYYY-MM-DD.")
@click.option("--criterion", default=None, help="Only this criterion.")
@rubric_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
def calibration(
    since: str | None,
    until: str | None,
    criterion: str | None,
    rubric_name: str | None,
    as_json: bool,
    db_path: str | None,
) -> None:
    """The calibration (校准) report: how far reviewers agree on items they all scored.

    Per criterion and reviewer pair: items in common, exact agreement, Cohen's kappa; then
    the items they disagree on, to discuss at the calibration meeting.

    \b
    Examples:
      auditor review calibration --since 7d
      auditor review calibration --criterion empathy --json
    """
    from auditor.review import calibration_report, resolve_day

    store = _open(db_path)
    report = calibration_report(
        store,
        rubric_name=rubric_name,
        criterion=criterion,
        since=resolve_day(since),
        until=resolve_day(until),
    )
    if as_json:
        _dump(
            [
                {
                    "rubric_name": c.rubric_name,
                    "criterion": c.criterion,
                    "n_items": c.n_items,
                    "reviewers": c.reviewers,
                    "exact_agreement": c.exact_agreement,
                    "mean_kappa": c.mean_kappa,
                    "pairs": [p.__dict__ for p in c.pairs],
                    "disagreements": [{"chat_id": k, "levels": v} for k, v in c.disagreements],
                }
                for c in report
            ]
        )
        return
    if not report:
        console.print("No item has been scored by two reviewers yet.")
        return
    t = Table(title="Calibration: reviewer vs reviewer")
    for col in ("rubric", "criterion", "items", "pair", "n", "exact", "kappa"):
        t.add_column(col, justify="right" if col in ("items", "n", "exact", "kappa") else "left")
    for c in report:
        t.add_row(c.rubric_name, c.criterion, str(c.n_items), "all pairs", "",
                  _fmt(c.exact_agreement), _fmt(c.mean_kappa), style="bold")  # fmt: skip
        for p in c.pairs:
            t.add_row("", "", "", f"{escape(p.reviewer_a)} · {escape(p.reviewer_b)}", str(p.n),
                      _fmt(p.exact_agreement), _fmt(p.kappa))  # fmt: skip
    console.print(t)
    for c in report:
        for chat_id, levels in c.disagreements:
            given = ", ".join(f"{escape(r)}={lv}" for r, lv in sorted(levels.items()))
            console.print(f"discuss {c.criterion} on {escape(chat_id)}: {given}")


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


@click.command()
@click.option(
    "--since", default=None, help="Reviews from this day: YYYY-MM-DD or 7d (default: all)."
)
@click.option("--until", default=None, help="Reviews up to this day: YYYY-MM-DD.")
@click.option("--confusion", is_flag=True, help="Also print each criterion's confusion matrix.")
@click.option("--n-boot", default=1000, show_default=True, help="Bootstrap resamples for CIs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rubric name.")
@db_option
def agreement(
    since: str | None,
    until: str | None,
    confusion: bool,
    n_boot: int,
    as_json: bool,
    db_path: str | None,
) -> None:
    """Model vs reviewers on live data: each reviewed graded criterion, the model's level
    against the latest human level — n, exact agreement, QWK (levels ordered by points),
    confusion, per criterion and overall, with bootstrap CIs.

    The queue's random sample is the unbiased part; items queued for low confidence or
    failures are harder than average, so agreement over everything is a lower bound.

    \b
    Examples:
      auditor agreement --since 7d
      auditor agreement --json | jq '.["online-chat-zh"].criteria.empathy.qwk'
    """
    from auditor.evaluation import agreement_from_pairs, render_agreement
    from auditor.review import live_pairs, resolve_day

    store = _open(db_path)
    pairs = live_pairs(store, since=resolve_day(since), until=resolve_day(until))
    reports = {
        name: agreement_from_pairs(items, rubric, n_boot=n_boot)
        for name, (rubric, items) in sorted(pairs.items())
    }
    if as_json:
        _dump({name: rep.to_json() for name, rep in reports.items()})
        return
    if not reports:
        console.print(
            "No reviewed graded criteria in this window yet: "
            "`auditor review list`, then `auditor review score` or `auditor review import`."
        )
        return
    for name, rep in reports.items():
        console.print(f"[bold]{name}[/]: {rep.n_items:,} reviewed (chat, criterion) pairs")
        render_agreement(rep, console, show_confusion=confusion)
