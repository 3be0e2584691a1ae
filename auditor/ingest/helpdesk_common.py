"""Small helpers shared by the helpdesk converters (Zendesk, Intercom, LiveChat, Freshchat).

A converter maps one vendor record to the native chat shape and leaves validation to
:func:`auditor.ingest.native.build_chat`, which names every problem by message position.
What only the converter can see (``comments`` is not a list, an author who is in no
``users`` list) is a :class:`RecordError`, which rejects the record with that reason.
"""

from __future__ import annotations

from typing import Any

from .html_text import attachment_placeholder, html_to_text, join_text


class RecordError(ValueError):
    """A vendor record that cannot be read as a chat; the message is the reject reason."""


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any, what: str) -> list[Any]:
    """A list the record must hold; a RecordError naming ``what`` otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{what} must be a list, not {type(value).__name__}")
    return value


def body_text(html: Any, attachments: Any = None) -> str | Any:
    """HTML body → text, with one placeholder per attachment; non-strings pass through."""
    if html is not None and not isinstance(html, str):
        return html  # build_chat names the wrong type
    names = []
    for a in attachments if isinstance(attachments, list) else []:
        a = as_dict(a)
        names.append(
            attachment_placeholder(
                a.get("file_name") or a.get("name") or a.get("title"), a.get("content_type")
            )
        )
    return join_text(html_to_text(html or ""), *names)


def ident(value: Any) -> str | None:
    """An id as text (vendors use integers and strings alike)."""
    if value is None or isinstance(value, bool):
        return None
    return str(value)


def person_name(user: dict[str, Any]) -> str | None:
    name = user.get("name") or " ".join(
        str(p) for p in (user.get("first_name"), user.get("last_name")) if p
    )
    return str(name) if name else None
