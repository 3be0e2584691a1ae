"""Reviews: resolve the audited chat a review is about, validate and append it, and derive
the effective result (the latest human level per criterion in place of the model's).

Reviews only append rows; the effective result is derived with
``scoring.rescore_with_reviews``; the stored model result is never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..models import Chat, ChatResult, Message, ReviewInfo
from ..rubric import Rubric
from ..scoring import rescore_with_reviews
from .policy import level_problem

if TYPE_CHECKING:
    from ..store import Store

# ---------------------------------------------------------------------------- reviews


@dataclass
class AuditedRef:
    """A stored result, resolved: which rubric it was audited under, and that rubric."""

    chat_id: str
    rubric_name: str
    rubric: Rubric
    result: ChatResult
    transcript_hash: str


def resolve_audited(
    store: Store,
    chat_id: str,
    rubric_name: str | None = None,
    *,
    refs: list[dict[str, Any]] | None = None,
) -> AuditedRef:
    """The stored result a review is about; a chat audited under several rubrics needs a name.

    ``refs``: the chat's ``store.result_refs(chat_id, results=False)``, when the caller read
    them already (an access check); only the chosen result is then rebuilt.
    """
    rows = refs if refs is not None else store.result_refs(chat_id, results=False)
    if rubric_name is not None:
        rows = [r for r in rows if r["rubric_name"] == rubric_name]
    if not rows:
        where = f" under rubric {rubric_name!r}" if rubric_name else ""
        raise UsageError(f"no audited chat {chat_id!r}{where} in {store.path}")
    if len(rows) > 1:
        names = ", ".join(r["rubric_name"] for r in rows)
        raise UsageError(
            f"chat {chat_id!r} was audited under several rubrics ({names}): pass --rubric"
        )
    row = rows[0]
    stored = row.get("result") or store.result_json(chat_id, row["rubric_name"])
    return AuditedRef(
        chat_id=chat_id,
        rubric_name=row["rubric_name"],
        rubric=store.stored_rubric(row["rubric_hash"]),
        result=ChatResult.model_validate(stored),
        transcript_hash=row["transcript_hash"],
    )


def review_row(
    ref: AuditedRef,
    criterion: str,
    level: str,
    reviewer: str,
    *,
    comment: str = "",
    source: str = "cli",
    now: str | None = None,
) -> dict[str, Any]:
    """A validated ``reviews`` row; raises UsageError naming what is wrong."""
    problem = level_problem(ref.rubric, criterion, level)
    if problem:
        raise UsageError(problem)
    if not reviewer.strip():
        raise UsageError("a review needs a reviewer: pass --reviewer or set AUDITOR_REVIEWER")
    return {
        "chat_id": ref.chat_id,
        "rubric_name": ref.rubric_name,
        "rubric": ref.rubric.id,
        "transcript_hash": ref.transcript_hash,
        "criterion": criterion,
        "level": level,
        "reviewer": reviewer.strip(),
        "comment": comment or "",
        "created_at": now or datetime.now(UTC).isoformat(timespec="milliseconds"),
        "source": source,
    }


def record_review(
    store: Store,
    chat_id: str,
    criterion: str,
    level: str,
    *,
    reviewer: str,
    comment: str = "",
    rubric_name: str | None = None,
    source: str = "cli",
    ref: AuditedRef | None = None,
) -> int:
    """Append one review (validated against the rubric the chat was audited with); its id.

    ``ref``: the chat's ``resolve_audited``, when the caller resolved it already."""
    if ref is None or ref.chat_id != chat_id:
        ref = resolve_audited(store, chat_id, rubric_name)
    row = review_row(ref, criterion, level.strip(), reviewer, comment=comment, source=source)
    return store.add_reviews([row])[0]


def latest_levels(store: Store, chat_id: str, rubric_name: str) -> dict[str, str]:
    """criterion -> the latest human level (the last review appended wins)."""
    return {r["criterion"]: r["level"] for r in store.reviews(chat_id, rubric_name)}


def chat_from_transcript(body: dict[str, Any]) -> Chat:
    """Rebuild the Chat from its stored canonical transcript (for re-scoring)."""
    return Chat(
        chat_id=body["chat_id"],
        agent_id=body.get("agent_id"),
        customer_id=body.get("customer_id"),
        channel=body.get("channel"),
        language=body["language"],
        messages=[Message.model_validate(m) for m in body["messages"]],
    )


def effective_result(
    store: Store,
    chat_id: str,
    rubric_name: str | None = None,
    *,
    ref: AuditedRef | None = None,
    queue_row: dict[str, Any] | None = None,
) -> ChatResult | None:
    """The chat's result with the latest human level per criterion in place of the model's.

    The stored model result is never changed. Without reviews this is the stored result;
    ``review`` carries the queue reasons (including quota picks made after the audit).
    ``rubric_name=None`` takes the most recently audited result, like ``auditor show``.
    ``ref`` / ``queue_row``: the chat's resolved result and its ``store.queue_row``, when
    the caller (the desk's chat page) read them already; nothing is then read twice.
    """
    row: dict[str, Any]
    if ref is not None:
        row = {"rubric_name": ref.rubric_name, "rubric_hash": None,
               "transcript_hash": ref.transcript_hash}  # fmt: skip
        result = ref.result.model_copy()
    else:
        refs = store.result_refs(chat_id)
        if rubric_name is not None:
            refs = [r for r in refs if r["rubric_name"] == rubric_name]
        if not refs:
            return None
        row = refs[0]  # newest audit first
        result = ChatResult.model_validate(row["result"])
    item = queue_row if queue_row is not None else store.queue_row(chat_id, row["rubric_name"])
    if item is not None:
        import orjson

        result.review = ReviewInfo(queued=True, reasons=orjson.loads(item["reasons"]))
    else:  # not (or no longer) queued: over the day's capacity, or reviewed and re-audited
        result.review = ReviewInfo(queued=False, reasons=result.review.reasons)
    levels = latest_levels(store, chat_id, row["rubric_name"])
    if not levels:
        return result
    rubric = ref.rubric if ref is not None else store.stored_rubric(row["rubric_hash"])
    body = store.transcript(row["transcript_hash"])
    if body is None:  # pragma: no cover - transcripts are saved with their results
        raise UsageError(f"the transcript of {chat_id!r} is missing from {store.path}")
    out = rescore_with_reviews(result, rubric, levels, chat_from_transcript(body))
    return out.model_copy(
        update={
            "warnings": result.warnings,
            "source": result.source,
            "review": result.review,
            "reviewed_criteria": sorted(levels),
        }
    )


def with_reviews_applied(
    store: Store, results: Iterable[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Stored result JSONs, each replaced by its effective result where reviewers scored it.

    One query finds the reviewed chats up front, so unreviewed rows (the vast majority)
    stream through untouched.
    """
    reviewed = store.reviewed_keys()
    for r in results:
        key = (r["chat_id"], r["rubric"].partition("@")[0])
        if key in reviewed:
            eff = effective_result(store, *key)
            yield eff.to_json() if eff is not None else r
        else:
            yield r
