"""Disputes: an agent disputes a finding or grade of their chat with a reason; a lead
accepts (a review with the new level is appended) or rejects it with a reason. The trail is
append-only (``disputes``, ``dispute_events``); counts per agent and criterion feed reports.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..store import Store, now_iso
from ..store_desk import DeskTables, User
from .access import require_agent_access, require_role
from .claims import audited, check_text, effective_summary
from .errors import Conflict, DeskError, NotFound
from .policy import level_problem
from .reviews import AuditedRef, effective_result, resolve_audited, review_row


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
