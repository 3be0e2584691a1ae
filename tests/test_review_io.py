"""Reviewer sheets: CSV/XLSX export, and the all-or-nothing validated import."""

from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook, load_workbook
from test_review import make_chat, make_result, save, tiny_rubric

from auditor.errors import ReviewImportError
from auditor.review import FATAL, LOW_CONFIDENCE, QueueFilter, queue_item
from auditor.review.sheets import COLUMNS, export_queue, import_reviews, transcript_text
from auditor.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "a.db")
    rubric = tiny_rubric()
    c1, c2, c3 = make_chat("c1"), make_chat("c2", agent="a2"), make_chat("c3")
    save(
        s,
        rubric,
        [
            # low confidence on empathy only (0.5 < 0.9)
            (c1, make_result(c1, rubric, empathy=("average", 0.5))),
            # fatal (forbidden_phrase failed)
            (c2, make_result(c2, rubric, fail=("forbidden_phrase",))),
            (c3, make_result(c3, rubric)),  # clean: not queued
        ],
    )
    yield s
    s.close()


def read_csv(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path, rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> None:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows({c: r.get(c, "") for c in COLUMNS} for r in rows)


def test_transcript_text():
    body = {
        "messages": [
            {"id": "m1", "role": "customer", "ts": "2026-11-21T09:00:00+00:00", "text": "hi"},
            {
                "id": "m2",
                "role": "agent",
                "ts": "2026-11-21T09:00:05+00:00",
                "text": "hello",
                "auto": True,
            },
        ]
    }
    assert transcript_text(body) == "[m1 09:00:00] customer: hi\n[m2 09:00:05] agent (auto): hello"


def test_export_csv_one_row_per_item_and_criterion(store, tmp_path):
    out = tmp_path / "queue.csv"
    export = export_queue(store, out, "csv")
    rows = read_csv(out)
    assert list(rows[0]) == list(COLUMNS)
    assert export.items == 2 and export.total == 2 and len(rows) == 2
    fatal, low = rows  # the fatal item first
    assert (fatal["chat_id"], fatal["criterion"], fatal["reasons"]) == (
        "c2",
        "forbidden_phrase",
        FATAL,
    )
    assert fatal["model_level"] == "fail" and fatal["allowed_levels"] == "pass|fail|na"
    assert fatal["evidence"] == "m2: “sorry”" and fatal["agent_id"] == "a2"
    assert (low["chat_id"], low["criterion"], low["reasons"]) == ("c1", "empathy", LOW_CONFIDENCE)
    assert low["model_level"] == "average" and low["confidence"] == "0.50"
    assert low["allowed_levels"] == "good|average|poor|na" and low["rubric"] == "tiny"
    assert low["transcript"].startswith("[m1 09:00:00] customer: my parcel is late")
    assert low["human_level"] == low["comment"] == low["reviewer"] == ""
    # filters and limits apply; the total says what a limit left out
    export = export_queue(store, out, "csv", QueueFilter(agent_id="a2"))
    assert [r["chat_id"] for r in read_csv(out)] == ["c2"]
    export = export_queue(store, out, "csv", limit=1)
    assert export.items == 1 and export.total == 2


def test_export_xlsx_wraps_freezes_and_offers_levels(store, tmp_path):
    out = tmp_path / "queue.xlsx"
    export_queue(store, out, "xlsx")
    wb = load_workbook(out)
    ws = wb["review"]
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert ws.freeze_panes == "A2"
    assert ws.cell(row=2, column=1).value == "c2" and ws.cell(row=3, column=1).value == "c1"
    assert ws.cell(row=3, column=COLUMNS.index("transcript") + 1).alignment.wrap_text
    level_col = ws.cell(row=1, column=COLUMNS.index("human_level") + 1).column_letter
    lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert lists == {'"pass,fail,na"': f"{level_col}2", '"good,average,poor,na"': f"{level_col}3"}
    guide = [tuple(r) for r in wb["levels"].iter_rows(min_row=2, values_only=True)]
    assert ("tiny@1", "solution", "Solution", "average", 20, None) in guide


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_appends_reviews_with_their_source(store, tmp_path, fmt):
    out = tmp_path / f"queue.{fmt}"
    export_queue(store, out, fmt)
    if fmt == "csv":
        rows = read_csv(out)
        rows[0].update(human_level="pass", comment="quote taken out of context", reviewer="ann")
        rows[1].update(human_level="Poor")  # any case; reviewer from --reviewer
        write_csv(out, rows)
    else:
        wb = load_workbook(out)
        ws = wb["review"]
        col = {c: COLUMNS.index(c) + 1 for c in ("human_level", "comment", "reviewer")}
        ws.cell(row=2, column=col["human_level"], value="pass")
        ws.cell(row=2, column=col["comment"], value="quote taken out of context")
        ws.cell(row=2, column=col["reviewer"], value="ann")
        ws.cell(row=3, column=col["human_level"], value="Poor")
        wb.save(out)
    summary = import_reviews(store, out, reviewer="bob")
    assert summary.imported == 2 and summary.skipped_empty == 0
    got = store.query("SELECT chat_id, criterion, level, reviewer, comment, source FROM reviews")
    assert got == [
        {
            "chat_id": "c2",
            "criterion": "forbidden_phrase",
            "level": "pass",
            "reviewer": "ann",
            "comment": "quote taken out of context",
            "source": f"import:queue.{fmt}:2",
        },
        {
            "chat_id": "c1",
            "criterion": "empathy",
            "level": "poor",
            "reviewer": "bob",
            "comment": "",
            "source": f"import:queue.{fmt}:3",
        },
    ]
    assert queue_item(store, "c1").status == "done"
    # importing the same sheet again appends nothing
    again = import_reviews(store, out, reviewer="bob")
    assert (again.imported, again.unchanged) == (0, 2) and store.count("reviews") == 2


def bad_rows() -> list[dict[str, str]]:
    return [
        {"chat_id": "c1", "criterion": "empathy", "human_level": "good", "reviewer": "ann"},  # ok
        {"chat_id": "zz", "criterion": "empathy", "human_level": "good", "reviewer": "ann"},
        {"chat_id": "c1", "criterion": "tone", "human_level": "good", "reviewer": "ann"},
        {"chat_id": "c1", "criterion": "solution", "human_level": "na", "reviewer": "ann"},
        {"chat_id": "c2", "criterion": "greeting", "human_level": "pass", "reviewer": ""},
        {"chat_id": "c2", "criterion": "greeting", "human_level": "", "reviewer": ""},  # skipped
        {"chat_id": "c1", "criterion": "empathy", "human_level": "poor", "reviewer": "ann"},
    ]


EXPECTED_ERRORS = [
    "line 3: unknown chat 'zz' (not in this database)",
    "line 4: unknown criterion 'tone' in tiny@1 (known: greeting, unanswered_customer, "
    "forbidden_phrase, empathy, solution)",
    "line 5: level 'na' is not allowed for solution (good|average|poor)",
    "line 6: no reviewer: fill the reviewer column or pass --reviewer",
    "line 8: ann already scored c1 empathy on line 2",
]


def test_bad_csv_rows_import_nothing_with_line_numbers(store, tmp_path):
    path = tmp_path / "filled.csv"
    write_csv(path, bad_rows())
    with pytest.raises(ReviewImportError) as e:
        import_reviews(store, path)
    assert e.value.errors == EXPECTED_ERRORS
    assert "5 problem(s); nothing was imported" in str(e.value)
    assert store.count("reviews") == 0


def test_bad_xlsx_rows_import_nothing_with_line_numbers(store, tmp_path):
    path = tmp_path / "filled.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "review"
    ws.append(list(COLUMNS))
    for r in bad_rows():
        ws.append([r.get(c, "") for c in COLUMNS])
    wb.save(path)
    with pytest.raises(ReviewImportError) as e:
        import_reviews(store, path)
    assert e.value.errors == EXPECTED_ERRORS
    assert store.count("reviews") == 0


def test_missing_columns_and_empty_files(store, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("chat_id,criterion\nc1,empathy\n", encoding="utf-8")
    with pytest.raises(ReviewImportError) as e:
        import_reviews(store, path, reviewer="ann")
    assert e.value.errors[0].startswith("line 1: missing column(s) human_level")
    path.write_text("", encoding="utf-8")
    with pytest.raises(ReviewImportError, match="empty"):
        import_reviews(store, path, reviewer="ann")


def test_minimal_gbk_csv_from_excel(store, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "chat_id,criterion,human_level,comment\nc1,empathy,good,客户情绪已安抚\n".encode("gb18030")
    )
    summary = import_reviews(store, path, reviewer="王芳")
    assert summary.imported == 1
    assert store.query("SELECT reviewer, comment FROM reviews") == [
        {"reviewer": "王芳", "comment": "客户情绪已安抚"}
    ]


def test_numeric_chat_ids_from_xlsx(tmp_path):
    s = Store(tmp_path / "n.db")
    rubric = tiny_rubric()
    chat = make_chat("12345")
    save(s, rubric, [(chat, make_result(chat, rubric))])
    path = tmp_path / "n.xlsx"
    wb = Workbook()
    wb.active.append(["chat_id", "criterion", "human_level", "reviewer"])
    wb.active.append([12345, "solution", "good", "ann"])  # Excel turned the id into a number
    wb.save(path)
    assert import_reviews(s, path).imported == 1
    s.close()
