"""One documented error tree. Every message says what to do next.

The CLI turns any ``AuditorError`` into ``Error: <message>`` and its ``exit_code``.
"""

from __future__ import annotations


class AuditorError(Exception):
    """Base of every error the auditor raises on purpose."""

    exit_code = 1


class UsageError(AuditorError):
    """The command was called wrongly (bad option value, missing file)."""

    exit_code = 2


class InputError(AuditorError):
    """No input could be read at all (per-chat problems are Rejects, not errors)."""

    exit_code = 3


class RubricError(AuditorError):
    """A rubric file is invalid; the message names the file and the key."""

    exit_code = 4


class PromptError(AuditorError):
    """A prompt template is missing or invalid."""

    exit_code = 4


class StoreError(AuditorError):
    """The SQLite store cannot be opened or is from a newer auditor."""

    exit_code = 5


class GraderError(AuditorError):
    """A grader cannot run at all (e.g. no API key). Per-chat failures are 'unscored' grades."""

    exit_code = 6


class ConfigurationError(GraderError):
    """Missing configuration such as OPENAI_API_KEY."""


class BudgetExceeded(AuditorError):
    """The run budget (--max-cost / --max-tokens) is spent; the run stops cleanly and resumes later."""

    exit_code = 7


class ReviewImportError(AuditorError):
    """A reviewer file failed validation; nothing was imported. ``errors`` lists 'line N: reason'."""

    exit_code = 8

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


class EvalGateFailed(AuditorError):
    """``auditor eval --fail-under`` found a metric under its floor."""

    exit_code = 9
