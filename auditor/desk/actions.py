"""What a desk user does: review a criterion, claim and release queue items, file and
resolve disputes. Each function checks the user's role first, validates everything before
writing, and writes in one transaction, so a refused or invalid action leaves no row.

A review goes through ``auditor.review.record_review`` (the same rules as
``auditor review score``: the criterion and level are checked against the rubric the chat
was audited with) and the effective score is ``auditor.review.effective_result``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import UsageError
from ..review import (
    AuditedRef,
    effective_result,
    level_problem,
    queue_item,
    queue_item_of,
    record_review,
    resolve_audited,
    review_row,
)
from ..store import Store, now_iso
from .access import require_agent_access, require_role
from .errors import Conflict, DeskError, NotFound
from .tables import DeskTables, User

#: The longest comment or reason accepted (characters): a paragraph, not a document.
MAX_TEXT = 2000


def check_text(value: Any, field: str, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DeskError(f"{field} must be text")
    value = value.strip()
    if required and not value:
        raise DeskError(f"{field} is required")
    if len(value) > MAX_TEXT:
        raise DeskError(f"{field} is {len(value):,} characters long; at most {MAX_TEXT:,} allowed")
    return value


def audited(store: Store, user: User, chat_id: Any, rubric_name: Any = None) -> AuditedRef:
    """The audited chat, after the access check (an agent: only their own)."""
    if not isinstance(chat_id, str) or not chat_id:
        raise DeskError("chat_id is required")
    refs = store.result_refs(chat_id, results=False)
    if not refs:
        raise NotFound(f"no audited chat {chat_id!r}")
    for r in refs:
        require_agent_access(user, r["agent_id"])
    try:
        return resolve_audited(store, chat_id, rubric_name or None, refs=refs)
    except UsageError as e:
        raise NotFound(str(e)) if rubric_name else DeskError(str(e)) from e


def effective_summary(
    store: Store, chat_id: str, rubric_name: str, ref: AuditedRef | None = None
) -> dict[str, Any]:
    row = store.queue_row(chat_id, rubric_name)
    item = queue_item_of(row) if row else None
    eff = effective_result(store, chat_id, rubric_name, ref=ref, queue_row=row)
    return {
        "effective_score": eff.score if eff else None,
        "effective_passed": eff.passed if eff else None,
        "queue_status": item.status if item else None,
        "still_to_review": [c for c in item.targets if c not in item.reviewed] if item else [],
    }


def submit_review(
    store: Store,
    user: User,
    chat_id: Any,
    criterion: Any,
    level: Any,
    comment: Any = "",
    *,
    rubric_name: Any = None,
    source: str = "web",
) -> dict[str, Any]:
    """Append one review as ``auditor review score`` does; the review id and new scores."""
    require_role(user, "reviewer", "lead")
    comment = check_text(comment, "comment")
    if not isinstance(criterion, str) or not criterion:
        raise DeskError("criterion is required")
    if not isinstance(level, str) or not level.strip():
        raise DeskError("level is required")
    ref = audited(store, user, chat_id, rubric_name)
    problem = level_problem(ref.rubric, criterion, level.strip())
    if problem:
        raise DeskError(problem)
    tables = DeskTables(store)
    holder = tables.claims([(ref.chat_id, ref.rubric_name)]).get((ref.chat_id, ref.rubric_name))
    if source == "web" and holder is not None and holder != user.name:
        raise Conflict(f"{ref.chat_id} is claimed by {holder}: pick another item")
    rid = record_review(
        store, ref.chat_id, criterion, level, reviewer=user.name, comment=comment,
        rubric_name=ref.rubric_name, source=source, ref=ref,
    )  # fmt: skip
    out = {"id": rid, "chat_id": ref.chat_id, "rubric_name": ref.rubric_name,
           "criterion": criterion, "level": level.strip(), "reviewer": user.name,
           "model_score": ref.result.score}  # fmt: skip
    out |= effective_summary(store, ref.chat_id, ref.rubric_name, ref)
    if out["queue_status"] == "done" and holder == user.name:
        tables.release(ref.chat_id, ref.rubric_name, user.id)  # the work is done
    return out


def claim(store: Store, user: User, chat_id: Any, rubric_name: Any = None) -> dict[str, Any]:
    """Take a queue item so that no other reviewer works it; 409 if another holds it."""
    require_role(user, "reviewer", "lead")
    ref = audited(store, user, chat_id, rubric_name)
    item = queue_item(store, ref.chat_id, ref.rubric_name)
    if item is None:
        raise NotFound(f"{ref.chat_id} is not in the review queue")
    if item.done:
        # Finishing an item releases its claim while its reviewer may still be on the page
        # (a second look, a corrected level); a claim taken from a stale queue page then
        # would lock them out of their own item. A done item has nothing left to claim for.
        raise Conflict(f"{ref.chat_id} is reviewed already: pick another item")
    tables = DeskTables(store)
    holder_id = tables.claim(ref.chat_id, ref.rubric_name, user.id)
    if holder_id != user.id:
        holder = tables.user(holder_id) if holder_id is not None else None
        raise Conflict(f"{ref.chat_id} is claimed by {holder.name if holder else 'someone'}")
    return {"chat_id": ref.chat_id, "rubric_name": ref.rubric_name, "claimed_by": user.name}


def release(store: Store, user: User, chat_id: Any, rubric_name: Any = None) -> dict[str, Any]:
    """Give a claimed item back (a lead may release anyone's)."""
    require_role(user, "reviewer", "lead")
    ref = audited(store, user, chat_id, rubric_name)
    tables = DeskTables(store)
    holder = tables.claims([(ref.chat_id, ref.rubric_name)]).get((ref.chat_id, ref.rubric_name))
    if holder is None:
        raise Conflict(f"{ref.chat_id} is not claimed")
    if holder != user.name and user.role != "lead":
        raise Conflict(f"{ref.chat_id} is claimed by {holder}; only they or a lead can release it")
    tables.release(ref.chat_id, ref.rubric_name, None if user.role == "lead" else user.id)
    return {"chat_id": ref.chat_id, "rubric_name": ref.rubric_name, "claimed_by": None}


# ---------------------------------------------------------------------------- disputes


def _current_level(store: Store, ref: AuditedRef, criterion: str) -> str | None:
    eff = effective_result(store, ref.chat_id, ref.rubric_name)
    if eff is None:  # pragma: no cover - the ref exists
        return None
    for f in eff.findings:
        if f.criterion == criterion:
            return f.status
    for g in eff.grades:
        if g.criterion == criterion:
            return g.level or g.status
    return None


def file_dispute(
    store: Store,
    user: User,
    chat_id: Any,
    criterion: Any,
    reason: Any,
    *,
    level: Any = None,
    rubric_name: Any = None,
) -> dict[str, Any]:
    """An agent disputes a finding or grade of one of their chats, with a reason."""
    require_role(user, "agent")
    reason = check_text(reason, "reason", required=True)
    ref = audited(store, user, chat_id, rubric_name)
    if not isinstance(criterion, str) or ref.rubric.criterion(criterion) is None:
        known = ", ".join(c.id for c in ref.rubric.criteria)
        raise DeskError(f"unknown criterion {criterion!r} in {ref.rubric.id} (known: {known})")
    asked = level.strip() if isinstance(level, str) and level.strip() else None
    if asked is not None:
        problem = level_problem(ref.rubric, criterion, asked)
        if problem:
            raise DeskError(problem)
    tables = DeskTables(store)
    for d in tables.disputes(chat_id=ref.chat_id, status="open"):
        if d["criterion"] == criterion and d["rubric_name"] == ref.rubric_name:
            raise Conflict(f"dispute #{d['id']} on {criterion} of {ref.chat_id} is still open")
    dispute_id = tables.add_dispute(
        {
            "chat_id": ref.chat_id,
            "rubric_name": ref.rubric_name,
            "criterion": criterion,
            "agent_id": ref.result.agent_id,
            "filed_by": user.id,
            "reason": reason,
            "level_asked": asked,
            "level_disputed": _current_level(store, ref, criterion),
            "created_at": now_iso(),
        }
    )
    return tables.disputes(dispute_id=dispute_id)[0]


def dispute(store: Store, user: User, dispute_id: Any) -> dict[str, Any]:
    try:
        did = int(dispute_id)
    except (TypeError, ValueError) as e:
        raise NotFound(f"no dispute {dispute_id!r}") from e
    rows = DeskTables(store).disputes(dispute_id=did)
    if not rows:
        raise NotFound(f"no dispute #{did}")
    require_agent_access(user, rows[0]["agent_id"])
    return rows[0]


def resolve_dispute(
    store: Store,
    user: User,
    dispute_id: Any,
    decision: Any,
    reason: Any,
    *,
    level: Any = None,
) -> dict[str, Any]:
    """A lead accepts (a review with the new level is appended) or rejects, with a reason."""
    require_role(user, "lead")
    d = dispute(store, user, dispute_id)
    if decision not in ("accept", "reject"):
        raise DeskError(f"decision is accept or reject, not {decision!r}")
    reason = check_text(reason, "reason", required=decision == "reject")
    if d["status"] != "open":
        raise Conflict(f"dispute #{d['id']} was {d['status']} already by {d['resolved_by']}")
    review = None
    new_level = None
    if decision == "accept":
        new_level = level.strip() if isinstance(level, str) and level.strip() else d["level_asked"]
        if not new_level:
            raise DeskError("accepting a dispute needs the new level")
        ref = resolve_audited(store, d["chat_id"], d["rubric_name"])
        review = review_row(
            ref, d["criterion"], new_level, user.name,
            comment=reason or f"dispute #{d['id']} accepted", source=f"dispute:{d['id']}",
        )  # fmt: skip
    event = {
        "dispute_id": d["id"],
        "event": "accepted" if decision == "accept" else "rejected",
        "by_user": user.id,
        "level": new_level,
        "reason": reason,
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    if not DeskTables(store).resolve_dispute(event, review):
        raise Conflict(f"dispute #{d['id']} was resolved already")
    out = dispute(store, user, d["id"])
    return out | effective_summary(store, d["chat_id"], d["rubric_name"])
