"""`review import` guards its input's size and bytes (issue 11, item 16).

An XLSX's zip directory is checked before openpyxl opens it (inflated sizes, compression
ratio); rows and the cells the import reads are capped; bytes that are neither UTF-8 nor
GB18030 are a line-numbered error. In every case nothing is imported.
"""

from __future__ import annotations

import zipfile

import pytest
from test_review import make_chat, make_result, save, tiny_rubric
from test_review_io import read_csv, write_csv

from auditor import sheet_limits
from auditor.errors import ReviewImportError
from auditor.review.sheets import export_queue, import_reviews
from auditor.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "a.db")
    rubric = tiny_rubric()
    c1, c2 = make_chat("c1"), make_chat("c2", agent="a2")
    save(
        s,
        rubric,
        [
            (c1, make_result(c1, rubric, empathy=("average", 0.5))),
            (c2, make_result(c2, rubric, fail=("forbidden_phrase",))),
        ],
    )
    yield s
    s.close()


def _filled_xlsx(store: Store, path) -> None:
    from openpyxl import load_workbook

    export_queue(store, path, "xlsx")
    wb = load_workbook(path)
    ws = wb["review"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("human_level") + 1).value = "pass"
    ws.cell(2, header.index("reviewer") + 1).value = "ann"
    wb.save(path)


def _inflate_sheet(path, pad: int) -> None:
    """Rewrite the xlsx with ``pad`` bytes of white space inside its sheet XML (valid XML,
    a tiny file that inflates hugely: the shape of a zip bomb)."""
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename == "xl/worksheets/sheet1.xml":
                with z.open(info.filename, "w", force_zip64=True) as fh:
                    head, tail = data.split(b"</sheetData>", 1)
                    fh.write(head)
                    chunk = b" " * (1 << 20)
                    for _ in range(pad // len(chunk)):
                        fh.write(chunk)
                    fh.write(b"</sheetData>" + tail)
            else:
                z.writestr(info, data)


def test_a_zip_bomb_is_refused_before_it_is_opened(store, tmp_path):
    path = tmp_path / "bomb.xlsx"
    _filled_xlsx(store, path)
    _inflate_sheet(path, 24 << 20)
    assert path.stat().st_size < 200_000  # 24 MB of sheet in a small file
    with pytest.raises(ReviewImportError) as e:
        import_reviews(store, path)
    assert "xl/worksheets/sheet1.xml has a compression ratio of" in str(e.value)
    assert e.value.errors[0].startswith("line 1: ")
    assert store.count("reviews") == 0


def test_inflated_size_is_capped(store, tmp_path, monkeypatch):
    path = tmp_path / "big.xlsx"
    _filled_xlsx(store, path)
    with zipfile.ZipFile(path) as z:
        inflated = sum(i.file_size for i in z.infolist())
    monkeypatch.setattr(sheet_limits, "MAX_UNCOMPRESSED_BYTES", inflated - 1)
    with pytest.raises(ReviewImportError, match="inflates to over"):
        import_reviews(store, path)
    monkeypatch.setattr(sheet_limits, "MAX_UNCOMPRESSED_BYTES", inflated)
    assert import_reviews(store, path).imported == 1


def test_rows_and_read_cells_are_capped(store, tmp_path, monkeypatch):
    path = tmp_path / "sheet.csv"
    export_queue(store, path, "csv")
    rows = read_csv(path)
    assert len(rows) == 2
    rows[0].update(human_level="pass", reviewer="ann", comment="x" * 40_000)
    write_csv(path, rows)
    with pytest.raises(ReviewImportError) as e:
        import_reviews(store, path)
    assert e.value.errors == ["line 2: comment is 40,000 characters, over the limit of 32,767"]
    monkeypatch.setattr(sheet_limits, "MAX_ROWS", 1)
    rows[0]["comment"] = "ok"
    write_csv(path, rows)
    with pytest.raises(ReviewImportError) as e:
        import_reviews(store, path)
    assert e.value.errors == ["line 3: the sheet has more than 1 rows; split it"]
    assert store.count("reviews") == 0


def test_the_tools_own_csv_with_a_long_transcript_imports(store, tmp_path):
    path = tmp_path / "sheet.csv"
    export_queue(store, path, "csv")
    rows = read_csv(path)
    rows[0].update(human_level="pass", reviewer="ann", transcript="长" * 200_000)
    write_csv(path, rows)
    assert import_reviews(store, path).imported == 1


def test_bytes_neither_utf8_nor_gb18030_are_a_line_numbered_error(store, tmp_path):
    path = tmp_path / "sheet.csv"
    export_queue(store, path, "csv")
    raw = path.read_bytes().replace(b"\r\n", b"\n")
    lines = raw.split(b"\n")
    assert len(lines) > 3
    lines[2] = lines[2] + b"\xff\x80"  # invalid in both encodings
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ReviewImportError) as e:
        import_reviews(store, path)
    assert e.value.errors[0].startswith("line 3: bytes that are neither UTF-8 nor GB18030")
    assert store.count("reviews") == 0
