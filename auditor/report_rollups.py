"""The report's rollups that the store keeps as it saves (m017_report_rollups): one entry
point for ``Store.save_rows`` and ``Store.drop_result``.

* :mod:`.problem_rollups`: common problems (chats and examples per pattern);
* :mod:`.extreme_rollups`: each agent's best and worst chats per day.

(The per-day volumes and failing criteria of m011 are :mod:`.rollups`.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from . import extreme_rollups, problem_rollups
from .store_rows import ChatRows

#: What the results a batch replaces contributed, read before their rows are deleted.
Before = tuple[dict[Any, Any], dict[Any, Any]]


def before_save(
    conn: sqlite3.Connection,
    keys: Sequence[tuple[str, str]],
    stored: Sequence[tuple[str, str]] | None = None,
) -> Before:
    """Read what the stored results under ``keys`` (chat_id, rubric_name) contribute; call
    before the batch deletes or replaces them. ``stored``: those of ``keys`` with a stored
    result, when the caller has read them already (``stored_keys``)."""
    if stored is None:
        stored = stored_keys(conn, keys)  # most of a batch is new: nothing to read for those
    return problem_rollups.before_save(conn, stored), extreme_rollups.before_save(conn, stored)


def stored_keys(conn: sqlite3.Connection, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Those of ``keys`` that have a stored result, read 500 at a time."""
    wanted = set(keys)
    chats = sorted({chat_id for chat_id, _ in keys})
    found: list[tuple[str, str]] = []
    for i in range(0, len(chats), 500):
        part = chats[i : i + 500]
        found += [
            (c, r)
            for c, r in conn.execute(
                f"SELECT chat_id, rubric_name FROM results WHERE chat_id IN "
                f"({', '.join('?' * len(part))})",
                part,
            )
            if (c, r) in wanted
        ]
    return found


def after_save(conn: sqlite3.Connection, audited: Sequence[ChatRows], before: Before) -> None:
    """Update the rollups for the batch's new rows (``audited``; empty when results are only
    removed); call inside the batch's transaction, once its rows are written."""
    problem_rollups.after_save(conn, problem_rollups.new_cells(audited), before[0])
    extreme_rollups.after_save(conn, extreme_rollups.new_entries(audited), before[1])


def create_and_backfill(conn: sqlite3.Connection) -> None:
    """The tables of m017, filled from the stored rows."""
    for sql in (*problem_rollups.CREATE_SQL, *extreme_rollups.CREATE_SQL):
        conn.execute(sql)
    problem_rollups.backfill(conn)
    extreme_rollups.backfill(conn)
