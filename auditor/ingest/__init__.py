"""Reading chat exports: native JSON Lines, CSV (one message per row), TWCS threads.

Public names (a team contract): :func:`read_chats`, :func:`parse_chat_obj`,
:class:`IngestOptions`. See docs/input-format.md for the formats, the timestamp
rules and every reject reason.
"""

from __future__ import annotations

from .jsonl import RawLine
from .language import ZH_THRESHOLD, detect_language
from .native import parse_chat_obj, sort_messages
from .options import CSV_FIELDS, CSV_REQUIRED, FORMATS, IngestOptions, parse_column_mapping
from .reader import read_chats, read_records
from .timestamps import EPOCH_MAX, EPOCH_MS_FROM, TimestampError, parse_timestamp
from .twcs import is_twcs_thread, twcs_to_native

__all__ = [
    "CSV_FIELDS",
    "CSV_REQUIRED",
    "EPOCH_MAX",
    "EPOCH_MS_FROM",
    "FORMATS",
    "ZH_THRESHOLD",
    "IngestOptions",
    "RawLine",
    "TimestampError",
    "detect_language",
    "is_twcs_thread",
    "parse_chat_obj",
    "parse_column_mapping",
    "parse_timestamp",
    "read_chats",
    "read_records",
    "sort_messages",
    "twcs_to_native",
]
