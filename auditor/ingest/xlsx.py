"""Excel workbooks (``.xlsx``): one message per row, as Chinese chat consoles export them.

Each sheet is read like a CSV file (:mod:`auditor.ingest.csv_rows`): the same columns, the
same ``--column`` mapping, the same grouping of a chat's contiguous rows and the same
rejects, with the sheet in the position: ``day.xlsx:Sheet1:12`` is row 12 of sheet Sheet1.

- **The header row** is the first row (within the first :data:`HEADER_SEARCH_ROWS`) that
  names every required column; rows above it (a merged title such as "客服聊天记录 2026-11-21",
  an export note) are skipped. A sheet with content but no such row is one reject naming the
  sheet and the columns it found; an empty sheet is skipped.
- **Cells** become text: numbers without their ``.0``, booleans as true/false. In the ``ts``
  column a date cell, or a number that is an Excel date serial (under 2,958,466, the serial of
  9999-12-31), is a date in the workbook's date system (1900 or 1904), rounded to the
  millisecond (Excel keeps no finer time); being naive, it is read in ``--tz`` with a warning.
  Larger numbers are epoch seconds or milliseconds as in every format. Text dates are read as
  ISO 8601; ``2026/11/21 10:00:05`` (the slash style of Chinese exports) is accepted too.
- **Zip bombs**: an ``.xlsx`` is a zip archive. Before it is opened, the sizes its directory
  declares are checked: more than :data:`MAX_UNCOMPRESSED` bytes in all, or one member
  expanding more than :data:`MAX_RATIO` times, rejects the file unread.

Why openpyxl (``read_only``) and not python-calamine: openpyxl is already a dependency (the
review queue writes ``.xlsx``), its read-only mode streams a sheet row by row in flat memory,
and it reports the workbook's date system and date-formatted cells; calamine is faster but
loads whole sheets and would be a second Excel library for the same job. Measured
(``bench/xlsx_read.py``): about 5,600 rows per CPU second, so a 300,000-row day reads in about
a minute of CPU, small next to auditing it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO

from ..models import Chat, Reject, SourceRef
from .csv_rows import group_rows, resolve_columns
from .native import truncate
from .options import CSV_REQUIRED, IngestOptions

#: the most bytes an .xlsx may expand to (all members together)
MAX_UNCOMPRESSED = 2 * 1024**3
#: the highest compression ratio of one member larger than :data:`RATIO_FROM` bytes
MAX_RATIO = 200
RATIO_FROM = 1024**2
#: how many rows from the top are searched for the header row
HEADER_SEARCH_ROWS = 20
#: the largest Excel date serial (9999-12-31); larger numbers in ``ts`` are epoch values
MAX_SERIAL = 2_958_466
XLSX_MAGIC = b"PK\x03\x04"

_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?=$|[ T])")
_EPOCH_1900 = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel times are naive
_EPOCH_1904 = datetime(1904, 1, 1)  # noqa: DTZ001 - Excel times are naive


def read_xlsx(stream: BinaryIO, name: str, options: IngestOptions) -> Iterator[Chat | Reject]:
    """Yield a Chat or a Reject for every chat in every sheet of the workbook in ``stream``.

    ``stream`` must be seekable (a file, or the bytes of stdin read into memory).
    """
    problem = zip_problem(stream)
    if problem:
        yield Reject(source=SourceRef(file=name, line=0), reason=problem)
        return
    stream.seek(0)
    from openpyxl import load_workbook  # imported here: reading CSV/JSONL does not need it

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a corrupt file
        yield Reject(
            source=SourceRef(file=name, line=0),
            reason=f"not a readable Excel workbook ({type(e).__name__}: {e}); none of it was audited",
        )
        return
    try:
        epoch = _EPOCH_1904 if getattr(book, "epoch", None) == date(1904, 1, 1) else _EPOCH_1900
        for sheet in book.worksheets:
            yield from _read_sheet(sheet, f"{name}:{sheet.title}", options, epoch)
    finally:
        book.close()


def zip_problem(stream: BinaryIO) -> str | None:
    """Why the archive must not be opened (not a zip, or a zip bomb), or None."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        return f"not an Excel .xlsx workbook (not a zip archive: {e}); none of it was audited"
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FROM and ratio > MAX_RATIO:
                return (
                    f"refused to open: member {info.filename} expands {ratio:,.0f} times "
                    f"(more than {MAX_RATIO}); the file looks like a zip bomb"
                )
        if total > MAX_UNCOMPRESSED:
            return (
                f"refused to open: the workbook expands to {total:,} bytes (more than "
                f"{MAX_UNCOMPRESSED:,}); split the export into smaller files"
            )
    return None


def _read_sheet(
    sheet: Any, name: str, options: IngestOptions, epoch: datetime
) -> Iterator[Chat | Reject]:
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # some exporters write a wrong size; read to the last row
    rows = _sheet_rows(sheet, name, options.max_raw_chars)
    seen: list[tuple[int, list[Any]]] = []
    columns: dict[str, int] | None = None
    for item in rows:
        if isinstance(item, Reject):
            yield item
            return
        number, cells = item
        if not any(_blank(c) is False for c in cells):
            continue
        seen.append((number, cells))
        texts = [_text(c) for c in cells]
        found = resolve_columns(texts, options, what=f"sheet {name}")
        if isinstance(found, dict):
            columns = found
            break
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if columns is None:
        if seen:
            want = ", ".join(repr(options.csv_header_for(f)) for f in CSV_REQUIRED)
            first = [_text(c) for c in seen[0][1] if not _blank(c)]
            yield Reject(
                source=SourceRef(file=name, line=seen[0][0]),
                reason=(
                    f"no header row naming the columns {want} in the first "
                    f"{HEADER_SEARCH_ROWS} rows of the sheet (row {seen[0][0]} has "
                    f"{', '.join(map(repr, first))}); map the columns, e.g. "
                    "--column chat_id=会话ID, or remove the sheet"
                ),
                raw=truncate(" | ".join(first), options.max_raw_chars),
            )
        return
    ts_index = columns["ts"]

    def data() -> Iterator[tuple[int, list[str]] | Reject]:
        for item in rows:
            if isinstance(item, Reject):
                yield item
                return
            number, cells = item
            texts = [_ts_text(c, epoch) if i == ts_index else _text(c) for i, c in enumerate(cells)]
            if any(t.strip() for t in texts):
                yield number, texts

    yield from group_rows(data(), columns, name, options)  # type: ignore[arg-type]


def _sheet_rows(sheet: Any, name: str, max_raw: int) -> Iterator[tuple[int, list[Any]] | Reject]:
    """(row number, cell values); a failure mid-sheet ends it with a Reject."""
    number = 0
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    except Exception as e:  # noqa: BLE001 - a corrupt sheet XML raises parser errors
        yield Reject(
            source=SourceRef(file=name, line=number + 1),
            reason=(
                f"the sheet could not be read past row {number} ({type(e).__name__}: "
                f"{truncate(str(e), max_raw)}); the rest of the sheet was not audited"
            ),
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return _round_ms(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _ts_text(value: Any, epoch: datetime) -> str:
    """A ``ts`` cell: date cells and Excel serials as ISO text, slash dates made ISO."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < MAX_SERIAL:
        return _round_ms(epoch + timedelta(days=float(value))).isoformat()
    if isinstance(value, str):
        text = value.strip()
        m = _SLASH_DATE.match(text)
        if m:
            year, month, day = m.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}" + text[m.end() :]
        return value
    return _text(value)


def _round_ms(value: datetime) -> datetime:
    """To the nearest millisecond: Excel stores times as fractions of a day, with float noise."""
    micro = value.microsecond
    rounded = round(micro / 1000) * 1000
    return value.replace(microsecond=0) + timedelta(microseconds=rounded)
