"""What a reviewer does on the desk: claim and release queue items and review a criterion.

Each function checks the user's role first, validates everything before writing, and
writes in one transaction, so a refused or invalid action leaves no row.

A review goes through ``auditor.review.record_review`` (the same rules as
``auditor review score``: the criterion and level are checked against the rubric the chat
was audited with) and the effective score is ``auditor.review.effective_result``.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..store import Store
from ..store_desk import DeskTables, User
from .access import require_agent_access, require_role
from .errors import Conflict, DeskError, NotFound
from .policy import level_problem
from .queue import queue_item, queue_item_of
from .reviews import AuditedRef, effective_result, record_review, resolve_audited

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


def audited(
    store: Store, user: User, chat_id: Any, rubric_name: Any = None, *, first_rubric: bool = False
) -> AuditedRef:
    """The audited chat, after the access check (an agent: only their own).

    Access is decided before anything else is read, so a refusal carries no data. Without a
    rubric name a chat audited under several rubrics is ambiguous, unless ``first_rubric``
    (the chat page: the first one it was audited under)."""
    if not isinstance(chat_id, str) or not chat_id:
        raise DeskError("chat_id is required")
    refs = store.result_refs(chat_id, results=False)
    if not refs:
        raise NotFound(f"no audited chat {chat_id!r}")
    for r in refs:
        require_agent_access(user, r["agent_id"])
    if first_rubric and not rubric_name:
        rubric_name = refs[0]["rubric_name"]
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
