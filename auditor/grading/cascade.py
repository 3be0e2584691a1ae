"""Cheap model first, strong model where it is unsure: ``--escalate-model M2``.

Every chat is graded by the cheap model. A criterion goes up to the strong model when its
grade is ``unscored``, or when its *measured* confidence (sample agreement × level
probability, see docs/llm-grading.md) is below the rubric's review threshold for it. The
strong model is asked about those criteria only (the rubric narrowed to them, so its
prompt is shorter) and its grades replace the cheap ones, flagged ``escalated``. What is
still uncertain after that goes to human review by the usual rules (low confidence,
unscored).

A grade with no measured confidence (one sample, a server without logprobs) is not
escalated: the cascade needs ``--samples k`` or logprobs to know what it is unsure of.
"""

from __future__ import annotations

from typing import Any

from ..models import Chat, Grade
from ..review.policy import review_threshold
from ..rubric import Rubric
from .base import Grader

ESCALATED = "escalated"


def needs_escalation(grade: Grade, rubric: Rubric) -> bool:
    if grade.status == "unscored":
        return True
    threshold = review_threshold(rubric.criterion(grade.criterion), rubric)
    return grade.confidence is not None and grade.confidence < threshold


def narrowed(rubric: Rubric, criteria: set[str]) -> Rubric:
    """The rubric with only these ``llm`` criteria (its other criteria kept), still valid."""
    data = rubric.model_dump()
    data["criteria"] = [
        c for c in data["criteria"] if c.get("kind") != "llm" or c["id"] in criteria
    ]
    data["total"] = sum(c["points"] for c in data["criteria"])
    return Rubric.model_validate(data)


class CascadeGrader:
    """Grades with ``cheap``; re-grades the uncertain criteria with ``strong`` (module doc)."""

    name = "openai"

    def __init__(self, cheap: Grader, strong: Grader):
        self.cheap = cheap
        self.strong = strong
        self.model: str | None = cheap.model
        self.escalated = 0  # criteria sent to the strong model
        self.graded = 0  # criteria graded by the cheap model

    @property
    def run_id(self) -> Any:
        return getattr(self.cheap, "run_id", None)

    @run_id.setter
    def run_id(self, value: Any) -> None:
        for g in (self.cheap, self.strong):
            if hasattr(g, "run_id"):
                g.run_id = value  # type: ignore[attr-defined]

    def settings_key(self) -> str:
        return f"cascade|{self.cheap.settings_key()}|escalate:{self.strong.settings_key()}"

    async def grade(self, chat: Chat, rubric: Rubric) -> list[Grade]:
        grades = await self.cheap.grade(chat, rubric)
        self.graded += len(grades)
        up = {g.criterion for g in grades if needs_escalation(g, rubric)}
        if not up:
            return grades
        self.escalated += len(up)
        better = {g.criterion: g for g in await self.strong.grade(chat, narrowed(rubric, up))}
        out = []
        for g in grades:
            s = better.get(g.criterion)
            if s is None:
                out.append(g)
                continue
            out.append(s.model_copy(update={"flags": [*s.flags, ESCALATED]}))
        return out

    async def aclose(self) -> None:
        await self.cheap.aclose()
        await self.strong.aclose()
