"""Each agent's best and worst chats per day, kept at audit time (m017_report_rollups), so an
agent's archive finds its three best and three worst chats of a period without ranking every
chat of the period.

``agent_day_extremes`` keeps, per chat day and agent, the ``KEEP`` best results (score high
to low, then the earlier start, then chat id) and the ``KEEP`` worst (score low to high,
same ties): the order the report ranks them in. The best three of any union of days are
among the union of each day's best three, so a report over any period is exact. Kept like
the other rollups: new results are merged in, and a day that loses one of its kept results
(a re-audit, a dropped repeat) is recomputed from ``results`` (one agent's day, read from
the covering index ``idx_results_report``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from .store_rows import RESULT_ROW_COLUMNS, ChatRows

#: Results kept per day, agent and side: the report shows each agent's best and worst three.
KEEP = 3

_DAY = RESULT_ROW_COLUMNS.index("day")
_AGENT = RESULT_ROW_COLUMNS.index("agent_id")
_SCORE = RESULT_ROW_COLUMNS.index("score")
_STARTED = RESULT_ROW_COLUMNS.index("started_at")

CREATE_SQL = (
    "CREATE TABLE agent_day_extremes (day TEXT NOT NULL, agent_id TEXT, side TEXT NOT NULL, "
    "score REAL, started_at TEXT, chat_id TEXT NOT NULL, rubric_name TEXT NOT NULL)",
    "CREATE INDEX idx_agent_day_extremes ON agent_day_extremes(day, agent_id)",
)

#: (day, agent_id); the agent may be None (a chat without an agent is a group of its own)
Cell = tuple[str, str | None]
#: A result: (score, started_at, chat_id, rubric_name)
Entry = tuple[Any, Any, str, str]


def best_key(e: Entry) -> tuple[Any, ...]:
    """SQLite's ``ORDER BY score DESC, started_at, chat_id`` (NULL scores last, NULL
    starts first)."""
    score, started, chat_id, _ = e
    return (score is None, -(score or 0.0), started is not None, started or "", chat_id)


def worst_key(e: Entry) -> tuple[Any, ...]:
    """SQLite's ``ORDER BY score, started_at, chat_id`` (NULL scores and starts first)."""
    score, started, chat_id, _ = e
    return (score is not None, score or 0.0, started is not None, started or "", chat_id)


def new_entries(audited: Sequence[ChatRows]) -> dict[tuple[Cell, str, str], Entry]:
    """The batch's new results by (cell, chat_id, rubric_name)."""
    out: dict[tuple[Cell, str, str], Entry] = {}
    for a in audited:
        r = a.result
        if r[_DAY] is not None:
            entry = (r[_SCORE], r[_STARTED], a.chat_id, a.rubric_name)
            out[((r[_DAY], r[_AGENT]), a.chat_id, a.rubric_name)] = entry
    return out


def before_save(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[Cell, str, str], Entry]:
    """The stored results about to be replaced or removed (call before they are)."""
    out: dict[tuple[Cell, str, str], Entry] = {}
    for chat_id, rubric_name in keys:
        row = conn.execute(
            "SELECT day, agent_id, score, started_at FROM results WHERE chat_id = ? "
            "AND rubric_name = ?",
            (chat_id, rubric_name),
        ).fetchone()
        if row is not None and row[0] is not None:
            out[((row[0], row[1]), chat_id, rubric_name)] = (row[2], row[3], chat_id, rubric_name)
    return out


def after_save(
    conn: sqlite3.Connection,
    new: dict[tuple[Cell, str, str], Entry],
    old: dict[tuple[Cell, str, str], Entry],
) -> None:
    """Move the kept results from ``old`` to ``new``; inside the batch's transaction, after
    its rows are written."""
    same = {k for k, v in old.items() if new.get(k) == v}
    refill: set[Cell] = set()
    for (cell, chat_id, rubric_name), _ in old.items():
        if (cell, chat_id, rubric_name) in same:
            continue
        cur = conn.execute(
            "DELETE FROM agent_day_extremes WHERE day = ? AND agent_id IS ? AND chat_id = ? "
            "AND rubric_name = ?",
            (*cell, chat_id, rubric_name),
        )
        if cur.rowcount:
            refill.add(cell)
    by_cell: dict[Cell, list[Entry]] = defaultdict(list)
    for key, entry in new.items():
        if key not in same and key[0] not in refill:
            by_cell[key[0]].append(entry)
    for cell, entries in by_cell.items():
        _merge(conn, cell, entries)
    for cell in refill:
        _refill(conn, cell)


def _write(conn: sqlite3.Connection, cell: Cell, best: list[Entry], worst: list[Entry]) -> None:
    conn.execute("DELETE FROM agent_day_extremes WHERE day = ? AND agent_id IS ?", cell)
    conn.executemany(
        "INSERT INTO agent_day_extremes VALUES (?,?,?,?,?,?,?)",
        [(*cell, "best", *e) for e in best] + [(*cell, "worst", *e) for e in worst],
    )


def _merge(conn: sqlite3.Connection, cell: Cell, entries: list[Entry]) -> None:
    kept = conn.execute(
        "SELECT side, score, started_at, chat_id, rubric_name FROM agent_day_extremes "
        "WHERE day = ? AND agent_id IS ?",
        cell,
    ).fetchall()
    best: list[Entry] = [(r[1], r[2], r[3], r[4]) for r in kept if r[0] == "best"]
    worst: list[Entry] = [(r[1], r[2], r[3], r[4]) for r in kept if r[0] == "worst"]
    new_best = sorted({*best, *entries}, key=best_key)[:KEEP]
    new_worst = sorted({*worst, *entries}, key=worst_key)[:KEEP]
    if new_best != sorted(best, key=best_key) or new_worst != sorted(worst, key=worst_key):
        _write(conn, cell, new_best, new_worst)


def _refill(conn: sqlite3.Connection, cell: Cell) -> None:
    """Recompute a day's kept results from ``results``."""
    sides: list[list[Entry]] = []
    for order in ("score DESC, started_at, chat_id", "score, started_at, chat_id"):
        rows = conn.execute(
            "SELECT score, started_at, chat_id, rubric_name FROM results "
            f"WHERE day = ? AND agent_id IS ? ORDER BY {order} LIMIT {KEEP}",
            cell,
        ).fetchall()
        sides.append([(r[0], r[1], r[2], r[3]) for r in rows])
    _write(conn, cell, sides[0], sides[1])


def backfill(conn: sqlite3.Connection) -> None:
    """Fill the (empty) table from the stored results."""
    for side, order in (
        ("best", "score DESC, started_at, chat_id"),
        ("worst", "score, started_at, chat_id"),
    ):
        conn.execute(
            f"INSERT INTO agent_day_extremes SELECT day, agent_id, '{side}', score, "
            "started_at, chat_id, rubric_name FROM (SELECT *, ROW_NUMBER() OVER "
            f"(PARTITION BY day, agent_id ORDER BY {order}) AS rn FROM results "
            f"WHERE day IS NOT NULL) WHERE rn <= {KEEP}"
        )
