"""The ``batches`` and ``batch_items`` tables (m013_batches): reads and writes, nothing else.

Every write that must not be half done is one transaction. Callers group a chat's writes
(its calls, its items, its result) with ``transaction()``; ``Store.save_batch`` commits the
open transaction together with the result, so a kill at any point leaves all or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from ..models import content_hash
from ..store import Store, now_iso
from .client import TERMINAL, RemoteBatch
from .replay import BatchReply

#: Item states in which a request still has a batch to come back from.
OPEN = ("pending", "answered", "errored")


def new_batch_id() -> str:
    return "b" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def custom_id(chat_id: str, rubric_hash: str, request_hash: str) -> str:
    """One id per chat + rubric + request (the request covers prompt, settings and re-ask)."""
    return "a-" + content_hash(f"{chat_id}\0{rubric_hash}\0{request_hash}")[:40]


class BatchRecords:
    def __init__(self, store: Store):
        self.store = store
        self.conn = store.db.conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn:
            yield

    # -- batches -------------------------------------------------------------------------

    def create_batch(
        self, model: str, settings: dict[str, Any], *, parent_id: str | None, run_id: str | None
    ) -> str:
        bid = new_batch_id()
        now = now_iso()
        self.conn.execute(
            "INSERT INTO batches (id, created_at, updated_at, model, status, requests, bytes, "
            "settings, parent_id, run_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                bid,
                now,
                now,
                model,
                "preparing",
                0,
                0,
                orjson.dumps(settings).decode(),
                parent_id,
                run_id,
            ),
        )
        return bid

    def add_item(
        self,
        batch_id: str,
        *,
        chat_id: str,
        rubric_name: str,
        rubric_hash: str,
        transcript_hash: str,
        request: str,
        request_hash: str,
        reask: int,
        chat_json: str,
    ) -> int:
        """Add one request to a preparing batch; the bytes its input line takes."""
        cid = custom_id(chat_id, rubric_hash, request_hash)
        self.conn.execute(
            "INSERT INTO batch_items (batch_id, custom_id, chat_id, rubric_name, rubric_hash, "
            "transcript_hash, request_hash, reask, state, chat, request, logged, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                batch_id,
                cid,
                chat_id,
                rubric_name,
                rubric_hash,
                transcript_hash,
                request_hash,
                reask,
                "pending",
                chat_json,
                request,
                0,
                now_iso(),
            ),
        )
        size = len(request.encode("utf-8")) + len(cid) + 80
        self.conn.execute(
            "UPDATE batches SET requests = requests + 1, bytes = bytes + ? WHERE id = ?",
            (size, batch_id),
        )
        return size

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        rows = self.store.query(
            "SELECT * FROM batches WHERE id = ? OR remote_id = ?", [batch_id, batch_id]
        )
        return rows[0] if rows else None

    def batches(self, *, statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM batches"
        params: list[Any] = []
        if statuses:
            sql += f" WHERE status IN ({','.join('?' * len(statuses))})"
            params = list(statuses)
        return self.store.query(sql + " ORDER BY created_at, id", params)

    def uncollected(self) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT * FROM batches WHERE collected_at IS NULL ORDER BY created_at, id"
        )

    def set_uploaded(self, batch_id: str, file_id: str) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE batches SET status = 'uploaded', input_file_id = ?, updated_at = ? "
                "WHERE id = ?",
                (file_id, now_iso(), batch_id),
            )

    def set_remote(self, batch_id: str, remote: RemoteBatch) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE batches SET remote_id = ?, status = ?, output_file_id = ?, "
                "error_file_id = ?, counts = ?, error = ?, updated_at = ? WHERE id = ?",
                (
                    remote.id,
                    remote.status,
                    remote.output_file_id,
                    remote.error_file_id,
                    orjson.dumps(remote.counts).decode(),
                    "; ".join(remote.errors)[:2000] or None,
                    now_iso(),
                    batch_id,
                ),
            )

    def items_for_upload(self, batch_id: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self.conn.execute(
                "SELECT custom_id, request FROM batch_items WHERE batch_id = ? ORDER BY rowid",
                (batch_id,),
            )
        ]

    def record_results(
        self, batch_id: str, results: Sequence[Any], terminal_status: str
    ) -> dict[str, int]:
        """Store each result line on its item; items with none become ``unanswered``."""
        counts = {"answered": 0, "errored": 0, "unanswered": 0}
        now = now_iso()
        with self.conn:
            for r in results:
                state = (
                    "answered"
                    if r.status_code == 200
                    else ("errored" if r.status_code else "unanswered")
                )
                payload = {"status_code": r.status_code, "body": r.body, "error": r.error}
                cur = self.conn.execute(
                    "UPDATE batch_items SET state = ?, response = ?, updated_at = ? "
                    "WHERE batch_id = ? AND custom_id = ? AND state = 'pending'",
                    (state, orjson.dumps(payload).decode(), now, batch_id, r.custom_id),
                )
                counts[state] += cur.rowcount
            cur = self.conn.execute(
                "UPDATE batch_items SET state = 'unanswered', response = ?, updated_at = ? "
                "WHERE batch_id = ? AND state = 'pending'",
                (
                    orjson.dumps(
                        {
                            "status_code": 0,
                            "body": None,
                            "error": f"the batch ended {terminal_status}",
                        }
                    ).decode(),
                    now,
                    batch_id,
                ),
            )
            counts["unanswered"] += cur.rowcount
            self.conn.execute("UPDATE batches SET downloaded_at = ? WHERE id = ?", (now, batch_id))
        return counts

    def set_collected(self, batch_id: str) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE batches SET collected_at = ?, updated_at = ? WHERE id = ?",
                (now_iso(), now_iso(), batch_id),
            )

    # -- items ---------------------------------------------------------------------------

    def in_flight(self, chat_id: str, rubric_name: str, transcript_hash: str) -> bool:
        """Has this chat a request that a batch (sent or about to be) may still answer?"""
        row = self.conn.execute(
            "SELECT 1 FROM batch_items i JOIN batches b ON b.id = i.batch_id "
            "WHERE i.chat_id = ? AND i.rubric_name = ? AND i.transcript_hash = ? AND "
            "(i.state = 'pending' OR (i.state IN ('answered', 'errored') "
            "AND b.collected_at IS NULL)) LIMIT 1",
            (chat_id, rubric_name, transcript_hash),
        ).fetchone()
        return row is not None

    def chats_of(self, batch_id: str) -> list[tuple[str, str, str]]:
        """(chat id, rubric name, transcript hash) of the unfinished chats a batch carried."""
        return [
            (r[0], r[1], r[2])
            for r in self.conn.execute(
                "SELECT chat_id, rubric_name, transcript_hash FROM batch_items "
                "WHERE batch_id = ? AND state != 'done' GROUP BY chat_id, rubric_name, "
                "transcript_hash ORDER BY min(rowid)",
                (batch_id,),
            )
        ]

    def chat_items(
        self, chat_id: str, rubric_name: str, transcript_hash: str
    ) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT i.*, b.created_at AS batch_created FROM batch_items i "
            "JOIN batches b ON b.id = i.batch_id WHERE i.chat_id = ? AND i.rubric_name = ? "
            "AND i.transcript_hash = ? AND i.state != 'done' ORDER BY b.created_at, i.rowid",
            [chat_id, rubric_name, transcript_hash],
        )

    @staticmethod
    def replies(items: Sequence[dict[str, Any]]) -> list[BatchReply]:
        out = []
        for it in items:
            if it["state"] not in ("answered", "errored") or not it["response"]:
                continue
            r = orjson.loads(it["response"])
            out.append(
                BatchReply(
                    batch_id=it["batch_id"],
                    custom_id=it["custom_id"],
                    request_hash=it["request_hash"],
                    status_code=int(r["status_code"]),
                    body=r.get("body"),
                    error=r.get("error"),
                    logged=bool(it["logged"]),
                    request=it["request"],
                    reask=int(it["reask"] or 0),
                )
            )
        return out

    def mark_logged(self, replies: Sequence[BatchReply]) -> None:
        """Within the caller's transaction."""
        self.conn.executemany(
            "UPDATE batch_items SET logged = 1 WHERE batch_id = ? AND custom_id = ?",
            [(r.batch_id, r.custom_id) for r in replies if not r.logged],
        )

    def mark_done(self, chat_id: str, rubric_name: str, transcript_hash: str) -> None:
        """Within the caller's transaction. The bulky columns are cleared: the request and
        the reply are in ``llm_calls``, the transcript in ``transcripts``."""
        self.conn.execute(
            "UPDATE batch_items SET state = 'done', request = NULL, response = NULL, "
            "chat = NULL, updated_at = ? WHERE chat_id = ? AND "
            "rubric_name = ? AND transcript_hash = ? AND state != 'done'",
            (now_iso(), chat_id, rubric_name, transcript_hash),
        )

    def write_calls(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``llm_calls`` rows within the caller's transaction (columns added first)."""
        if not rows:
            return
        table = self.store.db.table("llm_calls")
        known = set(table.columns_dict)
        missing = {k for r in rows for k in r if k not in known}
        for col in sorted(missing):  # DDL before the transaction's first write
            sample = (
                next(r[col] for r in rows if col in r and r[col] is not None)
                if any(col in r and r[col] is not None for r in rows)
                else ""
            )
            table.add_column(col, type(sample) if isinstance(sample, int | float) else str)
        for r in rows:
            row = dict(r)
            row.setdefault("created_at", now_iso())
            for key in ("request", "response"):
                if key in row and not isinstance(row[key], str | type(None)):
                    row[key] = orjson.dumps(row[key]).decode()
            cols = list(row)
            self.conn.execute(
                f"INSERT INTO llm_calls ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                [row[c] for c in cols],
            )


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL
