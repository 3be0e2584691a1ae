"""A per-chat result rebuilt from its rows: the store keeps each result once (m010_lean_store).

``results`` holds the verdict, metrics and review reasons of a chat, ``findings`` and
``grades`` one row per criterion (``seq`` keeps the order the result listed them in), and
``chats`` where the chat came from. :func:`result_dict` puts these back together into the
exact JSON :meth:`ChatResult.to_json` gives (a test compares the two on every chat of the
example day), so ``show``, ``export``, the review queue and the reports read what was audited
without a second copy of it in the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

#: ``results`` columns a result is rebuilt from, in this order.
RESULT_COLUMNS = (
    "chat_id",
    "agent_id",
    "language",
    "rubric",
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
    "review_queued",
    "review_reasons",
    "warnings",
    "transcript_hash",
    "started_at",
    "grader",
    "failed_criteria",
    "unscored_criteria",
    "provisional",
)
FINDING_COLUMNS = (
    '"check"',
    "criterion",
    "status",
    "severity",
    "points_lost",
    "evidence",
    "detail",
    "data",
)
GRADE_COLUMNS = (
    "criterion",
    "status",
    "level",
    "points_lost",
    "severity",
    "failed",
    "evidence",
    "rationale",
    "confidence",
    "grader",
    "model",
    "prompt_version",
    "error",
    "flags",
)


def _json(text: str | None, default: Any) -> Any:
    return default if text is None else orjson.loads(text)


def _evidence(text: str | None) -> list[dict[str, str]]:
    """Stored evidence ``[[message_id, quote], ...]`` as the result's ``[{message_id, quote}]``."""
    return [{"message_id": m, "quote": q} for m, q in _json(text, [])]


def _finding(
    evidence: str | None, data: str | None, rules: Mapping[int, str]
) -> tuple[list[dict[str, str]], Any]:
    """A finding's evidence and data as stored (m019_compact_findings) as the result's: a hit's
    rule stored as its ``hit_rules`` id is its text again, and evidence left out (NULL) is
    the hits' message ids and texts."""
    value = _json(data, {})
    hits = value.get("hits") if isinstance(value, dict) else None
    if hits and isinstance(hits, list):
        for h in hits:
            if isinstance(h, dict) and isinstance(h.get("rule"), int):
                h["rule"] = rules[h["rule"]]
        if evidence is None:
            return [{"message_id": h["message_id"], "quote": h["text"]} for h in hits], value
    return _evidence(evidence), value


def _when(iso: str | None) -> str | None:
    """A stored ISO time as pydantic writes it in JSON (UTC as ``Z``)."""
    if iso is not None and iso.endswith("+00:00"):
        return iso[:-6] + "Z"
    return iso


def result_dict(
    row: Sequence[Any],
    findings: Sequence[Sequence[Any]],
    grades: Sequence[Sequence[Any]],
    source: tuple[str | None, int | None] | None,
    rules: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """The per-chat JSON result from a ``results`` row (RESULT_COLUMNS) and its child rows;
    ``rules``: the ``hit_rules`` the findings' hits name by id (m019_compact_findings)."""
    r = dict(zip(RESULT_COLUMNS, row, strict=True))
    rules = {} if rules is None else rules
    read = [(f, _finding(f[5], f[7], rules)) for f in findings]
    return {
        "chat_id": r["chat_id"],
        "agent_id": r["agent_id"],
        "language": r["language"],
        "rubric": r["rubric"],
        "score": r["score"],
        "passed": bool(r["passed"]),
        "fatal": bool(r["fatal"]),
        "metrics": {
            "first_response_s": r["first_response_s"],
            "max_followup_s": r["max_followup_s"],
            "avg_response_s": r["avg_response_s"],
            "followup_violations": r["followup_violations"],
            "hold_count": r["hold_count"],
            "typo_count": r["typo_count"],
            "unanswered_customer": bool(r["unanswered_customer"]),
        },
        "findings": [
            {
                "criterion": criterion,
                "check": check,
                "status": status,
                "severity": severity,
                "points_lost": points_lost,
                "evidence": evidence,
                "detail": detail or "",
                "data": data,
            }
            for (check, criterion, status, severity, points_lost, _, detail, _), (
                evidence,
                data,
            ) in read
        ],
        "grades": [
            {
                "criterion": g[0],
                "status": g[1],
                "level": g[2],
                "points_lost": g[3],
                "severity": g[4],
                "failed": bool(g[5]),
                "evidence": _evidence(g[6]),
                "rationale": g[7] or "",
                "confidence": g[8],
                "grader": g[9] or "",
                "model": g[10],
                "prompt_version": g[11],
                "error": g[12],
                "flags": _json(g[13], []),
            }
            for g in grades
        ],
        "review": {
            "queued": bool(r["review_queued"]),
            "reasons": _json(r["review_reasons"], []),
        },
        "warnings": _json(r["warnings"], []),
        "transcript_hash": r["transcript_hash"] or "",
        "started_at": _when(r["started_at"]),
        "source": (
            {"file": source[0], "line": source[1]}
            if source is not None and source[0] is not None and source[1] is not None
            else None
        ),
        "grader": r["grader"] or "",
        "failed_criteria": _json(r["failed_criteria"], []),
        "unscored_criteria": _json(r["unscored_criteria"], []),
        "provisional": bool(r["provisional"]),
        "reviewed_criteria": [],
    }
