"""Customer Support on Twitter (TWCS) threads → the native chat shape.

The shared data set ``chats/twcs/twcs_threads*.jsonl`` holds one reply thread per line::

    {"conversation_id", "brand": [...], "n_messages", "thread_incomplete",
     "messages": [{"tweet_id", "role", "author_id", "timestamp", "in_reply_to", "text"}]}

The brand handle is the agent id (the team answering), the first customer's author id
the customer id, the tweet id the message id. The thread fields the auditor has no use
for (``brand``, ``thread_incomplete``) stay in ``Chat.extra``. Tweet text comes
HTML-escaped in the dump (``&gt;``, ``&amp;``) and is decoded here, so no check sees
the entities.
"""

from __future__ import annotations

import html
from typing import Any

SOURCE_FORMAT = "twcs"


def is_twcs_thread(obj: Any) -> bool:
    """True for a TWCS thread object (used by ``--format auto`` line by line)."""
    if not isinstance(obj, dict) or "chat_id" in obj or "conversation_id" not in obj:
        return False
    messages = obj.get("messages")
    return (
        isinstance(messages, list)
        and bool(messages)
        and isinstance(messages[0], dict)
        and "tweet_id" in messages[0]
    )


def twcs_to_native(obj: dict[str, Any]) -> dict[str, Any]:
    """Map one TWCS thread to a native chat object (validation happens in build_chat).

    Anything missing is left missing, so the native validation names it in the reject.
    """
    brands = obj.get("brand") or []
    messages = obj.get("messages")
    native_messages: Any = messages
    customer_id = None
    if isinstance(messages, list):
        native_messages = []
        for m in messages:
            if not isinstance(m, dict):
                native_messages.append(m)
                continue
            if customer_id is None and m.get("role") == "customer":
                customer_id = m.get("author_id")
            native_messages.append(
                {
                    "id": m.get("tweet_id"),
                    "role": m.get("role"),
                    "author": m.get("author_id"),
                    "ts": m.get("timestamp"),
                    # tweets are HTML-escaped in the dump (&gt; &amp; &lt;): decode once here
                    "text": html.unescape(t) if isinstance(t := m.get("text"), str) else t,
                }
            )
    return {
        "chat_id": obj.get("conversation_id"),
        "agent_id": ",".join(str(b) for b in brands) if isinstance(brands, list) else brands,
        "customer_id": customer_id,
        "channel": "twitter",
        "messages": native_messages,
        "brand": brands,
        "thread_incomplete": obj.get("thread_incomplete"),
        "source_format": SOURCE_FORMAT,
    }
