"""The desk's errors, part of the one error tree (``auditor.errors``).

Each carries the HTTP status the web layer answers with; the message says what to do.
"""

from __future__ import annotations

from ..errors import AuditorError, UsageError


class DeskError(UsageError):
    """Bad input to a desk action (unknown level, oversize comment): 422."""

    status = 422


class NotFound(DeskError):
    """No such chat, dispute or session: 404."""

    status = 404


class Conflict(DeskError):
    """The action clashes with the current state (claimed by another, resolved already): 409."""

    status = 409


class AccessDenied(AuditorError):
    """The user's role (or agent) may not do or see this: 403. The data is never sent."""

    exit_code = 2
    status = 403
