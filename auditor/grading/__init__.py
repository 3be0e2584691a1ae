"""Graders of the rubric's ``llm`` criteria: the offline rule grader (default) and the
OpenAI-compatible model grader. ``make_grader`` is the one place the CLI builds them."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .base import CallLog, Grader

GRADERS = ("offline", "openai")


def make_grader(name: str, *, call_log: CallLog | None = None, **options: Any) -> Grader:
    """Build a grader by name. ``options`` are the grader's own keyword arguments.

    - ``offline``: no options (transparent zh/en cue rules, no network).
    - ``openai``: model, base_url, samples, concurrency, temperature, timeout, max_cost,
      max_tokens… (see ``OpenAIGrader``); ``call_log`` records every call (the store).
    """
    if name == "offline":
        from .offline import OfflineGrader

        return OfflineGrader()
    if name == "openai":
        from .openai_grader import OpenAIGrader

        return OpenAIGrader(call_log=call_log, **options)
    raise UsageError(f"unknown grader {name!r}: choose one of {', '.join(GRADERS)}")


__all__ = ["CallLog", "GRADERS", "Grader", "make_grader"]
