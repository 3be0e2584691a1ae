"""Reading the queue: items in priority order with filters and paging, one item, and the
settings a reviewer's commands share (who is reviewing, which day).

"Done" is derived from the ``reviews`` table on every read, never stored, so it cannot
drift from the reviews (auditor/store.py reads the rows; this decides what they mean).
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..reasons import PRIORITY

if TYPE_CHECKING:
    from ..store import Store

# ---------------------------------------------------------------------------- settings, dates


def reviewer_name(explicit: str | None = None) -> str:
    """Who is reviewing: --reviewer, then $AUDITOR_REVIEWER, then the OS user."""
    name = (explicit or os.environ.get("AUDITOR_REVIEWER") or "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError) as e:
        raise UsageError(
            "cannot tell who is reviewing: pass --reviewer or set AUDITOR_REVIEWER"
        ) from e


_RELATIVE = re.compile(r"^(\d+)d$")


def resolve_day(text: str | None, today: date | None = None) -> str | None:
    """``YYYY-MM-DD`` as given, or ``Nd`` = N days before today (UTC); None passes through."""
    if text is None or text == "":
        return None
    m = _RELATIVE.match(text.strip())
    if m:
        today = today or datetime.now(UTC).date()
        return (today - timedelta(days=int(m.group(1)))).isoformat()
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError as e:
        raise UsageError(f"expected a date YYYY-MM-DD or a span like 7d, got {text!r}") from e


# ---------------------------------------------------------------------------- queue reads


@dataclass
class QueueItem:
    """One queued chat as a reviewer sees it in ``review list``."""

    chat_id: str
    rubric_name: str
    rubric: str
    agent_id: str | None
    day: str | None
    reasons: list[str]
    targets: dict[str, list[str]]
    reviewed: list[str]  # targets that have at least one review
    queued_at: str

    @property
    def done(self) -> bool:
        return all(c in self.reviewed for c in self.targets)

    @property
    def status(self) -> str:
        return "done" if self.done else "open"


@dataclass(frozen=True)
class QueueFilter:
    reason: str | None = None
    agent_id: str | None = None
    criterion: str | None = None
    since: str | None = None  # chat day, inclusive
    until: str | None = None
    status: str = "open"  # open | done | all
    rubric_name: str | None = None


def list_queue(
    store: Store, filters: QueueFilter | None = None, limit: int | None = None, offset: int = 0
) -> tuple[list[QueueItem], int]:
    """Queue items, most urgent first, and how many match in all (so a limit hides nothing);
    ``offset``: skip that many (the queue is paged by limit and offset in a stable order)."""
    if offset < 0:
        raise UsageError(f"offset must be 0 or more, not {offset}")
    filters = filters or QueueFilter()
    if filters.reason is not None and filters.reason not in PRIORITY:
        raise UsageError(f"unknown reason {filters.reason!r} (known: {', '.join(PRIORITY)})")
    if filters.status not in ("open", "done", "all"):
        raise UsageError(f"--status is open, done or all, not {filters.status!r}")
    rows, total = store.queue_rows(filters, limit, offset)
    return [_item(r) for r in rows], total


def queue_item(store: Store, chat_id: str, rubric_name: str | None = None) -> QueueItem | None:
    row = store.queue_row(chat_id, rubric_name)
    return _item(row) if row else None


def queue_item_of(row: dict[str, Any]) -> QueueItem:
    """The item of a ``store.queue_row`` / ``store.queue_rows`` row."""
    return _item(row)


def _item(row: dict[str, Any]) -> QueueItem:
    import orjson

    return QueueItem(
        chat_id=row["chat_id"],
        rubric_name=row["rubric_name"],
        rubric=row["rubric"],
        agent_id=row["agent_id"],
        day=row["day"],
        reasons=orjson.loads(row["reasons"]),
        targets=orjson.loads(row["targets"]),
        reviewed=orjson.loads(row["reviewed"]) if row.get("reviewed") else [],
        queued_at=row["queued_at"],
    )
