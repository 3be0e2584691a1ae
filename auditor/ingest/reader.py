"""``read_chats``: every input path, every format, one stream of Chat | Reject."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

from ..models import Chat, Reject, SourceRef
from .csv_rows import read_csv
from .helpdesk import VENDORS, read_json_array, starts_with_array
from .jsonl import RawLine, read_jsonl
from .native import default_options
from .options import IngestOptions
from .sources import READ_ERRORS, check_paths, display_name, open_input, sniff_format
from .xlsx_source import is_xlsx, read_xlsx_path


def read_chats(
    paths: Sequence[str], options: IngestOptions | None = None
) -> Iterator[Chat | Reject]:
    """Stream the chats of ``paths`` (files, ``-`` for stdin; gzip or not) in order.

    Every chat in the input comes out once, as a Chat or as a Reject with file:line and
    a reason; nothing raises mid-file. All paths are checked *before* the first chat is
    read: if any cannot be opened this raises :class:`~auditor.errors.InputError`
    naming each bad path (and :class:`~auditor.errors.UsageError` for no paths or
    ``-`` twice). Memory stays flat in the input size: one line (JSONL) or one chat's
    rows (CSV) is held at a time.
    """
    opts = options or default_options()
    paths = list(paths)
    check_paths(paths)
    # without ``raw`` every line is parsed: no RawLine comes out
    return cast(Iterator[Chat | Reject], _read_all(paths, opts))


def read_records(
    paths: Sequence[str], options: IngestOptions | None = None
) -> Iterator[Chat | Reject | RawLine]:
    """:func:`read_chats`, except that the lines of JSON Lines files come out unparsed
    (:class:`RawLine`; ``RawLine.parse`` gives the Chat or Reject ``read_chats`` would
    have). ``auditor audit --workers`` reads with this, so its worker processes parse the
    chats, not the one writer. Blank lines are left out, as ``read_chats`` leaves them."""
    opts = options or default_options()
    paths = list(paths)
    check_paths(paths)
    return _read_all(paths, opts, raw=True)


def _read_all(
    paths: list[str], options: IngestOptions, *, raw: bool = False
) -> Iterator[Chat | Reject | RawLine]:
    for path in paths:
        yield from _read_one(path, options, raw)


def _read_one(path: str, options: IngestOptions, raw: bool) -> Iterator[Chat | Reject | RawLine]:
    name = display_name(path)
    if is_xlsx(path, options.format):
        yield from read_xlsx_path(path, name, options)
        return
    try:
        with open_input(path) as stream:
            fmt: str = options.format
            vendor = fmt if fmt in VENDORS else None
            lines_file = path.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson", ".jl"))
            maybe_array = vendor is not None or (fmt == "auto" and not lines_file)
            if maybe_array and starts_with_array(stream):
                yield from read_json_array(stream, name, options, vendor)
                return
            if vendor is not None:
                yield from read_jsonl(stream, name, options, twcs="never", vendor=vendor, raw=raw)
                return
            if fmt == "auto":
                fmt = sniff_format(stream, path)
            if fmt == "csv":
                yield from read_csv(stream, name, options)
            else:
                twcs = {"auto": "auto", "jsonl": "never", "twcs": "always"}[options.format]
                yield from read_jsonl(stream, name, options, twcs=twcs, raw=raw)
    except READ_ERRORS as e:
        # the file vanished after check_paths, or its gzip header is corrupt: one reject
        # for the file, and the other files are still read
        yield Reject(
            source=SourceRef(file=name, line=0),
            reason=f"the file could not be read ({e}); none of its chats were audited",
        )
