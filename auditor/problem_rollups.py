"""Common-problem rollups kept at audit time (m017_report_rollups), so `auditor report`
groups failures by pattern without reading every failure of a period.

A *cell* is one (criterion, pattern, day, agent, rubric): ``problem_rollups`` counts the
chats in each cell, and ``problem_examples`` keeps each cell's ``KEEP`` lowest-scoring chats
(score, then chat id: the order the report picks examples in). Because the lowest three of
any union of cells are among the union of each cell's lowest three, a report over any
period and agent reads exact counts and exact examples from these rows. A failure with no
pattern (timing checks, or a quote that normalises to nothing) is counted under the pattern
``''``; ``plain`` marks a chat that also has such a failure in the criterion, which the
report needs to count its "other phrasings" group without counting a chat twice.
``problem_shared_chats`` lists the (rare) chats stored under more than one rubric: the
report counts a chat once per pattern, so it takes their extra results back out.

The store calls :func:`before_save` with the chats a batch is about to replace (before it
deletes their rows) and :func:`after_save` once the batch's rows are written, in the same
transaction: counts move by deltas; a chat leaving a cell's examples is replaced by the
cell's next chat, read back from ``results`` and ``failure_patterns`` (one agent's day).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from .store_rows import RESULT_ROW_COLUMNS, ChatRows

#: Examples kept per cell: the report shows the three lowest-scoring chats of a pattern.
KEEP = 3

_DAY = RESULT_ROW_COLUMNS.index("day")
_AGENT = RESULT_ROW_COLUMNS.index("agent_id")
_SCORE = RESULT_ROW_COLUMNS.index("score")

#: (criterion, pattern, day, agent_id, rubric_name); pattern '' = no pattern, agent '' = none
Cell = tuple[str, str, str, str, str]
#: A chat in a cell: (cell, chat_id) -> (score, plain)
Key = tuple[Cell, str]
Entry = tuple[Any, int]

#: Keyed by criterion and day first: a report reads the days of its period for a few criteria.
CREATE_SQL = (
    "CREATE TABLE problem_rollups (criterion TEXT NOT NULL, pattern TEXT NOT NULL, "
    "day TEXT NOT NULL, agent_id TEXT NOT NULL, rubric_name TEXT NOT NULL, "
    "chats INTEGER NOT NULL, "
    "PRIMARY KEY (criterion, day, agent_id, pattern, rubric_name)) WITHOUT ROWID",
    "CREATE TABLE problem_examples (criterion TEXT NOT NULL, pattern TEXT NOT NULL, "
    "day TEXT NOT NULL, agent_id TEXT NOT NULL, rubric_name TEXT NOT NULL, score REAL, "
    "chat_id TEXT NOT NULL, plain INTEGER NOT NULL, "
    "PRIMARY KEY (criterion, day, agent_id, pattern, rubric_name, chat_id)) WITHOUT ROWID",
    "CREATE TABLE problem_shared_chats (chat_id TEXT PRIMARY KEY) WITHOUT ROWID",
)


def sort_key(score: Any, chat_id: str) -> tuple[bool, float, str]:
    """SQLite's ``ORDER BY score, chat_id``: a NULL score first."""
    return (score is not None, score or 0.0, chat_id)


def chat_cells(
    chat_id: str,
    rubric_name: str,
    day: str | None,
    agent_id: str | None,
    score: Any,
    patterns: Iterable[tuple[str, str | None]],
) -> dict[Key, Entry]:
    """The cells one stored result is in, from its (criterion, pattern) rows."""
    if day is None:
        return {}  # a chat without timestamps has no day to count in (as m011's rollups)
    keys: dict[str, set[str]] = defaultdict(set)
    for criterion, pattern in patterns:
        keys[criterion].add(pattern or "")
    agent = agent_id or ""
    return {
        ((criterion, p, day, agent, rubric_name), chat_id): (score, int("" in ps))
        for criterion, ps in keys.items()
        for p in ps
    }


def new_cells(audited: Sequence[ChatRows]) -> dict[Key, Entry]:
    """The cells of a batch's new results."""
    out: dict[Key, Entry] = {}
    for a in audited:
        r = a.result
        pats = [(p[2], p[4]) for p in a.patterns]
        out.update(chat_cells(a.chat_id, a.rubric_name, r[_DAY], r[_AGENT], r[_SCORE], pats))
    return out


def before_save(conn: sqlite3.Connection, keys: Iterable[tuple[str, str]]) -> dict[Key, Entry]:
    """The cells of the stored results about to be replaced or removed (call before their
    rows are deleted)."""
    out: dict[Key, Entry] = {}
    for chat_id, rubric_name in keys:
        rows = conn.execute(
            "SELECT r.day, r.agent_id, r.score, p.criterion, p.pattern FROM results r "
            "JOIN failure_patterns p ON p.chat_id = r.chat_id AND p.rubric_name = r.rubric_name "
            "WHERE r.chat_id = ? AND r.rubric_name = ?",
            (chat_id, rubric_name),
        ).fetchall()
        if rows:
            day, agent, score = rows[0][:3]
            pats = [(r[3], r[4]) for r in rows]
            out.update(chat_cells(chat_id, rubric_name, day, agent, score, pats))
    return out


def after_save(conn: sqlite3.Connection, new: dict[Key, Entry], old: dict[Key, Entry]) -> None:
    """Move the rollups from ``old`` (what the replaced results contributed) to ``new``
    (the batch's results); call inside the batch's transaction, after its rows are written."""
    _shared(conn, {chat for _, chat in new}, {chat for _, chat in old})
    # A chat re-audited into the same cells with the same score changes nothing.
    same = {k for k, v in old.items() if new.get(k) == v}
    old = {k: v for k, v in old.items() if k not in same}
    new = {k: v for k, v in new.items() if k not in same}
    if not new and not old:
        return
    delta: dict[Cell, int] = defaultdict(int)
    for cell, _ in old:
        delta[cell] -= 1
    for cell, _ in new:
        delta[cell] += 1
    conn.executemany(
        "INSERT INTO problem_rollups VALUES (?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
        "chats = chats + excluded.chats",
        [(*cell, n) for cell, n in delta.items() if n],
    )
    conn.executemany(
        "DELETE FROM problem_rollups WHERE criterion = ? AND pattern = ? AND day = ? "
        "AND agent_id = ? AND rubric_name = ? AND chats <= 0",
        [cell for cell, n in delta.items() if n < 0],
    )
    # Examples: a chat leaving a cell's kept examples is replaced from the stored rows.
    refill: set[Cell] = set()
    for cell, chat_id in old:
        cur = conn.execute(
            "DELETE FROM problem_examples WHERE criterion = ? AND pattern = ? AND day = ? "
            "AND agent_id = ? AND rubric_name = ? AND chat_id = ?",
            (*cell, chat_id),
        )
        if cur.rowcount:
            refill.add(cell)
    # New chats merged into their cells' examples (one read of each cell's kept rows).
    by_cell: dict[Cell, list[tuple[Any, str, int]]] = defaultdict(list)
    for (cell, chat_id), (score, plain) in new.items():
        if cell not in refill:
            by_cell[cell].append((score, chat_id, plain))
    evicted: list[tuple[Any, ...]] = []
    added: list[tuple[Any, ...]] = []
    kept = _kept(conn, list(by_cell))
    for cell, entries in by_cell.items():
        _merge(cell, kept.get(cell, []), entries, evicted, added)
    conn.executemany(
        "DELETE FROM problem_examples WHERE criterion = ? AND pattern = ? AND day = ? "
        "AND agent_id = ? AND rubric_name = ? AND chat_id = ?",
        evicted,
    )
    conn.executemany("INSERT OR REPLACE INTO problem_examples VALUES (?,?,?,?,?,?,?,?)", added)
    for cell in refill:
        _refill(conn, cell)


def _shared(conn: sqlite3.Connection, added: set[str], removed: set[str]) -> None:
    """Keep ``problem_shared_chats``: chats with results under more than one rubric."""
    for chats, keep in ((sorted(added), True), (sorted(removed - added), False)):
        for i in range(0, len(chats), 500):
            part = chats[i : i + 500]
            many = {
                c
                for (c,) in conn.execute(
                    f"SELECT chat_id FROM results WHERE chat_id IN ({', '.join('?' * len(part))}) "
                    "GROUP BY chat_id HAVING COUNT(*) > 1",
                    part,
                )
            }
            if keep:
                conn.executemany(
                    "INSERT OR IGNORE INTO problem_shared_chats VALUES (?)", [(c,) for c in many]
                )
            else:
                conn.executemany(
                    "DELETE FROM problem_shared_chats WHERE chat_id = ?",
                    [(c,) for c in part if c not in many],
                )


#: The kept examples of a batch's cells, 200 cells a statement (driven from the cells, so
#: each is one search of the primary key; a row-value ``IN`` would scan the table).
_KEPT_SQL = (
    "WITH c(criterion, pattern, day, agent_id, rubric_name) AS (VALUES {cells}) "
    "SELECT e.criterion, e.pattern, e.day, e.agent_id, e.rubric_name, e.score, e.chat_id, "
    "e.plain FROM c CROSS JOIN problem_examples e ON e.criterion = c.criterion "
    "AND e.day = c.day AND e.agent_id = c.agent_id AND e.pattern = c.pattern "
    "AND e.rubric_name = c.rubric_name"
)


def _kept(conn: sqlite3.Connection, cells: list[Cell]) -> dict[Cell, list[tuple[Any, str, int]]]:
    """Each cell's kept examples (score, chat_id, plain); one read for many cells."""
    out: dict[Cell, list[tuple[Any, str, int]]] = defaultdict(list)
    for i in range(0, len(cells), 200):
        part = cells[i : i + 200]
        sql = _KEPT_SQL.format(cells=", ".join(["(?,?,?,?,?)"] * len(part)))
        for row in conn.execute(sql, [v for cell in part for v in cell]):
            out[row[:5]].append(row[5:])
    return out


def _merge(
    cell: Cell,
    had: list[tuple[Any, str, int]],
    entries: list[tuple[Any, str, int]],
    evicted: list[tuple[Any, ...]],
    added: list[tuple[Any, ...]],
) -> None:
    """Add new chats to a cell's examples (``had``: the kept ones), keeping the ``KEEP``
    lowest: the rows to delete and to insert are appended to ``evicted`` and ``added``."""
    merged = sorted([*had, *entries], key=lambda e: sort_key(e[0], e[1]))[:KEEP]
    keep_ids = {e[1] for e in merged}
    had_ids = {e[1] for e in had}
    evicted += [(*cell, e[1]) for e in had if e[1] not in keep_ids]
    added += [(*cell, *e) for e in merged if e[1] not in had_ids]


def _refill(conn: sqlite3.Connection, cell: Cell) -> None:
    """Recompute a cell's examples from the stored results of its agent's day."""
    criterion, pattern, day, agent, rubric_name = cell
    who = "(r.agent_id IS NULL OR r.agent_id = '')" if agent == "" else "r.agent_id = ?"
    rows = conn.execute(
        "SELECT r.score, r.chat_id, EXISTS (SELECT 1 FROM failure_patterns x "
        "WHERE x.chat_id = r.chat_id AND x.rubric_name = r.rubric_name AND x.criterion = ? "
        "AND COALESCE(x.pattern, '') = '') FROM results r "
        f"WHERE r.day = ? AND {who} AND r.rubric_name = ? AND EXISTS (SELECT 1 "
        "FROM failure_patterns p WHERE p.chat_id = r.chat_id AND p.rubric_name = r.rubric_name "
        "AND p.criterion = ? AND COALESCE(p.pattern, '') = ?) "
        "ORDER BY r.score, r.chat_id LIMIT ?",
        [criterion, day, *([agent] if agent else []), rubric_name, criterion, pattern, KEEP],
    ).fetchall()
    conn.execute(
        "DELETE FROM problem_examples WHERE criterion = ? AND pattern = ? AND day = ? "
        "AND agent_id = ? AND rubric_name = ?",
        cell,
    )
    conn.executemany(
        "INSERT INTO problem_examples VALUES (?,?,?,?,?,?,?,?)", [(*cell, *r) for r in rows]
    )


def backfill(conn: sqlite3.Connection) -> None:
    """Fill the (empty) tables from the stored results and their failure patterns."""
    cells = (
        "SELECT p.criterion AS criterion, COALESCE(p.pattern, '') AS pattern, r.day AS day, "
        "COALESCE(r.agent_id, '') AS agent_id, r.rubric_name AS rubric_name, "
        "r.chat_id AS chat_id, r.score AS score, "
        "MAX(COALESCE(p.pattern, '') = '') OVER (PARTITION BY r.chat_id, r.rubric_name, "
        "p.criterion) AS plain "
        "FROM results r JOIN failure_patterns p ON p.chat_id = r.chat_id "
        "AND p.rubric_name = r.rubric_name WHERE r.day IS NOT NULL"
    )
    distinct = (
        f"SELECT DISTINCT criterion, pattern, day, agent_id, rubric_name, chat_id, score, plain "
        f"FROM ({cells})"
    )
    conn.execute(
        "INSERT INTO problem_rollups SELECT criterion, pattern, day, agent_id, rubric_name, "
        f"COUNT(*) FROM ({distinct}) GROUP BY criterion, pattern, day, agent_id, rubric_name"
    )
    conn.execute(
        "INSERT INTO problem_examples SELECT criterion, pattern, day, agent_id, rubric_name, "
        "score, chat_id, plain FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY criterion, "
        f"pattern, day, agent_id, rubric_name ORDER BY score, chat_id) AS rn FROM ({distinct})) "
        f"WHERE rn <= {KEEP}"
    )
    conn.execute(
        "INSERT INTO problem_shared_chats SELECT chat_id FROM results GROUP BY chat_id "
        "HAVING COUNT(*) > 1"
    )
