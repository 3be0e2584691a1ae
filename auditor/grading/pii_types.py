"""The span type every personal-data detector returns (``auditor.grading.pii``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
