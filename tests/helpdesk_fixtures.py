"""Helpdesk records written from each vendor's public API documentation (no customer data).

Each builder returns one conversation record as the vendor's API returns it, with knobs the
tests and the hypothesis generators vary: how many customer/agent exchanges, a bot message,
an internal note, an HTML body, an attachment, and a nobody's event (assignment, close...).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def iso_z(seconds: float, micro: bool = False) -> str:
    moment = T0 + timedelta(seconds=seconds)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(seconds: float) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp())


def zendesk(
    ticket_id: int = 35436,
    exchanges: int = 1,
    bot: bool = True,
    note: bool = True,
    html: bool = True,
    attachment: bool = True,
    auto: bool = False,
) -> dict[str, Any]:
    """GET /api/v2/tickets/{id} + /comments?include=users, in one record."""
    comments: list[dict[str, Any]] = []
    t = 0

    def comment(
        author: int, body: str, public: bool = True, channel: str = "web", **kw: Any
    ) -> None:
        nonlocal t
        t += 30
        c = {
            "id": 1000 + len(comments),
            "type": "Comment",
            "author_id": author,
            "body": body,
            "plain_body": body,
            "public": public,
            "attachments": [],
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso_z(t),
        }
        c.update(kw)
        comments.append(c)

    comment(20978392, "My printer is on fire!")
    if bot:
        comment(20978392, "Here are some articles that may help.", channel="answer_bot")
    if auto:
        comment(1114, "We received your request.", channel="rule")
    for i in range(exchanges):
        if html:
            comment(
                1114,
                "Please unplug it & wait.",
                html_body='<div class="zd-comment"><p>Please unplug it &amp; wait.</p></div>',
            )
        else:
            comment(1114, f"Reply {i}: please unplug it.")
        comment(20978392, f"Done {i}.")
    if note:
        comment(1114, "Customer seems upset, escalate.", public=False)
    if attachment:
        comment(
            20978392,
            "Photo attached",
            attachments=[
                {
                    "id": 498483,
                    "file_name": "fire.jpg",
                    "content_url": "https://company.zendesk.com/attachments/fire.jpg",
                    "content_type": "image/jpeg",
                    "size": 2532,
                }
            ],
        )
    return {
        "ticket": {
            "id": ticket_id,
            "subject": "Help, my printer is on fire!",
            "requester_id": 20978392,
            "assignee_id": 1114,
            "status": "open",
            "via": {"channel": "web"},
            "created_at": iso_z(0),
        },
        "comments": comments,
        "users": [
            {"id": 20978392, "name": "Jane Requester", "role": "end-user"},
            {"id": 1114, "name": "Bob Agent", "role": "agent"},
        ],
    }


def intercom(
    conv_id: str = "123",
    exchanges: int = 1,
    bot: bool = True,
    note: bool = True,
    html: bool = True,
    attachment: bool = True,
    events: bool = True,
) -> dict[str, Any]:
    """GET /conversations/{id}: the conversation object with its parts."""
    parts: list[dict[str, Any]] = []
    t = 0

    def part(kind: str, author: dict[str, Any], body: str | None, **kw: Any) -> None:
        nonlocal t
        t += 30
        p = {
            "type": "conversation_part",
            "id": str(5000 + len(parts)),
            "part_type": kind,
            "body": body,
            "created_at": epoch(t),
            "updated_at": epoch(t),
            "notified_at": epoch(t),
            "assigned_to": None,
            "author": author,
            "attachments": [],
            "external_id": None,
            "redacted": False,
        }
        p.update(kw)
        parts.append(p)

    user = {"type": "user", "id": "6329bd9ffe4e2e91dac76188", "name": "Jane", "email": "j@x.test"}
    admin = {"type": "admin", "id": "991267", "name": "Ciaran", "email": "c@x.test"}
    fin = {"type": "bot", "id": "991268", "name": "Fin", "email": "operator+x@intercom.io"}
    if bot:
        part("comment", fin, "<p>I can help with that. Did this article answer it?</p>")
    if events:
        part("assignment", admin, None, assigned_to={"type": "admin", "id": "991267"})
    for i in range(exchanges):
        body = "<p>Hi Jane, it&#39;s <b>all</b> great&nbsp;thanks!</p>" if html else f"ok {i}"
        part("comment", admin, body)
        part("comment", user, f"<p>thanks {i}</p>")
    if note:
        part("note", admin, "<p>VIP customer</p>")
    if attachment:
        part(
            "comment",
            user,
            "",
            attachments=[
                {
                    "type": "upload",
                    "name": "receipt.pdf",
                    "url": "https://downloads.intercomcdn.com/receipt.pdf",
                    "content_type": "application/pdf",
                    "filesize": 1024,
                }
            ],
        )
    if events:
        part("close", admin, None)
    return {
        "type": "conversation",
        "id": conv_id,
        "created_at": epoch(0),
        "updated_at": epoch(t),
        "title": None,
        "admin_assignee_id": 991267,
        "team_assignee_id": None,
        "open": False,
        "state": "closed",
        "source": {
            "type": "conversation",
            "id": "403918396",
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": "<p>Where is my order?</p>",
            "author": user,
            "attachments": [],
            "url": None,
            "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": "6329bd9ffe4e2e91dac76188"}],
        },
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": parts,
            "total_count": len(parts),
        },
    }


def livechat(
    chat_id: str = "PJ0MRSHTDG",
    exchanges: int = 1,
    bot: bool = True,
    note: bool = True,
    attachment: bool = True,
    events: bool = True,
) -> dict[str, Any]:
    """One chat of list_archives (Agent Chat API v3.x)."""
    evs: list[dict[str, Any]] = []
    t = 0

    def event(kind: str, author: str | None, **kw: Any) -> None:
        nonlocal t
        t += 30
        e = {"id": f"{chat_id}_{len(evs) + 1}", "created_at": iso_z(t, micro=True), "type": kind,
             "visibility": "all"}  # fmt: skip
        if author:
            e["author_id"] = author
        e.update(kw)
        evs.append(e)

    customer = "b7eff798-f8df-4364-8059-649c35c9ed0c"
    agent = "smith@example.com"
    botid = "4f3a9c1d2b"
    if events:
        event(
            "filled_form", customer, fields=[{"type": "name", "label": "Name:", "answer": "Jane"}]
        )
    event("message", customer, text="Hello, my parcel is late")
    if bot:
        event(
            "rich_message",
            botid,
            template_id="cards",
            elements=[
                {"title": "Track your parcel", "buttons": [{"text": "Track", "type": "url"}]}
            ],
        )
    if events:
        event(
            "system_message", None, text="Smith joined the chat", system_message_type="agent_joined"
        )
    for i in range(exchanges):
        event("message", agent, text=f"Hi! Let me check that for you ({i}).")
        event("message", customer, text=f"thanks {i}")
    if note:
        event("message", agent, text="checking with the warehouse", visibility="agents")
    if attachment:
        event(
            "file",
            customer,
            name="label.png",
            url="https://cdn.livechat-files.com/api/file/label.png",
            content_type="image/png",
            size=2048,
        )
    return {
        "id": chat_id,
        "users": [
            {
                "id": customer,
                "name": "Jane",
                "email": "jane@x.test",
                "type": "customer",
                "present": False,
            },
            {"id": agent, "name": "Agent Smith", "email": agent, "type": "agent", "present": False},
            {"id": botid, "name": "ChatBot", "type": "bot", "present": False},
        ],  # fmt: skip
        "thread": {
            "id": "K600PKZON8",
            "active": False,
            "user_ids": [customer, agent],
            "events": evs,
            "properties": {},
            "access": {"group_ids": [0]},
            "created_at": iso_z(0, micro=True),
        },
        "properties": {},
        "access": {"group_ids": [0]},
    }


def freshchat(
    conv_id: str = "4b1d6d4b-ccab-4f8b-9c85-bb0f1a1e9e33",
    exchanges: int = 1,
    bot: bool = True,
    note: bool = True,
    html: bool = True,
    attachment: bool = True,
) -> dict[str, Any]:
    """GET /conversations/{id} + /conversations/{id}/messages + the users, in one record."""
    msgs: list[dict[str, Any]] = []
    t = 0
    user_id = "a6c9d5b2-4b5e-4c59-8c2a-0f3b6e1d9a10"
    agent_id = "e8b8f3c1-3d1a-4a8e-9b0e-7c6d5e4f3a21"

    def message(actor: str, actor_id: str, parts: list[dict[str, Any]], kind: str = "normal",
                **kw: Any) -> None:  # fmt: skip
        nonlocal t
        t += 30
        m = {
            "id": f"m-{len(msgs) + 1}",
            "conversation_id": conv_id,
            "channel_id": "0a2b3c4d-1111-2222-3333-444455556666",
            "actor_type": actor,
            "actor_id": actor_id,
            "message_type": kind,
            "created_time": iso_z(t, micro=True)[:-4] + "Z",
            "message_parts": parts,
        }
        m.update(kw)
        msgs.append(m)

    message("user", user_id, [{"text": {"content": "Where is my refund?"}}])
    if bot:
        message(
            "bot",
            "bot-1",
            [{"text": {"content": "I can help! Pick one:"}}],
            reply_parts=[{"collection": {"sub_parts": [
                {"quick_reply_button": {"label": "Refund status"}},
                {"quick_reply_button": {"label": "Talk to an agent"}}]}}],
        )  # fmt: skip
    message("system", "system", [{"text": {"content": "Assigned to Priya"}}], kind="system")
    for i in range(exchanges):
        content = "<p>Hi, I&#39;m Priya &amp; I can help.</p>" if html else f"Hi {i}"
        message("agent", agent_id, [{"text": {"content": content}}])
        message("user", user_id, [{"text": {"content": f"ok {i}"}}])
    if note:
        message(
            "agent", agent_id, [{"text": {"content": "refund pending in finance"}}], kind="private"
        )
    if attachment:
        message(
            "user",
            user_id,
            [{"image": {"url": "https://fc-use1.s3.amazonaws.com/screenshot.png"}},
             {"file": {"name": "order.pdf", "url": "https://x.test/order.pdf",
                       "content_type": "application/pdf"}}],
        )  # fmt: skip
    return {
        "conversation": {
            "conversation_id": conv_id,
            "channel_id": "0a2b3c4d-1111-2222-3333-444455556666",
            "assigned_agent_id": agent_id,
            "assigned_group_id": None,
            "status": "resolved",
            "app_id": "app-1",
            "users": [{"id": user_id}],
        },
        "messages": msgs,
        "users": [{"id": user_id, "first_name": "Jane", "last_name": "Doe", "email": "j@x.test"}],
    }
