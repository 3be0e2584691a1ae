"""Schema migrations, applied when the store opens. Only ever ADD migrations here.

Uses sqlite-utils' ``Migrations`` (each migration and its record run in one transaction).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .sqlitedb import Database, Migrations

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
    from .review.policy import queue_item_row
    from .rubric import Rubric, parse_rubric

    rubrics: dict[str, Rubric | None] = {}
    rows = []
    # the stored result: its JSON column before m010_lean_store, its rows after (a test
    # re-runs this migration on a lean database)
    lean = "result" not in {c[1] for c in db.execute("PRAGMA table_info(results)").fetchall()}
    for chat_id, rubric_name, rubric_hash, run_id, audited_at, reasons, result in db.execute(
        "SELECT r.chat_id, r.rubric_name, r.rubric_hash, r.run_id, r.audited_at, "
        f"r.review_reasons, {'NULL' if lean else 'r.result'} "
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
                _lean_result(db, chat_id, rubric_name)
                if lean
                else ChatResult.model_validate_json(result),
                rubric,
                orjson.loads(reasons),
                run_id=run_id,
                now=audited_at,
            )
        )
    if rows:
        columns = {c[1] for c in db.execute("PRAGMA table_info(review_queue)").fetchall()}
        rows = [{k: v for k, v in row.items() if k in columns} for row in rows]
        db.table("review_queue").insert_all(rows, replace=True)


def _lean_result(db: Database, chat_id: str, rubric_name: str) -> Any:
    """A result rebuilt from its rows in a database m010_lean_store has converted."""
    from .models import ChatResult
    from .result_rows import FINDING_COLUMNS, GRADE_COLUMNS, RESULT_COLUMNS, result_dict

    key = [chat_id, rubric_name]
    where = "WHERE chat_id = ? AND rubric_name = ?"
    row = db.execute(f"SELECT {', '.join(RESULT_COLUMNS)} FROM results {where}", key).fetchone()
    findings = db.execute(
        f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings {where} ORDER BY seq", key
    ).fetchall()
    # a database m018_compact_rows has converted reads a grade's source through the view
    table = "grades_full" if "grades_full" in db.view_names() else "grades"
    grades = db.execute(
        f"SELECT {', '.join(GRADE_COLUMNS)} FROM {table} {where} ORDER BY seq", key
    ).fetchall()
    return ChatResult.model_validate(result_dict(row, findings, grades, None))


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

    def _ev(items: list[Any] | None) -> list[dict[str, Any]]:
        # evidence as m010_lean_store stores it ([id, quote]) when this runs on a newer database
        return [
            {"message_id": e[0], "quote": e[1]} if isinstance(e, list) else e for e in items or []
        ]

    insert = "INSERT INTO failure_patterns VALUES (?,?,?,?,?,?)"
    failing = db.execute(
        'SELECT chat_id, rubric_name, criterion, "check", evidence, data FROM findings '
        "WHERE status = 'fail' UNION ALL SELECT chat_id, rubric_name, criterion, NULL, "
        "evidence, NULL FROM grades WHERE failed = 1 ORDER BY chat_id, rubric_name"
    )
    rows: list[tuple[Any, ...]] = []
    for (chat_id, rubric_name), group in groupby(failing, key=lambda r: (r[0], r[1])):
        items = [(c, check, _ev(loads(ev)), loads(data)) for _, _, c, check, ev, data in group]
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


def _rebuild(
    db: Database,
    table: str,
    *,
    drop: tuple[str, ...] = (),
    add: dict[str, tuple[str, str]] | None = None,
    foreign_keys: tuple[str, ...] = (),
    without_rowid: bool = False,
    drop_indexes: tuple[str, ...] = (),
    transform: dict[str, str] | None = None,
) -> None:
    """Recreate ``table`` with its own columns (read from the database, so columns other
    migrations added are kept), minus ``drop``, plus ``add`` (name -> (type, SQL filling it
    from the old row)), ``transform`` (name -> SQL giving its new value), with
    ``foreign_keys`` clauses; its indexes and triggers are put back.
    """
    add = add or {}
    cols = [c for c in db.execute(f'PRAGMA table_info("{table}")').fetchall() if c[1] not in drop]
    pk = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
    single_int_pk = len(pk) == 1 and next(c for c in cols if c[1] == pk[0])[2].upper() == "INTEGER"
    defs = []
    for _, name, type_, notnull, default, is_pk in cols:
        d = f'"{name}" {type_}'
        if single_int_pk and is_pk:
            d += " PRIMARY KEY"
        elif notnull or (without_rowid and is_pk):
            d += " NOT NULL"
        if default is not None:
            d += f" DEFAULT {default}"
        defs.append(d)
    defs += [f'"{name}" {type_}' for name, (type_, _) in add.items()]
    if pk and not single_int_pk:
        defs.append("PRIMARY KEY (" + ", ".join(f'"{c}"' for c in pk) + ")")
    defs += list(foreign_keys)
    extras = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
        "AND type IN ('index', 'trigger')",
        [table],
    ).fetchall()
    names = [f'"{c[1]}"' for c in cols] + [f'"{n}"' for n in add]
    transform = transform or {}
    values = [transform.get(c[1], f'"{c[1]}"') for c in cols] + [e for _, e in add.values()]
    new = f"_new_{table}"
    db.execute(
        f'CREATE TABLE "{new}" (\n   '
        + ",\n   ".join(defs)
        + "\n)"
        + (" WITHOUT ROWID" if without_rowid else "")
    )
    db.execute(
        f'INSERT INTO "{new}" ({", ".join(names)}) SELECT {", ".join(values)} FROM "{table}"'
    )
    db.execute(f'DROP TABLE "{table}"')
    db.execute(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    for _type, name, sql in extras:
        if name not in drop_indexes:
            db.execute(sql)


@migrations()
def m010_lean_store(db: Database) -> None:
    """One copy of each result, foreign keys declared, full-text search on message text.

    * ``results.result`` (the full per-chat JSON beside the same findings and grades as rows,
      about 40% of the database) is dropped: a result is rebuilt from its rows
      (auditor/result_rows.py); the result's own ``warnings`` move to a column and
      ``findings``/``grades`` get a ``seq`` keeping the result's order.
    * evidence is stored as ``[[message_id, quote], ...]`` (auditor/store_rows.py).
    * ``findings`` and ``grades`` become WITHOUT ROWID tables keyed by (chat, rubric,
      criterion) — the key is the table, no second copy of it in an index — and lose the
      (criterion, status) indexes nothing reads (the report uses the partial indexes of m004).
    * Foreign keys are declared (for Datasette and for readers of the schema; SQLite does not
      enforce them unless asked, and the store does not ask): results -> chats; findings,
      grades, failure_patterns, review_queue, reviews -> results and chats.
    * Transcripts become rows: ``transcripts`` keeps one header row per distinct transcript
      (content-addressed by ``hash`` as before) and ``messages`` one row per message, instead
      of a JSON body (auditor/transcript_rows.py); ``messages_fts`` is an FTS5 index of the
      message text (auditor/fulltext.py says how Chinese is indexed).
    """
    fk_chat = 'FOREIGN KEY ("chat_id") REFERENCES "chats" ("chat_id")'
    fk_result = (
        'FOREIGN KEY ("chat_id", "rubric_name") REFERENCES "results" ("chat_id", "rubric_name")'
    )
    seq = "row_number() OVER (PARTITION BY chat_id, rubric_name ORDER BY rowid) - 1"
    # evidence [{message_id, quote}] -> [[message_id, quote]] (auditor/store_rows.py)
    compact = {
        "evidence": "(SELECT json_group_array(json_array(json_extract(e.value, '$.message_id'), "
        "json_extract(e.value, '$.quote'))) FROM json_each(evidence) e)"
    }
    _rebuild(
        db,
        "results",
        drop=("result",),
        add={"warnings": ("TEXT", "coalesce(json_extract(result, '$.warnings'), '[]')")},
        foreign_keys=(fk_chat,),
    )
    _rebuild(
        db,
        "findings",
        add={"seq": ("INTEGER", seq)},
        foreign_keys=(fk_result, fk_chat),
        without_rowid=True,
        drop_indexes=("idx_findings_criterion_status",),
        transform=compact,
    )
    _rebuild(
        db,
        "grades",
        drop=("run_id",),  # the result's run (results.run_id): every grade of it is from it
        add={"seq": ("INTEGER", seq)},
        foreign_keys=(fk_result, fk_chat),
        without_rowid=True,
        drop_indexes=("idx_grades_criterion_status",),
        transform=compact,
    )
    for table in ("failure_patterns", "review_queue", "reviews"):
        _rebuild(
            db,
            table,
            # the queue's risk ranking within a reason (auditor/review/policy.py); items queued
            # before rank as unknown until their chat is re-audited
            add=(
                {"min_confidence": ("REAL", "NULL"), "cue_evidence": ("INTEGER", "0")}
                if table == "review_queue"
                else None
            ),
            foreign_keys=(fk_result, fk_chat),
            without_rowid=table == "failure_patterns",
        )
    _transcripts_as_rows(db)


def _transcripts_as_rows(db: Database) -> None:
    """``transcripts`` (hash, chat_id, body JSON) -> a header row + ``messages`` rows + FTS5."""
    import orjson

    from .fulltext import searchable_text
    from .transcript_rows import header_row, message_rows, message_tuples

    db.execute('ALTER TABLE "transcripts" RENAME TO "_old_transcripts"')
    db.execute(
        'CREATE TABLE "transcripts" (\n   "id" INTEGER PRIMARY KEY,\n   "hash" TEXT NOT NULL '
        'UNIQUE,\n   "chat_id" TEXT,\n   "agent_id" TEXT,\n   "customer_id" TEXT,\n   '
        '"channel" TEXT,\n   "language" TEXT\n)'
    )
    db.execute(
        'CREATE TABLE "messages" (\n   "id" INTEGER PRIMARY KEY,\n   "transcript_id" INTEGER '
        'NOT NULL REFERENCES "transcripts" ("id"),\n   "seq" INTEGER NOT NULL,\n   '
        '"message_id" TEXT,\n   "role" TEXT,\n   "author" TEXT,\n   "ts" TEXT,\n   '
        '"text" TEXT,\n   "auto" INTEGER\n)'
    )
    # content="messages": Datasette finds the index of the messages table by this clause
    db.execute(
        'CREATE VIRTUAL TABLE "messages_fts" USING fts5(text, content="messages", '
        "content_rowid=\"id\", columnsize=0, detail=none, tokenize='unicode61 remove_diacritics 2')"
    )
    old = db.execute("SELECT hash, body FROM _old_transcripts ORDER BY rowid").fetchall()
    for transcript_hash, body_text in old:
        body = orjson.loads(body_text)
        cur = db.conn.execute(
            "INSERT INTO transcripts (hash, chat_id, agent_id, customer_id, channel, language) "
            "VALUES (?,?,?,?,?,?)",
            (transcript_hash, *header_row(body)),
        )
        rows = message_rows(int(cur.lastrowid or 0), message_tuples(body))
        db.conn.executemany("INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?)", rows)
        db.conn.executemany(
            "INSERT INTO messages_fts (rowid, text) VALUES (?, ?)",
            [(r[0], searchable_text(r[7])) for r in rows],
        )
    db.execute('DROP TABLE "_old_transcripts"')


@migrations()
def m011_rollups(db: Database) -> None:
    """Per-day rollups the report reads instead of scanning every chat of a period.

    ``day_rollups``: per chat day, rubric and agent — chats, passed, score sum, fatal chats,
    chats queued for review. ``criterion_rollups``: per chat day, rubric, agent and criterion
    — chats failing it and how many of those fatally. Kept at audit time by
    ``Store.save_rows`` (a re-audited chat's old contribution is taken out first); an agent
    with no id is stored as '' (the key cannot be NULL). Backfilled here from the stored rows.
    """
    db.execute(
        "CREATE TABLE day_rollups (day TEXT NOT NULL, rubric_hash TEXT NOT NULL, "
        "agent_id TEXT NOT NULL, chats INTEGER NOT NULL, passed INTEGER NOT NULL, "
        "score_sum REAL NOT NULL, fatal INTEGER NOT NULL, queued INTEGER NOT NULL, "
        "PRIMARY KEY (day, rubric_hash, agent_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE criterion_rollups (day TEXT NOT NULL, rubric_name TEXT NOT NULL, "
        "agent_id TEXT NOT NULL, criterion TEXT NOT NULL, failed INTEGER NOT NULL, "
        "fatal INTEGER NOT NULL, PRIMARY KEY (day, rubric_name, agent_id, criterion)) "
        "WITHOUT ROWID"
    )
    backfill_rollups(db)


def backfill_rollups(db: Database) -> None:
    """Fill the (empty) rollup tables from the stored results, findings and grades."""
    db.execute(
        "INSERT INTO day_rollups SELECT day, rubric_hash, COALESCE(agent_id, ''), count(*), "
        "COALESCE(sum(passed), 0), COALESCE(sum(score), 0), COALESCE(sum(fatal), 0), "
        "COALESCE(sum(review_queued), 0) FROM results WHERE day IS NOT NULL "
        "GROUP BY day, rubric_hash, COALESCE(agent_id, '')"
    )
    for table, cond in (("findings", "x.status = 'fail'"), ("grades", "x.failed = 1")):
        db.execute(
            "INSERT INTO criterion_rollups SELECT r.day, r.rubric_name, "
            "COALESCE(r.agent_id, ''), x.criterion, count(*), sum(x.severity = 'fatal') "
            f"FROM results r JOIN {table} x ON x.chat_id = r.chat_id AND x.rubric_name = "
            f"r.rubric_name WHERE {cond} AND r.day IS NOT NULL "
            "GROUP BY r.day, r.rubric_name, COALESCE(r.agent_id, ''), x.criterion "
            "ON CONFLICT DO UPDATE SET failed = failed + excluded.failed, "
            "fatal = fatal + excluded.fatal"
        )


@migrations()
def m012_review_desk(db: Database) -> None:
    """The review desk (``auditor serve``): users, queue claims, disputes, calibration sessions.

    ``users`` keeps only a SHA-256 of each login token (the token is printed once). A claim
    is one row per queue item (the reviewer working it); releasing deletes it. Disputes are
    filed once and resolved by appending to ``dispute_events`` (append-only, like
    ``reviews``), so the whole trail is kept. A calibration session lists its chats and
    reviewers; the reviews given in it are ordinary ``reviews`` rows with the source
    ``calibration:<id>``, and the agreed levels a lead records are rows of
    ``calibration_agreed`` pointing at the review they appended.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "role TEXT NOT NULL CHECK (role IN ('reviewer', 'lead', 'agent')), agent_id TEXT, "
        "token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, disabled_at TEXT)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS claims (chat_id TEXT NOT NULL, rubric_name TEXT NOT NULL, "
        "user_id INTEGER NOT NULL REFERENCES users(id), claimed_at TEXT NOT NULL, "
        "PRIMARY KEY (chat_id, rubric_name))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS disputes (id INTEGER PRIMARY KEY, chat_id TEXT NOT NULL, "
        "rubric_name TEXT NOT NULL, criterion TEXT NOT NULL, agent_id TEXT, "
        "filed_by INTEGER NOT NULL REFERENCES users(id), reason TEXT NOT NULL, "
        "level_asked TEXT, level_disputed TEXT, created_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_disputes_chat ON disputes(chat_id, rubric_name)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_disputes_agent ON disputes(agent_id)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS dispute_events (id INTEGER PRIMARY KEY, "
        "dispute_id INTEGER NOT NULL REFERENCES disputes(id), "
        "event TEXT NOT NULL CHECK (event IN ('accepted', 'rejected')), "
        "by_user INTEGER NOT NULL REFERENCES users(id), level TEXT, reason TEXT NOT NULL, "
        "review_id INTEGER, created_at TEXT NOT NULL, UNIQUE (dispute_id))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS calibration_sessions (id INTEGER PRIMARY KEY, "
        "title TEXT NOT NULL, created_by INTEGER NOT NULL REFERENCES users(id), "
        "chats TEXT NOT NULL, reviewers TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS calibration_agreed (session_id INTEGER NOT NULL "
        "REFERENCES calibration_sessions(id), chat_id TEXT NOT NULL, "
        "rubric_name TEXT NOT NULL, criterion TEXT NOT NULL, level TEXT NOT NULL, "
        "by_user INTEGER NOT NULL REFERENCES users(id), review_id INTEGER NOT NULL, "
        "created_at TEXT NOT NULL)"
    )
    for table in ("disputes", "dispute_events", "calibration_agreed"):
        for op in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_append_only_{op.lower()} BEFORE {op} "
                f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
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


@migrations()
def m014_imports(db: Database) -> None:
    """``auditor watch`` (issue 15): how far each file of a drop folder has been audited.

    ``offset`` is the byte after the last complete line audited (line-oriented files) and
    ``lines`` the line number there; ``size``/``mtime`` what a whole-file format (CSV,
    Excel, a JSON array) was last audited at; ``head`` a hash of the first bytes, so a file
    replaced under the same name is read again from the start.
    """
    db.table("watch_files").create(
        {
            "path": str,
            "head": str,
            "offset": int,
            "lines": int,
            "size": int,
            "mtime": float,
            "updated_at": str,
        },
        pk="path",
        if_not_exists=True,
    )


@migrations()
def m015_desk_paging(db: Database) -> None:
    """The queue's whole order as one index (issue 13: paging past 1,000 items).

    A page of the queue (``ORDER BY`` the queue order, ``LIMIT``/``OFFSET``) then walks the
    index and stops after the page instead of sorting every matching item: on 20,000 queued
    items the first page went from 71 to 1 ms of CPU. The expression matches
    ``auditor.store.QUEUE_ORDER`` term by term.
    """
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_review_queue_order ON review_queue (priority, "
        "min_confidence IS NULL, min_confidence, cue_evidence DESC, day, chat_id, rubric_name)"
    )


@migrations()
def m017_report_rollups(db: Database) -> None:
    """The report's rollups kept at audit time (auditor/report_rollups.py): per criterion,
    pattern, chat day, agent and rubric, the chats and the three lowest-scoring of them
    (``problem_rollups``, ``problem_examples``; chats stored under several rubrics in
    ``problem_shared_chats``), and per day and agent the three best and worst results
    (``agent_day_extremes``), so `auditor report` groups a period's failures and ranks its
    chats without reading each one. Backfilled here from the stored rows.
    """
    from .report_rollups import create_and_backfill

    create_and_backfill(db.conn)


@migrations()
def m018_compact_rows(db: Database) -> None:
    """What every grade and every message repeated, kept once (issue 12: ≤ 8 KiB a chat).

    * ``grade_sources``: one row per distinct (grader, model, prompt_version, flags) — the
      same in every grade of a run —, named for Datasette (``name``); ``grades.source``
      references it instead of the four columns (~45 bytes a grade).
    * ``messages.ts``: the integer milliseconds after the transcript's first message
      (``transcripts.started_at``, ISO text) instead of ISO text in every message (~22
      bytes a message); a time those would not give back exactly (another UTC offset,
      sub-millisecond digits) stays ISO text (auditor/transcript_rows.py).
    * Views giving the rows as they read before: ``grades_full`` (the grade with its
      grader, model, prompt_version and flags) and ``messages_full`` (``ts`` as ISO text).
      The store reads results and transcripts through them.
    """
    import orjson

    from .store_rows import grade_source_key, grade_source_row
    from .transcript_rows import compact_times, iso_time

    db.execute(
        'CREATE TABLE IF NOT EXISTS "grade_sources" (\n   "id" INTEGER PRIMARY KEY,\n   '
        '"name" TEXT NOT NULL,\n   "key" TEXT NOT NULL UNIQUE,\n   "grader" TEXT,\n   '
        '"model" TEXT,\n   "prompt_version" TEXT,\n   "flags" TEXT\n)'
    )
    # the distinct sources the grades name, and each one's id
    db.execute(
        "CREATE TEMP TABLE _grade_source_ids (grader, model, prompt_version, flags, id INTEGER)"
    )
    for grader, model, prompt_version, flags in db.execute(
        "SELECT DISTINCT grader, model, prompt_version, flags FROM grades"
    ).fetchall():
        key = grade_source_key(grader, model, prompt_version, orjson.loads(flags or "[]"))
        db.execute(
            "INSERT OR IGNORE INTO grade_sources (name, key, grader, model, prompt_version, "
            "flags) VALUES (?,?,?,?,?,?)",
            grade_source_row(key),
        )
        (source_id,) = db.execute("SELECT id FROM grade_sources WHERE key = ?", [key]).fetchone()
        db.execute(
            "INSERT INTO _grade_source_ids VALUES (?,?,?,?,?)",
            [grader, model, prompt_version, flags, source_id],
        )
    same = " AND ".join(
        f'x."{c}" IS grades."{c}"' for c in ("grader", "model", "prompt_version", "flags")
    )
    _rebuild(
        db,
        "grades",
        drop=("grader", "model", "prompt_version", "flags"),
        add={"source": ("INTEGER", f"(SELECT x.id FROM _grade_source_ids x WHERE {same})")},
        foreign_keys=(
            'FOREIGN KEY ("chat_id", "rubric_name") REFERENCES "results" ("chat_id", '
            '"rubric_name")',
            'FOREIGN KEY ("chat_id") REFERENCES "chats" ("chat_id")',
            'FOREIGN KEY ("source") REFERENCES "grade_sources" ("id")',
        ),
        without_rowid=True,
    )
    db.execute("DROP TABLE _grade_source_ids")

    # messages: ts as milliseconds after the transcript's first message
    db.execute('ALTER TABLE "transcripts" ADD COLUMN "started_at" TEXT')
    db.execute(
        'CREATE TABLE "_new_messages" (\n   "id" INTEGER PRIMARY KEY,\n   "transcript_id" '
        'INTEGER NOT NULL REFERENCES "transcripts" ("id"),\n   "seq" INTEGER NOT NULL,\n   '
        '"message_id" TEXT,\n   "role" TEXT,\n   "author" TEXT,\n   "ts" INTEGER,\n   '
        '"text" TEXT,\n   "auto" INTEGER\n)'
    )
    conn = db.conn

    def convert(rows: list[tuple[Any, ...]]) -> None:
        try:
            started, times = compact_times(
                [None if r[6] is None else datetime.fromisoformat(r[6]) for r in rows]
            )
        except (TypeError, ValueError):  # not a time datetime wrote: left as it is
            started, times = None, []
        # kept as milliseconds only where they give back exactly the text stored
        times = [
            t if isinstance(t, int) and iso_time(started, t) == r[6] else r[6]
            for r, t in zip(rows, times or [r[6] for r in rows], strict=True)
        ]
        conn.execute("UPDATE transcripts SET started_at = ? WHERE id = ?", (started, rows[0][1]))
        conn.executemany(
            "INSERT INTO _new_messages VALUES (?,?,?,?,?,?,?,?,?)",
            [(*r[:6], t, *r[7:]) for r, t in zip(rows, times, strict=True)],
        )

    reader = conn.execute(
        "SELECT id, transcript_id, seq, message_id, role, author, ts, text, auto FROM messages "
        "ORDER BY id"
    )
    current: list[tuple[Any, ...]] = []
    while chunk := reader.fetchmany(5000):
        for row in chunk:
            if current and row[1] != current[0][1]:
                convert(current)
                current = []
            current.append(row)
    if current:
        convert(current)
    db.execute('DROP TABLE "messages"')
    db.execute('ALTER TABLE "_new_messages" RENAME TO "messages"')
    create_views(db)


@migrations()
def m019_compact_findings(db: Database) -> None:
    """Findings without what they repeated (issue 12: a margin under 8 KiB a chat).

    * ``hit_rules``: a hit's rule longer than 13 characters (the greeting regex alone is
      120) is named in ``findings.data`` by its id there (40 bits of the rule's hash,
      auditor/store_rows.py ``rule_id``); Datasette shows the table, and the view
      ``finding_hits`` gives every hit with its rule's text.
    * ``findings.evidence`` is NULL where it was exactly the hits in ``data`` (each hit's
      message id and text, in order); the store, the report and the desk read it from there.

    The findings are converted in place a page of keys at a time (memory flat).
    """
    import orjson

    from .store_rows import add_hit_rules, compact_finding_pairs

    db.execute('CREATE TABLE IF NOT EXISTS "hit_rules" ("id" INTEGER PRIMARY KEY, "rule" TEXT)')
    conn = db.conn
    last: tuple[Any, ...] = ("", "", "")
    while True:
        page = conn.execute(
            "SELECT chat_id, rubric_name, criterion, evidence, data FROM findings "
            "WHERE (chat_id, rubric_name, criterion) > (?, ?, ?) "
            "ORDER BY chat_id, rubric_name, criterion LIMIT 2000",
            last,
        ).fetchall()
        if not page:
            break
        last = page[-1][:3]
        rules: dict[int, str] = {}
        updates = []
        for chat_id, rubric_name, criterion, evidence, data in page:
            if data is None or '"hits":[{' not in data:
                continue
            value = orjson.loads(data)
            pairs = orjson.loads(evidence or "[]")
            new_evidence, new_data = compact_finding_pairs(pairs, value, rules)
            if new_evidence != evidence or new_data != data:
                updates.append((new_evidence, new_data, chat_id, rubric_name, criterion))
        add_hit_rules(conn, rules)
        conn.executemany(
            "UPDATE findings SET evidence = ?, data = ? "
            "WHERE chat_id = ? AND rubric_name = ? AND criterion = ?",
            updates,
        )
    db.execute(
        'CREATE VIEW IF NOT EXISTS "finding_hits" AS SELECT f.chat_id, f.rubric_name, '
        "f.criterion, CAST(h.key AS INTEGER) AS hit, json_extract(h.value, '$.message_id') "
        "AS message_id, json_extract(h.value, '$.start') AS start, "
        "json_extract(h.value, '$.end') AS \"end\", json_extract(h.value, '$.text') AS text, "
        "COALESCE(r.rule, json_extract(h.value, '$.rule')) AS rule "
        "FROM findings f, json_each(f.data, '$.hits') h "
        "LEFT JOIN hit_rules r ON r.id = json_extract(h.value, '$.rule') "
        "AND json_type(h.value, '$.rule') = 'integer' WHERE f.data IS NOT NULL"
    )


def create_views(db: Database) -> None:
    """The views of m018_compact_rows: grades and messages as they read before it."""
    from .transcript_rows import ISO_TS_SQL

    db.execute(
        'CREATE VIEW IF NOT EXISTS "grades_full" AS SELECT g.chat_id, g.rubric_name, '
        "g.criterion, g.status, g.level, g.points_lost, g.failed, g.severity, g.confidence, "
        "g.evidence, g.rationale, s.grader, s.model, s.prompt_version, g.error, s.flags, g.seq "
        "FROM grades g LEFT JOIN grade_sources s ON s.id = g.source"
    )
    db.execute(
        'CREATE VIEW IF NOT EXISTS "messages_full" AS SELECT m.id, m.transcript_id, m.seq, '
        f"m.message_id, m.role, m.author, {ISO_TS_SQL} AS ts, m.text, m.auto "
        "FROM messages m JOIN transcripts t ON t.id = m.transcript_id"
    )
