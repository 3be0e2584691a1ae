"""The Grader protocol: what the pipeline needs from any grader of the ``llm`` criteria.

A grader returns one ``Grade`` per ``llm`` criterion of the rubric, in rubric order.
It fills ``criterion, status, level, evidence, rationale, confidence, grader, model,
prompt_version, error, flags``; scoring (``auditor.scoring``) fills points and failure.
A grader never raises for one chat's trouble: it returns ``status="unscored"`` grades
with ``error`` set. It raises ``GraderError`` only when it cannot run at all.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..models import Chat, Grade
from ..rubric import Rubric


@runtime_checkable
class Grader(Protocol):
    name: str  # "offline", "openai", "mock"
    model: str | None

    def settings_key(self) -> str:
        """A stable string of every setting that changes grades (model, prompt version, k...).

        A stored result is reused only when this key (plus transcript and rubric) matches.
        """
        ...

    async def grade(self, chat: Chat, rubric: Rubric) -> list[Grade]: ...

    async def aclose(self) -> None: ...


class CallLog(Protocol):
    """Where a model-calling grader records each call and finds cached replies (the store)."""

    def record_call(self, row: dict[str, Any]) -> None: ...

    def cached_response(self, request_hash: str) -> dict[str, Any] | None: ...
