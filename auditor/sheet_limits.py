"""Size guards for reviewer sheets read by ``review import`` (docs/security.md).

A sheet comes from outside the tool: a 1.5 MB XLSX (a zip of XML) can inflate to gigabytes.
Before openpyxl sees an XLSX, its zip directory is checked — member count, each member's
uncompressed size and compression ratio, the total — and reading stops at a row cap; the
columns the import uses have a cell-length cap. Every limit is an error naming the line (or
the zip member) and the limit, and nothing is imported.

Python's ``zipfile`` never inflates a member past the size its directory declares, so checking
the declared sizes bounds what openpyxl can be made to read.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .errors import ReviewImportError

MiB = 1024 * 1024
#: the sheet file itself (CSV or XLSX)
MAX_FILE_BYTES = 64 * MiB
#: an XLSX's members, inflated, all together and each
MAX_UNCOMPRESSED_BYTES = 256 * MiB
MAX_MEMBERS = 1_000
#: inflated / compressed, for members big enough to matter (a few KB of XML may go higher)
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1 * MiB
#: data rows (the header is not counted); a month of a busy queue is well under this
MAX_ROWS = 200_000
#: characters in a cell the import reads (ids, level, comment, reviewer): Excel's own limit
MAX_CELL_CHARS = 32_767


def _fail(path: Path, problem: str) -> ReviewImportError:
    return ReviewImportError(f"{path}: {problem}; nothing was imported", [f"line 1: {problem}"])


def check_file_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _fail(path, f"the file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,}")


def check_xlsx_zip(path: Path) -> None:
    """Refuse an XLSX whose zip directory promises more than a reviewer sheet can hold."""
    check_file_size(path)
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise _fail(path, f"not a readable xlsx file ({e})") from e
    if len(members) > MAX_MEMBERS:
        raise _fail(
            path, f"the xlsx holds {len(members):,} files, over the limit of {MAX_MEMBERS:,}"
        )
    total = 0
    for m in members:
        total += m.file_size
        if m.file_size > MAX_UNCOMPRESSED_BYTES or total > MAX_UNCOMPRESSED_BYTES:
            raise _fail(
                path,
                f"the xlsx inflates to over {MAX_UNCOMPRESSED_BYTES:,} bytes "
                f"({m.filename}: {m.file_size:,}): not opened",
            )
        if m.file_size > RATIO_FLOOR_BYTES:
            ratio = m.file_size / max(m.compress_size, 1)
            if ratio > MAX_RATIO:
                raise _fail(
                    path,
                    f"{m.filename} has a compression ratio of {ratio:,.0f}:1, over the limit "
                    f"of {MAX_RATIO}:1 (a zip bomb?): not opened",
                )


def row_problem(line: int) -> str | None:
    """The error for sheet line ``line`` (1 = header) when it passes the row cap."""
    if line - 1 > MAX_ROWS:
        return f"line {line}: the sheet has more than {MAX_ROWS:,} rows; split it"
    return None


#: the columns the import reads; the others are context and are not looked at
READ_COLUMNS = ("chat_id", "rubric", "criterion", "human_level", "comment", "reviewer")


def cell_problem(column: str, value: str) -> str | None:
    """The error for a cell the import reads when it passes the cell-length cap."""
    if column in READ_COLUMNS and len(value) > MAX_CELL_CHARS:
        return f"{column} is {len(value):,} characters, over the limit of {MAX_CELL_CHARS:,}"
    return None
