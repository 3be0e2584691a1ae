"""Typo detection for agent messages (issue #3). Interface used by ``auditor.checks``.

This module's implementation is being written; the types below are the contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..models import Chat
from ..rubric import TypoSettings


@dataclass(frozen=True)
class Typo:
    message_id: str
    start: int  # character offsets into the message text
    end: int
    text: str  # the suspect text, == message.text[start:end]
    suggestion: str | None
    tier: Literal["typo", "possible"]
    reason: str = ""


@dataclass
class TypoReport:
    typos: list[Typo] = field(default_factory=list)  # counted against the rubric limit
    possible: list[Typo] = field(default_factory=list)  # shown to reviewers, not counted

    @property
    def count(self) -> int:
        return len(self.typos)


class TypoChecker:
    """Built once per rubric (dictionaries loaded once), then ``check(chat)`` per chat."""

    def __init__(self, settings: TypoSettings, extra_dictionaries: Sequence[Path] = ()):
        self.settings = settings
        self.extra_dictionaries = list(extra_dictionaries)

    def check(self, chat: Chat) -> TypoReport:
        return TypoReport()
