"""A grader you queue replies on, for tests of everything downstream of grading.

Modelled on llm's ``MockModel`` and inspect_ai's ``mockllm``: the pipeline, scoring,
review and eval code can be tested against exact grades without a server or a model.

    grader = MockGrader()
    grader.queue({"empathy": "good", "solution": "poor"})           # levels by criterion
    grader.queue({"empathy": {"level": "good", "confidence": 0.4}})  # any Grade fields
    grader.queue({"empathy": "na", "solution": "unscored"})         # na / unscored
    grader.queue(BudgetExceeded("spent"))                             # raised by grade()
    grader.queue(lambda chat, rubric: {...})                          # computed per chat

Each ``grade()`` call takes the next queued reply. Criteria a reply leaves out, and every
call with the queue empty, give ``unscored`` grades ("mock: no reply queued") unless a
``default_level`` is set — the same "never a silent poor" rule as the real graders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from ..models import Chat, Evidence, Grade
from ..rubric import Criterion, Rubric

GradeSpec: TypeAlias = str | Mapping[str, Any] | Grade
Reply: TypeAlias = (
    list[Grade] | Mapping[str, GradeSpec] | BaseException | Callable[[Chat, Rubric], Any]
)


class MockGrader:
    name = "mock"

    def __init__(
        self,
        model: str = "mock",
        *,
        default_level: str | None = None,
        confidence: float | None = 1.0,
        prompt_version: str = "mock@1",
    ):
        self.model = model
        self.default_level = default_level
        self.confidence = confidence
        self.prompt_version = prompt_version
        self.replies: deque[Reply] = deque()
        self.calls: list[tuple[str, str]] = []  # (chat_id, rubric id) per grade() call
        self.closed = False

    def queue(self, *replies: Reply) -> MockGrader:
        self.replies.extend(replies)
        return self

    def settings_key(self) -> str:
        return f"mock|model={self.model}|default={self.default_level}|prompt={self.prompt_version}"

    async def aclose(self) -> None:
        self.closed = True

    async def grade(self, chat: Chat, rubric: Rubric) -> list[Grade]:
        self.calls.append((chat.chat_id, rubric.id))
        reply: Any = self.replies.popleft() if self.replies else None
        if callable(reply) and not isinstance(reply, BaseException):
            reply = reply(chat, rubric)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, list):
            return reply
        specs: Mapping[str, GradeSpec] = reply or {}
        return [self._grade(c, specs.get(c.id), chat) for c in rubric.llm_criteria]

    def _grade(self, c: Criterion, spec: GradeSpec | None, chat: Chat) -> Grade:
        if isinstance(spec, Grade):
            return spec
        common: dict[str, Any] = {
            "criterion": c.id,
            "grader": self.name,
            "model": self.model,
            "prompt_version": self.prompt_version,
        }
        if spec is None:
            spec = self.default_level
        if spec is None:
            return Grade(status="unscored", error="mock: no reply queued", **common)
        fields: dict[str, Any] = {"level": spec} if isinstance(spec, str) else dict(spec)
        level = fields.pop("level", None)
        if level == "unscored":
            fields.setdefault("error", "mock: unscored")
            return Grade(status="unscored", **common, **fields)
        if level == "na":
            if not c.na_allowed:
                raise ValueError(f"mock reply: criterion {c.id!r} does not allow na")
            return Grade(status="na", confidence=self.confidence, **common, **fields)
        if c.level(level) is None:
            known = ", ".join(lv.id for lv in c.levels)
            raise ValueError(f"mock reply: {c.id!r} has no level {level!r} (levels: {known})")
        evidence = [
            e if isinstance(e, Evidence) else Evidence(message_id=e[0], quote=e[1])
            for e in fields.pop("evidence", [])
        ]
        fields.setdefault("confidence", self.confidence)
        return Grade(status="scored", level=level, evidence=evidence, **common, **fields)
