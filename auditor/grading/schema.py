"""The structured reply the model must give, built per rubric as pydantic models.

One object per ``llm`` criterion, keyed by criterion id, each with the fields in this order:
``criterion``, ``evidence [{message_id, quote}]``, ``rationale``, then ``level``. The order
is deliberate: a model writes left to right, so it first finds the words, then reasons, and
only then commits to a level (a level chosen first tends to be justified after the fact).

``level`` is an enum of that criterion's level ids, plus ``na`` only where the rubric allows
it, so a strict-schema server cannot return a level the rubric does not define.

The JSON schema sent as ``response_format`` is made *strict* the way OpenAI's structured
outputs require (every property required, ``additionalProperties: false``, no defaults).
Validation is per criterion, so one malformed grade does not throw away the other seven,
and its error messages name the criterion and field for the re-ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ..rubric import Criterion, Rubric

NA = "na"


class EvidenceItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(description="The id in square brackets of the cited message, e.g. m3.")
    quote: str = Field(
        description="Words copied exactly from that message, short (a phrase or one sentence)."
    )


class CriterionReply(BaseModel):
    """The common shape of one criterion's grade (the per-rubric models narrow ``level``)."""

    criterion: str
    evidence: list[EvidenceItem]
    rationale: str
    level: str


def criterion_levels(c: Criterion) -> list[str]:
    return [lv.id for lv in c.levels] + ([NA] if c.na_allowed else [])


def _criterion_model(c: Criterion, n: int) -> type[BaseModel]:
    levels = tuple(criterion_levels(c))
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        f"Criterion{n}",
        __config__=ConfigDict(extra="ignore"),
        criterion=(Literal[c.id], Field(description="The criterion id, repeated.")),  # type: ignore[valid-type]
        evidence=(
            list[EvidenceItem],
            Field(description="The messages that show the level, quoted exactly."),
        ),
        rationale=(str, Field(description="One or two sentences: why this level.")),
        level=(Literal[levels], Field(description="The level id.")),  # type: ignore[valid-type]
    )
    return model


def strict_json_schema(schema: Any) -> Any:
    """Make a pydantic JSON schema acceptable to strict structured outputs (recursively)."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {
            k: strict_json_schema(v) for k, v in schema.items() if k != "default"
        }
        if "const" in out:
            out["enum"] = [out.pop("const")]
        if out.get("type") == "object" and "properties" in out:
            out["additionalProperties"] = False
            out["required"] = list(out["properties"])
        return out
    if isinstance(schema, list):
        return [strict_json_schema(v) for v in schema]
    return schema


@dataclass
class ParsedReply:
    """What one model reply (one sample) said: valid grades, and errors per criterion."""

    grades: dict[str, CriterionReply] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # criterion id or "_" (whole reply)

    @property
    def all_errors(self) -> list[str]:
        return [e for errs in self.errors.values() for e in errs]


#: A reply wrapped in a Markdown code fence (```json … ```), as json_object-mode models write.
FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?```\s*$", re.DOTALL)


class ReplySpec:
    """The reply models and strict schema for one rubric."""

    def __init__(self, rubric: Rubric):
        self.criteria = rubric.llm_criteria
        self.models = {c.id: _criterion_model(c, i) for i, c in enumerate(self.criteria)}
        self._levels = {c.id: frozenset(criterion_levels(c)) for c in self.criteria}
        fields: dict[str, Any] = {
            f"c{i}": (self.models[c.id], Field(alias=c.id)) for i, c in enumerate(self.criteria)
        }
        self.reply_model: type[BaseModel] = create_model(  # type: ignore[call-overload]
            "GradingReply", __config__=ConfigDict(extra="ignore", populate_by_name=True), **fields
        )

    @cached_property
    def schema(self) -> dict[str, Any]:
        """The strict JSON schema (built once: pydantic's schema generation is not cheap)."""
        return strict_json_schema(self.reply_model.model_json_schema(by_alias=True))

    @cached_property
    def schema_json(self) -> str:
        return orjson.dumps(self.schema).decode()

    def json_schema(self) -> dict[str, Any]:
        return self.schema

    def response_format(self) -> dict[str, Any]:
        return {
            "type": "json_schema",
            "json_schema": {"name": "chat_grades", "strict": True, "schema": self.schema},
        }

    def parse(self, content: str | None) -> ParsedReply:
        """Validate one reply, criterion by criterion. Error messages address the model."""
        out = ParsedReply()
        if not content or not content.strip():
            out.errors["_"] = ["Your reply was empty. Reply with one JSON object as specified."]
            return out
        fenced = FENCE.match(content)
        text = fenced.group(1) if fenced else content
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            out.errors["_"] = [
                f"Your reply was not valid JSON ({e}); it may have been cut off. Reply with one "
                "complete JSON object and keep each rationale short."
            ]
            return out
        if isinstance(data, dict) and isinstance(data.get("grades"), list):
            # A common json_object-mode variant: a list of grades instead of one key each.
            data = {g.get("criterion"): g for g in data["grades"] if isinstance(g, dict)}
        if not isinstance(data, dict):
            out.errors["_"] = ["Your reply must be a JSON object with one key per criterion id."]
            return out
        for c in self.criteria:
            item = data.get(c.id)
            if item is None:
                out.errors[c.id] = [f"{c.id}: missing; grade every criterion."]
                continue
            # The common case, a grade as asked: the per-criterion model adds only the
            # criterion and level literals to CriterionReply, so check those and validate
            # once (a third of the cost); anything else is judged, and its errors worded,
            # by the per-criterion model below.
            if (
                type(item) is dict
                and item.get("criterion") == c.id
                and type(level := item.get("level")) is str
                and level in self._levels[c.id]
            ):
                try:
                    out.grades[c.id] = CriterionReply.model_validate(item)
                    continue
                except ValidationError:
                    pass
            try:
                valid = self.models[c.id].model_validate(item)
            except ValidationError as e:
                out.errors[c.id] = [_describe(c, err) for err in e.errors()]
                continue
            out.grades[c.id] = CriterionReply.model_validate(valid.model_dump())
        return out


def _describe(c: Criterion, err: Any) -> str:
    where = ".".join(str(p) for p in (c.id, *err["loc"]))
    if err["loc"] and err["loc"][-1] == "level":
        return f"{where}: must be one of {', '.join(criterion_levels(c))}."
    return f"{where}: {err['msg']}."
