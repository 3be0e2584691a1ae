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
from datetime import datetime, timedelta, timezone
from typing import Any

#: Messages per transcript the id scheme leaves room for (ingest caps a chat far below it).
SEQ_BITS = 20
MAX_MESSAGES = 1 << SEQ_BITS

_MS = timedelta(milliseconds=1)

HEADER_COLUMNS = ("chat_id", "agent_id", "customer_id", "channel", "language")
MESSAGE_COLUMNS = ("message_id", "role", "author", "ts", "text", "auto")


def compact_times(stamps: Sequence[datetime | None]) -> tuple[str | None, list[Any]]:
    """A transcript's message times as stored (m018_compact_rows): the first message's time
    as ISO text (``transcripts.started_at``) and each message's ``ts`` as the integer
    milliseconds after it — ~3 bytes instead of ~25 of ISO text a message.

    A time that the milliseconds and the first time's offset would not give back exactly
    (another UTC offset, sub-millisecond digits) is kept as its ISO text, so
    :func:`iso_time` (and the SQL view ``messages_full``) always returns the text
    ``datetime.isoformat`` wrote.
    """
    t0 = stamps[0] if stamps else None
    if t0 is None:
        return None, [None if ts is None else ts.isoformat() for ts in stamps]
    started = t0.isoformat()
    if t0.microsecond % 1000:
        return started, [None if ts is None else ts.isoformat() for ts in stamps]
    offset = t0.utcoffset()
    # a time sharing the first one's fixed-offset zone object has its offset (ingest hands
    # most messages of a chat the same one); a zone such as ZoneInfo can change its offset
    zone = t0.tzinfo if type(t0.tzinfo) is timezone else None
    out: list[Any] = []
    for ts in stamps:
        if ts is None:
            out.append(None)
        elif ts.microsecond % 1000 == 0 and (
            (zone is not None and ts.tzinfo is zone) or ts.utcoffset() == offset
        ):
            out.append((ts - t0) // _MS)  # the same offset: the local times' difference
        else:
            out.append(ts.isoformat())
    return started, out


def iso_time(started: str | None, ts: Any) -> str | None:
    """A stored message time as ISO text (the inverse of :func:`compact_times`)."""
    if isinstance(ts, int) and started is not None:
        return (datetime.fromisoformat(started) + timedelta(milliseconds=ts)).isoformat()
    return ts  # type: ignore[no-any-return]


#: ``messages.ts`` as ISO text in SQL, for a message ``m`` of a transcript ``t`` (the
#: ``messages_full`` view; equal to :func:`iso_time`, tests/test_scale.py checks it):
#: the first time's wall clock in ms, plus ``m.ts``, written back with the first time's offset.
_T0 = "t.started_at"
_FRACTION = f"substr({_T0}, 20, 1) = '.'"
_WALL_MS = (
    f"(CAST(strftime('%s', substr({_T0}, 1, 19)) AS INTEGER) * 1000 + "
    f"CASE WHEN {_FRACTION} THEN CAST(substr({_T0}, 21, 3) AS INTEGER) ELSE 0 END + m.ts)"
)
ISO_TS_SQL = (
    f"CASE WHEN typeof(m.ts) = 'integer' AND {_T0} IS NOT NULL THEN "
    f"strftime('%Y-%m-%dT%H:%M:%S', {_WALL_MS} / 1000, 'unixepoch') || "
    f"CASE WHEN {_WALL_MS} % 1000 THEN printf('.%03d000', {_WALL_MS} % 1000) ELSE '' END || "
    f"CASE WHEN {_FRACTION} THEN substr({_T0}, 27) ELSE substr({_T0}, 20) END "
    "ELSE m.ts END"
)


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


def message_ids(transcript_id: int, count: int) -> range:
    """The ``messages.id`` of a transcript's ``count`` messages, in order (an id's high bits
    are the transcript's, its low bits the message's seq)."""
    if count >= MAX_MESSAGES:
        raise ValueError(f"a chat of {count} messages is more than the store holds")
    first = transcript_id << SEQ_BITS
    return range(first, first + count)


def message_rows(transcript_id: int, messages: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``messages`` rows (id, transcript_id, seq, MESSAGE_COLUMNS) of a transcript's
    ``message_tuples``."""
    first = message_ids(transcript_id, len(messages)).start
    return [(first + seq, transcript_id, seq, *m) for seq, m in enumerate(messages)]


def transcript_dict(header: Sequence[Any], messages: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The canonical transcript from its ``transcripts`` row (HEADER_COLUMNS) and its
    ``messages`` rows (MESSAGE_COLUMNS, in order)."""
    out: dict[str, Any] = dict(zip(HEADER_COLUMNS, header, strict=True))
    out["messages"] = [
        {"id": mid, "role": role, "author": author, "ts": ts, "text": text, "auto": bool(auto)}
        for mid, role, author, ts, text, auto in messages
    ]
    return out
