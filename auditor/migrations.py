"""Schema migrations, applied when the store opens. Only ever ADD migrations here.

Uses sqlite-utils' ``Migrations`` (each migration and its record run in one transaction).
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("auditor")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("runs").create(
        {
            "id": str,
            "started_at": str,
            "finished_at": str,
            "status": str,  # running | completed | interrupted | budget_exceeded | failed
            "auditor_version": str,
            "git_commit": str,
            "command": str,
            "rubric": str,
            "rubrics": str,  # JSON: [{id, hash}]
            "grader": str,
            "model": str,
            "grader_settings": str,
            "options": str,  # JSON
            "inputs": str,  # JSON: [{path, size}]
            "counts": str,  # JSON: read, audited, skipped, rejected, failed_qa, ...
        },
        pk="id",
    )
    db.table("transcripts").create({"hash": str, "chat_id": str, "body": str}, pk="hash")
    db.table("rubrics").create(
        {"hash": str, "id": str, "name": str, "version": str, "path": str, "body": str},
        pk="hash",
    )
    db.table("prompts").create({"hash": str, "name": str, "body": str}, pk="hash")
    db.table("chats").create(
        {
            "chat_id": str,
            "transcript_hash": str,
            "agent_id": str,
            "customer_id": str,
            "channel": str,
            "language": str,
            "started_at": str,
            "ended_at": str,
            "n_messages": int,
            "source_file": str,
            "source_line": int,
            "warnings": str,
            "run_id": str,
        },
        pk="chat_id",
    )
    db.table("results").create(
        {
            "chat_id": str,
            "rubric_name": str,
            "rubric": str,  # name@version
            "rubric_hash": str,
            "transcript_hash": str,
            "grader": str,
            "grader_key": str,
            "run_id": str,
            "agent_id": str,
            "language": str,
            "started_at": str,
            "day": str,  # YYYY-MM-DD of started_at in the chat's own offset
            "score": float,
            "passed": int,
            "fatal": int,
            "first_response_s": float,
            "max_followup_s": float,
            "avg_response_s": float,
            "followup_violations": int,
            "hold_count": int,
            "typo_count": int,
            "unanswered_customer": int,
            "failed_criteria": str,
            "unscored_criteria": str,
            "review_queued": int,
            "review_reasons": str,
            "audited_at": str,
            "result": str,  # the full per-chat JSON result
        },
        pk=("chat_id", "rubric_name"),
    )
    db.table("findings").create(
        {
            "chat_id": str,
            "rubric_name": str,
            "criterion": str,
            "check": str,
            "status": str,
            "severity": str,
            "points_lost": float,
            "evidence": str,
            "detail": str,
            "data": str,
        },
        pk=("chat_id", "rubric_name", "criterion"),
    )
    db.table("grades").create(
        {
            "chat_id": str,
            "rubric_name": str,
            "criterion": str,
            "status": str,
            "level": str,
            "points_lost": float,
            "failed": int,
            "severity": str,
            "confidence": float,
            "evidence": str,
            "rationale": str,
            "grader": str,
            "model": str,
            "prompt_version": str,
            "error": str,
            "flags": str,
            "run_id": str,
        },
        pk=("chat_id", "rubric_name", "criterion"),
    )
    db.table("rejects").create(
        {
            "id": str,
            "run_id": str,
            "file": str,
            "line": int,
            "chat_id": str,
            "reason": str,
            "raw": str,
            "created_at": str,
        },
        pk="id",
    )
    db.table("llm_calls").create(
        {
            "id": int,
            "run_id": str,
            "created_at": str,
            "chat_id": str,
            "model": str,
            "prompt_version": str,
            "request_hash": str,
            "attempt": int,
            "status": str,
            "http_status": int,
            "error": str,
            "tokens_in": int,
            "tokens_out": int,
            "tokens_cached": int,
            "latency_ms": float,
            "cost_usd": float,
            "request": str,
            "response": str,
        },
        pk="id",
    )
    db.table("eval_runs").create(
        {
            "id": int,
            "created_at": str,
            "set_path": str,
            "set_hash": str,
            "grader": str,
            "model": str,
            "prompt_version": str,
            "rubric": str,
            "n_items": int,
            "metrics": str,
            "git_commit": str,
            "options": str,
        },
        pk="id",
    )
    db.table("results").create_index(["agent_id", "day"])
    db.table("results").create_index(["day"])
    db.table("results").create_index(["run_id"])
    db.table("findings").create_index(["criterion", "status"])
    db.table("grades").create_index(["criterion", "status"])
    db.table("rejects").create_index(["run_id"])
    db.table("llm_calls").create_index(["request_hash"])
    db.table("llm_calls").create_index(["run_id"])


@migrations()
def m002_review(db: Database) -> None:
    """The review queue (one item per chat and rubric) and the append-only reviews.

    ``review_queue.targets`` maps each criterion to review to the reasons it was queued for;
    whether an item is done is derived from ``reviews`` (never stored, so it cannot drift).
    Triggers make ``reviews`` append-only: a correction is a new, later review.
    """
    db.table("review_queue").create(
        {
            "chat_id": str,
            "rubric_name": str,
            "rubric": str,  # name@version of the audited result
            "agent_id": str,
            "day": str,
            "started_at": str,
            "reasons": str,  # JSON list, most urgent first
            "targets": str,  # JSON {criterion: [reason, ...]}
            "priority": int,  # index of the most urgent reason in review.PRIORITY
            "run_id": str,
            "queued_at": str,
            "updated_at": str,
        },
        pk=("chat_id", "rubric_name"),
    )
    db.table("review_queue").create_index(["priority", "day"])
    db.table("review_queue").create_index(["agent_id", "day"])
    db.table("reviews").create(
        {
            "id": int,
            "chat_id": str,
            "rubric_name": str,
            "rubric": str,  # name@version the reviewer saw
            "transcript_hash": str,  # the transcript the reviewer saw
            "criterion": str,
            "level": str,
            "reviewer": str,
            "comment": str,
            "created_at": str,
            "source": str,  # "cli" or "import:<file>:<line>"
        },
        pk="id",
        not_null={"chat_id", "rubric_name", "criterion", "level", "reviewer", "created_at"},
    )
    db.table("reviews").create_index(["chat_id", "rubric_name", "criterion"])
    db.table("reviews").create_index(["created_at"])
    for op in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER reviews_append_only_{op.lower()} BEFORE {op} ON reviews "
            "BEGIN SELECT RAISE(ABORT, 'reviews are append-only: add a new review instead'); END"
        )


@migrations()
def m003_review_queue_backfill(db: Database) -> None:
    """Queue the chats audited before the queue table existed, with their stored reasons.

    Without this, a database from an earlier version would show an empty queue: the audit
    skips chats it has already audited, so re-running it would not queue them either.
    A result whose stored rubric no longer parses is left out (re-audit it with --force).
    """
    import orjson

    from .errors import RubricError
    from .models import ChatResult
    from .review import queue_item_row
    from .rubric import Rubric, parse_rubric

    rubrics: dict[str, Rubric | None] = {}
    rows = []
    for rubric_hash, run_id, audited_at, reasons, result in db.execute(
        "SELECT r.rubric_hash, r.run_id, r.audited_at, r.review_reasons, r.result "
        "FROM results r WHERE r.review_queued = 1 AND NOT EXISTS (SELECT 1 FROM review_queue q "
        "WHERE q.chat_id = r.chat_id AND q.rubric_name = r.rubric_name)"
    ).fetchall():
        if rubric_hash not in rubrics:
            body = db.execute("SELECT body FROM rubrics WHERE hash = ?", [rubric_hash]).fetchone()
            try:
                rubrics[rubric_hash] = parse_rubric(body[0]) if body else None
            except RubricError:
                rubrics[rubric_hash] = None
        rubric = rubrics[rubric_hash]
        if rubric is None:
            continue
        rows.append(
            queue_item_row(
                ChatResult.model_validate_json(result),
                rubric,
                orjson.loads(reasons),
                run_id=run_id,
                now=audited_at,
            )
        )
    if rows:
        db.table("review_queue").insert_all(rows, replace=True)


@migrations()
def m004_report_indexes(db: Database) -> None:
    """Covering and partial indexes for `auditor report`'s aggregates (docs/reports.md)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_results_report ON results(day, agent_id, chat_id, "
        "rubric_name, rubric_hash, score, passed, fatal, review_queued, first_response_s, "
        "max_followup_s, typo_count, started_at)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_findings_failing ON findings(chat_id, rubric_name, "
        "criterion, severity) WHERE status = 'fail'"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_grades_failing ON grades(chat_id, rubric_name, "
        "criterion, severity) WHERE failed = 1"
    )


@migrations()
def m005_failure_patterns(db: Database) -> None:
    """The common-problem pattern of every failing finding and grade, stored once.

    ``auditor report`` groups failures by the phrase or pattern behind them (see
    auditor/patterns.py). Normalising the evidence of every failure on each report was its
    largest cost; the audit now stores the patterns as it saves a result, and this backfills
    the results stored before. A failure with several hits (phrases, typos) has a row per
    distinct pattern, so the patterns are a table keyed by the failure plus ``seq``, not a
    column; WITHOUT ROWID makes the key itself the covering index the report probes.
    Also two small partial indexes of the fatal failures, which the report lists.
    """
    from itertools import groupby
    from typing import Any

    import orjson

    from .patterns import pattern_rows

    db.execute(
        "CREATE TABLE IF NOT EXISTS failure_patterns (chat_id TEXT NOT NULL, "
        "rubric_name TEXT NOT NULL, criterion TEXT NOT NULL, seq INTEGER NOT NULL, "
        "pattern TEXT, quote TEXT, PRIMARY KEY (chat_id, rubric_name, criterion, seq)) "
        "WITHOUT ROWID"
    )

    def loads(text: str | None) -> Any:
        return None if text is None else orjson.loads(text)

    insert = "INSERT INTO failure_patterns VALUES (?,?,?,?,?,?)"
    failing = db.execute(
        'SELECT chat_id, rubric_name, criterion, "check", evidence, data FROM findings '
        "WHERE status = 'fail' UNION ALL SELECT chat_id, rubric_name, criterion, NULL, "
        "evidence, NULL FROM grades WHERE failed = 1 ORDER BY chat_id, rubric_name"
    )
    rows: list[tuple[Any, ...]] = []
    for (chat_id, rubric_name), group in groupby(failing, key=lambda r: (r[0], r[1])):
        items = [(c, check, loads(ev) or [], loads(data)) for _, _, c, check, ev, data in group]
        rows.extend((chat_id, rubric_name, *row) for row in pattern_rows(items))
        if len(rows) >= 50_000:
            db.conn.executemany(insert, rows)
            rows.clear()
    db.conn.executemany(insert, rows)
    # The fatal failures the report lists, newest first: few enough (about one chat in a
    # hundred) that walking them all beats probing every chat of the period.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_findings_fatal ON findings(chat_id, rubric_name, "
        "criterion) WHERE status = 'fail' AND severity = 'fatal'"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_grades_fatal ON grades(chat_id, rubric_name, "
        "criterion) WHERE failed = 1 AND severity = 'fatal'"
    )


@migrations()
def m006_hardening(db: Database) -> None:
    """Run liveness, a resumable quota step, and provisional results (issue 11).

    ``runs.pid``/``host``/``heartbeat_at`` let the next run tell a killed run (marked
    ``interrupted``) from a live concurrent one; ``runs.quotas_at`` records that the per-agent
    quota step ran, so a run killed before it gets its quotas on the next run (runs finished
    before this migration are taken as done). ``results.provisional`` marks a result whose
    grades are unscored by a transport error: it is re-graded on the next run.
    """
    runs = db.table("runs")
    for column, kind in (("pid", int), ("host", str), ("heartbeat_at", str), ("quotas_at", str)):
        if column not in runs.columns_dict:
            runs.add_column(column, kind)
    db.execute("UPDATE runs SET quotas_at = finished_at WHERE status = 'completed'")
    if "provisional" not in db.table("results").columns_dict:
        db.table("results").add_column("provisional", int, not_null_default=0)
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_results_provisional ON results(day, agent_id) "
        "WHERE provisional = 1"
    )


@migrations()
def m013_batches(db: Database) -> None:
    """Batch API submissions (issue 14): one row per provider batch, one per request in it.

    ``batches.status`` is ``preparing`` (items written, nothing sent), ``uploaded`` (the
    input file is on the server) or the provider's status once created; ``collected_at`` is
    set when every chat it answered is stored. ``batch_items`` holds each request exactly as
    sent (the same bytes the online grader would send), its chat, and what came back:
    ``state`` is ``pending``, ``answered`` (HTTP 200), ``errored`` (another status),
    ``unanswered`` (the batch ended without running it: expired, cancelled, failed) or
    ``done`` (the chat's result is stored). ``logged`` marks a reply already written to
    ``llm_calls``, so collecting again never records a call twice.
    """
    db.table("batches").create(
        {
            "id": str,
            "created_at": str,
            "updated_at": str,
            "model": str,
            "status": str,
            "remote_id": str,
            "input_file_id": str,
            "output_file_id": str,
            "error_file_id": str,
            "requests": int,
            "bytes": int,
            "counts": str,  # the provider's request_counts, JSON
            "settings": str,  # grader settings and audit options, JSON
            "parent_id": str,  # the batch whose re-asks this one carries
            "run_id": str,
            "downloaded_at": str,
            "collected_at": str,
            "error": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("batch_items").create(
        {
            "batch_id": str,
            "custom_id": str,
            "chat_id": str,
            "rubric_name": str,
            "rubric_hash": str,
            "transcript_hash": str,
            "request_hash": str,
            "reask": int,
            "state": str,
            "chat": str,  # the chat as ingested (JSON), to check, verify and score at collect
            "request": str,  # the request body, exactly the bytes in the input file
            "response": str,  # the output/error file line's response or error, JSON
            "logged": int,
            "updated_at": str,
        },
        pk=("batch_id", "custom_id"),
        if_not_exists=True,
    )
    db.table("batch_items").create_index(["chat_id", "rubric_name"], if_not_exists=True)
    db.table("batch_items").create_index(["state"], if_not_exists=True)
    calls = db.table("llm_calls")
    for column in ("batch_id", "custom_id"):
        if column not in calls.columns_dict:
            calls.add_column(column, str)
