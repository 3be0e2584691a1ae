"""Transcripts as rows: one ``transcripts`` row per distinct transcript, one ``messages`` row
per message (m010_lean_store), instead of a JSON body.

The text is stored once, readable (and searchable, ``messages_fts``) in Datasette, without
the JSON keys repeated in every message. ``messages.id`` is ``transcript id << 20 | seq``:
a transcript's messages are one range of the table's integer key, so reading a transcript
back needs no second index, and the key doubles as the rowid the FTS5 index points at.
:func:`transcript_dict` rebuilds exactly :meth:`Chat.transcript_dict` (the hashed form).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Messages per transcript the id scheme leaves room for (ingest caps a chat far below it).
SEQ_BITS = 20
MAX_MESSAGES = 1 << SEQ_BITS

HEADER_COLUMNS = ("chat_id", "agent_id", "customer_id", "channel", "language")
MESSAGE_COLUMNS = ("message_id", "role", "author", "ts", "text", "auto")


def message_id_range(transcript_id: int) -> tuple[int, int]:
    """The first and last ``messages.id`` a transcript's messages may have."""
    first = transcript_id << SEQ_BITS
    return first, first + MAX_MESSAGES - 1


def header_row(body: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(body.get(c) for c in HEADER_COLUMNS)


def message_tuples(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A canonical transcript's messages as MESSAGE_COLUMNS tuples."""
    return [
        (m["id"], m["role"], m.get("author"), m.get("ts"), m["text"], int(bool(m.get("auto"))))
        for m in body.get("messages", [])
    ]


def message_rows(transcript_id: int, messages: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``messages`` rows (id, transcript_id, seq, MESSAGE_COLUMNS) of a transcript's
    ``message_tuples``."""
    if len(messages) >= MAX_MESSAGES:
        raise ValueError(f"a chat of {len(messages)} messages is more than the store holds")
    first = transcript_id << SEQ_BITS
    return [(first + i, transcript_id, i, *m) for i, m in enumerate(messages)]


def transcript_dict(header: Sequence[Any], messages: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The canonical transcript from its ``transcripts`` row (HEADER_COLUMNS) and its
    ``messages`` rows (MESSAGE_COLUMNS, in order)."""
    out: dict[str, Any] = dict(zip(HEADER_COLUMNS, header, strict=True))
    out["messages"] = [
        {"id": mid, "role": role, "author": author, "ts": ts, "text": text, "auto": bool(auto)}
        for mid, role, author, ts, text, auto in messages
    ]
    return out
