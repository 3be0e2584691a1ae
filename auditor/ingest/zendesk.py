"""Zendesk Support tickets → the native chat shape.

One record is a ticket with its comments and the users side-loaded (``include=users``), as
the Tickets and Ticket Comments APIs return them::

    {"ticket": {"id", "requester_id", "assignee_id", "via": {"channel"}, "created_at", ...},
     "comments": [{"id", "type", "author_id", "body", "html_body", "plain_body", "public",
                   "attachments": [{"file_name", "content_type", ...}], "via": {"channel"},
                   "created_at"}],
     "users": [{"id", "name", "role": "end-user" | "agent" | "admin"}]}

- **Roles** come from the author's ``role`` in ``users``: ``end-user`` is the customer,
  ``agent``/``admin`` an agent. An author missing from ``users`` is the customer when it is the
  ticket's requester; otherwise the record is rejected (re-export with ``include=users``).
- **Bots**: comments via an Answer Bot channel (``answer_bot*``) are ``bot``; comments via
  ``rule`` (triggers, automations) are automatic agent messages (``auto: true``).
- **Internal notes**: ``"public": false`` comments are kept as notes, never timed or graded.
- **Bodies**: ``html_body`` is read as text (entities decoded), else ``plain_body``, else
  ``body``; attachments become ``[attachment: name]`` / ``[image: name]`` placeholders.
- **Chat transcripts**: a Zendesk Chat transcript saved as one comment (``via.channel`` chat,
  a ``Chat started: 2026-11-21 02:00 AM UTC`` line, then ``(02:00:05 AM) Name: text`` lines) is
  split into its messages, each speaker matched by name to the requester or a side-loaded
  user. Messaging conversations arrive as one comment per message and need nothing special.
- ``agent_id`` is the ticket's ``assignee_id``, ``customer_id`` its ``requester_id``,
  ``channel`` its ``via.channel``; times are the API's ISO 8601 UTC stamps.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from .helpdesk_common import RecordError, as_dict, as_list, body_text, ident

BOT_CHANNELS = frozenset({"answer_bot", "answer_bot_for_agents", "answer_bot_for_sdk",
                          "answer_bot_for_slack", "answer_bot_api", "answer_bot_for_web_widget"})  # fmt: skip
AUTO_CHANNELS = frozenset({"rule", "automation", "trigger"})
_ROLES = {"end-user": "customer", "agent": "agent", "admin": "agent"}
_STARTED = re.compile(
    r"Chat started: (\d{4}-\d{2}-\d{2}) (\d{1,2}:\d{2})(?::\d{2})? ?(AM|PM)? ?([A-Z]{2,5})?", re.I
)
_LINE = re.compile(r"^\((\d{1,2}:\d{2}:\d{2})(?: ?(AM|PM))?\) ([^:]{1,80}?): ?(.*)$", re.I)


def is_zendesk(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("ticket"), dict)
        and isinstance(obj.get("comments"), list)
    )


def zendesk_to_native(obj: dict[str, Any]) -> dict[str, Any]:
    ticket = as_dict(obj.get("ticket"))
    if not ticket:
        raise RecordError("a Zendesk record needs a 'ticket' object")
    comments = as_list(obj.get("comments"), "'comments'")
    users = {
        ident(u.get("id")): u for u in as_list(obj.get("users"), "'users'") if isinstance(u, dict)
    }
    requester = ident(ticket.get("requester_id"))
    messages: list[Any] = []
    notes: list[Any] = []
    for i, c in enumerate(comments):
        if not isinstance(c, dict):
            raise RecordError(f"comment {i + 1} is not an object")
        channel = as_dict(c.get("via")).get("channel")
        author_id = ident(c.get("author_id"))
        text = body_text(
            c.get("html_body") or c.get("plain_body") or c.get("body"), c.get("attachments")
        )
        if channel == "chat" and isinstance(text, str) and _STARTED.search(text):
            messages.extend(_transcript(text, users, requester, i))
            continue
        role = _role(channel, author_id, users, requester, i)
        message = {
            "id": ident(c.get("id")),
            "role": role,
            "author": _name(users.get(author_id)) or author_id,
            "ts": c.get("created_at"),
            "text": text,
            "auto": channel in AUTO_CHANNELS,
        }
        (messages if c.get("public", True) is not False else notes).append(message)
    return {
        "chat_id": ident(ticket.get("id")),
        "agent_id": ident(ticket.get("assignee_id")),
        "customer_id": requester,
        "channel": as_dict(ticket.get("via")).get("channel"),
        "messages": messages,
        "notes": notes,
        "subject": ticket.get("subject"),
        "source_format": "zendesk",
    }


def _name(user: dict[str, Any] | None) -> str | None:
    return str(user["name"]) if user and user.get("name") else None


def _role(
    channel: Any, author_id: str | None, users: dict[str | None, Any], requester: str | None, i: int
) -> str:
    if channel in BOT_CHANNELS:
        return "bot"
    if author_id == "-1":
        return "system"  # Zendesk's own system user
    user = users.get(author_id)
    if user is not None and user.get("role") in _ROLES:
        return _ROLES[user["role"]]
    if author_id is not None and author_id == requester:
        return "customer"
    raise RecordError(
        f"comment {i + 1}: author {author_id} is not in 'users' and is not the requester; "
        "export the comments with include=users"
    )


def _transcript(
    text: str, users: dict[str | None, Any], requester: str | None, i: int
) -> list[dict[str, Any]]:
    """Split a Zendesk Chat transcript comment into its messages."""
    started = _STARTED.search(text)
    assert started is not None
    day, _, _, zone = started.groups()
    by_name = {str(u.get("name")): u for u in users.values() if u.get("name")}
    requester_name = _name(users.get(requester))
    out: list[dict[str, Any]] = []
    previous: datetime | None = None
    base = datetime.fromisoformat(day)
    for line in text[started.end() :].splitlines():
        m = _LINE.match(line.strip())
        if not m:
            if out and line.strip():
                out[-1]["text"] += "\n" + line.strip()
            continue
        clock, half, speaker, said = m.groups()
        when = datetime.strptime(  # noqa: DTZ007 - a clock time; the zone is the header's
            clock + (f" {half.upper()}" if half else ""), "%I:%M:%S %p" if half else "%H:%M:%S"
        )
        moment = base.replace(hour=when.hour, minute=when.minute, second=when.second)
        while previous is not None and moment < previous:  # the chat ran past midnight
            moment += timedelta(days=1)
        previous = moment
        user = by_name.get(speaker.strip())
        if speaker.strip() == requester_name or speaker.startswith("Visitor"):
            role = "customer"
        elif user is not None and user.get("role") in _ROLES:
            role = _ROLES[user["role"]]
        else:
            raise RecordError(
                f"comment {i + 1}: chat transcript speaker {speaker.strip()!r} is neither the "
                "requester nor a side-loaded user"
            )
        stamp = moment.isoformat() + ("+00:00" if (zone or "").upper() in ("UTC", "GMT") else "")
        out.append({"role": role, "author": speaker.strip(), "ts": stamp, "text": said})
    return out
