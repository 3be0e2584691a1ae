"""Who may see and do what. One place, so every page and API route asks the same questions."""

from __future__ import annotations

from ..store_desk import User
from .errors import AccessDenied


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise AccessDenied(
            f"{user.role} {user.name!r} may not do this (needs {' or '.join(roles)})"
        )


def require_agent_access(user: User, agent_id: str | None) -> None:
    """Reviewers and leads see every agent's data; an agent only their own."""
    if user.sees_everything:
        return
    if user.role == "agent" and user.agent_id is not None and agent_id == user.agent_id:
        return
    raise AccessDenied(f"{user.name!r} may only see their own chats")
