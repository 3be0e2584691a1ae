"""`auditor eval`: grade a gold set and measure model-vs-human agreement; `auditor eval history`."""

from __future__ import annotations

from typing import Any

import click

from ..errors import UsageError
from .cascade import escalate_option, model_options
from .options import build_grader, grader_options, open_store


@click.group(name="eval", invoke_without_command=True)
@click.option(
    "--set",
    "set_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Gold set (JSONL: native chats + 'human' ratings; see eval/README.md).",
)
@click.option(
    "--rubric",
    default="auto",
    show_default=True,
    help="Rubric name or path; 'auto' picks online-chat-<language> per chat.",
)
@grader_options
@click.option("--concurrency", type=int, default=8, show_default=True)
@click.option(
    "--target-kappa",
    type=float,
    default=None,
    help="Recommend the confidence threshold that reaches this QWK on the accepted items.",
)
@click.option(
    "--fail-under",
    default=None,
    metavar="SPEC",
    help="Exit 9 when a metric is under its floor, e.g. 'kappa=0.6,exact=0.5,empathy.kappa=0.4'.",
)
@click.option(
    "--n-boot", type=int, default=1000, show_default=True, help="Bootstrap resamples for the CIs."
)
@click.option("--confusion", is_flag=True, help="Also print the confusion matrices.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for CI jobs).")
@click.option(
    "--db",
    "db_path",
    default=None,
    help="Where the run is recorded (default: $AUDITOR_DB or ./audit.db).",
)
@escalate_option
@click.pass_context
def eval_command(
    ctx: click.Context,
    set_path: str | None,
    rubric: str,
    concurrency: int,
    target_kappa: float | None,
    fail_under: str | None,
    n_boot: int,
    confusion: bool,
    as_json: bool,
    db_path: str | None,
    escalate_model: str | None,
    **grading: Any,
) -> None:
    """Grade a gold set and report model-vs-human agreement per criterion.

    Reports exact and adjacent agreement, quadratic-weighted kappa, Krippendorff's alpha,
    leniency, confusion matrices and bootstrap 95% CIs, beside the human-vs-human ceiling;
    total-score MAE/Spearman; pass/fail accuracy/kappa; and coverage vs confidence.
    Every run is stored (see `auditor eval history`).

    \b
    Examples:
      auditor eval --set eval/demo-gold.jsonl
      auditor eval --set gold.jsonl --grader openai --model gpt-4o-mini --json --fail-under kappa=0.6
      auditor eval history
      auditor eval --set gold.jsonl --grader openai --model gpt-4o-mini --samples 3 --escalate-model gpt-4o
    """
    if ctx.invoked_subcommand is not None:
        return
    if set_path is None:
        raise UsageError("auditor eval needs --set PATH (or a subcommand: history)")
    if escalate_model:
        _compare_cascade(
            set_path, rubric, escalate_model, concurrency, n_boot, as_json, db_path, grading
        )
        return
    from ..evaluation import (
        check_fail_under,
        parse_fail_under,
        record_eval_run,
        render_agreement,
        run_eval,
    )
    from ..rubric import RubricSet

    floors = parse_fail_under(fail_under) if fail_under else None
    store = open_store(db_path)
    g = build_grader(store, concurrency=concurrency, **grading)
    report = run_eval(
        set_path,
        RubricSet(rubric),
        g,
        target_kappa=target_kappa,
        n_boot=n_boot,
        concurrency=concurrency,
    )
    record_eval_run(store.db, report)
    if as_json:
        click.echo(report.dumps())
    else:
        from rich.console import Console

        render_agreement(report, Console(), show_confusion=confusion)
    if floors:
        check_fail_under(report, floors)


@eval_command.command(name="history")
@click.option("--set", "set_path", default=None, help="Only runs on this gold set path.")
@click.option("--grader", default=None, help="Only runs of this grader.")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--db", "db_path", default=None)
def history(
    set_path: str | None, grader: str | None, limit: int, as_json: bool, db_path: str | None
) -> None:
    """Past eval runs, oldest first: grader, model, prompt and rubric versions, headline metrics.

    \b
    Examples:
      auditor eval history
      auditor eval history --set eval/demo-gold.jsonl --json
    """
    import orjson

    from ..evaluation import eval_history, render_history

    store = open_store(db_path, readonly=True)
    rows = eval_history(store.db, set_path=set_path, grader=grader, limit=limit)
    if as_json:
        click.echo(orjson.dumps(rows).decode())
    else:
        from rich.console import Console

        render_history(rows, Console())


def _compare_cascade(
    set_path: str,
    rubric: str,
    escalate_model: str,
    concurrency: int,
    n_boot: int,
    as_json: bool,
    db_path: str | None,
    grading: dict[str, Any],
) -> None:
    """cheap-only, cascade and strong-only on the set: agreement and measured cost."""
    import orjson

    from ..evaluation.cascade_eval import compare_cascade, render_cascade
    from ..grading import make_grader
    from ..rubric import RubricSet

    if grading.get("grader") != "openai" or not grading.get("model"):
        raise UsageError("--escalate-model needs --grader openai and --model")
    store = open_store(db_path)
    opts = model_options(grading, concurrency)

    def make(model: str, log: Any) -> Any:
        return make_grader("openai", call_log=log, model=model, **opts)

    rows = compare_cascade(
        set_path,
        RubricSet(rubric),
        make,
        cheap_model=grading["model"],
        strong_model=escalate_model,
        log=store,
        concurrency=concurrency,
        n_boot=n_boot,
    )
    if as_json:
        click.echo(orjson.dumps([r.to_json() for r in rows]).decode())
    else:
        click.echo(render_cascade(rows))
