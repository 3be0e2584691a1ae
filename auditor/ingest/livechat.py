"""LiveChat chats (Agent Chat API, ``list_archives``) → the native chat shape.

One record is a chat object as the archives list returns it::

    {"id", "users": [{"id", "name", "type": "customer" | "agent"}],
     "thread": {"id", "events": [{"id", "type", "created_at", "author_id", "visibility",
                                  "text" | "name"/"url"/"content_type" | "elements"}]},
     "properties": {...}}

(``"threads": [...]`` — several threads of one chat — is read thread after thread.)

- **Roles** from the author's ``type`` in ``users``: ``customer`` or ``agent`` (a user of type
  ``bot`` is a bot). ``system_message`` events are ``system``; their author is ignored.
- **Internal notes**: events with ``visibility: agents`` (whispers) are kept as notes.
- **Events**: ``message`` → its text; ``file`` → a placeholder with the file name;
  ``rich_message`` (cards, buttons; usually a bot's) → the titles, subtitles and button
  texts; ``filled_form`` (the pre-chat survey) and ``custom`` are nobody's messages (counted
  in ``skipped_events``).
- ``agent_id`` is the first agent who wrote a message (else the first agent present),
  ``customer_id`` the customer user, ``channel`` ``livechat``; ``created_at`` stamps are UTC
  with microseconds.
"""

from __future__ import annotations

from typing import Any

from .helpdesk_common import RecordError, as_dict, as_list, body_text, ident
from .html_text import attachment_placeholder, join_text

_ROLES = {"customer": "customer", "agent": "agent", "bot": "bot"}
SKIPPED_EVENTS = frozenset({"filled_form", "custom", "form"})


def is_livechat(obj: Any) -> bool:
    if not isinstance(obj, dict) or not isinstance(obj.get("users"), list):
        return False
    thread = obj.get("thread")
    return (isinstance(thread, dict) and "events" in thread) or isinstance(obj.get("threads"), list)


def livechat_to_native(obj: dict[str, Any]) -> dict[str, Any]:
    users = {
        ident(u.get("id")): u for u in as_list(obj.get("users"), "'users'") if isinstance(u, dict)
    }
    threads = (
        [obj["thread"]]
        if isinstance(obj.get("thread"), dict)
        else as_list(obj.get("threads"), "'threads'")
    )
    messages: list[Any] = []
    notes: list[Any] = []
    skipped = 0
    writers: list[str] = []
    for t, thread in enumerate(threads):
        for i, event in enumerate(
            as_list(as_dict(thread).get("events"), f"thread {t + 1} 'events'")
        ):
            if not isinstance(event, dict):
                raise RecordError(f"thread {t + 1} event {i + 1} is not an object")
            kind = event.get("type")
            if kind in SKIPPED_EVENTS:
                skipped += 1
                continue
            author_id = ident(event.get("author_id"))
            user = users.get(author_id, {})
            role: str | None = "system"
            if kind != "system_message":
                role = _ROLES.get(str(user.get("type")))
                if role is None:
                    raise RecordError(
                        f"thread {t + 1} event {i + 1}: author {author_id} is not in 'users'"
                    )
            message = {
                "id": ident(event.get("id")),
                "role": role,
                "author": user.get("name") or author_id,
                "ts": event.get("created_at"),
                "text": _text(event),
            }
            if event.get("visibility") == "agents":
                notes.append(message)
            else:
                messages.append(message)
                if role == "agent" and author_id:
                    writers.append(author_id)
    agents = [i for i, u in users.items() if u.get("type") == "agent"]
    customers = [i for i, u in users.items() if u.get("type") == "customer"]
    return {
        "chat_id": ident(obj.get("id")),
        "agent_id": writers[0] if writers else (agents[0] if agents else None),
        "customer_id": customers[0] if customers else None,
        "channel": "livechat",
        "messages": messages,
        "notes": notes,
        "skipped_events": skipped,
        "source_format": "livechat",
    }


def _text(event: dict[str, Any]) -> Any:
    kind = event.get("type")
    if kind == "file":
        return attachment_placeholder(event.get("name"), event.get("content_type"))
    if kind == "rich_message":
        parts: list[str] = []
        for element in event.get("elements") or []:
            element = as_dict(element)
            parts += [str(element[k]) for k in ("title", "subtitle") if element.get(k)]
            parts += [
                str(as_dict(b).get("text"))
                for b in element.get("buttons") or []
                if as_dict(b).get("text")
            ]
        return join_text(*parts)
    return body_text(event.get("text"))
