"""Message timestamps: ISO 8601 strings or epoch numbers, always made timezone-aware.

Epoch seconds and epoch milliseconds are told apart by magnitude: a value under
``1e11`` is seconds (``1e11`` s is the year 5138), from ``1e11`` on it is milliseconds
(``1e11`` ms is March 1973), and from ``1e14`` on it is rejected (microsecond or
nanosecond clocks are not supported: convert them). Chat exports carry dates from the
last decades, which sit far from both cut-offs in either unit, so the rule never
guesses wrong on real data. Numeric strings (``"1795000000"``) follow the same rule.

An ISO timestamp without a UTC offset is *naive*: it is read in the zone the caller
passes (``--tz``), and the caller records a warning on the chat.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

#: epoch values under this are seconds, from it on milliseconds
EPOCH_MS_FROM = 1e11
#: epoch values from this on are rejected (µs / ns clocks)
EPOCH_MAX = 1e14

_NUMERIC = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimestampError(ValueError):
    """A value that is not a timestamp; the message says why, for a Reject reason."""


def parse_timestamp(value: Any, zone: tzinfo) -> tuple[datetime, bool]:
    """Parse one ``ts`` value. Returns ``(aware datetime, was_naive)``.

    Offsets given in the input are kept as given (``+08:00`` stays ``+08:00``), so a
    transcript shows the times the customer saw; comparisons between offsets are exact.
    """
    if isinstance(value, bool) or value is None:
        raise TimestampError(f"{value!r} is not a timestamp")
    if isinstance(value, int | float):
        return _from_epoch(value), False
    if not isinstance(value, str):
        raise TimestampError(
            f"a timestamp must be a string or a number, not {type(value).__name__}"
        )
    text = value.strip()
    if not text:
        raise TimestampError("the timestamp is empty")
    if _NUMERIC.match(text):
        number: int | float = float(text) if "." in text else int(text)
        return _from_epoch(number), False
    return _from_iso(text, zone)


def _from_epoch(number: int | float) -> datetime:
    if isinstance(number, float) and not math.isfinite(number):
        raise TimestampError(f"{number!r} is not a timestamp")
    magnitude = abs(number)
    if magnitude >= EPOCH_MAX:
        raise TimestampError(
            f"epoch value {number!r} is too large for seconds or milliseconds "
            "(microsecond/nanosecond clocks are not supported)"
        )
    try:
        if magnitude >= EPOCH_MS_FROM:
            if isinstance(number, int):  # exact: no float rounding of the milliseconds
                return _EPOCH + timedelta(milliseconds=number)
            return _EPOCH + timedelta(seconds=number / 1000)
        return _EPOCH + timedelta(seconds=number)
    except OverflowError as e:
        raise TimestampError(f"epoch value {number!r} is out of range") from e


def _from_iso(text: str, zone: tzinfo) -> tuple[datetime, bool]:
    upper = text.upper()
    try:
        parsed = datetime.fromisoformat(upper)
    except ValueError as e:
        why = "" if str(e).startswith("Invalid isoformat") else f" ({e})"
        raise TimestampError(
            f"{text!r} is not an ISO 8601 timestamp or an epoch number{why}; expected e.g. "
            "2026-11-21T10:15:00+08:00, 2026-11-21T02:15:00Z or 1795227300000"
        ) from e
    if "T" not in upper and " " not in upper:  # a date alone: midnight would be a guess
        raise TimestampError(
            f"{text!r} has no time of day; expected ISO 8601 like 2026-11-21T10:15:00+08:00"
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone), True
    return shared_zone(parsed), False


#: one ``timezone`` object per UTC offset read (``datetime.fromisoformat`` makes a new one for
#: every ``+08:00`` it reads; UTC is a single object already)
_ZONES: dict[tzinfo, tzinfo] = {}
_MAX_ZONES = 256


def shared_zone(ts: datetime) -> datetime:
    """``ts`` (as ``datetime.fromisoformat`` read it: an unnamed fixed offset, or UTC) with
    the one ``timezone`` object kept for its UTC offset: an equal datetime with the same
    offset and wall clock (``astimezone`` to an equal offset changes neither).

    Two times of one chat then share their zone object, and comparing or subtracting them
    skips the two ``utcoffset()`` calls a pair of distinct zone objects costs (~0.6 against
    ~0.08 µs a comparison; a chat's times are compared and subtracted dozens of times by
    ingest and the timing checks).
    """
    zone = ts.tzinfo
    shared = _ZONES.get(zone)  # type: ignore[arg-type]
    if shared is zone:
        return ts
    if shared is not None:
        return ts.astimezone(shared)
    if type(zone) is timezone and len(_ZONES) < _MAX_ZONES:
        _ZONES[zone] = zone
    return ts
