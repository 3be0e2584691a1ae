"""Intercom conversations → the native chat shape.

One record is the conversation object of "Retrieve a conversation"::

    {"type": "conversation", "id", "created_at" (epoch s), "admin_assignee_id",
     "source": {"type", "delivered_as", "body" (HTML), "author": {"type", "id", "name"},
                "attachments": [{"name", "content_type", "url"}]},
     "contacts": {"contacts": [{"id"}]},
     "conversation_parts": {"conversation_parts": [{"id", "part_type", "body", "created_at",
                            "author": {"type", "id", "name", "from_ai_agent"?}, "attachments"}]}}

- **Roles** by author type: ``user``, ``lead``, ``contact`` are the customer, ``admin`` an
  agent, ``bot`` (and an admin part with ``from_ai_agent``/``is_ai_answer``) a bot, and
  ``team`` an automatic agent message (workflows send on behalf of a team). The opening
  message (``source``) is the first message; ``delivered_as: automated`` makes it automatic.
- **Internal notes**: ``note`` (and ``note_and_reopen``) parts are kept as notes.
- **Nobody's messages**: assignment, open, close, snooze and other state changes without a
  body are not messages (their count is kept in ``skipped_events``); with a body (an admin's
  "reply and close") they are the author's message.
- **Bodies** are HTML, read as text; attachments become placeholders.
- ``agent_id`` is ``admin_assignee_id``, ``customer_id`` the first contact, ``channel`` the
  source's ``type``; times are epoch seconds (UTC).
"""

from __future__ import annotations

from typing import Any

from .helpdesk_common import RecordError, as_dict, as_list, body_text, ident

NOTE_PARTS = frozenset({"note", "note_and_reopen"})
_ROLES = {"user": "customer", "lead": "customer", "contact": "customer", "admin": "agent",
          "bot": "bot", "team": "agent"}  # fmt: skip


def is_intercom(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("type") == "conversation"
        and ("conversation_parts" in obj or "source" in obj)
    )


def intercom_to_native(obj: dict[str, Any]) -> dict[str, Any]:
    source = as_dict(obj.get("source"))
    parts_obj = obj.get("conversation_parts")
    parts = as_list(
        parts_obj.get("conversation_parts") if isinstance(parts_obj, dict) else parts_obj,
        "'conversation_parts'",
    )
    messages: list[Any] = []
    notes: list[Any] = []
    skipped = 0
    if source:
        first = _message(source, obj.get("created_at"), "source")
        first["id"] = ident(source.get("id")) or "source"
        first["auto"] = first["auto"] or source.get("delivered_as") == "automated"
        messages.append(first)
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise RecordError(f"conversation part {i + 1} is not an object")
        kind = part.get("part_type")
        body = part.get("body")
        has_body = bool(body and str(body).strip()) or bool(part.get("attachments"))
        if kind in NOTE_PARTS:
            notes.append(_message(part, part.get("created_at"), f"part {i + 1}"))
        elif kind == "comment" or has_body:
            messages.append(_message(part, part.get("created_at"), f"part {i + 1}"))
        else:
            skipped += 1
    contacts = obj.get("contacts")
    contact_list = contacts.get("contacts") if isinstance(contacts, dict) else contacts
    customer = next(
        (ident(c.get("id")) for c in contact_list or [] if isinstance(c, dict)), None
    ) if isinstance(contact_list, list) else None  # fmt: skip
    return {
        "chat_id": ident(obj.get("id")),
        "agent_id": ident(obj.get("admin_assignee_id")),
        "customer_id": customer,
        "channel": source.get("type"),
        "messages": messages,
        "notes": notes,
        "skipped_events": skipped,
        "source_format": "intercom",
    }


def _message(part: dict[str, Any], ts: Any, where: str) -> dict[str, Any]:
    author = as_dict(part.get("author"))
    kind = author.get("type")
    role = _ROLES.get(str(kind))
    if role is None:
        raise RecordError(f"{where}: unknown author type {kind!r}")
    if author.get("from_ai_agent") or author.get("is_ai_answer"):
        role = "bot"
    return {
        "id": ident(part.get("id")),
        "role": role,
        "author": author.get("name") or ident(author.get("id")),
        "ts": ts,
        "text": body_text(part.get("body"), part.get("attachments")),
        "auto": kind == "team",
    }
