"""Excel (.xlsx) input: headers, role words, sheets, dates, rejects, saved mappings, zip bombs."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from auditor.ingest import IngestOptions, read_chats
from auditor.ingest.xlsx import MAX_RATIO
from auditor.models import Chat, Reject
from cli import main

EXAMPLE_DAY = Path(__file__).parent.parent / "examples" / "sample-day.jsonl"
HEADERS = [
    "会话ID",
    "客服",
    "客户ID",
    "渠道",
    "语言",
    "消息ID",
    "发送方",
    "发送人",
    "发送时间",
    "消息内容",
    "自动",
]
COLUMNS = {
    "chat_id": "会话ID",
    "agent_id": "客服",
    "customer_id": "客户ID",
    "channel": "渠道",
    "language": "语言",
    "id": "消息ID",
    "role": "发送方",
    "author": "发送人",
    "ts": "发送时间",
    "text": "消息内容",
    "auto": "自动",
}
ZH_ROLE = {"customer": "客户", "agent": "客服", "bot": "机器人", "system": "系统"}
EN_ROLE = {"customer": "Buyer", "agent": "小二", "bot": "Robot", "system": "System"}


def _cell(ws: Any, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula


def _sheet(book: Workbook, title: str, title_row: str | None, rows: list[list[Any]]) -> None:
    ws = book.create_sheet(title)
    r = 1
    if title_row:
        ws.cell(row=1, column=1, value=title_row)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
        r = 3  # a blank row between the title and the header
    for c, h in enumerate(HEADERS, start=1):
        ws.cell(row=r, column=c, value=h)
    for values in rows:
        r += 1
        for c, v in enumerate(values, start=1):
            _cell(ws, r, c, v)


def _ts_value(ms: int | str, style: str) -> Any:
    if isinstance(ms, str):
        return ms  # text as written (keeps its offset)
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    if style == "text":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    naive = moment.replace(tzinfo=None)
    if style == "serial":
        return (naive - datetime(1899, 12, 30)) / timedelta(days=1)  # noqa: DTZ001 - Excel times are naive
    return naive  # a date cell


def example_day_workbook(path: Path) -> int:
    """The example day as a console would export it: zh and en sheets, a merged title row,
    Chinese headers, role words, dates as text (zh), date cells and serials (en). Returns the
    number of chats written."""
    book = Workbook()
    book.remove(book.active)
    sheets: dict[str, list[list[Any]]] = {"中文": [], "English": []}
    chats = [json.loads(line) for line in EXAMPLE_DAY.read_text(encoding="utf-8").splitlines()]
    for n, chat in enumerate(chats):
        zh = chat.get("language") == "zh"
        roles = ZH_ROLE if zh else EN_ROLE
        for i, m in enumerate(chat["messages"]):
            style = "text" if zh else ("serial" if (n + i) % 3 == 0 else "date")
            sheets["中文" if zh else "English"].append(
                [
                    chat["chat_id"],
                    chat.get("agent_id"),
                    chat.get("customer_id"),
                    chat.get("channel"),
                    chat.get("language"),
                    m.get("id"),
                    roles[m["role"]],
                    m.get("author"),
                    _ts_value(m["ts"], style),
                    m["text"] or None,
                    m.get("auto"),
                ]
            )
    _sheet(book, "中文", "客服聊天记录导出 2026-11-21", sheets["中文"])
    _sheet(book, "English", None, sheets["English"])
    book.save(path)
    return len(chats)


def _audit(tmp_path: Path, name: str, args: list[str]) -> dict[str, dict[str, Any]]:
    out = tmp_path / f"{name}.jsonl"
    r = CliRunner().invoke(
        main, ["audit", *args, "--db", str(tmp_path / f"{name}.db"), "--out", str(out), "-q"]
    )
    assert r.exit_code == 0, r.output
    results = {}
    for line in out.read_bytes().splitlines():
        d = orjson.loads(line)
        d.pop("source")
        d.pop("warnings")
        results[d["chat_id"]] = d
    return results


def test_excel_export_of_the_example_day_audits_like_the_jsonl_day(tmp_path: Path) -> None:
    xlsx = tmp_path / "day.xlsx"
    n = example_day_workbook(xlsx)
    mapping = tmp_path / "console.yaml"
    mapping.write_text(
        "columns:\n"
        + "".join(f"  {k}: {v}\n" for k, v in COLUMNS.items())
        + "role_values:\n  小二: agent\n",
        encoding="utf-8",
    )
    from_jsonl = _audit(tmp_path, "jsonl", [str(EXAMPLE_DAY)])
    from_xlsx = _audit(tmp_path, "xlsx", [str(xlsx), "--mapping", str(mapping)])
    assert len(from_jsonl) == n == 400
    assert from_xlsx.keys() == from_jsonl.keys()
    for chat_id, expected in from_jsonl.items():
        assert from_xlsx[chat_id] == expected, chat_id


def _book(rows: list[list[Any]], title: str = "Sheet1", book: Workbook | None = None) -> Workbook:
    book = book or Workbook()
    if book.active is not None and book.active.title == "Sheet" and book.active.max_row == 1:
        book.remove(book.active)
    ws = book.create_sheet(title)
    for row in rows:
        ws.append(row)
    return book


def _read(path: Path, **opts: Any) -> list[Chat | Reject]:
    return list(read_chats([str(path)], IngestOptions(**opts)))


def test_roles_in_chinese_and_english_and_mapped_words(tmp_path: Path) -> None:
    rows = [["chat_id", "role", "ts", "text"]]
    words = ["客户", "坐席", "买家", "商家", "用户", "机器人", "系统", "Customer", "AGENT", "小二"]
    for i, w in enumerate(words):
        rows.append(["c1", w, f"2026-11-21 10:00:{i:02d}", f"t{i}"])
    p = tmp_path / "roles.xlsx"
    _book(rows).save(p)
    [chat] = _read(p, role_values={"小二": "agent"})
    assert isinstance(chat, Chat)
    assert [m.role for m in chat.messages] == [
        "customer", "agent", "customer", "agent", "customer", "bot", "system",
        "customer", "agent", "agent",
    ]  # fmt: skip
    [rejected] = _read(p)  # without the mapping the unknown word is named
    assert isinstance(rejected, Reject)
    assert "unknown role '小二'" in rejected.reason
    assert str(rejected.source) == f"{p}:Sheet1:2"


def test_dates_as_serials_date_cells_slash_text_and_epoch(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.append(["chat_id", "role", "ts", "text"])
    ws.append(["c1", "customer", 46347.5, "serial: noon 2026-11-21"])
    ws.append(["c1", "agent", datetime(2026, 11, 21, 12, 0, 30, 250_000), "date cell"])  # noqa: DTZ001 - Excel times are naive
    ws.append(["c1", "agent", "2026/11/21 12:01:00", "slash text"])
    ws.append(["c1", "customer", 1795233720000, "epoch ms"])
    p = tmp_path / "dates.xlsx"
    book.save(p)
    [chat] = _read(p, tz="Asia/Shanghai")
    assert isinstance(chat, Chat)
    utc = [m.ts.astimezone(UTC) for m in chat.messages]
    assert utc == [
        datetime(2026, 11, 21, 4, 0, tzinfo=UTC),  # noon in Shanghai
        datetime(2026, 11, 21, 4, 0, 30, 250_000, tzinfo=UTC),
        datetime(2026, 11, 21, 4, 1, tzinfo=UTC),
        datetime(2026, 11, 21, 4, 2, tzinfo=UTC),  # 1795233720 s
    ]
    assert any("read in Asia/Shanghai" in w for w in chat.warnings)


def test_several_sheets_title_rows_blank_rows_and_positions(tmp_path: Path) -> None:
    book = Workbook()
    a = book.active
    a.title = "一月"
    a.append(["客服聊天记录"])
    a.merge_cells("A1:D1")
    a.append(["chat_id", "role", "ts", "text"])
    a.append(["c1", "客户", "2026-11-21T10:00:00+08:00", "在吗"])
    a.append([])
    a.append(["c1", "客服", "2026-11-21T10:00:09+08:00", "您好"])
    a.append(["c2", "客户", "not a time", "x"])
    b = book.create_sheet("说明")
    b.append(["这个表是导出说明"])
    book.create_sheet("空")
    c = book.create_sheet("二月")
    c.append(["text", "ts", "role", "chat_id"])  # its own column order
    c.append(["hi", "2026-11-21T10:00:00Z", "user", 7])
    p = tmp_path / "multi.xlsx"
    book.save(p)
    items = _read(p)
    assert [type(i).__name__ for i in items] == ["Chat", "Reject", "Reject", "Chat"]
    c1, bad, no_header, c7 = items
    assert isinstance(c1, Chat) and [m.text for m in c1.messages] == ["在吗", "您好"]
    assert str(c1.source) == f"{p}:一月:3"
    assert isinstance(bad, Reject) and str(bad.source) == f"{p}:一月:6"
    assert "unreadable 'ts'" in bad.reason and "line 6" in bad.reason
    assert isinstance(no_header, Reject) and str(no_header.source) == f"{p}:说明:1"
    assert "no header row" in no_header.reason
    assert isinstance(c7, Chat) and c7.chat_id == "7" and c7.messages[0].role == "customer"


def test_not_a_workbook_and_zip_bomb_are_one_reject(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"chat_id,role\n")
    [r] = _read(junk)
    assert isinstance(r, Reject) and "not a zip archive" in r.reason
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    [r] = _read(bomb)
    assert isinstance(r, Reject) and "zip bomb" in r.reason and f"more than {MAX_RATIO}" in r.reason


def test_corrupt_zip_member_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<nonsense")
    p = tmp_path / "broken.xlsx"
    p.write_bytes(buf.getvalue())
    [r] = _read(p)
    assert isinstance(r, Reject) and "not a readable Excel workbook" in r.reason


def test_mapping_file_errors_name_the_key(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text("columns:\n  chat: 会话ID\n", encoding="utf-8")
    p = tmp_path / "x.xlsx"
    _book([["a"]]).save(p)
    r = CliRunner().invoke(
        main, ["audit", str(p), "--mapping", str(m), "--db", str(tmp_path / "d")]
    )
    assert r.exit_code != 0 and "columns.chat: unknown field" in r.output
    m.write_text("role_values:\n  小二: boss\n", encoding="utf-8")
    r = CliRunner().invoke(
        main, ["audit", str(p), "--mapping", str(m), "--db", str(tmp_path / "d")]
    )
    assert r.exit_code != 0 and "'boss' is not a role" in r.output


def test_csv_column_alias_and_role_values_also_apply_to_csv(tmp_path: Path) -> None:
    p = tmp_path / "day.csv"
    p.write_text(
        "会话ID,发送方,时间,内容\nc1,买家,2026-11-21T10:00:00Z,在吗\nc1,小二,2026-11-21T10:00:05Z,在的\n",
        encoding="utf-8",
    )
    base = ["audit", str(p), "--db", str(tmp_path / "a.db"), "--json"]
    args = ["--csv-column", "chat_id=会话ID", "--column", "role=发送方", "--column", "ts=时间"]
    r = CliRunner().invoke(
        main, [*base, *args, "--column", "text=内容", "--role-value", "小二=agent"]
    )
    assert r.exit_code == 0, r.output
    counts = json.loads(r.output.strip().splitlines()[-1])
    assert (counts["read"], counts["audited"], counts["rejected"]) == (1, 1, 0)


cells = st.one_of(
    st.none(),
    st.text(max_size=12).filter(lambda s: not s.startswith("=")),
    st.integers(min_value=-(10**6), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e15),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)),  # noqa: DTZ001 - Excel times are naive
    st.sampled_from(["客户", "客服", "机器人", "系统", "小二", "", "2026-11-21 10:00:00"]),
)
row = st.tuples(st.sampled_from(["a", "b", "c", ""]), cells, cells, cells)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(row, max_size=12), st.lists(row, max_size=6))
def test_property_read_equals_audited_plus_rejected(
    tmp_path_factory: pytest.TempPathFactory, rows1: list[Any], rows2: list[Any]
) -> None:
    """Whatever the sheets hold: every chat id group is read once, as a Chat or a Reject."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(v: Any) -> Any:
        return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v

    book = Workbook()
    book.remove(book.active)
    expected = 0
    for title, rows in (("s1", rows1), ("s2", rows2)):
        ws = book.create_sheet(title)
        ws.append(["chat_id", "role", "ts", "text"])
        last = None
        for r in rows:
            values = [clean(v) for v in r]
            ws.append(values)
            filled = any(v is not None and str(v).strip() for v in values)
            if filled and (last is None or r[0] != last):
                expected += 1
            if filled:
                last = r[0]
    p = tmp_path_factory.mktemp("x") / "p.xlsx"
    book.save(p)
    items = _read(p, earliest_ts="1970-01-01")
    assert len(items) == expected
    assert all(isinstance(i, Chat | Reject) for i in items)


def test_a_workbook_on_stdin_is_read(tmp_path: Path) -> None:
    p = tmp_path / "in.xlsx"
    _book(
        [
            ["chat_id", "role", "ts", "text"],
            ["c1", "客户", "2026-11-21T10:00:00Z", "在吗"],
            ["c1", "客服", "2026-11-21T10:00:04Z", "您好，在的"],
        ]
    ).save(p)
    r = CliRunner().invoke(
        main,
        ["audit", "-", "--format", "xlsx", "--db", str(tmp_path / "a.db"), "--json"],
        input=p.read_bytes(),
    )
    assert r.exit_code == 0, r.output
    counts = json.loads(r.output.strip().splitlines()[-1])
    assert (counts["read"], counts["audited"]) == (1, 1)


def test_cli_format_choices_are_the_reader_formats() -> None:
    from auditor.commands.ingest_options import INPUT_FORMATS
    from auditor.ingest import FORMATS

    assert tuple(INPUT_FORMATS) == FORMATS
