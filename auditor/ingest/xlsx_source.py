"""Which inputs are Excel workbooks, and opening them (a zip needs a seekable file)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

from ..models import Chat, Reject, SourceRef
from .options import IngestOptions
from .sources import READ_ERRORS, STDIN
from .xlsx import MAX_UNCOMPRESSED, XLSX_MAGIC, read_xlsx

_SUFFIXES = (".xlsx", ".xlsm")


def is_xlsx(path: str, fmt: str) -> bool:
    """``--format xlsx``; or, for ``auto``, an ``.xlsx`` name or a file starting like a zip."""
    if fmt == "xlsx":
        return True
    if fmt != "auto" or path == STDIN:
        return False
    if path.lower().endswith(_SUFFIXES):
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == XLSX_MAGIC
    except OSError:
        return False


def read_xlsx_path(path: str, name: str, options: IngestOptions) -> Iterator[Chat | Reject]:
    """Read one workbook from a path, or from stdin held in memory (at most the size cap)."""
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read(MAX_UNCOMPRESSED + 1)
            yield from read_xlsx(io.BytesIO(data), name, options)
            return
        with open(path, "rb") as fh:
            yield from read_xlsx(fh, name, options)
    except READ_ERRORS as e:
        yield Reject(
            source=SourceRef(file=name, line=0),
            reason=f"the file could not be read ({e}); none of its chats were audited",
        )
