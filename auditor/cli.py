"""The `auditor` command line: parse options, call the library, render the output.

Installed as the ``auditor`` console script (``auditor.cli:main``) and run by
``python -m auditor``; the repo's ``cli.py`` is a shim over this module.

Every AuditorError becomes `Error: <message>` on stderr and its documented exit code.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from auditor import __version__
from auditor.commands.batches import batch_audit_options, batches, run_batch_audit
from auditor.commands.cascade import escalate_option, with_escalation
from auditor.commands.desk import serve, users
from auditor.commands.evaluate import eval_command
from auditor.commands.ingest_options import input_options
from auditor.commands.options import db_option, grader_options, open_store
from auditor.commands.report import report
from auditor.commands.review import agreement, review
from auditor.commands.rules import rules
from auditor.commands.watch import watch
from auditor.errors import AuditorError, BudgetExceeded, InputError, UsageError
from auditor.redact import redact, redact_json


class AuditorGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditorError as e:
            click.echo(f"Error: {redact(str(e))}", err=True)
            ctx.exit(e.exit_code)


@click.group(cls=AuditorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Audit every customer-service chat against a QA rubric.

    Deterministic checks (response times, holds, typos, greeting/closing, forbidden
    phrases, polite address), soft criteria graded offline or by an LLM with verified
    evidence, a human spot-check queue and model-vs-human agreement.
    """
    if ctx.invoked_subcommand == "audit" and gc.isenabled():
        # no automatic collection while the audit imports its modules and loads its tables
        # (~0.08 s of full collections over a growing heap in the imports alone): the run
        # collects and freezes the heap itself (pipeline._Collector); back on when it ends
        gc.disable()
        ctx.call_on_close(gc.enable)


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--rubric",
    default="auto",
    show_default=True,
    help="Rubric name or YAML path; 'auto' picks online-chat-<language> per chat.",
)
@db_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write one JSON result per chat to this JSONL file.",
)
@input_options
@grader_options
@click.option(
    "--concurrency",
    type=int,
    default=None,
    help="Chats graded at once (default: 1 offline, 8 openai).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes auditing at once with the offline grader (default: the machine's cores).",
)
@click.option(
    "--dictionary",
    "dictionaries",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Extra typo dictionary (one term a line; repeatable).",
)
@click.option("--force", is_flag=True, help="Re-audit chats that already have a stored result.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@batch_audit_options
@escalate_option
def audit(
    inputs: tuple[str, ...],
    rubric: str,
    db_path: str | None,
    out_path: str | None,
    ingest_options: Any,
    concurrency: int | None,
    workers: int | None,
    dictionaries: tuple[str, ...],
    force: bool,
    quiet: bool,
    as_json: bool,
    batch: bool,
    wait: bool,
    estimate: bool,
    reask_online: bool,
    poll_interval: float,
    batch_max_requests: int | None,
    batch_max_bytes: int | None,
    escalate_model: str | None,
    **grading: Any,
) -> None:
    """Audit chats from JSONL/CSV/Excel files or helpdesk exports (gzip ok; '-' reads stdin).

    Running the same command again resumes: chats already audited with the same transcript,
    rubric and grader settings are skipped; changed transcripts replace their old result.

    \b
    Examples:
      auditor audit examples/sample-day.jsonl
      auditor audit day.csv.gz --tz Asia/Shanghai --column chat_id=会话ID --out results.jsonl
      auditor audit console-export.xlsx --mapping our-console.yaml
      auditor audit tickets.jsonl --format zendesk
      auditor audit day.jsonl --grader openai --model gpt-4o-mini --max-cost 5
      auditor audit big-day.jsonl.gz --workers 8
      auditor audit day.jsonl --grader openai --model gpt-4o-mini --estimate
      auditor audit day.jsonl --grader openai --model gpt-4o-mini --batch --wait
      auditor audit day.jsonl --grader openai --model gpt-4o-mini --samples 3 --escalate-model gpt-4o
    """
    from auditor.atomic import AtomicFile
    from auditor.commands.options import build_grader
    from auditor.pipeline import run_audit
    from auditor.render import render_summary, summary_progress
    from auditor.workers import default_workers

    if batch or estimate or wait or reask_online:
        gc.enable()  # a long wait on the provider's batches: the collector as usual
        if escalate_model:
            raise UsageError("--escalate-model does not work with --batch/--estimate yet")
        return run_batch_audit(
            inputs=inputs,
            db_path=db_path,
            rubric=rubric,
            ingest_options=ingest_options,
            dictionaries=dictionaries,
            force=force,
            quiet=quiet,
            as_json=as_json,
            batch=batch,
            wait=wait,
            estimate=estimate,
            reask_online=reask_online,
            poll_interval=poll_interval,
            batch_max_requests=batch_max_requests,
            batch_max_bytes=batch_max_bytes,
            grading=grading,
        )
    store = open_store(db_path)
    g = build_grader(store, concurrency=concurrency, **grading)
    g = with_escalation(g, store, escalate_model, grading, concurrency)
    if concurrency is None:
        concurrency = 1 if g.name == "offline" else 8
    # --out replaces the old file when the run stops (a resumed run writes every chat again)
    out = AtomicFile(out_path) if out_path else None
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    progress, stop = summary_progress(show_progress)
    try:
        summary = run_audit(
            list(inputs),
            store=store,
            grader=g,
            rubric_spec=rubric,
            ingest_options=ingest_options,
            dictionaries=[Path(d) for d in dictionaries],
            force=force,
            out=out.file if out else None,
            concurrency=concurrency,
            workers=workers or default_workers(),
            command=redact(" ".join(["auditor", *sys.argv[1:]])),
            progress=progress,
        )
    except BudgetExceeded as e:
        stop()
        if out:
            out.commit()  # what was audited, as the store holds it
        raise BudgetExceeded(
            f"{e} — what was audited is saved; run the same command again to continue"
        ) from e
    except KeyboardInterrupt:
        stop()
        if out:
            out.commit()
        click.echo(
            "Interrupted: what was audited is saved; run the same command again to resume.",
            err=True,
        )
        sys.exit(130)
    except BaseException:
        if out:
            out.discard()
        raise
    finally:
        stop()
    if out:
        out.commit()
    if summary.read == 0:
        raise InputError("no chats were read from " + ", ".join(inputs))
    if as_json:
        click.echo(orjson.dumps(summary.counts() | {"run_id": summary.run_id}).decode())
    else:
        render_summary(summary, db=store.path)
    if summary.audited + summary.skipped == 0:
        raise InputError("every chat was rejected; see the reasons above")


@main.command()
@click.argument("chat_id")
@click.option(
    "--rubric", "rubric_name", default=None, help="Rubric name, if audited under several."
)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the stored JSON result.")
def show(chat_id: str, rubric_name: str | None, db_path: str | None, as_json: bool) -> None:
    """Show one chat's transcript with its findings and grades marked at their messages.

    \b
    Examples:
      auditor show zh-000123
      auditor show zh-000123 --json | jq .score
    """
    from auditor.render import render_chat
    from auditor.review import effective_result

    store = open_store(db_path, readonly=True)
    effective = effective_result(store, chat_id, rubric_name)
    if effective is None:
        raise UsageError(f"no audited chat {chat_id!r} in {store.path}")
    result = redact_json(effective.to_json())  # rows stored before redaction existed
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    transcript = store.transcript(result["transcript_hash"]) or {"messages": []}
    render_chat(result, transcript)


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None, help="File (default: stdout)."
)
@click.option("--since", default=None, help="First day (YYYY-MM-DD) of chats to export.")
@click.option("--until", default=None, help="Last day (YYYY-MM-DD) of chats to export.")
@click.option("--agent", default=None, help="Only this agent's chats.")
@click.option("--run", "run_id", default=None, help="Only the chats audited by this run.")
@click.option("--failed", is_flag=True, help="Only chats that failed QA.")
@db_option
def export(
    fmt: str,
    output: str | None,
    since: str | None,
    until: str | None,
    agent: str | None,
    run_id: str | None,
    failed: bool,
    db_path: str | None,
) -> None:
    """Export stored results: JSONL (the full per-chat result) or CSV (one row per chat).

    Where reviewers scored a chat, its effective result (the latest human level per
    criterion, rescored) is exported; the model's own grades stay in the database.

    \b
    Examples:
      auditor export --format csv -o results.csv
      auditor export --since 2026-11-21 --failed > failed.jsonl
    """
    from auditor.atomic import atomic_write
    from auditor.exporting import write_export
    from auditor.review import with_reviews_applied

    store = open_store(db_path, readonly=True)
    stored = store.iter_results(
        run_id=run_id, agent_id=agent, since=since, until=until, failed_only=failed
    )
    rows = with_reviews_applied(store, stored)
    if output:
        with atomic_write(output) as fh:
            n = write_export(rows, fmt, fh)
        click.echo(f"{n} chats written to {output}", err=True)
    else:
        write_export(rows, fmt, sys.stdout.buffer)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def rubrics(paths: tuple[str, ...]) -> None:
    """List the shipped rubrics (or validate the given YAML files).

    Exits non-zero when any rubric is invalid, naming the file and key.

    \b
    Examples:
      auditor rubrics
      auditor rubrics my-rubric.yaml
    """
    from auditor.errors import RubricError
    from auditor.render import render_rubrics
    from auditor.rubric import list_rubrics, load_rubric

    items: list[tuple[Path, Any]] = []
    if paths:
        for p in paths:
            try:
                items.append((Path(p), load_rubric(p)))
            except RubricError as e:
                items.append((Path(p), e))
    else:
        items = list_rubrics()
    bad = render_rubrics(items)
    if bad:
        sys.exit(4)


@main.command()
@db_option
@click.option("--limit", default=10, show_default=True)
@click.option(
    "--rejects", "show_rejects", is_flag=True, help="List the rejected chats of the latest run."
)
def runs(db_path: str | None, limit: int, show_rejects: bool) -> None:
    """List recent runs with their provenance and counts (or the latest run's rejects).

    \b
    Examples:
      auditor runs
      auditor runs --rejects
    """
    from auditor.render import render_rejects, render_runs

    store = open_store(db_path, readonly=True)
    recent = store.runs(limit)
    if show_rejects:
        render_rejects(store.rejects(recent[0]["id"]) if recent else [])
    else:
        render_runs(recent)


# command groups that live in their own modules, each a thin layer over a library module
main.add_command(review)
main.add_command(agreement)
main.add_command(eval_command)
main.add_command(report)
main.add_command(rules)
main.add_command(users)
main.add_command(serve)
main.add_command(batches)
main.add_command(watch)

if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main(prog_name="auditor")
