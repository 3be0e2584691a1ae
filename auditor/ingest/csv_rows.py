"""CSV with one message per row, grouped into chats as the rows arrive.

Columns: ``chat_id, role, ts, text`` (required) and ``agent_id, customer_id, channel,
language, id, author, auto`` (optional), under their own names or the names mapped in
``IngestOptions.csv_columns``. Matching is exact after trimming, then case-insensitive.

Streaming: only the rows of the chat being read are held. A chat's rows must therefore
be contiguous (exports are normally ordered by chat). When a chat id comes back after
other chats, the earlier rows have already been audited as that chat, so the later
fragment is rejected with a reason telling the user to sort the file by chat_id; it is
never merged silently or dropped. Detecting that keeps a set of the chat ids seen
(ids only, a few MB for 100k chats; transcripts are not kept).

A row with invalid UTF-8 rejects its chat, naming the line and column; an Excel
UTF-8 byte-order mark is ignored. The source line of a chat is the line of its first row.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ..models import Chat, Reject, SourceRef
from .csv_records import BOM, Broken, ReadFailed, read_records
from .native import build_chat, truncate
from .options import CSV_FIELDS, CSV_REQUIRED, IngestOptions
from .role_values import role_of
from .sources import read_error_reject

_CHAT_FIELDS = ("agent_id", "customer_id", "channel", "language")
_MESSAGE_FIELDS = ("id", "role", "author", "ts", "text", "auto")
_BAD_BYTES = re.compile("[\udc80-\udcff]")  # undecodable bytes, kept by surrogateescape


@dataclass
class _Group:
    """The rows of one chat (or one fragment of it) read so far."""

    chat_id: str
    first_line: int
    chat: dict[str, str] = field(default_factory=dict)
    messages: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    disagreed: set[str] = field(default_factory=set)
    earlier_line: int | None = None  # set when this chat id already had rows before


def read_csv(stream: BinaryIO, name: str, options: IngestOptions) -> Iterator[Chat | Reject]:
    """Yield one Chat or Reject per chat (run of rows with the same chat_id)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    delimiter = options.csv_delimiter
    if delimiter == "," and name.lower().removesuffix(".gz").endswith(".tsv"):
        delimiter = "\t"
    rows = _rows(read_records(text, delimiter), name)

    header_item = next(rows, None)
    while isinstance(header_item, Broken):  # a broken line before the header: skip it
        header_item = next(rows, None)
    if header_item is None:
        return
    if isinstance(header_item, Reject):
        yield header_item
        return
    header_line, header = header_item
    header = [_strip_bom(header[0]), *header[1:]] if header else header
    columns = resolve_columns(header, options)
    if isinstance(columns, str):
        yield Reject(
            source=SourceRef(file=name, line=header_line),
            reason=columns,
            raw=truncate(delimiter.join(header), options.max_raw_chars),
        )
        return

    yield from group_rows(rows, columns, name, options)


def group_rows(
    rows: Iterator[tuple[int, list[str]] | Broken | Reject],
    columns: dict[str, int],
    name: str,
    options: IngestOptions,
) -> Iterator[Chat | Reject]:
    """Group the data rows after a header into chats (also used for Excel sheets)."""
    header_names = {options.csv_header_for(f).strip().casefold() for f in CSV_FIELDS}
    first_line_of: dict[str, int] = {}  # chat id -> line of its first row (ids only)
    group: _Group | None = None
    for item in rows:
        if isinstance(item, Reject):
            if group is not None:
                # the stream failed mid-chat: this chat's later rows were never read
                group.problems.append(
                    f"the file could not be read past line {item.source.line}, so this chat's "
                    "rows may be incomplete"
                )
                yield _finish(group, name, options)
                group = None
            yield item
            return
        if isinstance(item, Broken):
            cells = item.first_cells
            broken_id = cells[columns["chat_id"]].strip() if len(cells) > columns["chat_id"] else ""
            if group is None or broken_id != group.chat_id:
                if group is not None:
                    yield _finish(group, name, options)
                group = _Group(chat_id=broken_id, first_line=item.line)
            group.problems.append(
                f"line {item.line} could not be read whole: {item.reason}; the chat's rows "
                "were not all read, so it is not audited (fix the row and audit the file again)"
            )
            continue
        line, row = item
        if row and row[0].startswith(BOM):  # a concatenated file's byte-order mark
            row = [_strip_bom(row[0]), *row[1:]]
        if row and row[0].strip().casefold() in header_names:
            again = resolve_columns(row, options)
            if isinstance(again, dict) and _looks_like_header(row):
                columns = again  # the header of a concatenated file (`cat a.csv b.csv`)
                continue
        values = {f: (row[i] if i < len(row) else "") for f, i in columns.items()}
        chat_id = values["chat_id"].strip()
        if group is None or chat_id != group.chat_id:
            if group is not None:
                yield _finish(group, name, options)
            group = _Group(chat_id=chat_id, first_line=line)
            if chat_id:
                earlier = first_line_of.setdefault(chat_id, line)
                if earlier != line:
                    group.earlier_line = earlier
        _add_row(group, line, row, values, columns, options.role_values)
    if group is not None:
        yield _finish(group, name, options)


def _rows(
    records: Iterator[tuple[int, list[str]] | Broken | ReadFailed], name: str
) -> Iterator[tuple[int, list[str]] | Broken | Reject]:
    """Non-blank rows with the line each starts on; a read error ends with a Reject."""
    for item in records:
        if isinstance(item, ReadFailed):
            yield read_error_reject(name, item.line, item.error)
            return
        yield item


def _strip_bom(cell: str) -> str:
    return cell.lstrip(BOM)


def _looks_like_header(row: list[str]) -> bool:
    """A repeated header row: every required column named, and no timestamp-like value."""
    return not any(c.strip()[:1].isdigit() for c in row)


def resolve_columns(
    header: list[str], options: IngestOptions, what: str = "the CSV header"
) -> dict[str, int] | str:
    """Field name -> column index, or the reason the header is unusable."""
    exact = {h.strip(): i for i, h in reversed(list(enumerate(header)))}
    folded = {h.strip().casefold(): i for i, h in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    for f in CSV_FIELDS:
        wanted = options.csv_header_for(f).strip()
        index = exact.get(wanted, folded.get(wanted.casefold()))
        if index is not None:
            columns[f] = index
    missing = [f for f in CSV_REQUIRED if f not in columns]
    if missing:
        want = ", ".join(repr(options.csv_header_for(f)) for f in missing)
        found = ", ".join(repr(h) for h in header) or "nothing"
        return (
            f"{what} has no column {want} (found {found}); name the columns "
            "chat_id, role, ts, text or map them, e.g. --column chat_id=会话ID"
        )
    return columns


def _add_row(
    group: _Group,
    line: int,
    row: list[str],
    values: dict[str, str],
    columns: dict[str, int],
    role_values: Mapping[str, str],
) -> None:
    bad = [f for f, v in values.items() if _BAD_BYTES.search(v)]
    if bad:
        group.problems.append(
            f"invalid UTF-8 in line {line} (column {', '.join(bad)}); re-export the file as UTF-8"
        )
    for f in _CHAT_FIELDS:
        value = values.get(f, "").strip()
        if not value:
            continue
        kept = group.chat.setdefault(f, value)
        if kept != value and f not in group.disagreed:
            group.disagreed.add(f)  # one warning per field is enough to act on
            group.warnings.append(
                f"rows disagree on {f}: line {line} says {value!r}, kept {kept!r} from an earlier row"
            )
    message: dict[str, str] = {}
    for f in _MESSAGE_FIELDS:
        if f in columns:
            message[f] = values[f] if f == "text" else values[f].strip()
    if "role" in message:
        message["role"] = role_of(message["role"], role_values)
    group.messages.append(message)
    group.lines.append(line)


def _finish(group: _Group, name: str, options: IngestOptions) -> Chat | Reject:
    source = SourceRef(file=name, line=group.first_line)
    if group.earlier_line is not None:
        return Reject(
            source=source,
            chat_id=group.chat_id,
            reason=(
                f"rows of chat {group.chat_id!r} are not contiguous: this fragment "
                f"(lines {group.lines[0]}-{group.lines[-1]}) comes after other chats, and the "
                f"rows from line {group.earlier_line} were audited without it; sort the file "
                "by chat_id (then ts) and audit it again"
            ),
        )
    if group.problems:
        return Reject(
            source=source,
            chat_id=group.chat_id or None,
            reason="; ".join(group.problems[:3]),
        )
    obj: dict[str, Any] = {"chat_id": group.chat_id, **group.chat, "messages": group.messages}
    return build_chat(
        obj,
        source,
        options,
        message_lines=group.lines,
        warnings=group.warnings,
    )
