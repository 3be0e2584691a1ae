"""The words a CSV or Excel role column uses for who wrote a message, in Chinese and English.

Chat consoles export the sender as a word of their own (``客户``, ``坐席``, ``买家``, ``机器人``,
``Visitor``…). These are recognised out of the box; a team maps its own words with
``--role-value 小二=agent`` (``IngestOptions.role_values``), which wins over the defaults.
Matching is exact after trimming, then case-insensitive. A word not recognised is left as
written, so the chat is rejected naming it (``unknown role '小二'``) rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import UsageError
from ..models import ROLES

#: role word -> role; keys are casefolded
DEFAULT_ROLE_VALUES: dict[str, str] = {
    # customers
    "客户": "customer",
    "买家": "customer",
    "用户": "customer",
    "顾客": "customer",
    "访客": "customer",
    "会员": "customer",
    "user": "customer",
    "buyer": "customer",
    "visitor": "customer",
    "client": "customer",
    "end-user": "customer",
    "contact": "customer",
    "lead": "customer",
    # agents
    "客服": "agent",
    "坐席": "agent",
    "商家": "agent",
    "卖家": "agent",
    "人工客服": "agent",
    "人工": "agent",
    "售后": "agent",
    "staff": "agent",
    "seller": "agent",
    "operator": "agent",
    "admin": "agent",
    "rep": "agent",
    # bots
    "机器人": "bot",
    "智能客服": "bot",
    "机器人客服": "bot",
    "robot": "bot",
    "chatbot": "bot",
    # system
    "系统": "system",
    "系统消息": "system",
    "sys": "system",
}


def check_role_values(mapping: Mapping[str, str]) -> None:
    """A usage error for a mapping to something that is not a role."""
    for word, role in mapping.items():
        if role not in ROLES:
            raise UsageError(
                f"--role-value {word}={role}: {role!r} is not a role; "
                f"expected one of {', '.join(ROLES)}"
            )
        if not word.strip():
            raise UsageError(f"--role-value ={role}: the word is empty")


def parse_role_values(items: Iterable[str]) -> dict[str, str]:
    """CLI values like ``小二=agent`` -> ``{"小二": "agent"}`` (checked)."""
    mapping: dict[str, str] = {}
    for item in items:
        word, sep, role = item.partition("=")
        word, role = word.strip(), role.strip().lower()
        if not sep or not word or not role:
            raise UsageError(f"bad role value {item!r}; expected WORD=ROLE, e.g. 小二=agent")
        mapping[word] = role
    check_role_values(mapping)
    return mapping


def role_of(word: str, custom: Mapping[str, str]) -> str:
    """The role a role-column cell names; the cell itself when it names none we know."""
    value = word.strip()
    if not value:
        return value
    if value in custom:
        return custom[value]
    folded = value.casefold()
    for key, role in custom.items():
        if key.strip().casefold() == folded:
            return role
    if folded in ROLES:
        return folded
    return DEFAULT_ROLE_VALUES.get(folded, value)
