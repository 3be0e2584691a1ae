"""The shared vocabulary: chats in, findings/grades/results out.

Every other module speaks in these types. Field names that appear in the per-chat
JSON result (``ChatResult.to_json()``) are a public contract read by users' scripts:
add fields freely, never rename.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import cached_property
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from .redact import redact

_M = TypeVar("_M", bound=BaseModel)

Role = Literal["customer", "agent", "bot", "system"]
ROLES: tuple[str, ...] = ("customer", "agent", "bot", "system")
#: An ISO 639 language code ("zh", "en", "ja", …); the shipped rubrics cover zh and en.
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Severity = Literal["fatal", "critical", "normal"]
Status = Literal["pass", "fail", "na"]
GradeStatus = Literal["scored", "na", "unscored"]

#: Check ids, a contract (issue #2 §6). A rubric criterion of kind ``check`` names one.
CHECK_IDS: tuple[str, ...] = (
    "first_response",
    "followup_response",
    "avg_response",
    "hold",
    "unanswered_customer",
    "typos",
    "forbidden_phrase",
    "greeting",
    "closing",
    "polite_address",
)


class SourceRef(BaseModel):
    """Where a chat came from: the file and the 1-based line (JSONL line, or CSV row line)."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    role: Role
    ts: (
        datetime | None
    )  # timezone-aware after ingest; None only when no message of the chat has one
    text: str
    author: str | None = None
    auto: bool = False  # an automatic agent message (auto-greeting, macro) is nobody's reply

    @property
    def is_agent_reply(self) -> bool:
        """An agent message a human agent typed: it can stop a response clock."""
        return self.role == "agent" and not self.auto

    @property
    def is_customer(self) -> bool:
        return self.role == "customer"


class Chat(BaseModel):
    """One conversation, validated and normalised: messages sorted by time, ids filled in."""

    chat_id: str
    messages: list[Message]
    language: Language
    agent_id: str | None = None
    customer_id: str | None = None
    channel: str | None = None
    source: SourceRef | None = None
    warnings: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    #: internal notes (helpdesk notes, whispers): kept with the transcript, marked as notes, and
    #: never timed, checked or graded — the customer never saw them
    notes: list[Message] = Field(default_factory=list)

    def message(self, message_id: str) -> Message | None:
        for m in self.messages:
            if m.id == message_id:
                return m
        return None

    @property
    def started_at(self) -> datetime | None:
        return self.messages[0].ts

    @property
    def timed(self) -> bool:
        """Whether the messages have timestamps (ingest allows all or none, never some)."""
        return self.messages[0].ts is not None

    def transcript_dict(self) -> dict[str, Any]:
        """The canonical transcript: what is hashed and stored (source/warnings excluded)."""
        return self._transcript(iso_times=True)

    def _transcript(self, iso_times: bool) -> dict[str, Any]:
        """:meth:`transcript_dict`; with ``iso_times`` false, the messages' ``ts`` stay
        datetimes (for orjson to write: see :meth:`transcript_json`)."""
        return self._transcript_of(
            [
                {
                    "id": m.id,
                    "role": m.role,
                    "author": m.author,
                    "ts": m.ts.isoformat() if iso_times and m.ts is not None else m.ts,
                    "text": m.text,
                    "auto": m.auto,
                }
                for m in self.messages
            ]
        )

    def _transcript_of(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The transcript's fields around ``messages`` (its messages as dicts)."""
        return {
            "chat_id": self.chat_id,
            "agent_id": self.agent_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "language": self.language,
            "messages": messages,
        } | ({"notes": [_message_dict(m) for m in self.notes]} if self.notes else {})

    def transcript_json(self) -> bytes:
        """The canonical transcript as JSON bytes (computed once: a chat is not edited after ingest)."""
        cached: bytes | None = self.__dict__.get("_transcript_json")
        if cached is None:
            # orjson writes a datetime as isoformat() does, in C, unless its UTC offset has
            # seconds (isoformat keeps them, orjson rounds to minutes): those chats, and any
            # time orjson cannot write, take the ISO text
            native = _all_orjson_iso([m.ts for m in self.messages])
            try:
                cached = orjson.dumps(
                    self._native_transcript() if native else self._transcript(True),
                    option=orjson.OPT_SORT_KEYS,
                )
            except orjson.JSONEncodeError:
                cached = orjson.dumps(self._transcript(True), option=orjson.OPT_SORT_KEYS)
            self.__dict__["_transcript_json"] = cached
        return cached

    def _native_transcript(self) -> dict[str, Any]:
        """``_transcript(False)``: a message's own ``__dict__`` is the dict that method
        builds for it (the same six fields, written with sorted keys either way) when the
        messages are plain :class:`Message` objects, whose ``__dict__`` holds their fields
        and nothing else; it is not copied (orjson only reads it)."""
        if not _MESSAGE_DICT_IS_TRANSCRIPT or set(map(type, self.messages)) != _JUST_MESSAGE:
            return self._transcript(False)
        return self._transcript_of([m.__dict__ for m in self.messages])

    @cached_property
    def transcript_hash(self) -> str:
        return content_hash(self.transcript_json())

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Chat:
        """A copy never inherits the cached transcript (an update may change it)."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("_transcript_json", None)
        copy.__dict__.pop("transcript_hash", None)
        return copy


#: A Message's fields are exactly the keys of a transcript's message (Chat._transcript)
_MESSAGE_DICT_IS_TRANSCRIPT = tuple(Message.model_fields) == (
    "id",
    "role",
    "ts",
    "text",
    "author",
    "auto",
)
_JUST_MESSAGE = {Message}


def _all_orjson_iso(stamps: list[datetime | None]) -> bool:
    """``all(map(_orjson_iso, stamps))``: for times with fixed UTC offsets (``timezone``:
    every ISO time read with its offset) each distinct offset is looked at once."""
    if None in stamps or set(map(type, stamps)) != {datetime}:
        return all(map(_orjson_iso, stamps))
    zones = {ts.tzinfo for ts in stamps}  # type: ignore[union-attr]
    if all(type(z) is timezone for z in zones):
        return all(_orjson_iso(datetime(2000, 1, 1, tzinfo=z)) for z in zones)
    return all(map(_orjson_iso, stamps))


def _orjson_iso(ts: datetime | None) -> bool:
    """Does orjson write ``ts`` exactly as ``ts.isoformat()`` (None: as null)?"""
    if ts is None:
        return True
    if type(ts) is not datetime:
        return False
    offset = ts.utcoffset()
    return offset is None or not (offset.seconds % 60 or offset.microseconds)


def _message_dict(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "role": m.role,
        "author": m.author,
        "ts": m.ts.isoformat() if m.ts is not None else None,
        "text": m.text,
        "auto": m.auto,
    }


class Reject(BaseModel):
    """A chat (or line) that could not be audited, with where and why."""

    source: SourceRef
    reason: str
    chat_id: str | None = None
    raw: str | None = None  # the offending input, truncated

    def __str__(self) -> str:
        who = f" chat {self.chat_id!r}" if self.chat_id else ""
        return f"{self.source}:{who} {self.reason}"


class Evidence(BaseModel):
    message_id: str
    quote: str


class Finding(BaseModel):
    """The outcome of one deterministic check for one rubric criterion."""

    criterion: str
    check: str
    status: Status
    severity: Severity = "normal"
    points_lost: float = 0.0
    evidence: list[Evidence] = Field(default_factory=list)
    detail: str = ""
    data: dict[str, Any] = Field(default_factory=dict)  # check-specific extras (e.g. typo spans)


#: the flag on an unscored grade whose request failed on the way (timeouts, connection
#: errors, 429/5xx after every retry): the chat is not done, and a re-run grades it again
TRANSPORT_ERROR = "transport_error"


class Grade(BaseModel):
    """One soft criterion graded by a grader (offline rules or an LLM).

    ``status="unscored"`` means the grader failed (error recorded); it never counts as a
    failing level and always goes to human review.
    """

    criterion: str
    status: GradeStatus
    level: str | None = None  # a rubric level id; None when na/unscored
    points_lost: float = 0.0
    severity: Severity = "normal"
    failed: bool = False  # the level counts as a failure for the pass rules
    evidence: list[Evidence] = Field(default_factory=list)
    rationale: str = ""
    confidence: float | None = None  # measured (sample agreement / logprobs / rules), 0..1
    grader: str = ""
    model: str | None = None
    prompt_version: str | None = None
    error: str | None = None
    flags: list[str] = Field(default_factory=list)  # e.g. "suspected_injection"

    @field_validator("rationale", "error")
    @classmethod
    def _no_secrets(cls, value: str | None) -> str | None:
        """A grader's error (a server's words) or rationale never carries a credential."""
        return redact(value) if value else value


class Metrics(BaseModel):
    first_response_s: float | None = None
    max_followup_s: float | None = None
    avg_response_s: float | None = None
    followup_violations: int = 0
    hold_count: int = 0
    typo_count: int | None = None
    unanswered_customer: bool = False


class ReviewInfo(BaseModel):
    queued: bool = False
    reasons: list[str] = Field(default_factory=list)


class ChatResult(BaseModel):
    chat_id: str
    agent_id: str | None
    language: Language
    rubric: str  # name@version
    score: float
    passed: bool
    fatal: bool
    metrics: Metrics
    findings: list[Finding]
    grades: list[Grade] = Field(default_factory=list)
    review: ReviewInfo = Field(default_factory=ReviewInfo)
    warnings: list[str] = Field(default_factory=list)
    transcript_hash: str = ""
    started_at: datetime | None = None
    source: SourceRef | None = None
    grader: str = ""
    failed_criteria: list[str] = Field(default_factory=list)
    unscored_criteria: list[str] = Field(default_factory=list)
    #: some grades are unscored by a transport error: the score is provisional, the chat is
    #: not counted as a pass, and the next run grades it again
    provisional: bool = False
    reviewed_criteria: list[str] = Field(default_factory=list)  # human levels applied (effective)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def json_line(self) -> bytes:
        """``orjson.dumps(self.to_json())`` plus a newline (an ``--out`` line), written
        straight by pydantic's serializer: the same bytes at about half the CPU, no dict
        built in between (checked equal on 20k generated chats and the example day)."""
        return self.__pydantic_serializer__.to_json(self) + b"\n"


_new = object.__new__
# BaseModel's four slots, set through their descriptors: ``object.__setattr__(obj, name,
# value)`` looks the name up on the type for each of them, and these calls skip that (a
# trusted Grade ~0.43 µs instead of ~0.60, ~47 model objects a generated chat: ~8 µs a chat)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_FIELDS_SET: dict[type[BaseModel], set[str]] = {}


def trusted(cls: type[_M], values: dict[str, Any]) -> _M:
    """An instance of ``cls`` holding ``values`` as they are, without validation.

    For the per-chat hot path only, where the values come from this package's own code and
    already have their fields' types (a float as a float, a list of ``Evidence`` as such):
    validation would give an equal object (the same ``__dict__``) at 3-5 times the CPU
    (a ``Grade`` 5 µs, a ``Message`` 1.5 µs). ``values`` must hold every field, in the
    model's field order (the serializer writes them in that order), and becomes the
    instance's own ``__dict__``. Anything from outside (input files, a model's reply, a
    user's script) goes through the model's constructor as before.
    """
    obj = _new(cls)
    _set_dict(obj, values)
    fields_set = _FIELDS_SET.get(cls)
    if fields_set is None:
        fields_set = _FIELDS_SET[cls] = set(cls.model_fields)
    # one set shared by the class's trusted instances (one fewer object a message for the
    # garbage collector): it holds every field, so pydantic's ``add`` on assignment never
    # changes it, and model_copy copies it before an update adds to it
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def evidence_of(message_id: str, quote: str) -> Evidence:
    """``Evidence(message_id=..., quote=...)`` of two strings (:func:`trusted`)."""
    return trusted(Evidence, {"message_id": message_id, "quote": quote})


def content_hash(data: bytes | str) -> str:
    """Content address used for transcripts, rubrics and prompts (sha256, hex, 16 bytes)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]
