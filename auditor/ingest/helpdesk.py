"""Helpdesk exports: Zendesk, Intercom, LiveChat and Freshchat records → Chat or Reject.

A file holds one conversation record per line (JSON Lines) or one JSON array of records,
each as the vendor's API returns it (see the vendor modules for the shapes and mapping).
With ``--format auto`` each record is recognised by its shape where that is unambiguous:

- Zendesk: an object with a ``ticket`` object and a ``comments`` list;
- Intercom: ``"type": "conversation"`` with ``source`` or ``conversation_parts``;
- LiveChat: a ``users`` list and a ``thread`` with ``events`` (or a ``threads`` list);
- Freshchat: a ``conversation`` object and a ``messages`` list.

A record matching none is read as a native chat (and rejected if it is not one). In an array
the position of a record is the line its ``{`` is on; JSON broken inside an array rejects the
rest of the file from that line (the records before it are read).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from ..models import Chat, Reject, SourceRef
from .freshchat import freshchat_to_native, is_freshchat
from .helpdesk_common import RecordError
from .intercom import intercom_to_native, is_intercom
from .livechat import is_livechat, livechat_to_native
from .native import build_chat, truncate
from .options import IngestOptions
from .zendesk import is_zendesk, zendesk_to_native

Converter = Callable[[dict[str, Any]], dict[str, Any]]
VENDORS: dict[str, tuple[Callable[[Any], bool], Converter]] = {
    "zendesk": (is_zendesk, zendesk_to_native),
    "intercom": (is_intercom, intercom_to_native),
    "livechat": (is_livechat, livechat_to_native),
    "freshchat": (is_freshchat, freshchat_to_native),
}
LABELS = {"zendesk": "Zendesk", "intercom": "Intercom", "livechat": "LiveChat",
          "freshchat": "Freshchat"}  # fmt: skip


def detect_vendor(obj: Any) -> str | None:
    """The vendor whose record shape ``obj`` has, or None."""
    for name, (matches, _) in VENDORS.items():
        if matches(obj):
            return name
    return None


def vendor_chat(
    obj: Any, vendor: str, source: SourceRef, options: IngestOptions, raw: str | None = None
) -> Chat | Reject:
    """One vendor record → Chat or Reject (never raises)."""
    matches, convert = VENDORS[vendor]
    if not matches(obj):
        return Reject(
            source=source,
            reason=f"not a {LABELS[vendor]} record ({_shape_hint(vendor)})",
            raw=truncate(raw, options.max_raw_chars),
        )
    try:
        native = convert(obj)
    except RecordError as e:
        return Reject(
            source=source,
            reason=f"{LABELS[vendor]} record: {e}",
            raw=truncate(raw, options.max_raw_chars),
        )
    return build_chat(native, source, options, raw=raw)


def _shape_hint(vendor: str) -> str:
    return {
        "zendesk": 'expected {"ticket": {...}, "comments": [...], "users": [...]}',
        "intercom": 'expected a conversation object with "type": "conversation"',
        "livechat": 'expected a chat with "users" and "thread": {"events": [...]}',
        "freshchat": 'expected {"conversation": {...}, "messages": [...], "users": [...]}',
    }[vendor]


def starts_with_array(stream: BinaryIO) -> bool:
    """Whether the input is one JSON array (first non-blank byte ``[``)."""
    peek = getattr(stream, "peek", None)
    head = peek(4096) if peek else b""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"[")


def read_json_array(
    stream: BinaryIO, name: str, options: IngestOptions, vendor: str | None
) -> Iterator[Chat | Reject]:
    """Every record of a JSON array file, with the line each record starts on."""
    data = stream.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        yield Reject(
            source=SourceRef(file=name, line=line),
            reason=f"invalid UTF-8 at byte {e.start + 1}; re-export the file as UTF-8",
        )
        return
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    assert text[pos] == "["
    pos = _skip(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    while pos < len(text):
        line = text.count("\n", 0, pos) + 1
        source = SourceRef(file=name, line=line)
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            yield Reject(
                source=source,
                reason=(
                    f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}; the rest of "
                    "the array from here was not read"
                ),
                raw=truncate(text[pos : pos + 500], options.max_raw_chars),
            )
            return
        raw = text[pos:end]
        yield record_chat(obj, vendor, source, options, raw)
        pos = _skip(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif pos < len(text) and text[pos] == "]":
            return
        else:
            yield Reject(
                source=SourceRef(file=name, line=text.count("\n", 0, pos) + 1),
                reason="not valid JSON: expected ',' or ']' after a record; the rest was not read",
                raw=truncate(text[pos : pos + 200], options.max_raw_chars),
            )
            return


def record_chat(
    obj: Any, vendor: str | None, source: SourceRef, options: IngestOptions, raw: str | None
) -> Chat | Reject:
    """A record of a known vendor, or detected (``vendor`` None), or a native chat."""
    vendor = vendor or detect_vendor(obj)
    if vendor is None:
        return build_chat(obj, source, options, raw=raw)
    return vendor_chat(obj, vendor, source, options, raw)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
