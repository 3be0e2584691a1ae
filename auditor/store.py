"""The SQLite store: the only code that talks to the database.

Opened through sqlite-utils (schema, migrations, queries; browsable with Datasette as it is).
The hot path — saving a batch of audited chats — is one explicit transaction of
``executemany`` statements, so a kill at any moment leaves either the whole batch or none
of it, and re-running resumes without loss or duplicates (every table is keyed).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlite_utils import Database

from .errors import StoreError
from .migrations import migrations
from .models import Chat, ChatResult, Reject, content_hash
from .rubric import Rubric

DEFAULT_DB = "audit.db"


def default_db_path() -> str:
    """Settings order: --db flag, then AUDITOR_DB, then ./audit.db."""
    return os.environ.get("AUDITOR_DB") or DEFAULT_DB


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode("utf-8")


def loads(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)


@dataclass(frozen=True)
class StoredKey:
    transcript_hash: str
    rubric_hash: str
    grader_key: str


@dataclass
class AuditedChat:
    """One audited chat ready to be saved: the chat, its rubric and result, and the grader key."""

    chat: Chat
    rubric: Rubric
    result: ChatResult
    grader_key: str


class Store:
    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = str(path)
        if readonly and not (self.path == ":memory:" or Path(self.path).exists()):
            raise StoreError(
                f"no audit database at {self.path}: run `auditor audit` first, or pass --db"
            )
        try:
            self.db = Database(self.path)
            if self.path != ":memory:":
                self.db.conn.execute("PRAGMA journal_mode=WAL")
            self.db.conn.execute("PRAGMA synchronous=NORMAL")
            self.db.conn.execute("PRAGMA busy_timeout=10000")
            migrations.apply(self.db)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot open the audit database {self.path}: {e}") from e
        self._known_rubrics: set[str] = set()

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- runs
    def start_run(self, meta: dict[str, Any]) -> str:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        row = {"id": run_id, "started_at": now_iso(), "status": "running"}
        for key, value in meta.items():
            row[key] = value if isinstance(value, str | int | float | type(None)) else dumps(value)
        self.db["runs"].insert(row, alter=True)
        return run_id

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any]) -> None:
        self.db["runs"].update(
            run_id, {"finished_at": now_iso(), "status": status, "counts": dumps(counts)}
        )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self.db["runs"].rows_where(order_by="started_at desc", limit=limit))

    # ---------------------------------------------------------------- content-addressed inputs
    def register_rubric(self, rubric: Rubric) -> None:
        if rubric.hash in self._known_rubrics:
            return
        self.db["rubrics"].insert(
            {
                "hash": rubric.hash,
                "id": rubric.id,
                "name": rubric.name,
                "version": rubric.version,
                "path": rubric.path,
                "body": rubric.source_text or rubric.model_dump_json(),
            },
            ignore=True,
        )
        self._known_rubrics.add(rubric.hash)

    def register_prompt(self, name: str, body: str) -> str:
        h = content_hash(body)
        self.db["prompts"].insert({"hash": h, "name": name, "body": body}, ignore=True)
        return h

    # ---------------------------------------------------------------- resume
    def stored_key(self, chat_id: str, rubric_name: str) -> StoredKey | None:
        row = self.db.conn.execute(
            "SELECT transcript_hash, rubric_hash, grader_key FROM results "
            "WHERE chat_id = ? AND rubric_name = ?",
            (chat_id, rubric_name),
        ).fetchone()
        return StoredKey(*row) if row else None

    # ---------------------------------------------------------------- the hot path
    def save_batch(
        self, run_id: str, audited: Sequence[AuditedChat], rejects: Sequence[Reject] = ()
    ) -> None:
        """Save audited chats and rejects in ONE transaction (all or nothing)."""
        for a in audited:
            self.register_rubric(a.rubric)
        now = now_iso()
        transcripts, chats, results, findings, grades, keys = [], [], [], [], [], []
        for a in audited:
            chat, res, rubric = a.chat, a.result, a.rubric
            body = chat.transcript_json().decode("utf-8")
            transcripts.append((res.transcript_hash, chat.chat_id, body))
            chats.append(
                (
                    chat.chat_id,
                    res.transcript_hash,
                    chat.agent_id,
                    chat.customer_id,
                    chat.channel,
                    chat.language,
                    chat.messages[0].ts.isoformat(),
                    chat.messages[-1].ts.isoformat(),
                    len(chat.messages),
                    chat.source.file if chat.source else None,
                    chat.source.line if chat.source else None,
                    dumps(chat.warnings),
                    run_id,
                )
            )
            m = res.metrics
            started = chat.messages[0].ts
            results.append(
                (
                    chat.chat_id,
                    rubric.name,
                    rubric.id,
                    rubric.hash,
                    res.transcript_hash,
                    res.grader,
                    a.grader_key,
                    run_id,
                    chat.agent_id,
                    chat.language,
                    started.isoformat(),
                    started.date().isoformat(),
                    res.score,
                    int(res.passed),
                    int(res.fatal),
                    m.first_response_s,
                    m.max_followup_s,
                    m.avg_response_s,
                    m.followup_violations,
                    m.hold_count,
                    m.typo_count,
                    int(m.unanswered_customer),
                    dumps(res.failed_criteria),
                    dumps(res.unscored_criteria),
                    int(res.review.queued),
                    dumps(res.review.reasons),
                    now,
                    res.model_dump_json(),
                )
            )
            keys.append((chat.chat_id, rubric.name))
            for f in res.findings:
                findings.append(
                    (
                        chat.chat_id,
                        rubric.name,
                        f.criterion,
                        f.check,
                        f.status,
                        f.severity,
                        f.points_lost,
                        dumps([e.model_dump() for e in f.evidence]),
                        f.detail,
                        dumps(f.data) if f.data else None,
                    )
                )
            for g in res.grades:
                grades.append(
                    (
                        chat.chat_id,
                        rubric.name,
                        g.criterion,
                        g.status,
                        g.level,
                        g.points_lost,
                        int(g.failed),
                        g.severity,
                        g.confidence,
                        dumps([e.model_dump() for e in g.evidence]),
                        g.rationale,
                        g.grader,
                        g.model,
                        g.prompt_version,
                        g.error,
                        dumps(g.flags),
                        run_id,
                    )
                )
        reject_rows = [
            (
                content_hash(f"{r.source.file}\0{r.source.line}\0{r.reason}\0{r.raw or ''}"),
                run_id,
                r.source.file,
                r.source.line,
                r.chat_id,
                r.reason,
                r.raw,
                now,
            )
            for r in rejects
        ]
        conn = self.db.conn
        with conn:  # one transaction
            conn.executemany(
                "INSERT OR IGNORE INTO transcripts (hash, chat_id, body) VALUES (?,?,?)",
                transcripts,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO chats VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", chats
            )
            conn.executemany("DELETE FROM findings WHERE chat_id = ? AND rubric_name = ?", keys)
            conn.executemany("DELETE FROM grades WHERE chat_id = ? AND rubric_name = ?", keys)
            conn.executemany(
                "INSERT OR REPLACE INTO results (chat_id, rubric_name, rubric, rubric_hash, "
                "transcript_hash, grader, grader_key, run_id, agent_id, language, started_at, day, "
                "score, passed, fatal, first_response_s, max_followup_s, avg_response_s, "
                "followup_violations, hold_count, typo_count, unanswered_customer, "
                "failed_criteria, unscored_criteria, review_queued, review_reasons, audited_at, "
                "result) VALUES (" + ",".join("?" * 28) + ")",
                results,
            )
            conn.executemany(
                'INSERT INTO findings (chat_id, rubric_name, criterion, "check", status, '
                "severity, points_lost, evidence, detail, data) VALUES (?,?,?,?,?,?,?,?,?,?)",
                findings,
            )
            conn.executemany(
                "INSERT INTO grades (chat_id, rubric_name, criterion, status, level, points_lost, "
                "failed, severity, confidence, evidence, rationale, grader, model, "
                "prompt_version, error, flags, run_id) VALUES (" + ",".join("?" * 17) + ")",
                grades,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO rejects (id, run_id, file, line, chat_id, reason, raw, "
                "created_at) VALUES (?,?,?,?,?,?,?,?)",
                reject_rows,
            )

    # ---------------------------------------------------------------- reading back
    def result_json(self, chat_id: str, rubric_name: str | None = None) -> dict[str, Any] | None:
        if rubric_name is None:
            row = self.db.conn.execute(
                "SELECT result FROM results WHERE chat_id = ? ORDER BY audited_at DESC LIMIT 1",
                (chat_id,),
            ).fetchone()
        else:
            row = self.db.conn.execute(
                "SELECT result FROM results WHERE chat_id = ? AND rubric_name = ?",
                (chat_id, rubric_name),
            ).fetchone()
        return loads(row[0]) if row else None

    def transcript(self, transcript_hash: str) -> dict[str, Any] | None:
        row = self.db.conn.execute(
            "SELECT body FROM transcripts WHERE hash = ?", (transcript_hash,)
        ).fetchone()
        return loads(row[0]) if row else None

    def iter_results(
        self,
        *,
        run_id: str | None = None,
        agent_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        failed_only: bool = False,
    ) -> Iterator[dict[str, Any]]:
        where, params = [], []
        if run_id:
            where.append("run_id = ?")
            params.append(run_id)
        if agent_id:
            where.append("agent_id = ?")
            params.append(agent_id)
        if since:
            where.append("day >= ?")
            params.append(since)
        if until:
            where.append("day <= ?")
            params.append(until)
        if failed_only:
            where.append("passed = 0")
        sql = "SELECT result FROM results"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at, chat_id"
        for (text,) in self.db.conn.execute(sql, params):
            yield loads(text)

    def rejects(self, run_id: str | None = None) -> list[dict[str, Any]]:
        if run_id:
            return list(
                self.db["rejects"].rows_where("run_id = ?", [run_id], order_by="file, line")
            )
        return list(self.db["rejects"].rows_where(order_by="file, line"))

    def count(self, table: str) -> int:
        return self.db[table].count

    # ---------------------------------------------------------------- CallLog (llm_calls)
    def record_call(self, row: dict[str, Any]) -> None:
        row = dict(row)
        row.setdefault("created_at", now_iso())
        for key in ("request", "response"):
            if key in row and not isinstance(row[key], str | type(None)):
                row[key] = dumps(row[key])
        self.db["llm_calls"].insert(row, alter=True)

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        rows = list(
            self.db["llm_calls"].rows_where(
                "request_hash = ? AND status = 'ok' AND response IS NOT NULL",
                [request_hash],
                order_by="id desc",
                limit=1,
            )
        )
        if not rows:
            return None
        row = rows[0]
        row["response"] = loads(row["response"])
        return row

    # ---------------------------------------------------------------- misc
    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cur = self.db.conn.execute(sql, tuple(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
