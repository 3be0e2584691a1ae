"""The rows one audited chat is stored as: a pure function, no database.

``Store.save_batch`` writes them; ``auditor audit --workers N`` builds them in the worker
processes, so what travels back to the one writer is plain tuples (a few dozen µs a chat to
pickle), not pydantic results (about ten times that).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from .errors import StoreError
from .fulltext import searchable_text
from .models import ChatResult
from .patterns import Failure, pattern_rows
from .review.policy import queue_item_row
from .transcript_rows import compact_times

#: Queue row columns, in the order ``Store`` writes them.
QUEUE_COLUMNS = (
    "chat_id",
    "rubric_name",
    "rubric",
    "agent_id",
    "day",
    "started_at",
    "reasons",
    "targets",
    "priority",
    "run_id",
    "queued_at",
    "updated_at",
    "min_confidence",
    "cue_evidence",
)


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode("utf-8")


def grade_source_key(
    grader: str, model: str | None, prompt_version: str | None, flags: list[str]
) -> str:
    """What graded a grade, as the key of its ``grade_sources`` row (m018_compact_rows): the
    grader, model, prompt version and flags are the same in every grade of a run, so each
    grade names a row of that small table instead of repeating them (~45 bytes a grade)."""
    return dumps([grader, model, prompt_version, flags])


def grade_source_row(key: str) -> tuple[str, str, str, str | None, str | None, str]:
    """The ``grade_sources`` row (name, key, grader, model, prompt_version, flags) of a key;
    ``name`` is the label Datasette shows beside a grade's ``source``."""
    grader, model, prompt_version, flags = orjson.loads(key)
    name = " · ".join(str(x) for x in (grader, model, prompt_version) if x)
    if flags:
        name += " · " + ", ".join(flags)
    return name, key, grader, model, prompt_version, dumps(flags)


#: A hit's rule longer than this is stored as its ``hit_rules`` id (at most 13 digits).
RULE_ID_MIN = 13


def rule_id(rule: str) -> int:
    """The ``hit_rules`` id of a rule: 40 bits of its BLAKE2b hash, so the worker processes
    name a rule without asking the writer (the writer checks that no two rules share one)."""
    return int.from_bytes(hashlib.blake2b(rule.encode("utf-8"), digest_size=5).digest(), "big")


def _list(value: list[Any]) -> str:
    """A list as stored (JSON); most are empty."""
    return dumps(value) if value else "[]"


#: rule_id of the (few) rules seen: a rubric's hits name the same rules all day
_RULE_IDS: dict[str, int] = {}


def _rule_id(rule: str) -> int:
    """:func:`rule_id`, remembered."""
    rid = _RULE_IDS.get(rule)
    if rid is None:
        rid = rule_id(rule)
        if len(_RULE_IDS) < 4096:
            _RULE_IDS[rule] = rid
    return rid


def compact_finding_pairs(
    pairs: list[list[Any]], data: dict[str, Any] | None, rules: dict[int, str]
) -> tuple[str | None, str | None]:
    """A finding's ``evidence`` (as ``[message_id, quote]`` pairs) and ``data`` as stored
    (m019_compact_findings): the evidence is left out (NULL) where it is exactly the hits in
    ``data`` (each hit's message and text), and a hit's rule longer than RULE_ID_MIN
    characters is its ``hit_rules`` id (added to ``rules``). auditor/result_rows.py gives
    both back as they were."""
    if not data:
        return _list(pairs), None
    hits = data.get("hits")
    if not hits or not isinstance(hits, list) or not all(isinstance(h, dict) for h in hits):
        return _list(pairs), dumps(data)
    stored_evidence: str | None = None
    if not (
        all(h.get("text") for h in hits)
        and pairs == [[h.get("message_id"), h["text"]] for h in hits]
    ):
        stored_evidence = _list(pairs)
    out: list[dict[str, Any]] | None = None  # the hits with rules as ids, once one is
    for i, h in enumerate(hits):
        rule = h.get("rule")
        if isinstance(rule, str) and len(rule) > RULE_ID_MIN:
            rid = _rule_id(rule)
            rules[rid] = rule
            if out is None:
                out = hits[:i]
            out.append({**h, "rule": rid})
        elif out is not None:
            out.append(h)
    return stored_evidence, dumps(data if out is None else {**data, "hits": out})


def compact_evidence(evidence: list[dict[str, Any]]) -> str:
    """Evidence as stored: ``[[message_id, quote], ...]`` (the keys of every quote spelt
    out were ~5% of the database); auditor/result_rows.py expands it back."""
    return dumps([[e["message_id"], e["quote"]] for e in evidence])


#: grade_source_key of the (few) graders seen, by (grader, model, prompt version, flags)
_SOURCE_KEYS: dict[tuple[Any, ...], str] = {}


def _source_key(
    grader: str, model: str | None, prompt_version: str | None, flags: list[str]
) -> str:
    """:func:`grade_source_key`, remembered (every grade of a run names one of a few)."""
    memo = (grader, model, prompt_version, *flags)
    got = _SOURCE_KEYS.get(memo)
    if got is None:
        got = grade_source_key(grader, model, prompt_version, flags)
        if len(_SOURCE_KEYS) < 1024:
            _SOURCE_KEYS[memo] = got
    return got


class ChatRows(NamedTuple):
    """One audited chat as rows for each table (see ``Store.save_rows``)."""

    chat_id: str
    rubric_name: str
    rubric_hash: str
    #: (hash, transcripts header row with ``started_at``, message tuples without ids:
    #: message_id, role, author, ts (as stored: transcript_rows.compact_times), text, auto;
    #: each message's text as the full-text index holds it)
    transcript: tuple[str, tuple[Any, ...], list[tuple[Any, ...]], list[str]]
    chat: tuple[Any, ...]
    result: tuple[Any, ...]
    findings: list[tuple[Any, ...]]
    grades: list[tuple[Any, ...]]
    patterns: list[tuple[Any, ...]]
    #: the queue item for the chat's own reasons (None: no reason); the writer merges
    #: reasons decided after an earlier audit (sticky) and keeps the first ``queued_at``
    queue: tuple[Any, ...] | None
    #: the ``hit_rules`` rows (id, rule) the findings' hits name by id (m019_compact_findings)
    rules: tuple[tuple[int, str], ...] = ()


def chat_rows(a: Any, run_id: str, now: str) -> ChatRows:
    """The rows of an ``AuditedChat`` (chat, rubric, result, grader_key)."""
    chat, res, rubric = a.chat, a.result, a.rubric
    chat_id, rubric_name = chat.chat_id, rubric.name
    # the canonical transcript's rows straight from the chat (what Chat.transcript_dict
    # holds, without a JSON round trip), and the text the full-text index holds
    chat_messages = chat.messages
    started, times = compact_times([m.ts for m in chat_messages])
    messages = []
    indexed = []
    for m, ts in zip(chat_messages, times, strict=True):
        md = m.__dict__  # the fields, as read below from findings and grades
        text = md["text"]
        messages.append((md["id"], md["role"], md["author"], ts, text, 1 if md["auto"] else 0))
        # Han runs are what searchable_text rewrites: ASCII text (str.isascii, a flag
        # read) is indexed as it is, without the call
        indexed.append(text if text.isascii() else searchable_text(text))
    header = (chat_id, chat.agent_id, chat.customer_id, chat.channel, chat.language, started)
    transcript = (res.transcript_hash, header, messages, indexed)
    # ``started`` is the first message's time as ISO text (None without timestamps)
    last = chat_messages[-1].ts
    source = chat.source
    chat_row = (
        chat_id,
        res.transcript_hash,
        chat.agent_id,
        chat.customer_id,
        chat.channel,
        chat.language,
        started,
        None if last is None else last.isoformat(),
        len(chat_messages),
        source.file if source else None,
        source.line if source else None,
        _list(chat.warnings),
        run_id,
    )
    m = res.metrics
    review = res.review
    result_row = (
        chat_id,
        rubric_name,
        rubric.id,
        rubric.hash,
        res.transcript_hash,
        res.grader,
        a.grader_key,
        run_id,
        chat.agent_id,
        chat.language,
        started,
        None if started is None else started[:10],  # the first message's local date
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
        _list(res.failed_criteria),
        _list(res.unscored_criteria),
        int(review.queued),
        _list(review.reasons),
        now,
        _list(res.warnings),
        int(res.provisional),
    )
    findings: list[tuple[Any, ...]] = []
    grades: list[tuple[Any, ...]] = []
    failing: list[Failure] = []
    rules: dict[int, str] = {}
    # a finding's and a grade's fields read from its ``__dict__`` (pydantic keeps every
    # field there): a model's attribute goes through BaseModel's ``__getattr__`` hook,
    # which the interpreter cannot specialise (~20 ns more a read, ~200 reads a chat)
    for seq, f in enumerate(res.findings):
        fd = f.__dict__
        quotes = fd["evidence"]
        data = fd["data"]
        pairs = [[e.message_id, e.quote] for e in quotes] if quotes else []
        status = fd["status"]
        if status == "fail":  # the evidence as dicts only for a failure's patterns
            evidence = [{"message_id": mid, "quote": quote} for mid, quote in pairs]
            failing.append((fd["criterion"], fd["check"], evidence, data))
        stored_evidence, stored_data = compact_finding_pairs(pairs, data, rules)
        findings.append(
            (
                chat_id,
                rubric_name,
                fd["criterion"],
                fd["check"],
                status,
                fd["severity"],
                fd["points_lost"],
                stored_evidence,
                fd["detail"],
                stored_data,
                seq,
            )
        )
    # the grades of a chat come from one grader: its source key is worked out once
    grader_seen: tuple[Any, ...] | None = None
    source_key = ""
    for seq, g in enumerate(res.grades):
        gd = g.__dict__
        quotes = gd["evidence"]
        failed = gd["failed"]
        if failed:
            evidence = [{"message_id": e.message_id, "quote": e.quote} for e in quotes]
            failing.append((gd["criterion"], None, evidence, None))
        grader = (gd["grader"], gd["model"], gd["prompt_version"], gd["flags"])
        if grader != grader_seen:
            grader_seen = grader
            source_key = _source_key(*grader)
        grades.append(
            (
                chat_id,
                rubric_name,
                gd["criterion"],
                gd["status"],
                gd["level"],
                gd["points_lost"],
                1 if failed else 0,
                gd["severity"],
                gd["confidence"],
                _list([[e.message_id, e.quote] for e in quotes]),
                gd["rationale"],
                source_key,
                gd["error"],
                seq,
            )
        )
    # the common-problem patterns of the failures (auditor/patterns.py, m005)
    patterns = [(chat_id, rubric_name, *p) for p in pattern_rows(failing)] if failing else []
    queue = None
    if review.queued and review.reasons:
        item = queue_item_row(res, rubric, list(review.reasons), run_id=run_id, now=now)
        queue = tuple(item[c] for c in QUEUE_COLUMNS)
    return ChatRows(
        chat_id,
        rubric_name,
        rubric.hash,
        transcript,
        chat_row,
        result_row,
        findings,
        grades,
        patterns,
        queue,
        tuple(rules.items()),
    )


def result_of(rows: ChatRows) -> ChatResult:
    """The ChatResult of a chat's rows (the writer's rare path: re-queueing a re-audited
    chat with reasons decided after its earlier audit)."""
    from .result_rows import RESULT_COLUMNS, result_dict

    by_name = dict(zip(RESULT_ROW_COLUMNS, rows.result, strict=True))
    row = tuple(by_name[c] for c in RESULT_COLUMNS)
    findings = [(f[3], f[2], f[4], f[5], f[6], f[7], f[8], f[9]) for f in rows.findings]
    # grades rows: chat_id, rubric_name, criterion, status, level, points_lost, failed,
    # severity, confidence, evidence, rationale, source key, error, seq
    grades = []
    for g in rows.grades:
        grader, model, prompt_version, flags = orjson.loads(g[11])
        # -> GRADE_COLUMNS
        grades.append(
            (*(g[i] for i in (2, 3, 4, 5, 7, 6, 9, 10, 8)), grader, model, prompt_version, g[12])
            + (dumps(flags),)
        )
    source = (rows.chat[9], rows.chat[10])
    return ChatResult.model_validate(result_dict(row, findings, grades, source, dict(rows.rules)))


#: The ``results`` columns of ``ChatRows.result``, in order.
RESULT_ROW_COLUMNS = (
    "chat_id",
    "rubric_name",
    "rubric",
    "rubric_hash",
    "transcript_hash",
    "grader",
    "grader_key",
    "run_id",
    "agent_id",
    "language",
    "started_at",
    "day",
    "score",
    "passed",
    "fatal",
    "first_response_s",
    "max_followup_s",
    "avg_response_s",
    "followup_violations",
    "hold_count",
    "typo_count",
    "unanswered_customer",
    "failed_criteria",
    "unscored_criteria",
    "review_queued",
    "review_reasons",
    "audited_at",
    "warnings",
    "provisional",
)


def add_hit_rules(conn: sqlite3.Connection, rules: Mapping[int, str]) -> None:
    """Insert ``hit_rules`` rows the table lacks; a rule whose id another rule already holds
    is an error, not a mix-up (the audit's batches and the m019 migration both write here)."""
    for rid, rule in rules.items():
        conn.execute("INSERT OR IGNORE INTO hit_rules (id, rule) VALUES (?, ?)", (rid, rule))
        (stored,) = conn.execute("SELECT rule FROM hit_rules WHERE id = ?", (rid,)).fetchone()
        if stored != rule:
            raise StoreError(f"hit_rules id {rid} names both {stored!r} and {rule!r}")
