"""Chat.transcript_json (what the transcript hash is taken of) lets orjson write message
times where it writes them as ``datetime.isoformat`` does; every chat's bytes stay those of
``transcript_dict`` (ISO text) written by orjson — the hash of a stored chat never moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
import pytest

from auditor.models import Chat, Message


def _reference(chat: Chat) -> bytes:
    return orjson.dumps(chat.transcript_dict(), option=orjson.OPT_SORT_KEYS)


def _chat(*stamps: datetime | None) -> Chat:
    messages = [
        Message(id=f"m{i}", role="customer" if i % 2 else "agent", ts=ts, text=f"text {i}")
        for i, ts in enumerate(stamps)
    ]
    return Chat(chat_id="c1", messages=messages, language="en", agent_id="a1")


STAMPS = [
    (datetime(2026, 11, 21, 8, 0, 1, tzinfo=timezone(timedelta(hours=8))),),
    (
        datetime(2026, 11, 21, 8, 0, 1, 250000, tzinfo=UTC),
        datetime(2026, 11, 21, 8, 0, 2, 5, tzinfo=UTC),
    ),
    (datetime(2026, 11, 21, 8, 0, 1), datetime(2026, 11, 21, 8, 0, 2, 999999)),  # noqa: DTZ001 (naive)
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),),
    # an offset with seconds: orjson would round it to minutes, isoformat keeps them
    (datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))),),
    (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=-37))),
    ),
    # a zone's local mean time before 1901 has an offset with seconds (+08:05:43)
    (datetime(1890, 6, 1, 12, tzinfo=ZoneInfo("Asia/Shanghai")),),
    (datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1),),
    (None, None),
]


@pytest.mark.parametrize("stamps", STAMPS)
def test_transcript_json_is_the_iso_transcript_written_by_orjson(stamps) -> None:
    chat = _chat(*stamps)
    assert chat.transcript_json() == _reference(chat)
    assert chat.model_copy().transcript_hash == chat.transcript_hash


def test_an_offset_with_seconds_is_written_with_its_seconds() -> None:
    chat = _chat(datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=37))))
    assert b'"ts":"2026-01-01T00:00:00+00:00:37"' in chat.transcript_json()


def test_ingested_chats_write_the_reference_bytes(tmp_path) -> None:
    """The native path writes each message's own ``__dict__``: on ingested chats (the
    example day, generated chats with authors and auto messages) the bytes are the
    reference's, and a chat whose messages are not plain Messages takes the built dicts."""
    import subprocess
    import sys
    from pathlib import Path

    from auditor.ingest import IngestOptions, read_chats

    root = Path(__file__).resolve().parent.parent
    day = tmp_path / "day.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(root / "examples" / "generate.py"),
            "--chats",
            "60",
            "--out",
            str(day),
        ],
        check=True,
        capture_output=True,
    )
    inputs = [str(day), str(root / "examples" / "sample-day.jsonl")]
    chats = [c for c in read_chats(inputs, IngestOptions()) if isinstance(c, Chat)]
    assert len(chats) > 60 and any(m.author for c in chats for m in c.messages)
    for chat in chats:
        assert chat.transcript_json() == _reference(chat)

    class Tagged(Message):
        tag: str = "x"

    chat = _chat(datetime(2026, 11, 21, 8, 0, 1, tzinfo=UTC))
    tagged = chat.model_copy(update={"messages": [Tagged(**chat.messages[0].__dict__)]})
    assert "tag" in tagged.messages[0].__dict__
    assert tagged.transcript_json() == _reference(tagged) == chat.transcript_json()
