"""The SQLite store: the only code that talks to the database.

Opened through sqlite-utils (schema, migrations, queries; browsable with Datasette as it is).
The hot path — saving a batch of audited chats — is one explicit transaction of
``executemany`` statements, so a kill at any moment leaves either the whole batch or none
of it, and re-running resumes without loss or duplicates (every table is keyed).
"""

from __future__ import annotations

import gc
import os
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from . import report_rollups
from .errors import StoreError
from .fulltext import match_query
from .migrations import migrations
from .models import Chat, ChatResult, Reject, content_hash
from .redact import redact, redact_json
from .result_rows import FINDING_COLUMNS, GRADE_COLUMNS, RESULT_COLUMNS, result_dict
from .rollups import CriterionDelta, DayDelta, OldResult, batch_deltas, removal_deltas
from .rubric import Rubric
from .sqlitedb import open_database
from .store_rows import (
    QUEUE_COLUMNS,
    ChatRows,
    add_hit_rules,
    chat_rows,
    grade_source_row,
    result_of,
)
from .transcript_rows import (
    HEADER_COLUMNS,
    MAX_MESSAGES,
    MESSAGE_COLUMNS,
    SEQ_BITS,
    message_id_range,
    message_ids,
    transcript_dict,
)

DEFAULT_DB = "audit.db"

#: How the review queue is worked (auditor/review/, docs/review.md): by the most urgent
#: reason, then the lowest measured confidence, then the most cue evidence of an advisory
#: grader, then the oldest chat day. Indexed as it stands (migration ``m015_desk_paging``).
QUEUE_ORDER = (
    "q.priority, q.min_confidence IS NULL, q.min_confidence, q.cue_evidence DESC, q.day, "
    "q.chat_id, q.rubric_name"
)


def default_db_path() -> str:
    """Settings order: --db flag, then AUDITOR_DB, then ./audit.db."""
    return os.environ.get("AUDITOR_DB") or DEFAULT_DB


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode("utf-8")


def loads(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)


def where_clause(conditions: Iterable[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """`` WHERE a AND b`` and its parameters, from (clause, value) filter pairs.

    A pair whose value is None or False is left out; a clause with a ``?`` takes its value as
    the parameter, one without (``passed = 0``) is a switch turned on by a true value.
    """
    parts: list[str] = []
    params: list[Any] = []
    for clause, value in conditions:
        if value is None or value is False:
            continue
        parts.append(clause)
        if "?" in clause:
            params.append(value)
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


#: a run on another host with no heartbeat for this long is taken as dead (seconds)
STALE_RUN_S = 15 * 60
_PID_SLACK = timedelta(seconds=2)


def _parse_iso(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def process_alive(pid: int, since: datetime | None = None) -> bool:
    """Whether ``pid`` is a live process on this host that could be the one we recorded.

    On Linux a process whose start time is after ``since`` (the run's last heartbeat) is a
    different process that reused the pid.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    started = _process_start(pid)
    # /proc gives the start to the clock tick from a boot time in whole seconds: 2 s of slack
    return not (started is not None and since is not None and started > since + _PID_SLACK)


def _process_start(pid: int) -> datetime | None:
    """A process's start time from /proc (Linux); None where that is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


@dataclass(frozen=True)
class StoredKey:
    transcript_hash: str
    rubric_hash: str
    grader_key: str


_STORED_KEY_SQL = (
    "SELECT transcript_hash, rubric_hash, grader_key FROM results "
    "WHERE chat_id = ? AND rubric_name = ?"
)


def stored_keys_reader(path: str) -> Callable[[list[str]], dict[tuple[str, str], StoredKey]]:
    """``Store.stored_key`` of several chats at once (one query for a chunk's chats), by
    (chat id, rubric name), over a read-only connection of its own, for a process that only
    looks (an ``audit --workers`` worker deciding whether a chat is already done; the writer
    decides again before skipping). Raises ``sqlite3.Error`` if it cannot open."""
    con = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    con.execute("PRAGMA busy_timeout=10000")

    def stored_keys(chat_ids: list[str]) -> dict[tuple[str, str], StoredKey]:
        if not chat_ids:
            return {}
        rows = con.execute(
            "SELECT chat_id, rubric_name, transcript_hash, rubric_hash, grader_key "
            f"FROM results WHERE chat_id IN ({','.join('?' * len(chat_ids))})",
            chat_ids,
        )
        return {(r[0], r[1]): StoredKey(r[2], r[3], r[4]) for r in rows}

    return stored_keys


@dataclass
class AuditedChat:
    """One audited chat ready to be saved: the chat, its rubric and result, and the grader key."""

    chat: Chat
    rubric: Rubric
    result: ChatResult
    grader_key: str


REVIEW_COLUMNS = (
    "chat_id",
    "rubric_name",
    "rubric",
    "transcript_hash",
    "criterion",
    "level",
    "reviewer",
    "comment",
    "created_at",
    "source",
)


#: Parsed stored rubrics by content hash (see ``Store.stored_rubric``); treat as read-only.
_RUBRIC_CACHE: dict[str, Rubric] = {}


class Store:
    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = str(path)
        if readonly and not (self.path == ":memory:" or Path(self.path).exists()):
            raise StoreError(
                f"no audit database at {self.path}: run `auditor audit` first, or pass --db"
            )
        try:
            self.db = open_database(self.path)
            # wait for a concurrent writer (e.g. `auditor watch`) before anything else
            self.db.conn.execute("PRAGMA busy_timeout=10000")
            if self.path != ":memory:":
                self.db.conn.execute("PRAGMA journal_mode=WAL")
            self.db.conn.execute("PRAGMA synchronous=NORMAL")
            migrations.apply(self.db)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot open the audit database {self.path}: {e}") from e
        self._known_rubrics: set[str] = set()
        self._known_sources: dict[str, int] = {}  # grade_sources key -> id (committed)
        self._rules = _HitRules(self.db.conn)  # hit_rules id -> rule (m019)

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- runs
    def start_run(self, meta: dict[str, Any]) -> str:
        """Record a new ``running`` run, with this process's pid and host for liveness."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        now = now_iso()
        row: dict[str, Any] = {
            "id": run_id,
            "started_at": now,
            "status": "running",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "heartbeat_at": now,
        }
        for key, value in meta.items():
            value = value if isinstance(value, str | int | float | type(None)) else dumps(value)
            row[key] = redact(value) if isinstance(value, str) else value  # --base-url creds
        self.db.table("runs").insert(row, alter=True)
        return run_id

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any]) -> None:
        self.db.table("runs").update(
            run_id, {"finished_at": now_iso(), "status": status, "counts": dumps(counts)}
        )

    def heartbeat(self, run_id: str) -> None:
        """Note that a run is alive (written at every saved batch and every few seconds)."""
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE runs SET heartbeat_at = ? WHERE id = ?", (now_iso(), run_id)
            )

    def mark_dead_runs(self, stale_after_s: float = STALE_RUN_S) -> list[str]:
        """Mark ``interrupted`` every ``running`` run whose process is gone; their ids.

        A run on this host is dead when its pid no longer exists (or now belongs to a process
        started after the run's last heartbeat, a reused pid); a run on another host (a shared
        database) when its heartbeat is older than ``stale_after_s``. A live concurrent run is
        left alone. Runs recorded before the pid was kept are judged by the heartbeat rule with
        their start time.
        """
        host = socket.gethostname()
        now = datetime.now(UTC)
        dead: list[str] = []
        for run_id, pid, run_host, beat, started in self.db.conn.execute(
            "SELECT id, pid, host, heartbeat_at, started_at FROM runs WHERE status = 'running'"
        ).fetchall():
            last = _parse_iso(beat or started)
            if run_host == host and pid:
                alive = process_alive(int(pid), since=last)
            else:
                alive = last is not None and (now - last).total_seconds() < stale_after_s
            if not alive:
                dead.append(run_id)
        if dead:
            with self.db.conn:
                self.db.conn.executemany(
                    "UPDATE runs SET status = 'interrupted', finished_at = coalesce("
                    "finished_at, heartbeat_at, started_at) WHERE id = ? AND status = 'running'",
                    [(r,) for r in dead],
                )
        return dead

    def runs_missing_quotas(self, exclude: str) -> list[str]:
        """Earlier runs that are over but never ran their quota step (killed before it)."""
        rows = self.db.conn.execute(
            "SELECT id FROM runs WHERE quotas_at IS NULL AND status != 'running' AND id != ? "
            "ORDER BY started_at",
            (exclude,),
        ).fetchall()
        return [r[0] for r in rows]

    def quotas_done(self, run_id: str) -> None:
        with self.db.conn:
            self.db.conn.execute("UPDATE runs SET quotas_at = ? WHERE id = ?", (now_iso(), run_id))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.table("runs").rows_where(order_by="started_at desc", limit=limit)
        return [redact_json(row) for row in rows]  # rows stored before redaction existed

    # ---------------------------------------------------------------- content-addressed inputs
    def register_rubric(self, rubric: Rubric) -> None:
        if rubric.hash in self._known_rubrics:
            return
        self.db.table("rubrics").insert(
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
        self.db.table("prompts").insert({"hash": h, "name": name, "body": body}, ignore=True)
        return h

    # ---------------------------------------------------------------- resume
    def stored_key(self, chat_id: str, rubric_name: str) -> StoredKey | None:
        row = self.db.conn.execute(_STORED_KEY_SQL, (chat_id, rubric_name)).fetchone()
        return StoredKey(*row) if row else None

    def drop_result(self, chat_id: str, rubric_name: str) -> None:
        """Remove a chat's result under one rubric (a repeat of the chat went to another)."""
        days, criteria = removal_deltas(self._old_results([(chat_id, rubric_name)]))
        before = report_rollups.before_save(self.db.conn, [(chat_id, rubric_name)])
        with self.db.conn:
            self._apply_rollups(days, criteria)
            for table in ("results", "findings", "grades", "failure_patterns", "review_queue"):
                self.db.conn.execute(
                    f"DELETE FROM {table} WHERE chat_id = ? AND rubric_name = ?",
                    (chat_id, rubric_name),
                )
            report_rollups.after_save(self.db.conn, [], before)

    # ---------------------------------------------------------------- the hot path
    def save_batch(
        self, run_id: str, audited: Sequence[AuditedChat], rejects: Sequence[Reject] = ()
    ) -> None:
        """Save audited chats and rejects in ONE transaction (all or nothing)."""
        now = now_iso()
        for a in audited:
            self.register_rubric(a.rubric)
        self.save_rows(run_id, [chat_rows(a, run_id, now) for a in audited], rejects, now=now)

    def save_rows(
        self,
        run_id: str,
        audited: Sequence[ChatRows],
        rejects: Sequence[Reject] = (),
        *,
        now: str | None = None,
    ) -> None:
        """Save chats already turned into rows (auditor/store_rows.py) and rejects in ONE
        transaction (all or nothing). Their rubrics must be registered.

        The garbage collector is paused meanwhile: the batch makes only acyclic tuples and
        lists (freed by reference counting), and each collection the allocations would
        trigger rescans the batch's rows, not yet frozen (pipeline.freeze_heap)."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._save_rows(run_id, audited, rejects, now or now_iso())
        finally:
            if enabled:
                gc.enable()

    def _save_rows(
        self, run_id: str, audited: Sequence[ChatRows], rejects: Sequence[Reject], now: str
    ) -> None:
        keys = [(a.chat_id, a.rubric_name) for a in audited]
        chats = [a.chat for a in audited]
        results = [a.result for a in audited]
        findings = [f for a in audited for f in a.findings]
        grades = [g for a in audited for g in a.grades]
        patterns = [p for a in audited for p in a.patterns]
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
        # most of a batch is new: one read for which keys have a result stored, and the
        # per-chat reads only for those (m011/m017 rollups, the queue's sticky reasons)
        stored = report_rollups.stored_keys(conn, keys)
        queue_rows, queue_drops = self._review_queue_changes(run_id, audited, now, stored)
        day_delta, criterion_delta = batch_deltas(audited, self._old_results(stored))
        before = report_rollups.before_save(conn, keys, stored)
        with conn:  # one transaction
            self._apply_rollups(day_delta, criterion_delta)
            new_transcripts, new_messages, indexed_rows = self._new_transcripts(audited)
            conn.executemany(
                "INSERT INTO transcripts (id, hash, chat_id, agent_id, customer_id, channel, "
                "language, started_at) VALUES (?,?,?,?,?,?,?,?)",
                new_transcripts,
            )
            # a message's transcript_id and seq are its id's parts (transcript_rows), and
            # a missing author travels as 0, NULL again in SQL (no author is a number): a
            # None or two fewer parameters bound, of ~13 rows a chat
            conn.executemany(
                "INSERT INTO messages (id, transcript_id, seq, message_id, role, author, ts, "
                f"text, auto) VALUES (?1, ?1 >> {SEQ_BITS}, ?1 & {MAX_MESSAGES - 1}, ?2, ?3, "
                "NULLIF(?4, 0), ?5, ?6, ?7)",
                new_messages,
            )
            conn.executemany("INSERT INTO messages_fts (rowid, text) VALUES (?, ?)", indexed_rows)
            conn.executemany(
                "INSERT OR REPLACE INTO chats VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", chats
            )
            # a chat's findings, grades and patterns exist only beside its result (foreign
            # keys, one transaction): only the keys with a stored result have old ones to drop
            conn.executemany("DELETE FROM findings WHERE chat_id = ? AND rubric_name = ?", stored)
            conn.executemany("DELETE FROM grades WHERE chat_id = ? AND rubric_name = ?", stored)
            conn.executemany(
                "INSERT OR REPLACE INTO results (chat_id, rubric_name, rubric, rubric_hash, "
                "transcript_hash, grader, grader_key, run_id, agent_id, language, started_at, day, "
                "score, passed, fatal, first_response_s, max_followup_s, avg_response_s, "
                "followup_violations, hold_count, typo_count, unanswered_customer, "
                "failed_criteria, unscored_criteria, review_queued, review_reasons, audited_at, "
                "warnings, provisional) VALUES (" + ",".join("?" * 29) + ")",
                results,
            )
            conn.executemany(
                'INSERT INTO findings (chat_id, rubric_name, criterion, "check", status, '
                "severity, points_lost, evidence, detail, data, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                findings,
            )
            new_rules = self._add_hit_rules(audited)
            sources = self._grade_source_ids({g[11] for g in grades})
            # a grade's error is NULL but for a grader's failure: those rows write it as
            # such (a None parameter costs the sqlite3 module an adapter look-up, ~0.3 µs)
            conn.executemany(
                "INSERT INTO grades (chat_id, rubric_name, criterion, status, level, points_lost, "
                "failed, severity, confidence, evidence, rationale, source, seq, error) "
                "VALUES (" + ",".join("?" * 13) + ", NULL)",
                [(*g[:11], sources[g[11]], g[13]) for g in grades if g[12] is None],
            )
            conn.executemany(
                "INSERT INTO grades (chat_id, rubric_name, criterion, status, level, points_lost, "
                "failed, severity, confidence, evidence, rationale, source, error, seq) "
                "VALUES (" + ",".join("?" * 14) + ")",
                [(*g[:11], sources[g[11]], g[12], g[13]) for g in grades if g[12] is not None],
            )
            conn.executemany(
                "DELETE FROM failure_patterns WHERE chat_id = ? AND rubric_name = ?", stored
            )
            conn.executemany("INSERT INTO failure_patterns VALUES (?,?,?,?,?,?)", patterns)
            conn.executemany(
                "INSERT OR IGNORE INTO rejects (id, run_id, file, line, chat_id, reason, raw, "
                "created_at) VALUES (?,?,?,?,?,?,?,?)",
                reject_rows,
            )
            # ---- review queue: a result and its queue item are saved together
            conn.executemany(
                "DELETE FROM review_queue WHERE chat_id = ? AND rubric_name = ?", queue_drops
            )
            conn.executemany(
                f"INSERT OR REPLACE INTO review_queue ({', '.join(self._QUEUE_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(self._QUEUE_COLUMNS))})",
                queue_rows,
            )
            # the report's rollups of m017, once the batch's rows are in
            report_rollups.after_save(conn, audited, before)
        self._known_sources.update(sources)  # committed: their ids are for good
        self._rules.update(new_rules)

    def _new_transcripts(
        self, audited: Sequence[ChatRows]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[int, str]]]:
        """The ``transcripts`` rows the batch adds (a transcript stored already, or twice in
        the batch, is stored once), their ``messages`` rows and their full-text rows (m010).

        Inside the batch's transaction, after its first write: one read of which hashes are
        stored, and the new ones numbered as SQLite numbers a rowid (the largest plus one),
        instead of an ``INSERT OR IGNORE`` per chat."""
        conn = self.db.conn
        hashes = list(dict.fromkeys(a.transcript[0] for a in audited))
        stored: set[str] = set()
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            stored.update(
                h
                for (h,) in conn.execute(
                    f"SELECT hash FROM transcripts WHERE hash IN ({', '.join('?' * len(part))})",
                    part,
                )
            )
        (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM transcripts").fetchone()
        transcripts: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        indexed_rows: list[tuple[int, str]] = []
        for transcript_hash, header, chat_messages, indexed in (a.transcript for a in audited):
            if transcript_hash in stored:
                continue
            stored.add(transcript_hash)
            last += 1
            transcripts.append((last, transcript_hash, *header))
            ids = message_ids(last, len(chat_messages))
            messages += [
                (i, mid, role, 0 if author is None else author, ts, text, auto)
                for i, (mid, role, author, ts, text, auto) in zip(ids, chat_messages, strict=True)
            ]
            indexed_rows += zip(ids, indexed, strict=True)
        return transcripts, messages, indexed_rows

    def _add_hit_rules(self, audited: Sequence[ChatRows]) -> dict[int, str]:
        """``hit_rules`` rows the batch's findings name and the table lacks (inside the
        batch's transaction); a rule whose id another rule holds is an error, not a mix-up."""
        known = self._rules
        new = {i: r for a in audited for i, r in a.rules if known.get(i) != r}
        add_hit_rules(self.db.conn, new)
        return new

    def _grade_source_ids(self, keys: Iterable[str]) -> dict[str, int]:
        """``grade_sources`` ids of grade source keys, adding the new ones (inside the batch's
        transaction; the ids are remembered by the caller once it commits)."""
        known = self._known_sources
        out = {k: known[k] for k in keys if k in known}
        for key in keys:
            if key not in out:
                conn = self.db.conn
                conn.execute(
                    "INSERT OR IGNORE INTO grade_sources (name, key, grader, model, "
                    "prompt_version, flags) VALUES (?,?,?,?,?,?)",
                    grade_source_row(key),
                )
                (out[key],) = conn.execute(
                    "SELECT id FROM grade_sources WHERE key = ?", (key,)
                ).fetchone()
        return out

    def _old_results(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OldResult]:
        """What the stored results about to be replaced contribute to the rollups."""
        out: dict[tuple[str, str], OldResult] = {}
        conn = self.db.conn
        for key in keys:
            row = conn.execute(
                "SELECT day, rubric_hash, agent_id, score, passed, fatal, review_queued "
                "FROM results WHERE chat_id = ? AND rubric_name = ?",
                key,
            ).fetchone()
            if row is None:
                continue
            failing = conn.execute(
                "SELECT criterion, severity FROM findings WHERE chat_id = ? AND rubric_name = ? "
                "AND status = 'fail' UNION ALL SELECT criterion, severity FROM grades "
                "WHERE chat_id = ? AND rubric_name = ? AND failed = 1",
                (*key, *key),
            ).fetchall()
            out[key] = (tuple(row), [(c, s) for c, s in failing])
        return out

    def _apply_rollups(self, days: DayDelta, criteria: CriterionDelta) -> None:
        """Add a batch's deltas to the rollups (inside the batch's transaction)."""
        conn = self.db.conn
        conn.executemany(
            "INSERT INTO day_rollups VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
            "chats = chats + excluded.chats, passed = passed + excluded.passed, "
            "score_sum = score_sum + excluded.score_sum, fatal = fatal + excluded.fatal, "
            "queued = queued + excluded.queued",
            [(*k, *v) for k, v in days.items()],
        )
        conn.executemany(
            "INSERT INTO criterion_rollups VALUES (?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
            "failed = failed + excluded.failed, fatal = fatal + excluded.fatal",
            [(*k, *v) for k, v in criteria.items()],
        )
        # a key a re-audit emptied (only keys something was taken out of can be empty)
        conn.executemany(
            "DELETE FROM day_rollups WHERE day = ? AND rubric_hash = ? AND agent_id = ? "
            "AND chats = 0",
            [k for k, v in days.items() if v[0] < 0],
        )
        conn.executemany(
            "DELETE FROM criterion_rollups WHERE day = ? AND rubric_name = ? AND agent_id = ? "
            "AND criterion = ? AND failed = 0",
            [k for k, v in criteria.items() if v[0] < 0],
        )

    # ---------------------------------------------------------------- reading back
    #: Rebuilding a result: its ``results`` row (RESULT_COLUMNS), rubric name and source.
    _RESULT_SQL = (
        "SELECT "
        + ", ".join(f"r.{c}" for c in RESULT_COLUMNS)
        + ", r.rubric_name, c.source_file, c.source_line FROM results r "
        "LEFT JOIN chats c ON c.chat_id = r.chat_id"
    )

    def _assemble(self, row: Sequence[Any]) -> dict[str, Any]:
        """The per-chat JSON result of a ``_RESULT_SQL`` row (see auditor/result_rows.py)."""
        n = len(RESULT_COLUMNS)
        key = (row[0], row[n])
        conn = self.db.conn
        findings = conn.execute(
            f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings "
            "WHERE chat_id = ? AND rubric_name = ? ORDER BY seq",
            key,
        ).fetchall()
        grades = conn.execute(
            f"SELECT {', '.join(GRADE_COLUMNS)} FROM grades_full "
            "WHERE chat_id = ? AND rubric_name = ? ORDER BY seq",
            key,
        ).fetchall()
        return result_dict(row[:n], findings, grades, (row[n + 1], row[n + 2]), self._rules)

    def result_json(self, chat_id: str, rubric_name: str | None = None) -> dict[str, Any] | None:
        if rubric_name is None:
            row = self.db.conn.execute(
                self._RESULT_SQL + " WHERE r.chat_id = ? ORDER BY r.audited_at DESC LIMIT 1",
                (chat_id,),
            ).fetchone()
        else:
            row = self.db.conn.execute(
                self._RESULT_SQL + " WHERE r.chat_id = ? AND r.rubric_name = ?",
                (chat_id, rubric_name),
            ).fetchone()
        return self._assemble(row) if row else None

    def transcript(self, transcript_hash: str) -> dict[str, Any] | None:
        """The canonical transcript (``Chat.transcript_dict``), rebuilt from its rows."""
        conn = self.db.conn
        head = conn.execute(
            f"SELECT id, {', '.join(HEADER_COLUMNS)} FROM transcripts WHERE hash = ?",
            (transcript_hash,),
        ).fetchone()
        if head is None:
            return None
        messages = conn.execute(
            f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages_full WHERE id BETWEEN ? AND ? "
            "ORDER BY id",
            message_id_range(head[0]),
        ).fetchall()
        return transcript_dict(head[1:], messages)

    def iter_results(
        self,
        *,
        run_id: str | None = None,
        agent_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        failed_only: bool = False,
    ) -> Iterator[dict[str, Any]]:
        where, params = where_clause(
            [
                ("r.run_id = ?", run_id or None),
                ("r.agent_id = ?", agent_id or None),
                ("r.day >= ?", since or None),
                ("r.day <= ?", until or None),
                ("r.passed = 0", failed_only),
            ]
        )
        sql = f"{self._RESULT_SQL}{where} ORDER BY r.started_at, r.chat_id"
        for row in self.db.conn.execute(sql, params).fetchall():
            yield self._assemble(row)

    def search(self, query: str, limit: int = 100) -> list[str]:
        """Chat ids whose message text matches ``query`` (FTS5; see auditor/fulltext.py)."""
        expr = match_query(query)
        if not expr:
            return []
        rows = self.db.conn.execute(
            "SELECT DISTINCT t.chat_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
            "JOIN transcripts t ON t.id = m.transcript_id WHERE messages_fts MATCH ? "
            "ORDER BY t.chat_id LIMIT ?",
            (expr, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def rejects(self, run_id: str | None = None) -> list[dict[str, Any]]:
        if run_id:
            return list(
                self.db.table("rejects").rows_where("run_id = ?", [run_id], order_by="file, line")
            )
        return list(self.db.table("rejects").rows_where(order_by="file, line"))

    def count(self, table: str) -> int:
        return self.db.table(table).count

    # ---------------------------------------------------------------- CallLog (llm_calls)
    def record_call(self, row: dict[str, Any]) -> None:
        row = dict(row)
        row.setdefault("created_at", now_iso())
        for key in ("request", "response"):
            if key in row and not isinstance(row[key], str | type(None)):
                row[key] = dumps(row[key])
        # A server's words may echo the key; the request is ours (the key travels in a
        # header, never in the body) and stays byte-identical to what was hashed.
        for key in ("response", "error"):
            if isinstance(row.get(key), str):
                row[key] = redact(row[key])
        self.db.table("llm_calls").insert(row, alter=True)

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        rows = list(
            self.db.table("llm_calls").rows_where(
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

    # ---- review queue ------------------------------------------------------------------
    # The queue (``review_queue``, one item per chat and rubric) and the append-only
    # ``reviews``. What goes in the queue is decided in auditor/review/policy.py; this section only
    # reads and writes rows. Whether an item is done is derived here from ``reviews`` on
    # every read (a target criterion is done once it has any review), never stored.

    _QUEUE_COLUMNS = QUEUE_COLUMNS
    _REVIEWED = (
        "EXISTS (SELECT 1 FROM reviews r WHERE r.chat_id = q.chat_id "
        "AND r.rubric_name = q.rubric_name AND r.criterion = t.key)"
    )
    _OPEN_TARGETS = f"(SELECT count(*) FROM json_each(q.targets) t WHERE NOT {_REVIEWED})"

    def _review_queue_changes(
        self,
        run_id: str,
        audited: Sequence[ChatRows],
        now: str,
        stored: Sequence[tuple[str, str]] | None = None,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
        """Queue rows to write and keys to drop for a batch (for ``save_rows``).

        A re-saved chat's item reflects its new result; sticky reasons (a quota pick made
        after an earlier audit) and the original ``queued_at`` are kept. A chat with no
        reason left leaves the queue; its reviews stay (they are history).
        """
        from .review.policy import STICKY_REASONS, queue_item_row, sort_reasons

        i_reasons = self._QUEUE_COLUMNS.index("reasons")
        i_queued_at = self._QUEUE_COLUMNS.index("queued_at")
        existing: dict[tuple[str, str], tuple[list[str], str]] = {}
        # an item is queued for a stored result only (saved with it, dropped with it)
        for key in stored if stored is not None else [(a.chat_id, a.rubric_name) for a in audited]:
            row = self.db.conn.execute(
                "SELECT reasons, queued_at FROM review_queue WHERE chat_id = ? AND rubric_name = ?",
                key,
            ).fetchone()
            if row:
                existing[key] = (loads(row[0]), row[1])
        rows, drops = [], []
        for a in audited:
            key = (a.chat_id, a.rubric_name)
            if key not in existing:  # the common case: the item as the chat's rows have it
                if a.queue is not None:
                    rows.append(a.queue)
                continue
            old_reasons, queued_at = existing[key]
            reasons = loads(a.queue[i_reasons]) if a.queue is not None else []
            sticky = [r for r in old_reasons if r in STICKY_REASONS and r not in reasons]
            if not reasons and not sticky:
                drops.append(key)
            elif not sticky and a.queue is not None:
                item = list(a.queue)
                item[i_queued_at] = queued_at
                rows.append(tuple(item))
            else:  # reasons decided after the earlier audit: the item's targets change too
                merged = sort_reasons(reasons + sticky)
                result = result_of(a)
                rubric = self.stored_rubric(a.rubric_hash)
                item_row = queue_item_row(
                    result, rubric, merged, run_id=run_id, now=now, queued_at=queued_at
                )
                rows.append(tuple(item_row[c] for c in self._QUEUE_COLUMNS))
        return rows, drops

    def upsert_queue_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace queue items (one transaction)."""
        cols = self._QUEUE_COLUMNS
        with self.db.conn:
            self.db.conn.executemany(
                f"INSERT OR REPLACE INTO review_queue ({', '.join(cols)}) "
                f"VALUES ({','.join('?' * len(cols))})",
                [tuple(r[c] for c in cols) for r in rows],
            )

    def _queue_where(self, filters: Any) -> tuple[str, list[Any]]:
        return where_clause(
            [
                (
                    "EXISTS (SELECT 1 FROM json_each(q.reasons) x WHERE x.value = ?)",
                    filters.reason or None,
                ),
                (
                    "EXISTS (SELECT 1 FROM json_each(q.targets) x WHERE x.key = ?)",
                    filters.criterion or None,
                ),
                ("q.agent_id = ?", filters.agent_id or None),
                ("q.rubric_name = ?", filters.rubric_name or None),
                ("q.day >= ?", filters.since or None),
                ("q.day <= ?", filters.until or None),
                (f"{self._OPEN_TARGETS} > 0", filters.status == "open"),
                (f"{self._OPEN_TARGETS} = 0", filters.status == "done"),
            ]
        )

    def queue_rows(
        self, filters: Any, limit: int | None = None, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Matching queue items, most urgent first (then oldest chat day), and the total;
        ``offset`` skips that many of them (a page past the first)."""
        where, params = self._queue_where(filters)
        total = self.db.conn.execute(
            f"SELECT count(*) FROM review_queue q{where}", params
        ).fetchone()[0]
        sql = (
            "SELECT q.*, (SELECT json_group_array(t.key) FROM json_each(q.targets) t "
            f"WHERE {self._REVIEWED}) AS reviewed FROM review_queue q{where} "
            f"ORDER BY {QUEUE_ORDER}"
        )
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params = [*params, -1 if limit is None else limit, max(0, offset)]
        return self.query(sql, params), total

    def queue_reason_counts(self, filters: Any) -> dict[str, int]:
        """How many matching items carry each reason (an item counts once per reason)."""
        where, params = self._queue_where(filters)
        # The filter (an item's open targets) is worked out once per item, not once per
        # reason: a subquery with a LIMIT is not flattened into the join (SQLite's rule).
        rows = self.db.conn.execute(
            f"SELECT x.value, count(*) FROM (SELECT q.reasons FROM review_queue q{where} "
            "LIMIT -1) m, json_each(m.reasons) x GROUP BY x.value",
            params,
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def queue_row(self, chat_id: str, rubric_name: str | None = None) -> dict[str, Any] | None:
        sql = (
            "SELECT q.*, (SELECT json_group_array(t.key) FROM json_each(q.targets) t "
            f"WHERE {self._REVIEWED}) AS reviewed FROM review_queue q WHERE q.chat_id = ?"
        )
        params: list[Any] = [chat_id]
        if rubric_name is not None:
            sql += " AND q.rubric_name = ?"
            params.append(rubric_name)
        rows = self.query(sql + " ORDER BY q.updated_at DESC LIMIT 1", params)
        return rows[0] if rows else None

    def reviewed_keys(self) -> set[tuple[str, str]]:
        """(chat_id, rubric_name) of every chat with at least one review."""
        if "reviews" not in self.db.table_names():
            return set()
        return {
            (c, r)
            for c, r in self.db.conn.execute("SELECT DISTINCT chat_id, rubric_name FROM reviews")
        }

    def add_reviews(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Append reviews in one transaction (all or none); their ids, in order."""
        with self.db.conn:
            return self._insert_reviews(rows, self.db.conn)

    @staticmethod
    def _insert_reviews(rows: Sequence[dict[str, Any]], conn: sqlite3.Connection) -> list[int]:
        ids = []
        for r in rows:
            cur = conn.execute(
                f"INSERT INTO reviews ({', '.join(REVIEW_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(REVIEW_COLUMNS))})",
                tuple(r.get(c) for c in REVIEW_COLUMNS),
            )
            ids.append(int(cur.lastrowid or 0))
        return ids

    def add_reviews_unless_repeated(self, rows: Sequence[dict[str, Any]]) -> list[int | None]:
        """Append reviews in one write transaction, skipping any that repeat the reviewer's
        latest review of that criterion (same level and comment); None for a skipped row.

        The check runs inside ``BEGIN IMMEDIATE``: two imports of one sheet at once are
        serialised by SQLite's write lock, so the second sees the first's rows and adds none.
        """
        conn = self.db.conn
        if conn.in_transaction:  # pragma: no cover - every write here commits
            conn.commit()
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids: list[int | None] = []
            for r in rows:
                latest = conn.execute(
                    "SELECT level, comment FROM reviews WHERE chat_id = ? AND rubric_name = ? "
                    "AND criterion = ? AND reviewer = ? ORDER BY id DESC LIMIT 1",
                    (r["chat_id"], r["rubric_name"], r["criterion"], r["reviewer"]),
                ).fetchone()
                if latest is not None and (latest[0], latest[1] or "") == (
                    r["level"],
                    r.get("comment") or "",
                ):
                    ids.append(None)
                    continue
                ids.extend(self._insert_reviews([r], conn))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return ids

    def reviews(
        self,
        chat_id: str | None = None,
        rubric_name: str | None = None,
        *,
        since: str | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """Reviews in the order they were given (``since``/``until``: UTC days, inclusive)."""
        where, params = where_clause(
            [
                ("chat_id = ?", chat_id),
                ("rubric_name = ?", rubric_name),
                ("substr(created_at, 1, 10) >= ?", since or None),
                ("substr(created_at, 1, 10) <= ?", until or None),
            ]
        )
        sql = "SELECT * FROM reviews" + where
        return self.query(sql + " ORDER BY id", params)

    def result_refs(self, chat_id: str, *, results: bool = True) -> list[dict[str, Any]]:
        """A chat's stored results (one per rubric), the most recently audited first.

        ``result`` is the per-chat JSON result (a dict), rebuilt from its rows; with
        ``results=False`` only the keys (rubric, hashes, agent, day) are read, which is all
        an access check or a rubric choice needs.
        """
        refs = self.query(
            "SELECT chat_id, rubric_name, rubric_hash, transcript_hash, agent_id, day, "
            "audited_at FROM results WHERE chat_id = ? ORDER BY audited_at DESC",
            [chat_id],
        )
        if results:
            for ref in refs:
                ref["result"] = self.result_json(chat_id, ref["rubric_name"])
        return refs

    def stored_rubric(self, rubric_hash: str) -> Rubric:
        """The exact rubric a result was audited with (content-addressed in ``rubrics``).

        Parsed once per process: a hash names one text, so every connection (the desk
        opens one per server thread) shares the parsed rubric."""
        from .rubric import parse_rubric

        cache = _RUBRIC_CACHE
        if rubric_hash not in cache:
            row = self.db.conn.execute(
                "SELECT body, path FROM rubrics WHERE hash = ?", (rubric_hash,)
            ).fetchone()
            if row is None:
                raise StoreError(f"rubric {rubric_hash} is missing from {self.path}")
            cache[rubric_hash] = parse_rubric(row[0], row[1] or f"<stored {rubric_hash}>")
        return cache[rubric_hash]

    def newest_rubric_hash(self, rubric_name: str) -> str:
        row = self.db.conn.execute(
            "SELECT rubric_hash FROM results WHERE rubric_name = ? "
            "ORDER BY audited_at DESC LIMIT 1",
            (rubric_name,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no results audited under rubric {rubric_name!r} in {self.path}")
        return str(row[0])

    def reviewed_grades(
        self, *, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Each graded (chat, criterion) with a review: the model grade and the latest review."""
        where, params = where_clause(
            [
                ("substr(r.created_at, 1, 10) >= ?", since or None),
                ("substr(r.created_at, 1, 10) <= ?", until or None),
            ]
        )
        return self.query(
            "SELECT r.chat_id, r.rubric_name, r.criterion, r.level, r.reviewer, r.created_at, "
            "g.status, g.level AS model_level, g.confidence FROM reviews r "
            "JOIN (SELECT max(id) AS id FROM reviews GROUP BY chat_id, rubric_name, criterion) "
            "latest ON latest.id = r.id "
            "JOIN grades g ON g.chat_id = r.chat_id AND g.rubric_name = r.rubric_name "
            "AND g.criterion = r.criterion"
            + where
            + " ORDER BY r.rubric_name, r.criterion, r.chat_id",
            params,
        )

    def run_agents(self, run_id: str) -> list[dict[str, Any]]:
        """The (rubric, agent) pairs a run audited, with the agent's last chat day in the run."""
        return self.query(
            "SELECT rubric_name, agent_id, max(day) AS last_day FROM results "
            "WHERE run_id = ? AND agent_id IS NOT NULL AND day IS NOT NULL "
            "GROUP BY rubric_name, agent_id "
            "ORDER BY rubric_name, agent_id",
            [run_id],
        )

    def agent_results(
        self,
        rubric_name: str,
        agent_id: str,
        *,
        since: str | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """An agent's audited chats under a rubric from a day up to a day: chat id, day, model
        verdict."""
        # chats exported without timestamps have no day: per-day quotas cannot count them
        sql = (
            "SELECT chat_id, day, passed FROM results "
            "WHERE rubric_name = ? AND agent_id = ? AND day IS NOT NULL"
        )
        params: list[Any] = [rubric_name, agent_id]
        if since:
            sql += " AND day >= ?"
            params.append(since)
        if until:
            sql += " AND day <= ?"
            params.append(until)
        return self.query(sql + " ORDER BY day, chat_id", params)

    def agent_first_day(
        self, rubric_name: str, agent_id: str, *, until: str | None = None
    ) -> str | None:
        """The first day the agent has an audited chat under the rubric (up to a day), or None
        (the results' index by agent and day answers it without reading the history)."""
        sql = "SELECT min(day) FROM results WHERE rubric_name = ? AND agent_id = ?"
        params: list[Any] = [rubric_name, agent_id]
        if until:
            sql += " AND day <= ?"
            params.append(until)
        (day,) = self.db.conn.execute(sql, params).fetchone()
        return None if day is None else str(day)

    def run_days(self, run_id: str) -> list[str]:
        """The chat days a run audited (chats without a day are left out)."""
        rows = self.db.conn.execute(
            "SELECT DISTINCT day FROM results WHERE run_id = ? AND day IS NOT NULL ORDER BY day",
            (run_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def day_volumes(self, day: str) -> list[dict[str, Any]]:
        """Audited chats of a day per rubric and agent."""
        return self.query(
            "SELECT rubric_name, agent_id, count(*) AS chats FROM results WHERE day = ? "
            "GROUP BY rubric_name, agent_id ORDER BY rubric_name, agent_id",
            [day],
        )

    def day_queue(self, day: str) -> list[dict[str, Any]]:
        """A day's queue items in the order the queue is worked, each with its reasons and
        whether it has any review."""
        rows = self.db.conn.execute(
            "SELECT q.chat_id, q.rubric_name, q.reasons, EXISTS (SELECT 1 FROM reviews r "
            "WHERE r.chat_id = q.chat_id AND r.rubric_name = q.rubric_name) "
            f"FROM review_queue q WHERE q.day = ? ORDER BY {QUEUE_ORDER}",
            (day,),
        ).fetchall()
        return [
            {"chat_id": c, "rubric_name": r, "reasons": loads(reasons), "reviewed": bool(seen)}
            for c, r, reasons, seen in rows
        ]

    def drop_queue_items(self, keys: Sequence[tuple[str, str]]) -> None:
        """Take items out of the queue (one transaction); their results and reviews stay."""
        with self.db.conn:
            self.db.conn.executemany(
                "DELETE FROM review_queue WHERE chat_id = ? AND rubric_name = ?", keys
            )

    def agent_queue_reasons(
        self, rubric_name: str, agent_id: str, since: str, until: str
    ) -> dict[str, list[str]]:
        """chat id -> queue reasons, for an agent's queued chats in a window of chat days."""
        rows = self.db.conn.execute(
            "SELECT chat_id, reasons FROM review_queue WHERE rubric_name = ? AND agent_id = ? "
            "AND day >= ? AND day <= ?",
            (rubric_name, agent_id, since, until),
        ).fetchall()
        return {r[0]: loads(r[1]) for r in rows}

    # --- auditor watch: per-file progress (m014_imports) ------------------------------------

    def watch_state(self, path: str) -> dict[str, Any] | None:
        """How far ``path`` (an absolute path in a watched folder) has been audited."""
        row = self.db.conn.execute(
            "SELECT head, offset, lines, size, mtime FROM watch_files WHERE path = ?", (path,)
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("head", "offset", "lines", "size", "mtime"), row, strict=True))

    def save_watch_state(
        self, path: str, *, head: str, offset: int, lines: int, size: int, mtime: float
    ) -> None:
        """Record progress after the chats up to ``offset`` were saved (one transaction)."""
        with self.db.conn:
            self.db.conn.execute(
                "INSERT OR REPLACE INTO watch_files VALUES (?,?,?,?,?,?,?)",
                (path, head, offset, lines, size, mtime, now_iso()),
            )


class _HitRules(dict[int, str]):
    """``hit_rules`` (m019_compact_findings) as read so far: a rule is looked up once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self._conn = conn

    def get(self, key: int, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, key, default)

    def __missing__(self, key: int) -> str:
        row = self._conn.execute("SELECT rule FROM hit_rules WHERE id = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        self[key] = row[0]
        return str(row[0])


def _iso(ts: datetime | None) -> str | None:
    """A timestamp as stored; None for a chat exported without timestamps."""
    return ts.isoformat() if ts is not None else None
