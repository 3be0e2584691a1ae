"""Users of the review desk: who they are, their role, and their login token.

A token is ``secrets.token_urlsafe(32)``, shown once when the user is added; only its
SHA-256 is stored, so a copy of the database gives nobody a login. Roles: a ``reviewer``
works the queue; a ``lead`` also resolves disputes and runs calibration sessions; an
``agent`` sees only their own chats, scores, reviews and disputes (``agent_id`` says
which agent they are, as written in the chats).
"""

from __future__ import annotations

import hashlib
import secrets

from ..errors import UsageError
from ..store import Store
from ..store_desk import ROLES, DeskTables, User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(store: Store, name: str, role: str, agent_id: str | None = None) -> tuple[User, str]:
    """Add a user; the user and their login token (not stored: show it once)."""
    name = name.strip()
    if not name:
        raise UsageError("a user needs a name")
    if role not in ROLES:
        raise UsageError(f"role is one of {', '.join(ROLES)}, not {role!r}")
    if role == "agent" and not (agent_id or "").strip():
        raise UsageError("an agent needs --agent-id (the agent id written in the chats)")
    if role != "agent" and agent_id:
        raise UsageError("--agent-id is for agents only")
    token = secrets.token_urlsafe(32)
    user = DeskTables(store).add_user(
        name, role, (agent_id or "").strip() or None, hash_token(token)
    )
    return user, token


def disable_user(store: Store, name: str) -> User:
    """Disable a user: their token stops working at once and their claims are released."""
    tables = DeskTables(store)
    user = tables.user_by_name(name)
    if user is None:
        raise UsageError(f"no user named {name!r}: see `auditor users list`")
    tables.disable_user(user.id)
    out = tables.user(user.id)
    assert out is not None
    return out


def authenticate(store: Store, token: str | None) -> User | None:
    """The active user holding this token, else None."""
    if not token:
        return None
    user = DeskTables(store).user_by_token_hash(hash_token(token.strip()))
    return user if user is not None and user.active else None
