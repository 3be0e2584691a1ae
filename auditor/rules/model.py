"""The rule vocabulary of a rubric's ``rules:`` section, validated at load (``extra=forbid``).

A *condition* is one operator — ``keywords``, ``regex``, ``similar``, ``only``, ``empty``,
``anchor``, or the combinators ``all`` / ``any`` / ``not`` — optionally scoped to some
messages with ``in``. A *check rule* ties a condition to a check id: ``require`` (the check
fails when the condition finds nothing), ``forbid`` (it fails on every hit), or, for the two
timing checks with a phrase part, ``opens`` (``hold``: which agent messages open a hold) and
``needs_reply`` (``unanswered_customer``: which unanswered customer messages needed an
answer). The operators follow the rule builders of commercial QA platforms (Alibaba Cloud
智能对话分析): see rubrics/README.md for each with an example.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["agent", "customer", "any"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _compiles(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise ValueError(f"invalid regular expression {p!r}: {e}") from e
    return patterns


class Scope(_Strict):
    """Which messages a condition reads: a role, then the first or last N of them.

    ``agent`` means the human agent's own messages (not automatic ones, not the bot):
    QA grades what the agent wrote.
    """

    role: Role = "agent"
    first: int | None = Field(default=None, ge=1)
    last: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_range(self) -> Scope:
        if self.first is not None and self.last is not None:
            raise ValueError("give 'first' or 'last', not both")
        return self


class Keywords(_Strict):
    """Phrases (case-insensitive; Latin phrases on word boundaries) in one message."""

    any: list[str] = Field(default_factory=list)  # at least one of them
    all: list[str] = Field(default_factory=list)  # every one of them
    none: list[str] = Field(default_factory=list)  # none of them

    @model_validator(mode="after")
    def _something(self) -> Keywords:
        if not (self.any or self.all or self.none):
            raise ValueError("keywords needs at least one of 'any', 'all', 'none'")
        return self


class Regex(_Strict):
    """Regular expressions (case-insensitive); a hit overlapped by an ``exclude`` match is dropped."""

    pattern: list[str]
    exclude: list[str] = Field(default_factory=list)

    _list = field_validator("pattern", "exclude", mode="before")(_as_list)

    @field_validator("pattern", "exclude")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return _compiles(value)

    @field_validator("pattern")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("regex needs at least one pattern")
        return value


class Similar(_Strict):
    """A sentence of the message is similar to one of the example sentences.

    ``threshold`` is the similarity (0..1) from which a sentence counts; the ``ngram``
    backend is offline and deterministic, ``embeddings`` asks an OpenAI-compatible
    ``/v1/embeddings`` endpoint (see docs/checks.md).
    """

    examples: list[str] = Field(min_length=1)
    threshold: float = Field(default=0.6, gt=0, le=1)
    backend: Literal["ngram", "embeddings"] = "ngram"


class Only(_Strict):
    """The whole message is made of these phrases (plus punctuation, emoji, tone particles)."""

    phrases: list[str] = Field(min_length=1)


class Anchor(_Strict):
    """For each hit of ``find``, look for ``expect`` in the messages around it.

    ``before`` / ``after`` count messages of ``role`` before / after the anchor's message
    (``around: N`` sets both); the anchor's own message is included unless ``self: false``.
    ``keep: absent`` keeps the anchor hits around which ``expect`` is not found ("不清楚"
    with no offer to find out), ``keep: present`` those around which it is.
    """

    find: Condition
    expect: Condition
    before: int = Field(default=0, ge=0)
    after: int = Field(default=0, ge=0)
    around: int | None = Field(default=None, ge=0)
    role: Role = "any"
    include_self: bool = Field(default=True, alias="self")
    keep: Literal["absent", "present"] = "absent"

    @model_validator(mode="after")
    def _around(self) -> Anchor:
        if self.around is not None:
            self.before = self.after = self.around
        return self


OPERATORS = ("keywords", "regex", "similar", "only", "empty", "anchor", "all", "any", "not")


class Condition(_Strict):
    """Exactly one operator, an optional scope (``in``) and an optional ``name`` for details."""

    name: str = ""
    scope: Scope | None = Field(default=None, alias="in")
    keywords: Keywords | None = None
    regex: Regex | None = None
    similar: Similar | None = None
    only: Only | None = None
    empty: bool | None = None  # the message is empty, or only an image/file placeholder
    anchor: Anchor | None = None
    all_of: list[Condition] | None = Field(default=None, alias="all")
    any_of: list[Condition] | None = Field(default=None, alias="any")
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [
            op
            for op, value in (
                ("keywords", self.keywords),
                ("regex", self.regex),
                ("similar", self.similar),
                ("only", self.only),
                ("empty", self.empty),
                ("anchor", self.anchor),
                ("all", self.all_of),
                ("any", self.any_of),
                ("not", self.not_),
            )
            if value is not None
        ]
        if len(given) != 1:
            shown = ", ".join(given) if given else "none"
            raise ValueError(
                f"a condition needs exactly one operator of {', '.join(OPERATORS)} (got {shown})"
            )
        if (
            self.all_of is not None
            and not self.all_of
            or self.any_of is not None
            and not self.any_of
        ):
            raise ValueError("'all' and 'any' need at least one condition")
        return self


class CheckRule(_Strict):
    """How a check decides, in rule operators. Exactly one of the four verdict keys."""

    description: str = ""
    require: Condition | None = None  # fails when the condition finds nothing
    forbid: Condition | None = None  # fails on every hit
    opens: Condition | None = None  # hold: an agent message matching it opens a hold
    needs_reply: Condition | None = None  # unanswered_customer: a last message needing an answer
    quote_context: int = Field(default=0, ge=0, le=200)  # characters quoted around each hit
    language_dependent: bool = True  # na, with a warning, for a chat in another language

    @model_validator(mode="after")
    def _one_verdict(self) -> CheckRule:
        given = [
            k for k in ("require", "forbid", "opens", "needs_reply") if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "a rule needs exactly one of 'require', 'forbid', 'opens', 'needs_reply' "
                f"(got {', '.join(given) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        for k in ("require", "forbid", "opens", "needs_reply"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError("validated: one verdict key")  # pragma: no cover

    @property
    def condition(self) -> Condition:
        cond = self.require or self.forbid or self.opens or self.needs_reply
        assert cond is not None
        return cond


Anchor.model_rebuild()
Condition.model_rebuild()
