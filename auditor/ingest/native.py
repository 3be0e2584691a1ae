"""One chat in the native JSON shape → a normalised :class:`Chat`, or a :class:`Reject`.

The native shape (docs/input-format.md)::

    {"chat_id", "agent_id"?, "customer_id"?, "channel"?, "language"? ("zh"|"en"),
     "messages": [{"id"?, "role", "author"?, "ts", "text", "auto"?}]}

Every other reader (JSONL, CSV, TWCS) builds this shape and calls :func:`build_chat`,
so a rule such as "messages without an id get m1, m2, … by position" lives in one place.
Problems are collected rather than stopping at the first, so one reject tells the user
everything wrong with the chat (up to :data:`MAX_PROBLEMS`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any, cast

import orjson

from ..models import ROLES, Chat, Language, Message, Reject, SourceRef, trusted
from .language import detect_chat_language
from .options import IngestOptions
from .timestamps import TimestampError, parse_timestamp, shared_zone

CHAT_KEYS = frozenset(
    {"chat_id", "agent_id", "customer_id", "channel", "language", "messages", "notes"}
)
MAX_PROBLEMS = 3
_ROLE_SET = frozenset(ROLES)
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})
_DEFAULT_OPTIONS: IngestOptions | None = None
#: The chat warning (and the run summary's count) for a chat exported without timestamps.
NO_TIMESTAMPS_WARNING = "no timestamps: the timing checks are not applicable"
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def default_options() -> IngestOptions:
    """Shared default options (UTC, auto format), built once."""
    global _DEFAULT_OPTIONS
    if _DEFAULT_OPTIONS is None:
        _DEFAULT_OPTIONS = IngestOptions()
    return _DEFAULT_OPTIONS


def parse_chat_obj(
    obj: dict[str, Any], source: SourceRef, options: IngestOptions | None = None
) -> Chat | Reject:
    """Validate and normalise one chat object in the native JSON format.

    Unknown top-level keys (e.g. a gold set's ``"human"`` labels) are kept in
    ``Chat.extra``. Never raises for bad data: the result is a Reject with the reason.
    """
    return build_chat(obj, source, options or default_options())


class _Problems:
    """The reasons a chat is rejected, capped so a reason stays readable."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def __bool__(self) -> bool:
        return bool(self.items)

    def reason(self) -> str:
        shown = self.items[:MAX_PROBLEMS]
        more = len(self.items) - len(shown)
        return "; ".join(shown) + (f"; and {more} more problem(s)" if more else "")


def build_chat(
    obj: Any,
    source: SourceRef,
    options: IngestOptions,
    *,
    message_lines: Sequence[int] | None = None,
    raw: str | None = None,
    warnings: Sequence[str] = (),
) -> Chat | Reject:
    """The shared core of every reader.

    ``message_lines`` (CSV) gives the file line of each message so reasons can point at
    the row; ``raw`` is the input text kept (truncated) on a Reject; ``warnings`` are
    notes the reader already has about this chat (e.g. CSV rows that disagree).
    """
    if not isinstance(obj, dict):
        return _reject(
            source,
            f"expected a JSON object (one chat) per line, got {_json_type(obj)}",
            None,
            raw,
            options,
        )
    problems = _Problems()
    chat_id = _chat_id(obj.get("chat_id"), problems)

    def where(i: int) -> str:  # "message 3" or "message 3 (line 45)", 1-based
        if message_lines is not None and i < len(message_lines):
            return f"message {i + 1} (line {message_lines[i]})"
        return f"message {i + 1}"

    meta = {key: _opt_str(obj.get(key), f"'{key}'", problems) for key in _META_KEYS}
    language = _language(obj.get("language"), problems)

    raw_messages = obj.get("messages")
    messages: list[Message] = []
    naive = 0
    # messages without 'ts' (where, problem count then): fine if all, else each a problem
    no_ts: list[tuple[str, int]] = []
    if raw_messages is None:
        problems.add("chat has no 'messages' list")
    elif not isinstance(raw_messages, list):
        problems.add(f"'messages' must be a list, not {_json_type(raw_messages)}")
    elif not raw_messages:
        problems.add("chat has no messages")
    elif (plain := _plain_messages(raw_messages, options.zone)) is not None:
        messages, naive = plain  # every message well-formed (most chats): validated at once
    else:
        seen_ids: dict[str, int] = {}
        zone = options.zone
        for i, m in enumerate(raw_messages):
            parsed = _plain_message(m, i, zone) or _message(
                m, i, where(i), options, problems, no_ts
            )
            if parsed is None:
                continue
            message, was_naive = parsed
            naive += was_naive
            first = seen_ids.setdefault(message.id, i)
            if first != i:
                problems.add(
                    f"{where(i)} has the same id {message.id!r} as message {first + 1}; "
                    "message ids must be unique within a chat"
                )
            messages.append(message)
        if no_ts and len(no_ts) < len(raw_messages):
            # some timestamps but not all: the clocks would be made up. Each reason goes
            # where it would have been found, so reasons stay in message order.
            for w, at in reversed(no_ts):
                problems.items.insert(at, f"{w} has no 'ts'")

    notes = _notes(obj.get("notes"), options, problems)
    if messages:
        _check_window(messages, where, options, problems)
    if problems:
        return _reject(source, problems.reason(), chat_id, raw, options, obj)
    assert chat_id is not None  # no problems means the id was valid

    warned = list(warnings)
    messages = _cap_texts(messages, options.max_message_chars, warned)
    if no_ts:
        warned.append(NO_TIMESTAMPS_WARNING)
    if naive:
        warned.append(
            f"{naive} timestamp(s) had no UTC offset and were read in {options.tz} (--tz)"
        )
    messages, moved = sort_messages(messages)
    if moved:
        warned.append(f"messages were out of time order: sorted by ts ({moved} moved)")
    if language is None:
        language, certain = detect_chat_language(messages)
        if not certain:
            warned.append("no letters to detect the language from; assumed 'en'")
    extra = {k: v for k, v in obj.items() if k not in CHAT_KEYS}
    fields: dict[str, Any] = {
        "chat_id": chat_id,
        "messages": messages,
        "language": language,
        **meta,
        "source": source,
        "warnings": warned,
        "extra": extra,
        "notes": notes,
    }
    if type(source) is SourceRef and _LANGUAGE_CODE.fullmatch(language):
        # every field read and typed above (the messages as Message, the ids as str, the
        # language as Language): what Chat(**fields) validates to (models.trusted)
        return trusted(Chat, fields)
    return Chat(**fields)


def _notes(value: Any, options: IngestOptions, problems: _Problems) -> list[Message]:
    """Internal notes (``"notes"``: messages the customer never saw), read like messages."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(f"'notes' must be a list, not {_json_type(value)}")
        return []
    notes: list[Message] = []
    for i, n in enumerate(value):
        parsed = _message(n, i, f"note {i + 1}", options, problems, [])  # ts may be absent
        if parsed is not None:
            note = parsed[0]
            notes.append(
                note.model_copy(update={"id": f"n{i + 1}"}) if n.get("id") is None else note
            )
    if all(n.ts is not None for n in notes):
        notes.sort(key=_ts)
    return notes


_META_KEYS = ("agent_id", "customer_id", "channel")


def _check_window(
    messages: list[Message], where: Any, options: IngestOptions, problems: _Problems
) -> None:
    """Reject times outside the plausible window (year 0001, 9999, epoch 0 by mistake)."""
    earliest = options.earliest
    stamps = [m.ts for m in messages]
    if None not in stamps:  # every time inside (most chats: two comparisons in C)?
        timed = cast(list[datetime], stamps)
        if min(timed) >= earliest and max(timed) <= options.latest():
            return
    latest: datetime | None = None
    for i, m in enumerate(messages):
        if m.ts is None:
            continue  # a chat without timestamps (all or none: checked before)
        if m.ts < earliest:
            problems.add(
                f"{where(i)} has ts {m.ts.isoformat()}, before {earliest.date().isoformat()} "
                "(the earliest plausible time; see --earliest-ts)"
            )
            continue
        latest = latest or options.latest()
        if m.ts > latest:
            problems.add(
                f"{where(i)} has ts {m.ts.isoformat()}, more than "
                f"{options.latest_ts_days_ahead:g} day(s) in the future"
            )


def _cap_texts(messages: list[Message], cap: int, notes: list[str]) -> list[Message]:
    """Cut every message text at ``cap`` characters, with one warning naming each cut."""
    if max([len(m.text) for m in messages], default=0) <= cap:
        return messages
    out = []
    for m in messages:
        if len(m.text) > cap:
            notes.append(
                f"message {m.id} has {len(m.text):,} characters; only the first {cap:,} are "
                "audited (the per-message limit)"
            )
            m = m.model_copy(update={"text": m.text[:cap]})
        out.append(m)
    return out


def sort_messages(messages: list[Message]) -> tuple[list[Message], int]:
    """Stable sort by time. Returns the sorted list and how many messages changed place.

    Equal timestamps keep their input order (a customer burst sent within one second
    stays in the order written), so sorting twice changes nothing.
    """
    stamps = [m.ts for m in messages]
    if not stamps or stamps[0] is None or all(map(operator.le, stamps, stamps[1:])):  # type: ignore[arg-type]
        return messages, 0
    ordered = sorted(messages, key=_ts)
    moved = sum(1 for a, b in zip(messages, ordered, strict=True) if a is not b)
    return ordered, moved


def _ts(message: Message) -> datetime:
    assert message.ts is not None  # a chat has all timestamps or none
    return message.ts


def _plain_messages(raw: list[Any], zone: tzinfo) -> tuple[list[Message], int] | None:
    """The fast path for a chat whose messages are all well-formed, with distinct ids:
    the messages and how many timestamps were naive; None sends the chat to the general
    loop (which gives the same messages, or the reasons for rejecting it)."""
    messages = []
    naive = 0
    for i, m in enumerate(raw):
        plain = _plain_message(m, i, zone)
        if plain is None:
            return None
        messages.append(plain[0])
        naive += plain[1]
    if len({m.id for m in messages}) != len(messages):
        return None  # a repeated id: the general loop says which
    return messages, naive


def _plain_message(m: Any, index: int, zone: tzinfo) -> tuple[Message, bool] | None:
    """The fast path for a well-formed message; None sends it to :func:`_message`."""
    plain = _plain_fields(m, index, zone)
    if plain is None:
        return None
    return trusted(Message, plain[0]), plain[1]


def _plain_fields(m: Any, index: int, zone: tzinfo) -> tuple[dict[str, Any], bool] | None:
    """A well-formed message's fields, and whether its timestamp was naive; None sends it
    to :func:`_message`. The fields are what ``Message(**fields)`` validates to, in its
    field order (every value's type checked here), so they become the message as they are
    (models.trusted).

    Most messages in a real export are clean, and reading 100k chats spends its time
    here; anything unusual (missing fields, odd types, padded values) takes the slow
    path, which gives the same result or the reasons for rejecting it.
    """
    if type(m) is not dict:
        return None
    role = m.get("role")
    text = m.get("text")
    ts_value = m.get("ts")
    if type(role) is not str or role not in _ROLE_SET or type(text) is not str:
        return None
    message_id = m.get("id")
    author = m.get("author")
    auto = m.get("auto")
    if not (_plain_str(message_id) and _plain_str(author) and (auto is None or type(auto) is bool)):
        return None
    if type(ts_value) is str and (ts := _plain_iso(ts_value)) is not None:
        naive = False
    elif ts_value is None or ts_value == "":
        return None
    else:
        try:
            ts, naive = parse_timestamp(ts_value, zone)
        except TimestampError:
            return None
    fields = {
        "id": message_id or f"m{index + 1}",
        "role": role,
        "ts": ts,
        "text": text,
        "author": author,
        "auto": bool(auto),
    }
    return fields, naive


def _plain_iso(text: str) -> datetime | None:
    """A well-formed ISO timestamp with its UTC offset (``2026-11-21T10:15:00+08:00``, ``…Z``),
    read directly; None sends anything else to :func:`parse_timestamp` (same result)."""
    if len(text) < 20 or text[10] != "T" or text[4] != "-":
        return None
    whole_seconds = text[13] == ":" and text[16] == ":"  # "YYYY-MM-DDTHH:MM:SS" + offset
    zone = _OFFSETS.get(text[19:]) if whole_seconds else None
    if zone is not None:  # "…+08:00" read before: the wall clock, then its shared zone
        try:
            local = datetime.fromisoformat(text[:19])
        except ValueError:
            return None
        return _combine(local, local.time(), zone)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None
    ts = shared_zone(ts)
    if whole_seconds and text[19] in "+-Z" and len(_OFFSETS) < 256:
        # the offset text of "YYYY-MM-DDTHH:MM:SS<offset>" (no fraction): the next time with
        # it is read as its first 19 characters in that zone, the same datetime at half the CPU
        # (no zone object made and then swapped for the shared one)
        _OFFSETS[text[19:]] = ts.tzinfo  # type: ignore[assignment]
    return ts


#: offset text (``+08:00``, ``Z``) -> the shared zone (timestamps.shared_zone) it reads as
_OFFSETS: dict[str, tzinfo] = {}
_combine = datetime.combine


def _plain_str(value: Any) -> bool:
    """None, or a non-empty string without surrounding blanks (what _opt_str keeps as is)."""
    return value is None or (type(value) is str and value != "" and value == value.strip())


def _message(
    m: Any,
    index: int,
    where: str,
    options: IngestOptions,
    problems: _Problems,
    no_ts: list[tuple[str, int]],
) -> tuple[Message, bool] | None:
    if not isinstance(m, dict):
        problems.add(f"{where} is not a JSON object but {_json_type(m)}")
        return None
    before = len(problems.items)
    role = m.get("role")
    if role is None or role == "":
        problems.add(f"{where} has no 'role'")
    elif not isinstance(role, str) or role.strip().lower() not in ROLES:
        problems.add(f"{where} has unknown role {role!r} (expected {', '.join(ROLES)})")
    ts_value = m.get("ts")
    ts: datetime | None = None
    naive = False
    if ts_value is None or ts_value == "":
        no_ts.append((where, len(problems.items)))  # fine when no message of the chat has one
    else:
        try:
            ts, naive = parse_timestamp(ts_value, options.zone)
        except TimestampError as e:
            problems.add(f"{where} has an unreadable 'ts': {e}")
    text = m.get("text")
    if text is None:
        problems.add(f"{where} has no 'text'")
    elif not isinstance(text, str):
        problems.add(f"{where}: 'text' must be a string, not {_json_type(text)}")
    message_id = _opt_str(m.get("id"), f"{where}: 'id'", problems)
    author = _opt_str(m.get("author"), f"{where}: 'author'", problems)
    auto = _auto(m.get("auto"), where, problems)
    if len(problems.items) > before:
        return None
    assert isinstance(role, str) and isinstance(text, str) and auto is not None
    message = Message(
        id=message_id or f"m{index + 1}",
        role=role.strip().lower(),  # type: ignore[arg-type]  # checked against ROLES above
        ts=ts,
        text=text,
        author=author,
        auto=auto,
    )
    return message, naive


def _chat_id(value: Any, problems: _Problems) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.add("chat has no 'chat_id'")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.add(f"'chat_id' must be a string or an integer, not {_json_type(value)}")
        return None
    return str(value).strip()


def _opt_str(value: Any, what: str, problems: _Problems) -> str | None:
    """An optional identifier: strings as given, integers as text, empty as absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    problems.add(f"{what} must be a string, not {_json_type(value)}")
    return None


def _language(value: Any, problems: _Problems) -> Language | None:
    """An ISO 639 code; regional tags like ``zh-TW`` or ``en_US`` map to their base."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        base = value.strip().lower().replace("_", "-").split("-")[0]
        if _LANGUAGE_CODE.fullmatch(base):
            return base
    problems.add(
        f"unreadable language {value!r} (expected an ISO 639 code such as 'zh', 'en' or "
        "'ja'; leave it out to detect)"
    )
    return None


def _auto(value: Any, where: str, problems: _Problems) -> bool | None:
    """``auto`` flag: JSON booleans, 0/1, or the words CSV exports use (true/false, yes/no)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    problems.add(f"{where}: 'auto' must be true or false, not {value!r}")
    return None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _reject(
    source: SourceRef,
    reason: str,
    chat_id: str | None,
    raw: str | None,
    options: IngestOptions,
    obj: Any = None,
) -> Reject:
    if raw is None and obj is not None:
        try:
            raw = orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except (TypeError, orjson.JSONEncodeError):
            raw = repr(obj)
    return Reject(
        source=source,
        reason=reason,
        chat_id=chat_id,
        raw=truncate(raw, options.max_raw_chars),
    )


def truncate(text: str | None, limit: int) -> str | None:
    """Keep a reject's raw text short; the file:line points at the full input."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "…"
