"""Helpdesk formats: roles, bots, notes, HTML, attachments, time zones, malformed records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import helpdesk_fixtures as fx  # tests/ is on sys.path (rootdir conftest)
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.checks.timing import analyze_timing
from auditor.ingest import IngestOptions, read_chats
from auditor.models import Chat, Reject
from auditor.rubric import TimingSettings

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return path


def read(path: Path, fmt: str = "auto", tz: str = "UTC") -> list[Chat | Reject]:
    return list(read_chats([str(path)], IngestOptions(format=fmt, tz=tz)))  # type: ignore[arg-type]


def one_chat(items: list[Chat | Reject]) -> Chat:
    [chat] = items
    assert isinstance(chat, Chat), chat
    return chat


# --- Zendesk -----------------------------------------------------------------------------


def test_zendesk_roles_bots_notes_html_attachments(tmp_path: Path) -> None:
    chat = one_chat(read(write_jsonl(tmp_path / "z.jsonl", [fx.zendesk(auto=True)]), "zendesk"))
    assert (chat.chat_id, chat.agent_id, chat.customer_id, chat.channel) == (
        "35436", "1114", "20978392", "web",
    )  # fmt: skip
    roles = [(m.role, m.auto) for m in chat.messages]
    assert roles == [
        ("customer", False),
        ("bot", False),  # via answer_bot
        ("agent", True),  # via rule: a trigger's message
        ("agent", False),
        ("customer", False),
        ("customer", False),
    ]
    assert chat.messages[3].text == "Please unplug it & wait."  # html_body, entity decoded
    assert chat.messages[-1].text == "Photo attached\n[image: fire.jpg]"
    assert [n.text for n in chat.notes] == ["Customer seems upset, escalate."]
    assert all(m.text != "Customer seems upset, escalate." for m in chat.messages)
    assert chat.messages[0].ts == datetime(2026, 11, 21, 2, 0, 30, tzinfo=UTC)
    assert chat.extra["source_format"] == "zendesk"


def test_zendesk_chat_transcript_comment_is_split(tmp_path: Path) -> None:
    record = fx.zendesk(bot=False, note=False, attachment=False, exchanges=0)
    record["ticket"]["via"] = {"channel": "chat"}
    record["comments"] = [
        {
            "id": 1,
            "type": "Comment",
            "author_id": 20978392,
            "public": True,
            "via": {"channel": "chat"},
            "created_at": "2026-11-21T02:10:00Z",
            "body": "Chat started: 2026-11-21 11:58 PM UTC\n\n"
            "(11:58:10 PM) Jane Requester: hi, is my order shipped?\n"
            "(11:59:40 PM) Bob Agent: Hello Jane, let me check.\nIt left today.\n"
            "(12:00:05 AM) Jane Requester: thanks",
        }
    ]
    chat = one_chat(read(write_jsonl(tmp_path / "t.jsonl", [record])))
    assert [(m.role, m.text) for m in chat.messages] == [
        ("customer", "hi, is my order shipped?"),
        ("agent", "Hello Jane, let me check.\nIt left today."),
        ("customer", "thanks"),
    ]
    assert [m.ts.isoformat() for m in chat.messages] == [
        "2026-11-21T23:58:10+00:00",
        "2026-11-21T23:59:40+00:00",
        "2026-11-22T00:00:05+00:00",  # past midnight: the next day
    ]


def test_zendesk_unknown_author_rejects_with_position_and_rest_is_read(tmp_path: Path) -> None:
    bad = fx.zendesk(ticket_id=2)
    bad["comments"][1]["author_id"] = 999
    bad["comments"][1]["via"]["channel"] = "web"
    path = write_jsonl(
        tmp_path / "z.jsonl", [fx.zendesk(ticket_id=1), bad, fx.zendesk(ticket_id=3)]
    )
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Chat", "Reject", "Chat"]
    reject = items[1]
    assert isinstance(reject, Reject) and str(reject.source) == f"{path}:2"
    assert "comment 2: author 999 is not in 'users'" in reject.reason


# --- Intercom ----------------------------------------------------------------------------


def test_intercom_parts_roles_notes_events_html_attachments(tmp_path: Path) -> None:
    chat = one_chat(read(write_jsonl(tmp_path / "i.jsonl", [fx.intercom()])))
    assert (chat.chat_id, chat.agent_id, chat.customer_id, chat.channel) == (
        "123", "991267", "6329bd9ffe4e2e91dac76188", "conversation",
    )  # fmt: skip
    assert [m.role for m in chat.messages] == ["customer", "bot", "agent", "customer", "customer"]
    assert chat.messages[0].text == "Where is my order?"
    assert chat.messages[2].text == "Hi Jane, it's all great thanks!"
    assert chat.messages[-1].text == "[attachment: receipt.pdf]"
    assert [n.text for n in chat.notes] == ["VIP customer"]
    assert chat.extra["skipped_events"] == 2  # the assignment and the close
    assert chat.messages[0].ts == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # epoch seconds


def test_intercom_team_author_is_automatic_and_ai_agent_is_bot(tmp_path: Path) -> None:
    record = fx.intercom(bot=False, note=False, attachment=False, events=False)
    parts = record["conversation_parts"]["conversation_parts"]
    parts[0]["author"] = {"type": "team", "id": "814860", "name": "Support"}
    parts[1]["author"] = {"type": "admin", "id": "1", "name": "Fin", "from_ai_agent": True}
    record["source"]["delivered_as"] = "automated"
    chat = one_chat(read(write_jsonl(tmp_path / "i.jsonl", [record]), "intercom"))
    assert [(m.role, m.auto) for m in chat.messages] == [
        ("customer", True),
        ("agent", True),
        ("bot", False),
    ]


def test_intercom_malformed_part_rejected_rest_read(tmp_path: Path) -> None:
    bad = fx.intercom(conv_id="2")
    bad["conversation_parts"]["conversation_parts"][2]["author"] = {"type": "alien"}
    path = write_jsonl(tmp_path / "i.jsonl", [fx.intercom(conv_id="1"), bad])
    items = read(path, "intercom")
    assert isinstance(items[0], Chat)
    assert isinstance(items[1], Reject) and items[1].source.line == 2
    assert "part 3: unknown author type 'alien'" in items[1].reason


# --- LiveChat ----------------------------------------------------------------------------


def test_livechat_events_roles_bots_whispers_files_system(tmp_path: Path) -> None:
    chat = one_chat(read(write_jsonl(tmp_path / "l.jsonl", [fx.livechat()])))
    assert (chat.chat_id, chat.agent_id, chat.channel) == (
        "PJ0MRSHTDG",
        "smith@example.com",
        "livechat",
    )
    assert chat.customer_id == "b7eff798-f8df-4364-8059-649c35c9ed0c"
    assert [m.role for m in chat.messages] == [
        "customer",
        "bot",
        "system",
        "agent",
        "customer",
        "customer",
    ]
    assert chat.messages[1].text == "Track your parcel\nTrack"
    assert chat.messages[-1].text == "[image: label.png]"
    assert [n.text for n in chat.notes] == ["checking with the warehouse"]
    assert chat.extra["skipped_events"] == 1  # the pre-chat form
    assert chat.messages[0].ts == datetime(2026, 11, 21, 2, 1, tzinfo=UTC)


def test_livechat_json_array_positions_and_bad_record(tmp_path: Path) -> None:
    bad = fx.livechat(chat_id="BAD")
    bad["thread"]["events"][1]["created_at"] = "yesterday"
    text = json.dumps([fx.livechat(chat_id="A"), bad, fx.livechat(chat_id="C")], indent=2)
    path = tmp_path / "archives.json"
    path.write_text(text)
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Chat", "Reject", "Chat"]
    second_start = text.splitlines().index("  {", 2) + 1  # the line the 2nd record opens on
    assert items[1].source.line == second_start
    assert "message 1 has an unreadable 'ts'" in items[1].reason


def test_json_array_broken_mid_way_keeps_records_before(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("[\n" + json.dumps(fx.livechat(chat_id="A")) + ',\n{"id": \n]')
    items = read(path, "livechat")
    assert isinstance(items[0], Chat)
    assert isinstance(items[1], Reject) and items[1].source.line == 3
    assert "not valid JSON" in items[1].reason


# --- Freshchat ---------------------------------------------------------------------------


def test_freshchat_actor_types_private_notes_parts(tmp_path: Path) -> None:
    chat = one_chat(read(write_jsonl(tmp_path / "f.jsonl", [fx.freshchat()])))
    assert chat.agent_id == "e8b8f3c1-3d1a-4a8e-9b0e-7c6d5e4f3a21"
    assert chat.customer_id == "a6c9d5b2-4b5e-4c59-8c2a-0f3b6e1d9a10"
    assert [m.role for m in chat.messages] == [
        "customer",
        "bot",
        "system",
        "agent",
        "customer",
        "customer",
    ]
    assert chat.messages[0].author == "Jane Doe"
    assert (
        chat.messages[1].text
        == "I can help! Pick one:\n[options: Refund status | Talk to an agent]"
    )
    assert chat.messages[3].text == "Hi, I'm Priya & I can help."
    assert chat.messages[-1].text == "[image: screenshot.png]\n[attachment: order.pdf]"
    assert [n.text for n in chat.notes] == ["refund pending in finance"]


def test_freshchat_wrong_format_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", [fx.zendesk(), fx.freshchat()])
    items = read(path, "freshchat")
    assert isinstance(items[0], Reject) and "not a Freshchat record" in items[0].reason
    assert isinstance(items[1], Chat)


# --- shared behaviour --------------------------------------------------------------------


@pytest.mark.parametrize("build", [fx.zendesk, fx.intercom, fx.livechat, fx.freshchat])
def test_notes_are_kept_but_never_timed(build: Any, tmp_path: Path) -> None:
    """The fixture's agent note follows a customer message: as a message it would stop the
    response clock; as a note it stops nothing, and it is kept in the stored transcript."""
    chat = one_chat(read(write_jsonl(tmp_path / "a.jsonl", [build(note=True)])))
    [note] = chat.notes
    assert all(m.id != note.id or m.text != note.text for m in chat.messages)
    as_message = chat.model_copy(
        update={"messages": sorted([*chat.messages, note], key=lambda m: m.ts), "notes": []}
    )
    settings = TimingSettings()
    timed = analyze_timing(chat, settings).responses
    assert timed != analyze_timing(as_message, settings).responses
    assert timed == analyze_timing(chat.model_copy(update={"notes": []}), settings).responses
    assert chat.transcript_dict()["notes"][0]["text"] == note.text


@pytest.mark.parametrize("build", [fx.zendesk, fx.intercom, fx.livechat, fx.freshchat])
def test_times_are_utc_instants_whatever_tz(build: Any, tmp_path: Path) -> None:
    """The vendors' stamps carry their zone (Z or epoch): --tz changes nothing."""
    path = write_jsonl(tmp_path / "a.jsonl", [build()])
    utc = one_chat(read(path))
    shanghai = one_chat(read(path, tz="Asia/Shanghai"))
    assert [m.ts for m in utc.messages] == [m.ts for m in shanghai.messages]
    assert all(
        m.ts.utcoffset() is not None and m.ts.utcoffset().total_seconds() == 0 for m in utc.messages
    )
    assert not any("no UTC offset" in w for w in utc.warnings)


# --- hypothesis: read = audited + rejected ------------------------------------------------

flags = st.booleans()
BUILDERS = {
    "zendesk": st.builds(fx.zendesk, st.integers(1, 10**6), st.integers(0, 3), flags, flags, flags, flags, flags),
    "intercom": st.builds(fx.intercom, st.integers(1, 10**6).map(str), st.integers(0, 3), flags, flags, flags, flags, flags),
    "livechat": st.builds(fx.livechat, st.integers(1, 10**6).map(str), st.integers(0, 3), flags, flags, flags, flags),
    "freshchat": st.builds(fx.freshchat, st.integers(1, 10**6).map(str), st.integers(0, 3), flags, flags, flags, flags),
}  # fmt: skip


def _break(record: dict[str, Any], how: int) -> Any:
    """Damage a record one of several ways (each must reject only it)."""
    if how == 0:
        return "a string"  # not an object
    if how == 1:
        return {"nonsense": True}
    broken = json.loads(json.dumps(record))
    for key in ("comments", "messages", "conversation_parts", "thread"):
        if key in broken:
            broken[key] = "oops"
            return broken
    return broken


@pytest.mark.parametrize("vendor", sorted(BUILDERS))
@SETTINGS
@given(data=st.data())
def test_property_read_equals_audited_plus_rejected(
    vendor: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    records = data.draw(st.lists(BUILDERS[vendor], min_size=1, max_size=5))
    damage = data.draw(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2)), max_size=3))
    lines: list[str] = [json.dumps(r) for r in records]
    broken = set()
    for where, how in damage:
        i = where % len(lines)
        lines[i] = json.dumps(_break(records[i], how))
        broken.add(i)
    as_array = data.draw(st.booleans())
    path = tmp_path_factory.mktemp("h") / ("x.json" if as_array else "x.jsonl")
    path.write_text(("[\n" + ",\n".join(lines) + "\n]") if as_array else "\n".join(lines))
    fmt = data.draw(st.sampled_from(["auto", vendor]))
    items = read(path, fmt)
    chats = [i for i in items if isinstance(i, Chat)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(items) == len(records) == len(chats) + len(rejects)
    assert {r.source.line for r in rejects} == {i + (2 if as_array else 1) for i in broken}
