"""JSON Lines: one chat per line, read as bytes so one bad line rejects only its chat.

Blank lines are skipped (they are not chats). A UTF-8 byte-order mark at the start of a
line is ignored (the first line, or where ``cat a.jsonl b.jsonl`` joined two files). Line numbers are 1-based and count blank lines, as editors do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

import orjson

from ..models import Chat, Reject, SourceRef, trusted
from .helpdesk import detect_vendor, vendor_chat
from .native import build_chat, truncate
from .options import IngestOptions
from .sources import READ_ERRORS, read_error_reject
from .twcs import is_twcs_thread, twcs_to_native

BOM = b"\xef\xbb\xbf"
#: every vendor shape (helpdesk.VENDORS) needs one of these keys: Zendesk "ticket",
#: Intercom "type", LiveChat "users", Freshchat "conversation"
_VENDOR_KEYS = frozenset({"ticket", "type", "users", "conversation"})


class RawLine(NamedTuple):
    """One non-blank line of a JSON Lines file, not parsed yet: what ``auditor audit
    --workers`` hands a worker, which parses it there (``parse``) instead of the writer."""

    line: bytes
    file: str
    lineno: int
    twcs: str = "auto"
    vendor: str | None = None

    def parse(self, options: IngestOptions) -> Chat | Reject | None:
        if type(self.file) is str and type(self.lineno) is int:
            # what validation gives (models.trusted), as read_jsonl makes it
            source = trusted(SourceRef, {"file": self.file, "line": self.lineno})
        else:
            source = SourceRef(file=self.file, line=self.lineno)
        return parse_line(self.line, source, options, twcs=self.twcs, vendor=self.vendor)


def read_jsonl(
    stream: BinaryIO,
    name: str,
    options: IngestOptions,
    *,
    twcs: str = "auto",
    vendor: str | None = None,
    raw: bool = False,
) -> Iterator[Chat | Reject | RawLine]:
    """Yield a Chat or a Reject for every non-blank line of ``stream``.

    ``twcs``: ``"auto"`` converts lines that look like TWCS threads (see
    :mod:`auditor.ingest.twcs`), ``"always"`` treats every line as one, ``"never"``
    reads only the native shape. A read error (e.g. a truncated gzip file) becomes a
    final Reject naming the last good line; nothing is raised mid-file. ``raw``: yield each
    non-blank line unparsed, as a :class:`RawLine` (the read errors still as Rejects).
    """
    lines = iter(stream)
    lineno = 0
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except READ_ERRORS as e:
            yield read_error_reject(name, lineno, e)
            return
        lineno += 1
        if raw:
            if not _blank(line):
                yield RawLine(line, name, lineno, twcs, vendor)
            continue
        if type(name) is str:  # a str and an int: what validation gives (models.trusted)
            source = trusted(SourceRef, {"file": name, "line": lineno})
        else:
            source = SourceRef(file=name, line=lineno)
        result = parse_line(line, source, options, twcs=twcs, vendor=vendor)
        if result is not None:
            yield result


def _blank(line: bytes) -> bool:
    return not line.removeprefix(BOM).strip()


def parse_line(
    line: bytes,
    source: SourceRef,
    options: IngestOptions,
    *,
    twcs: str = "auto",
    vendor: str | None = None,
) -> Chat | Reject | None:
    """One raw line → Chat, Reject, or None for a blank line."""
    offset = 0
    if line.startswith(BOM):  # line 1, or the first line of a concatenated file
        line = line[len(BOM) :]
        offset = len(BOM)
    if not line.strip():
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        return Reject(
            source=source,
            reason=(
                f"invalid UTF-8 at byte {e.start + offset + 1} of the line; "
                "re-export the file as UTF-8"
            ),
            raw=truncate(line.decode("utf-8", "replace").rstrip("\r\n"), options.max_raw_chars),
        )
    text = text.rstrip("\r\n")
    try:
        # the line's bytes: ``text`` in UTF-8 (decoded above) and line breaks (JSON
        # whitespace), the same value without orjson encoding ``text`` back to UTF-8 first
        # (~1.3 µs a generated chat); a line it rejects is read from ``text`` for the error
        obj: Any = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            return Reject(
                source=source,
                reason=f"not valid JSON: {e}",
                raw=truncate(text, options.max_raw_chars),
            )
    if vendor is not None:  # --format zendesk|intercom|livechat|freshchat
        return vendor_chat(obj, vendor, source, options, raw=text)
    if (
        twcs == "auto"
        and type(obj) is dict
        and "chat_id" in obj
        and obj.keys().isdisjoint(_VENDOR_KEYS)
    ):
        # the native shape (most lines): no vendor's key, and a chat id (no TWCS thread)
        return build_chat(obj, source, options, raw=text)
    if twcs == "auto" and (detected := detect_vendor(obj)) is not None:
        return vendor_chat(obj, detected, source, options, raw=text)
    if twcs == "always" or (twcs == "auto" and is_twcs_thread(obj)):
        if not isinstance(obj, dict):
            return build_chat(obj, source, options, raw=text)
        obj = twcs_to_native(obj)
    return build_chat(obj, source, options, raw=text)
