"""How input is read: time zone for naive timestamps, format, CSV column names.

The options are checked when they are built, so a typo in ``--tz`` or a CSV column
mapping is a usage error before any file is opened, not a reject on every chat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import UsageError
from .role_values import check_role_values

Format = Literal[
    "auto", "jsonl", "csv", "twcs", "xlsx", "zendesk", "intercom", "livechat", "freshchat"
]
FORMATS: tuple[str, ...] = (
    "auto",
    "jsonl",
    "csv",
    "twcs",
    "xlsx",
    "zendesk",
    "intercom",
    "livechat",
    "freshchat",
)

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


#: default cap on one message's text, in characters (see docs/input-format.md, "Input limits")
MAX_MESSAGE_CHARS = 20_000
#: default start of the plausible window for message times
EARLIEST_TS = "2000-01-01"
#: default end of the window: this many days after the time of reading
LATEST_TS_DAYS_AHEAD = 1.0


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
    #: extra role words of a CSV/Excel role column, e.g. ``{"小二": "agent"}`` (see role_values.py)
    role_values: Mapping[str, str] = field(default_factory=dict)
    #: how much of an offending line a Reject keeps in ``raw``
    max_raw_chars: int = 500
    #: the longest message text audited; a longer one is cut there, with a warning on the chat
    max_message_chars: int = MAX_MESSAGE_CHARS
    #: the plausible window for message times: from this day (UTC) ...
    earliest_ts: str = EARLIEST_TS
    #: ... to this many days after now; a chat with a time outside is rejected
    latest_ts_days_ahead: float = LATEST_TS_DAYS_AHEAD

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
        check_role_values(self.role_values)
        if self.max_message_chars < 1:
            raise UsageError("the message length cap must be at least 1 character")
        _ = self.earliest  # fail early on a bad date
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

    @cached_property
    def earliest(self) -> datetime:
        """The first plausible message time (midnight UTC of ``earliest_ts``)."""
        try:
            day = date.fromisoformat(self.earliest_ts.strip())
        except ValueError as e:
            raise UsageError(
                f"bad earliest time {self.earliest_ts!r}; expected a date like 2000-01-01"
            ) from e
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    def latest(self) -> datetime:
        """The last plausible message time: now plus ``latest_ts_days_ahead``, capped safely."""
        try:
            return datetime.now(UTC) + timedelta(days=self.latest_ts_days_ahead)
        except OverflowError:
            return datetime.max.replace(tzinfo=UTC) - timedelta(days=1)

    def csv_header_for(self, name: str) -> str:
        """The header name in the file for one of our CSV fields."""
        return self.csv_columns.get(name, name)


def parse_column_mapping(items: Iterable[str]) -> dict[str, str]:
    """Turn CLI values like ``chat_id=会话ID`` into a ``csv_columns`` mapping.

    Meant for a repeatable ``--column FIELD=HEADER`` option (``--csv-column`` is an alias); a malformed item is a
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
