"""Ingest: native JSON Lines, CSV, gzip, stdin, timestamps, rejects (with file:line)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.errors import InputError, UsageError
from auditor.ingest import (
    IngestOptions,
    detect_language,
    language,
    parse_chat_obj,
    parse_column_mapping,
    parse_timestamp,
    read_chats,
)
from auditor.ingest.timestamps import TimestampError
from auditor.models import Chat, Reject, SourceRef

REPO = Path(__file__).resolve().parent.parent
SRC = SourceRef(file="t.jsonl", line=1)
CST = timezone(timedelta(hours=8))


def msg(role: str = "customer", ts: Any = "2026-11-21T10:00:00+08:00", text: str = "您好", **kw):
    return {"role": role, "ts": ts, "text": text, **kw}


def chat(chat_id: str = "c1", messages: list | None = None, **kw) -> dict:
    return {"chat_id": chat_id, "messages": messages or [msg()], **kw}


def write_lines(name: str, lines: list[Any]) -> str:
    """Write JSON Lines; bytes are written as they are, other items as JSON."""
    with open(name, "wb") as f:
        for item in lines:
            f.write(
                item if isinstance(item, bytes) else json.dumps(item, ensure_ascii=False).encode()
            )
            f.write(b"\n")
    return name


def read_all(paths: list[str], **opts) -> list[Chat | Reject]:
    return list(read_chats(paths, IngestOptions(**opts)))


def only_reject(result: Chat | Reject) -> Reject:
    assert isinstance(result, Reject), result
    return result


# --- the native format ----------------------------------------------------------------


def test_native_chat_is_normalised():
    obj = {
        "chat_id": 42,
        "agent_id": "a7",
        "customer_id": "u1",
        "channel": "web",
        "language": "zh-CN",
        "human": [{"criterion": "empathy", "level": "good"}],
        "messages": [
            msg(text="在吗"),
            msg("agent", "2026-11-21T10:00:20+08:00", "您好，很高兴为您服务", author="kf01"),
            msg("bot", "2026-11-21T10:00:21+08:00", "auto", auto=True),
        ],
    }
    result = parse_chat_obj(obj, SRC)
    assert isinstance(result, Chat)
    assert result.chat_id == "42"
    assert (result.agent_id, result.customer_id, result.channel) == ("a7", "u1", "web")
    assert result.language == "zh"
    assert [m.id for m in result.messages] == ["m1", "m2", "m3"]
    assert [m.role for m in result.messages] == ["customer", "agent", "bot"]
    assert result.messages[1].author == "kf01"
    assert result.messages[2].auto is True
    assert result.messages[0].ts == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert result.extra == {"human": [{"criterion": "empathy", "level": "good"}]}
    assert result.warnings == []
    assert result.source == SRC


def test_ids_are_filled_by_position_before_sorting():
    obj = chat(
        messages=[
            msg(ts="2026-11-21T10:00:30Z", text="second"),
            msg(ts="2026-11-21T10:00:10Z", text="first", id="x"),
            msg(ts="2026-11-21T10:00:20Z", text="middle"),
        ]
    )
    result = parse_chat_obj(obj, SRC)
    assert isinstance(result, Chat)
    # ids by input position (m1 = the first line written), then sorted by time
    assert [(m.id, m.text) for m in result.messages] == [
        ("x", "first"),
        ("m3", "middle"),
        ("m1", "second"),
    ]
    assert result.warnings == ["messages were out of time order: sorted by ts (3 moved)"]


def test_sorting_is_stable_for_equal_timestamps():
    same = "2026-11-21T10:00:00Z"
    obj = chat(
        messages=[
            msg(ts="2026-11-21T10:00:05Z", text="late"),
            msg(ts=same, text="a"),
            msg(ts=same, text="b"),
            msg(ts=same, text="c"),
        ]
    )
    result = parse_chat_obj(obj, SRC)
    assert isinstance(result, Chat)
    assert [m.text for m in result.messages] == ["a", "b", "c", "late"]
    # in order already -> no warning, equal stamps keep input order
    again = parse_chat_obj(chat(messages=[msg(ts=same, text=t) for t in "xyz"]), SRC)
    assert isinstance(again, Chat)
    assert [m.text for m in again.messages] == ["x", "y", "z"]
    assert again.warnings == []


def test_roles_are_case_insensitive_and_ids_may_be_numbers():
    result = parse_chat_obj(chat(messages=[msg(" Agent ", id=7)]), SRC)
    assert isinstance(result, Chat)
    assert (result.messages[0].role, result.messages[0].id) == ("agent", "7")


def test_auto_accepts_csv_words():
    for value, expected in [
        ("true", True),
        ("Yes", True),
        ("1", True),
        ("false", False),
        ("", False),
        (0, False),
    ]:
        result = parse_chat_obj(chat(messages=[msg("agent", auto=value)]), SRC)
        assert isinstance(result, Chat)
        assert result.messages[0].auto is expected, value


def test_unknown_top_level_keys_go_to_extra_and_message_extras_are_ignored():
    result = parse_chat_obj(chat(messages=[msg(score=3)], human=[1], queue="vip"), SRC)
    assert isinstance(result, Chat)
    assert result.extra == {"human": [1], "queue": "vip"}


# --- timestamps -----------------------------------------------------------------------

UTC_TEN = datetime(2026, 11, 21, 2, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-21T10:15:00+08:00",
        "2026-11-21T02:15:00Z",
        "2026-11-21T02:15:00z",
        "2026-11-21 02:15:00+00:00",
        "20261121T101500+0800",
        1795227300,  # epoch seconds
        1795227300.0,
        "1795227300",  # numeric string, seconds
        1795227300000,  # epoch milliseconds
        "1795227300000",
        "1795227300000.0",
    ],
)
def test_timestamp_forms(value):
    ts, naive = parse_timestamp(value, UTC)
    assert ts == UTC_TEN
    assert naive is False
    assert ts.tzinfo is not None


def test_offsets_are_kept_as_given():
    ts, _ = parse_timestamp("2026-11-21T10:15:00+08:00", UTC)
    assert ts.utcoffset() == timedelta(hours=8)


def test_epoch_ms_keeps_milliseconds_exactly():
    ts, _ = parse_timestamp(1795227300123, UTC)
    assert ts == UTC_TEN + timedelta(milliseconds=123)


def test_epoch_seconds_vs_milliseconds_by_magnitude():
    # just under 1e11 is seconds (year 5138), 1e11 itself is milliseconds (1973-03-03)
    assert parse_timestamp(99_999_999_999, UTC)[0].year == 5138
    assert parse_timestamp(100_000_000_000, UTC)[0] == datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)
    assert parse_timestamp(0, UTC)[0] == datetime(1970, 1, 1, tzinfo=UTC)


def test_naive_timestamp_is_read_in_tz():
    ts, naive = parse_timestamp("2026-11-21 10:15:00", ZoneInfo("Asia/Shanghai"))
    assert naive is True
    assert ts == UTC_TEN


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2026-11-21", "no time of day"),
        ("yesterday 10am", "not an ISO 8601 timestamp"),
        ("2026-11-21T25:00:00", "hour must be in 0..23"),
        (10**15, "too large"),
        ("", "empty"),
        (True, "not a timestamp"),
        (float("nan"), "not a timestamp"),
        ([1], "string or a number"),
    ],
)
def test_bad_timestamps(value, fragment):
    with pytest.raises(TimestampError, match=fragment):
        parse_timestamp(value, UTC)


def test_naive_chat_gets_a_warning_and_tz_option():
    write_lines(
        "a.jsonl",
        [chat(messages=[msg(ts="2026-11-21 10:15:00"), msg("agent", ts="2026-11-21T02:15:05Z")])],
    )
    [result] = read_all(["a.jsonl"], tz="Asia/Shanghai")
    assert isinstance(result, Chat)
    assert result.messages[0].ts == UTC_TEN
    assert result.warnings == [
        "1 timestamp(s) had no UTC offset and were read in Asia/Shanghai (--tz)"
    ]
    [utc] = read_all(["a.jsonl"])
    assert isinstance(utc, Chat)
    # read in UTC, the naive customer message now comes after the agent's: sorted and noted
    assert [m.role for m in utc.messages] == ["agent", "customer"]
    assert utc.messages[1].ts == datetime(2026, 11, 21, 10, 15, tzinfo=UTC)
    assert utc.warnings == [
        "1 timestamp(s) had no UTC offset and were read in UTC (--tz)",
        "messages were out of time order: sorted by ts (2 moved)",
    ]


def test_offset_timestamps_have_no_warning():
    write_lines("a.jsonl", [chat(messages=[msg(ts="2026-11-21T10:15:00+08:00")])])
    [result] = read_all(["a.jsonl"], tz="Asia/Shanghai")
    assert isinstance(result, Chat)
    assert result.warnings == []


def test_unknown_tz_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown time zone 'Asia/Shangai'"):
        IngestOptions(tz="Asia/Shangai")


# --- language -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["您好，请问有什么可以帮您"], "zh"),
        (["您好，請問有什麼可以幫您"], "zh"),  # traditional
        (["我的iPhone 15 Pro Max屏幕坏了"], "zh"),  # 6 CJK vs 3 words
        (["I ordered 茶叶 from your store"], "en"),  # 2 CJK vs 5 words
        (["Hello, how can I help?"], "en"),
        (["订单 AB1234 ok"], "zh"),  # 2 CJK vs 2 words: 50% >= 40%
        (["Please send the 发票 to my email"], "en"),  # 2 CJK vs 6 words: 25%
        (["こんにちは、ご注文ありがとうございます"], "ja"),  # kana: Japanese, not Chinese
        (["Hola, ¿en qué puedo ayudarle con su pedido?"], "es"),  # the model, not "en"
        (["Guten Tag, wie kann ich Ihnen helfen?"], "de"),
    ],
)
def test_language_detection(texts, expected):
    assert detect_language(texts) == (expected, True)


def test_language_without_letters_defaults_to_en_with_warning():
    assert detect_language(["123 😀"]) == ("en", False)
    result = parse_chat_obj(chat(messages=[msg(text="123")]), SRC)
    assert isinstance(result, Chat)
    assert result.language == "en"
    assert result.warnings == ["no letters to detect the language from; assumed 'en'"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab 1，。丁㐀\uf900\ufaff\U00020000\U0002ffff\u4dbfあ한é", max_size=40))
def test_ideographs_are_counted_as_the_regex_counts_them(text: str) -> None:
    assert language._ideographs(text) == language._CJK.subn("", text)[1]


def test_kana_or_hangul_is_either_class() -> None:
    for x in range(0x3000, 0x10000):  # both classes lie in the BMP above U+1100
        ch = chr(x)
        either = bool(language._KANA.fullmatch(ch) or language._HANGUL.fullmatch(ch))
        assert bool(language._KANA_OR_HANGUL.fullmatch(ch)) == either, hex(x)
    assert language._KANA_OR_HANGUL.fullmatch("\u1100") and not language._KANA_OR_HANGUL.search(
        "丁a"
    )


def test_language_given_wins_over_detection():
    result = parse_chat_obj(chat(language="en", messages=[msg(text="您好")]), SRC)
    assert isinstance(result, Chat)
    assert result.language == "en"


# --- rejects, each with file:line -------------------------------------------------------


def test_every_reject_reason_with_file_and_line():
    good = chat("good")
    lines = [
        good,  # 1
        b"{not json",  # 2
        b"",  # 3 blank: skipped silently
        chat("no-ts", [msg(), msg(ts=None)]),  # 4
        chat("role", [msg("operator")]),  # 5
        b'{"chat_id": "utf", "messages": [{"role": "customer", "ts": 1, "text": "\xff"}]}',  # 6
        chat("empty", []) | {"messages": []},  # 7
        {"messages": [msg()]},  # 8 no chat_id
        [1, 2],  # 9 not an object
        chat("bad-ts", [msg(ts="soon")]),  # 10
        chat("no-text", [msg(text=None)]),  # 11
        chat("dup", [msg(id="a"), msg(id="a")]),  # 12
        chat("lang", language="french!"),  # 13
        {"chat_id": "nomsg"},  # 14
        chat("many", [msg(ts=None), msg(role="x"), msg(text=None), msg(ts="")]),  # 15
        b"   ",  # 16 whitespace only: skipped
        good | {"chat_id": "last"},  # 17
    ]
    write_lines("day.jsonl", lines)
    results = read_all(["day.jsonl"])
    assert [r.chat_id for r in results if isinstance(r, Chat)] == ["good", "last"]
    rejects = {r.source.line: r for r in results if isinstance(r, Reject)}
    assert all(r.source.file == "day.jsonl" for r in rejects.values())
    expected = {
        2: "not valid JSON: ",
        4: "message 2 has no 'ts'",
        5: "message 1 has unknown role 'operator' (expected customer, agent, bot, system)",
        6: "invalid UTF-8 at byte 72 of the line; re-export the file as UTF-8",  # 71 bytes precede it
        7: "chat has no messages",
        8: "chat has no 'chat_id'",
        9: "expected a JSON object (one chat) per line, got a list",
        10: "message 1 has an unreadable 'ts': 'soon' is not an ISO 8601 timestamp",
        11: "message 1 has no 'text'",
        12: "message 2 has the same id 'a' as message 1; message ids must be unique",
        13: "unreadable language 'french!' (expected an ISO 639 code such as 'zh', 'en' or 'ja'",
        14: "chat has no 'messages' list",
        15: "message 1 has no 'ts'; message 2 has unknown role 'x' (expected customer, agent, bot, system); message 3 has no 'text'; and 1 more problem(s)",
    }
    assert sorted(rejects) == sorted(expected)
    for line, fragment in expected.items():
        assert rejects[line].reason.startswith(fragment), (line, rejects[line].reason)
    assert rejects[4].chat_id == "no-ts"
    assert str(rejects[5]).startswith("day.jsonl:5: chat 'role' message 1 has unknown role")
    assert rejects[2].raw == "{not json"
    assert "\ufffd" in (rejects[6].raw or "")


def test_invalid_utf8_offset_counts_a_bom_on_line_one():
    Path("bom.jsonl").write_bytes(b"\xef\xbb\xbf" + b'{"x": "\xc3"}\n')
    [reject] = read_all(["bom.jsonl"])
    # byte 1-3 are the BOM, '{"x": "' is bytes 4-10, the bad byte is 11
    assert only_reject(reject).reason.startswith("invalid UTF-8 at byte 11 of the line")


def test_bom_and_crlf_are_accepted():
    Path("w.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(chat()).encode() + b"\r\n")
    [result] = read_all(["w.jsonl"])
    assert isinstance(result, Chat)


def test_raw_is_truncated():
    write_lines("long.jsonl", [b"[" + b"1," * 1000])
    [reject] = read_all(["long.jsonl"], max_raw_chars=20)
    assert only_reject(reject).raw == "[" + "1," * 9 + "1…"


def test_parse_chat_obj_rejects_with_a_reason():
    reject = only_reject(parse_chat_obj({"chat_id": "x", "messages": "hi"}, SRC))
    assert reject.reason == "'messages' must be a list, not a string"
    assert reject.source == SRC
    assert reject.chat_id == "x"
    assert reject.raw == '{"chat_id":"x","messages":"hi"}'


def test_bad_field_types_are_rejected():
    reject = only_reject(
        parse_chat_obj(chat(agent_id=["a"], messages=[msg(auto="maybe", text=3)]), SRC)
    )
    assert reject.reason == (
        "'agent_id' must be a string, not a list; message 1: 'text' must be a string, "
        "not a number; message 1: 'auto' must be true or false, not 'maybe'"
    )


# --- files, gzip, stdin ---------------------------------------------------------------


def test_missing_files_raise_before_reading():
    write_lines("ok.jsonl", [chat()])
    Path("dir").mkdir()
    with pytest.raises(InputError) as info:
        read_chats(["ok.jsonl", "nope.jsonl", "dir"], IngestOptions())
    assert "nope.jsonl: no such file" in str(info.value)
    assert "dir: is a directory" in str(info.value)


def test_no_paths_and_double_stdin_are_usage_errors():
    with pytest.raises(UsageError):
        read_chats([], IngestOptions())
    with pytest.raises(UsageError):
        read_chats(["-", "-"], IngestOptions())


def test_several_files_in_order():
    write_lines("a.jsonl", [chat("a1"), chat("a2")])
    with gzip.open("b.jsonl.gz", "wb") as f:
        f.write((json.dumps(chat("b1")) + "\n").encode())
    results = read_all(["a.jsonl", "b.jsonl.gz"])
    assert [(r.chat_id, r.source and str(r.source)) for r in results] == [
        ("a1", "a.jsonl:1"),
        ("a2", "a.jsonl:2"),
        ("b1", "b.jsonl.gz:1"),
    ]


def test_gzip_is_detected_by_magic_bytes_not_suffix():
    with gzip.open("export.data", "wb") as f:
        f.write((json.dumps(chat("z1")) + "\n\n" + json.dumps(chat("z2")) + "\n").encode())
    results = read_all(["export.data"])
    assert [(r.chat_id, r.source.line) for r in results if isinstance(r, Chat) and r.source] == [
        ("z1", 1),
        ("z2", 3),
    ]


def test_truncated_gzip_ends_with_a_reject():
    data = gzip.compress(b"".join((json.dumps(chat(f"c{i}")) + "\n").encode() for i in range(200)))
    Path("cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    results = read_all(["cut.jsonl.gz"])
    *chats, last = results
    assert chats and all(isinstance(r, Chat) for r in chats)
    reject = only_reject(last)
    assert reject.source.line == len(chats) + 1
    assert "could not be read past line" in reject.reason
    assert "truncated" in reject.reason


def test_stdin(monkeypatch):
    body = gzip.compress((json.dumps(chat("s1")) + "\n").encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    [result] = read_all(["-"])
    assert isinstance(result, Chat)
    assert result.source == SourceRef(file="<stdin>", line=1)


def test_stdin_csv_is_sniffed(monkeypatch):
    body = b"chat_id,role,ts,text\nk1,customer,2026-11-21T10:00:00Z,hi\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    [result] = read_all(["-"])
    assert isinstance(result, Chat)
    assert result.chat_id == "k1"


class _OneByteAtATime(io.RawIOBase):
    """A pipe that hands out one byte per read, as a slow producer might."""

    def __init__(self, data: bytes):
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if not self._data:
            return 0
        buffer[0] = self._data[0]
        self._data = self._data[1:]
        return 1


def test_gzip_on_a_trickling_pipe(monkeypatch):
    body = gzip.compress((json.dumps(chat("p1")) + "\n").encode())
    stdin = io.TextIOWrapper(io.BufferedReader(_OneByteAtATime(body), buffer_size=1))
    monkeypatch.setattr(sys, "stdin", stdin)
    [result] = read_all(["-"])
    assert isinstance(result, Chat)


# --- CSV ------------------------------------------------------------------------------

CSV_HEAD = "chat_id,role,ts,text,agent_id,auto\n"


def test_csv_rows_are_grouped_into_chats():
    Path("d.csv").write_text(
        CSV_HEAD
        + "c1,customer,2026-11-21T10:00:00+08:00,在吗,,\n"
        + 'c1,agent,2026-11-21T10:00:12+08:00,"您好，很高兴为您服务",kf01,\n'
        + "\n"
        + "c2,bot,1795227300000,Welcome!,,true\n"
        + 'c2,customer,1795227305000,"multi\nline",,\n'
        + "c2,agent,1795227320000,Hi there,en03,false\n",
        encoding="utf-8",
    )
    c1, c2 = read_all(["d.csv"])
    assert isinstance(c1, Chat) and isinstance(c2, Chat)
    assert (c1.chat_id, c1.agent_id, c1.language, c1.source) == (
        "c1",
        "kf01",
        "zh",
        SourceRef(file="d.csv", line=2),
    )
    assert [m.id for m in c1.messages] == ["m1", "m2"]
    assert c2.source == SourceRef(file="d.csv", line=5)
    assert [m.auto for m in c2.messages] == [True, False, False]
    assert c2.messages[1].text == "multi\nline"
    assert c2.messages[0].ts == UTC_TEN
    assert c2.language == "en"


def test_csv_header_mapping_and_bom():
    Path("zh.csv").write_bytes(
        "\ufeff会话ID,角色,时间,内容,客服\n"
        "z1,customer,2026-11-21 10:00:00,你好,kf02\n"
        "z1,agent,2026-11-21 10:00:09,您好,kf02\n".encode()
    )
    opts = dict(
        csv_columns=parse_column_mapping(
            ["chat_id=会话ID", "role=角色", "ts=时间", "text=内容", "agent_id=客服"]
        ),
        tz="Asia/Shanghai",
    )
    [result] = read_all(["zh.csv"], **opts)
    assert isinstance(result, Chat)
    assert (result.chat_id, result.agent_id) == ("z1", "kf02")
    assert result.messages[0].ts == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert result.warnings == [
        "2 timestamp(s) had no UTC offset and were read in Asia/Shanghai (--tz)"
    ]


def test_csv_header_match_is_case_insensitive():
    Path("c.csv").write_text("Chat_ID,Role,TS,Text\nq,customer,1795227300,hi\n", encoding="utf-8")
    [result] = read_all(["c.csv"])
    assert isinstance(result, Chat)


def test_csv_missing_column_rejects_the_file_at_the_header():
    Path("m.csv").write_text("chat_id,role,text\nc1,customer,hi\n", encoding="utf-8")
    [reject] = read_all(["m.csv"])
    reject = only_reject(reject)
    assert reject.source == SourceRef(file="m.csv", line=1)
    assert reject.reason.startswith(
        "the CSV header has no column 'ts' (found 'chat_id', 'role', 'text')"
    )


def test_csv_non_contiguous_fragment_is_rejected():
    Path("n.csv").write_text(
        CSV_HEAD
        + "a,customer,1795227300,hi,,\n"  # 2
        + "b,customer,1795227301,hello,,\n"  # 3
        + "a,agent,1795227310,late row,,\n"  # 4
        + "a,agent,1795227311,another,,\n",  # 5
        encoding="utf-8",
    )
    a, b, fragment = read_all(["n.csv"])
    assert isinstance(a, Chat) and len(a.messages) == 1
    assert isinstance(b, Chat)
    fragment = only_reject(fragment)
    assert fragment.source.line == 4
    assert fragment.chat_id == "a"
    assert fragment.reason.startswith(
        "rows of chat 'a' are not contiguous: this fragment (lines 4-5) comes after other "
        "chats, and the rows from line 2 were audited without it; sort the file by chat_id"
    )


def test_csv_row_problems_name_the_line():
    Path("p.csv").write_bytes(
        (
            CSV_HEAD + "a,customer,1795227300,hi,,\na,agent,,no time,,\nb,boss,1795227300,x,,\n"
        ).encode()
        + b"c,customer,1795227300,caf\xe9,,\n"
        + b",customer,1795227300,orphan,,\n"
    )
    a, b, c, orphan = read_all(["p.csv"])
    assert only_reject(a).reason == "message 2 (line 3) has no 'ts'"
    assert only_reject(a).source.line == 2
    assert only_reject(b).reason.startswith("message 1 (line 4) has unknown role 'boss'")
    assert (
        only_reject(c).reason
        == "invalid UTF-8 in line 5 (column text); re-export the file as UTF-8"
    )
    assert only_reject(orphan).reason == "chat has no 'chat_id'"
    assert only_reject(orphan).source.line == 6


def test_csv_rows_that_disagree_warn_once():
    Path("w.csv").write_text(
        CSV_HEAD
        + "a,customer,1795227300,hi,,\n"
        + "a,agent,1795227301,yo,kf1,\n"
        + "a,agent,1795227302,yo,kf2,\n"
        + "a,agent,1795227303,yo,kf3,\n",
        encoding="utf-8",
    )
    [result] = read_all(["w.csv"])
    assert isinstance(result, Chat)
    assert result.agent_id == "kf1"
    assert result.warnings == [
        "rows disagree on agent_id: line 4 says 'kf2', kept 'kf1' from an earlier row"
    ]


def test_tsv_and_gzip_csv():
    with gzip.open("t.tsv.gz", "wt", encoding="utf-8") as f:
        f.write("chat_id\trole\tts\ttext\nt1\tcustomer\t1795227300\thello, world\n")
    [result] = read_all(["t.tsv.gz"])
    assert isinstance(result, Chat)
    assert result.messages[0].text == "hello, world"


def test_bad_mapping_is_a_usage_error():
    with pytest.raises(UsageError, match="expected FIELD=HEADER"):
        parse_column_mapping(["chat_id"])
    with pytest.raises(UsageError, match="unknown CSV field 'body'"):
        parse_column_mapping(["body=内容"])
    with pytest.raises(UsageError, match="unknown CSV field"):
        IngestOptions(csv_columns={"body": "x"})


# --- streaming ------------------------------------------------------------------------


class _CountingGzipSource(io.RawIOBase):
    """A gzip stream produced on demand, counting how much of it has been read."""

    def __init__(self, chats: int):
        self.consumed = 0
        self._chunks = self._produce(chats)
        self._pending = b""

    def _produce(self, chats: int):
        sink = io.BytesIO()
        with gzip.GzipFile(fileobj=sink, mode="wb") as gz:
            for i in range(chats):
                noise = hashlib.sha256(str(i).encode()).hexdigest()  # keeps it incompressible
                gz.write((json.dumps(chat(f"c{i}", [msg(text=noise)])) + "\n").encode())
                if sink.tell() > 1 << 15:
                    yield sink.getvalue()
                    sink.seek(0)
                    sink.truncate()
        yield sink.getvalue()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self.consumed += n
        return n


def test_reading_is_streaming(monkeypatch):
    source = _CountingGzipSource(chats=20_000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(source)))
    chats = read_chats(["-"], IngestOptions())
    first, second = next(chats), next(chats)
    assert isinstance(first, Chat) and first.chat_id == "c0"
    assert isinstance(second, Chat) and second.chat_id == "c1"
    read_before_first_chats = source.consumed
    while source.read(1 << 16):  # drain the rest unparsed to learn the file's size
        pass
    # the first chats came out after a few buffers, not after the whole compressed file
    assert read_before_first_chats < source.consumed / 4
    assert source.consumed > 500_000


# --- examples shipped in the repo -----------------------------------------------------


def test_bad_input_example_shows_each_reject():
    results = read_all([str(REPO / "examples" / "bad-input.jsonl")])
    chats = [r for r in results if isinstance(r, Chat)]
    rejects = [r for r in results if isinstance(r, Reject)]
    assert len(chats) == 2
    reasons = " | ".join(r.reason for r in rejects)
    for fragment in [
        "not valid JSON",
        "has no 'ts'",
        "unknown role 'operator'",
        "invalid UTF-8",
        "chat has no messages",
    ]:
        assert fragment in reasons


def test_sample_csv_example_reads():
    results = read_all([str(REPO / "examples" / "sample-day.csv")])
    assert len(results) >= 15
    assert all(isinstance(r, Chat) for r in results)
    assert {r.language for r in results if isinstance(r, Chat)} == {"zh", "en"}


# --- TWCS -----------------------------------------------------------------------------

TWCS_THREAD = {
    "conversation_id": "twcs_8",
    "brand": ["sprintcare"],
    "n_messages": 2,
    "thread_incomplete": False,
    "messages": [
        {
            "tweet_id": "8",
            "role": "customer",
            "author_id": "115712",
            "timestamp": "2017-10-31T21:45:10+00:00",
            "in_reply_to": None,
            "text": "@sprintcare is the worst customer service",
        },
        {
            "tweet_id": "6",
            "role": "agent",
            "author_id": "sprintcare",
            "timestamp": "2017-10-31T21:46:24+00:00",
            "in_reply_to": "8",
            "text": "@115712 Can you please send us a private message?",
        },
    ],
}


def test_twcs_threads_are_converted():
    write_lines("twcs.jsonl", [TWCS_THREAD])
    for fmt in ("auto", "twcs"):
        [result] = read_all(["twcs.jsonl"], format=fmt)
        assert isinstance(result, Chat)
        assert (result.chat_id, result.agent_id, result.customer_id, result.channel) == (
            "twcs_8",
            "sprintcare",
            "115712",
            "twitter",
        )
        assert [m.id for m in result.messages] == ["8", "6"]
        assert result.messages[1].author == "sprintcare"
        assert result.language == "en"
        assert result.extra["brand"] == ["sprintcare"]
    # --format jsonl reads only the native shape
    [reject] = read_all(["twcs.jsonl"], format="jsonl")
    assert only_reject(reject).reason.startswith("chat has no 'chat_id'")


@pytest.mark.realdata
def test_real_twcs_threads_all_parse(shared_data):
    path = shared_data / "chats" / "twcs" / "twcs_threads_dev.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not available")
    results = read_all([str(path)])
    assert len(results) == 656
    rejects = [r for r in results if isinstance(r, Reject)]
    assert rejects == []
    assert all(r.messages for r in results if isinstance(r, Chat))
