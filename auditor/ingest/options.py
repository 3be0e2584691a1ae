"""How input is read: time zone for naive timestamps, format, CSV column names.

The options are checked when they are built, so a typo in ``--tz`` or a CSV column
mapping is a usage error before any file is opened, not a reject on every chat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import UsageError

Format = Literal["auto", "jsonl", "csv", "twcs"]
FORMATS: tuple[str, ...] = ("auto", "jsonl", "csv", "twcs")

#: The CSV columns the reader understands (one message per row). The first four are required.
CSV_REQUIRED: tuple[str, ...] = ("chat_id", "role", "ts", "text")
CSV_OPTIONAL: tuple[str, ...] = (
    "agent_id",
    "customer_id",
    "channel",
    "language",
    "id",
    "author",
    "auto",
)
CSV_FIELDS: tuple[str, ...] = CSV_REQUIRED + CSV_OPTIONAL


@dataclass(frozen=True)
class IngestOptions:
    """Settings for :func:`auditor.ingest.read_chats`.

    ``tz`` is an IANA zone name used only for timestamps that carry no UTC offset
    (each such chat gets a warning). ``csv_columns`` maps our field names to the
    header names in the file, e.g. ``{"chat_id": "会话ID", "text": "内容"}``; fields
    not mapped are looked up under their own name.
    """

    tz: str = "UTC"
    format: Format = "auto"
    csv_columns: Mapping[str, str] = field(default_factory=dict)
    csv_delimiter: str = ","
    #: how much of an offending line a Reject keeps in ``raw``
    max_raw_chars: int = 500

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise UsageError(
                f"unknown input format {self.format!r}; expected one of {', '.join(FORMATS)}"
            )
        _ = self.zone  # fail early on an unknown zone name
        unknown = sorted(set(self.csv_columns) - set(CSV_FIELDS))
        if unknown:
            raise UsageError(
                f"unknown CSV field(s) in the column mapping: {', '.join(unknown)}; "
                f"known fields: {', '.join(CSV_FIELDS)}"
            )
        if len(self.csv_delimiter) != 1:
            raise UsageError(f"the CSV delimiter must be one character, not {self.csv_delimiter!r}")

    @cached_property
    def zone(self) -> ZoneInfo:
        """The zone naive timestamps are read in."""
        try:
            return ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise UsageError(
                f"unknown time zone {self.tz!r}; use an IANA name such as UTC or Asia/Shanghai"
            ) from e

    def csv_header_for(self, name: str) -> str:
        """The header name in the file for one of our CSV fields."""
        return self.csv_columns.get(name, name)


def parse_column_mapping(items: Iterable[str]) -> dict[str, str]:
    """Turn CLI values like ``chat_id=会话ID`` into a ``csv_columns`` mapping.

    Meant for a repeatable ``--csv-column FIELD=HEADER`` option; a malformed item is a
    usage error naming the item.
    """
    mapping: dict[str, str] = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not ours or not theirs:
            raise UsageError(f"bad column mapping {item!r}; expected FIELD=HEADER, e.g. text=内容")
        if ours not in CSV_FIELDS:
            raise UsageError(
                f"unknown CSV field {ours!r} in {item!r}; known fields: {', '.join(CSV_FIELDS)}"
            )
        mapping[ours] = theirs
    return mapping
