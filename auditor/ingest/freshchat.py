"""Freshchat conversations → the native chat shape.

One record is a conversation with its messages and users, as the Conversations API returns
them::

    {"conversation": {"conversation_id", "channel_id", "assigned_agent_id", "status", ...},
     "messages": [{"id", "actor_type": "user" | "agent" | "bot" | "system", "actor_id",
                   "message_type": "normal" | "private" | "system", "created_time",
                   "message_parts": [{"text": {"content"}} | {"image": {"url"}} |
                                     {"file": {"name", "url"}} | {"url_button": {"label"}} |
                                     {"quick_reply_button": {"label"}}]}],
     "users": [{"id", "first_name", "last_name"}]}

- **Roles** from ``actor_type``: ``user`` is the customer, ``agent`` an agent, ``bot`` a bot,
  ``system`` (or ``message_type: system``) a system message.
- **Internal notes**: ``message_type: private`` messages are kept as notes.
- **Parts**: text (HTML read as text), images and files as placeholders, buttons as their
  labels; ``reply_parts`` (a bot's quick replies) are added as ``[options: a | b]``.
- ``agent_id`` is ``assigned_agent_id``, ``customer_id`` the user who wrote first (else the
  first user), ``channel`` the ``channel_id``; ``created_time`` stamps are UTC.
"""

from __future__ import annotations

from typing import Any

from .helpdesk_common import RecordError, as_dict, as_list, body_text, ident, person_name
from .html_text import attachment_placeholder, join_text

_ROLES = {"user": "customer", "agent": "agent", "bot": "bot", "system": "system"}


def is_freshchat(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("conversation"), dict)
        and isinstance(obj.get("messages"), list)
    )


def freshchat_to_native(obj: dict[str, Any]) -> dict[str, Any]:
    conversation = as_dict(obj.get("conversation"))
    users = {
        ident(u.get("id")): u for u in as_list(obj.get("users"), "'users'") if isinstance(u, dict)
    }
    messages: list[Any] = []
    notes: list[Any] = []
    customer = None
    for i, m in enumerate(as_list(obj.get("messages"), "'messages'")):
        if not isinstance(m, dict):
            raise RecordError(f"message {i + 1} is not an object")
        actor = m.get("actor_type")
        role = "system" if m.get("message_type") == "system" else _ROLES.get(str(actor))
        if role is None:
            raise RecordError(f"message {i + 1}: unknown actor_type {actor!r}")
        actor_id = ident(m.get("actor_id"))
        if role == "customer" and customer is None:
            customer = actor_id
        message = {
            "id": ident(m.get("id")),
            "role": role,
            "author": person_name(users.get(actor_id, {})) or actor_id,
            "ts": m.get("created_time"),
            "text": _text(m.get("message_parts"), m.get("reply_parts"), i),
        }
        (notes if m.get("message_type") == "private" else messages).append(message)
    if customer is None and users:
        customer = next(iter(users))
    return {
        "chat_id": ident(conversation.get("conversation_id") or conversation.get("id")),
        "agent_id": ident(conversation.get("assigned_agent_id")),
        "customer_id": customer,
        "channel": ident(conversation.get("channel_id")),
        "messages": messages,
        "notes": notes,
        "status": conversation.get("status"),
        "source_format": "freshchat",
    }


def _text(parts: Any, reply_parts: Any, i: int) -> str:
    out: list[str] = []
    for part in as_list(parts, f"message {i + 1} 'message_parts'"):
        part = as_dict(part)
        if "text" in part:
            out.append(body_text(as_dict(part["text"]).get("content")) or "")
        elif "image" in part:
            url = str(as_dict(part["image"]).get("url") or "")
            out.append(attachment_placeholder(url.rsplit("/", 1)[-1] or None, "image/"))
        elif "file" in part:
            f = as_dict(part["file"])
            out.append(attachment_placeholder(f.get("name"), f.get("content_type")))
        else:
            for key in ("url_button", "quick_reply_button", "callback_button"):
                if key in part and as_dict(part[key]).get("label"):
                    out.append(str(as_dict(part[key])["label"]))
    labels = _labels(reply_parts)
    if labels:
        out.append("[options: " + " | ".join(labels) + "]")
    return join_text(*out)


def _labels(value: Any) -> list[str]:
    """Button labels anywhere in ``reply_parts`` (collections nest them in sub_parts)."""
    found: list[str] = []
    if isinstance(value, dict):
        if isinstance(value.get("label"), str):
            found.append(value["label"])
        for v in value.values():
            found += _labels(v)
    elif isinstance(value, list):
        for v in value:
            found += _labels(v)
    return found
