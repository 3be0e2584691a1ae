"""`auditor audit --batch/--estimate` and `auditor batches [collect]`: thin layers over
``auditor.batch`` (docs/llm-grading.md, "Grading a day through a Batch API")."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from ..errors import UsageError
from .options import db_option, open_store

F = TypeVar("F", bound=Callable[..., Any])


def _command() -> str:
    """The command line as run, for the run's provenance (credentials redacted)."""
    from ..redact import redact

    return redact(" ".join(["auditor", *sys.argv[1:]]))


def batch_audit_options(func: F) -> F:
    """--batch, --wait, --estimate, --reask-online, --poll-interval and the file limits."""
    options = [
        click.option(
            "--batch",
            is_flag=True,
            help="Send the day through the provider's Batch API (half price, within 24 h) "
            "and return; collect with `auditor batches collect` (needs --grader openai).",
        ),
        click.option("--wait", is_flag=True, help="With --batch: poll until done, then collect."),
        click.option(
            "--estimate",
            is_flag=True,
            help="Print requests, prompt and output tokens and the cost online vs batch; "
            "send nothing.",
        ),
        click.option(
            "--reask-online",
            is_flag=True,
            help="With --batch --wait: re-ask invalid replies online instead of in a follow-up batch.",
        ),
        click.option(
            "--poll-interval",
            type=float,
            default=30.0,
            show_default=True,
            help="Seconds between status checks with --wait.",
        ),
        click.option(
            "--batch-max-requests",
            type=int,
            default=None,
            help="Requests per batch file (default: the documented 50,000).",
        ),
        click.option(
            "--batch-max-bytes",
            type=int,
            default=None,
            help="Bytes per batch file (default: the documented 200 MB).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _limits(max_requests: int | None, max_bytes: int | None) -> Any:
    from ..batch.jsonl import MAX_BYTES, MAX_REQUESTS, BatchLimits

    return BatchLimits(max_requests or MAX_REQUESTS, max_bytes or MAX_BYTES)


def _runner(store: Any, base_url: str | None, timeout: float, limits: Any = None) -> Any:
    """Settings order for the server: --base-url, $OPENAI_BASE_URL, the one the newest
    uncollected batch was sent to (stored with it), the SDK default."""
    import os

    from ..batch.client import BatchClient
    from ..batch.flow import BatchRunner
    from ..batch.records import BatchRecords

    if not base_url and not os.environ.get("OPENAI_BASE_URL"):
        for b in reversed(BatchRecords(store).uncollected()):
            stored = orjson.loads(b["settings"] or "{}").get("base_url")
            if stored:
                base_url = stored
                break

    client = BatchClient(base_url=base_url, timeout=max(timeout, 600.0))
    return BatchRunner(store, client, base_url=base_url, limits=limits)


def run_batch_audit(
    *,
    inputs: tuple[str, ...],
    db_path: str | None,
    rubric: str,
    ingest_options: Any,
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
    grading: dict[str, Any],
) -> None:
    """The --batch / --estimate branch of `auditor audit`."""
    if grading.get("grader") != "openai":
        raise UsageError("--batch and --estimate need --grader openai and --model")
    if not grading.get("model"):
        raise UsageError("--batch and --estimate need --model (e.g. --model gpt-4o-mini)")
    if (wait or reask_online) and not batch:
        raise UsageError("--wait and --reask-online only apply with --batch")
    if reask_online and not wait:
        raise UsageError(
            "--reask-online applies when collecting: use --batch --wait --reask-online, "
            "or `auditor batches collect --reask-online`"
        )
    options = {
        "model": grading["model"],
        "samples": grading.get("samples") or 1,
        "temperature": grading.get("temperature"),
        "response_format": grading.get("response_format") or "auto",
    }
    if estimate:
        from ..batch.estimate import estimate_day, render_estimate

        store = open_store(db_path) if db_path or Path("audit.db").exists() else None
        est = estimate_day(
            list(inputs),
            grader_options=options,
            rubric_spec=rubric,
            ingest_options=ingest_options,
            store=store,
        )
        if as_json:
            click.echo(orjson.dumps(est.to_json()).decode())
        else:
            render_estimate(est)
        return
    if grading.get("max_cost") is not None or grading.get("max_tokens") is not None:
        _check_budget(inputs, options, rubric, ingest_options, grading)
    store = open_store(db_path)
    r = _runner(
        store,
        grading.get("base_url"),
        grading.get("timeout") or 120.0,
        _limits(batch_max_requests, batch_max_bytes),
    )
    sub = r.submit_audit(
        list(inputs),
        grader_options=options,
        rubric_spec=rubric,
        ingest_options=ingest_options,
        dictionaries=[Path(d) for d in dictionaries],
        force=force,
        command=_command(),
    )
    out: dict[str, Any] = {"run_id": sub.run_id, **sub.counts()}
    if not (as_json or quiet):
        click.echo(
            f"{sub.read} chats read: {sub.captured} requests sent in {len(sub.batches)} "
            f"batch(es), {sub.in_flight} already in a batch, {sub.skipped} already audited, "
            f"{sub.rejected} rejected, {sub.audited} audited without a request."
        )
    if wait:
        collected = _wait_and_collect(r, poll_interval, reask_online, quiet or as_json)
        out["collect"] = collected
    elif not (as_json or quiet) and sub.batches:
        click.echo("Collect with: auditor batches collect   (status: auditor batches)")
    if as_json:
        click.echo(orjson.dumps(out).decode())


def _check_budget(
    inputs: tuple[str, ...],
    options: dict[str, Any],
    rubric: str,
    ingest_options: Any,
    grading: dict[str, Any],
) -> None:
    """A batch is paid for whole: refuse to send one whose estimate is over the budget."""
    from ..batch.estimate import estimate_day
    from ..errors import BudgetExceeded, ConfigurationError

    est = estimate_day(
        list(inputs), grader_options=options, rubric_spec=rubric, ingest_options=ingest_options
    )
    max_cost, max_tokens = grading.get("max_cost"), grading.get("max_tokens")
    if max_cost is not None:
        if est.batch_usd is None:
            raise ConfigurationError(
                f"no price is known for model {options['model']!r}, so --max-cost cannot be "
                "checked; add it in a file named by AUDITOR_PRICES"
            )
        if est.batch_usd > max_cost:
            raise BudgetExceeded(
                f"the batch is estimated at ${est.batch_usd:.4f}, over --max-cost "
                f"${max_cost:g}; nothing was sent (see --estimate)"
            )
    total = est.prompt_tokens + est.output_tokens
    if max_tokens is not None and total > max_tokens:
        raise BudgetExceeded(
            f"the batch is estimated at {total} tokens, over --max-tokens {max_tokens}; "
            "nothing was sent (see --estimate)"
        )


def _wait_and_collect(r: Any, poll: float, online: bool, quiet: bool) -> list[dict[str, Any]]:
    from rich.progress import Progress

    rounds = []
    while True:
        with Progress(disable=quiet or not sys.stderr.isatty(), transient=True) as progress:
            task = progress.add_task("batch", total=None)

            def show(rows: list[dict[str, Any]], task: Any = task) -> None:
                total = done = 0
                for b in rows:
                    c = orjson.loads(b["counts"]) if b["counts"] else {}
                    total += c.get("total", b["requests"] or 0)
                    done += c.get("completed", 0) + c.get("failed", 0)
                statuses = ", ".join(sorted({b["status"] for b in rows}))
                progress.update(
                    task, total=total or None, completed=done, description=f"batches: {statuses}"
                )

            r.wait(poll=poll, progress=show)
        col = r.collect(online=online, command=_command())
        rounds.append(col.counts())
        if not quiet:
            _echo_collect(col)
        if not col.follow_ups:
            return rounds


def _echo_collect(col: Any) -> None:
    chats = col.chats
    click.echo(
        f"collected {len(col.collected)} batch(es): {chats.get('done', 0)} chats stored, "
        f"{chats.get('captured', 0)} re-asked in {len(col.follow_ups)} follow-up batch(es), "
        f"{chats.get('unanswered', 0)} not run"
    )
    for bid, status in col.ended.items():
        click.echo(
            f"batch {bid} ended {status}: its unanswered chats are resubmitted by "
            "running the same `auditor audit ... --batch` again"
        )
    for p in col.problems:
        click.echo(f"warning: {p}", err=True)
    if col.waiting:
        click.echo(f"{len(col.waiting)} batch(es) still running: {', '.join(col.waiting)}")


@click.group(name="batches", invoke_without_command=True)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--refresh", is_flag=True, help="Ask the server for the current statuses first.")
@click.option("--base-url", default=None, help="Batch server (default: $OPENAI_BASE_URL).")
@click.pass_context
def batches(
    ctx: click.Context, db_path: str | None, as_json: bool, refresh: bool, base_url: str | None
) -> None:
    """List the batches sent with `auditor audit --batch`: status and request counts.

    \b
    Examples:
      auditor batches
      auditor batches --refresh
      auditor batches collect
      auditor batches collect b20261121T020000-1a2b3c --reask-online
    """
    ctx.ensure_object(dict)
    ctx.obj.update(db_path=db_path, base_url=base_url)
    if ctx.invoked_subcommand is not None:
        return
    from ..batch.records import BatchRecords

    store = open_store(db_path, readonly=not refresh)
    if refresh:
        _runner(store, base_url, 600.0).refresh()
    rows = BatchRecords(store).batches()
    out = []
    for b in rows:
        c = orjson.loads(b["counts"]) if b["counts"] else {}
        out.append(
            {
                "id": b["id"],
                "remote_id": b["remote_id"],
                "status": b["status"],
                "model": b["model"],
                "requests": b["requests"],
                "completed": c.get("completed"),
                "failed": c.get("failed"),
                "collected": bool(b["collected_at"]),
                "follow_up_of": b["parent_id"],
                "created_at": b["created_at"],
            }
        )
    if as_json:
        click.echo(orjson.dumps(out).decode())
        return
    if not out:
        click.echo("no batches")
        return
    for o in out:
        click.echo(
            f"{o['id']}  {o['status']:<11} {o['model']}  requests {o['requests']}  "
            f"completed {o['completed'] if o['completed'] is not None else '-'}  "
            f"failed {o['failed'] if o['failed'] is not None else '-'}  "
            f"{'collected' if o['collected'] else 'not collected'}"
            + (f"  (re-asks of {o['follow_up_of']})" if o["follow_up_of"] else "")
        )


@batches.command()
@click.argument("batch_id", required=False)
@click.option(
    "--reask-online",
    is_flag=True,
    help="Re-ask invalid replies online instead of in a follow-up batch.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_option
@click.option("--base-url", default=None, help="Batch server (default: $OPENAI_BASE_URL).")
@click.pass_context
def collect(
    ctx: click.Context,
    batch_id: str | None,
    reask_online: bool,
    as_json: bool,
    db_path: str | None,
    base_url: str | None,
) -> None:
    """Download finished batches, verify and store their grades, queue for review.

    Without BATCH_ID, every finished batch not yet collected. Invalid replies are re-asked
    in a follow-up batch (or online with --reask-online); what still fails is stored
    unscored. Safe to re-run at any time: nothing is recorded twice.

    \b
    Examples:
      auditor batches collect
      auditor batches collect b20261121T020000-1a2b3c --reask-online
    """
    store = open_store(db_path or ctx.obj["db_path"])
    r = _runner(store, base_url or ctx.obj["base_url"], 600.0)
    col = r.collect(batch_id, online=reask_online, command=_command())
    if as_json:
        click.echo(orjson.dumps({"run_id": col.run_id, **col.counts()}).decode())
    else:
        _echo_collect(col)
