"""Common problems (共性问题) from the rollups kept at audit time (auditor/problem_rollups.py).

For the criteria failing most, each criterion's failures grouped by pattern with example
chats, read from ``problem_rollups`` (chats per cell) and ``problem_examples`` (each cell's
three lowest-scoring chats) for the days (and agent) of the report, never from the failures
themselves. The rules are the report's (docs/reports.md):

* a pattern seen in two chats or more is *named*; a pattern seen in one chat, and a failure
  with no pattern, go to the criterion's unnamed group ("other phrasings"), where a chat
  counts once however many such failures it has;
* each group's examples are its lowest-scoring chats (ties: chat id), each with the
  smallest quote among its failures in the group.

Only the quotes of the few example chats are read from ``failure_patterns``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..store import Store
from .queries import Row, Scope, rollup_where

#: (criterion, pattern or None for the unnamed group)
Group = tuple[str, str | None]


def problem_groups(
    store: Store, scope: Scope, *, examples: int, criteria: Sequence[str] = ()
) -> list[Row]:
    """Failures of ``criteria`` grouped by pattern, each group's lowest-scoring ``examples``
    chats as rows: criterion, pattern (None: the unnamed group), chats (the group's size),
    chat_id, agent_id, day, score, quote, rn (1 = lowest score). No ``criteria``: all."""
    conn = store.db.conn
    where, params = rollup_where(scope, "x")
    if criteria:
        where = f"x.criterion IN ({', '.join('?' for _ in criteria)}) AND {where}"
        params = [*criteria, *params]
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for criterion, pattern, chats in conn.execute(
        f"SELECT x.criterion, x.pattern, SUM(x.chats) FROM problem_rollups x "
        f"WHERE {where} GROUP BY x.criterion, x.pattern",
        params,
    ):
        counts[criterion][pattern] = chats
    plain_shared = _count_shared_once(store, scope, criteria, counts)

    named = {
        criterion: {p for p, n in by_pattern.items() if p and n >= 2}
        for criterion, by_pattern in counts.items()
    }
    # Each group's first ``examples`` distinct chats, walking every cell's kept examples in
    # the report's order (SQLite sorts: score, then chat id, a NULL score first).
    picked: dict[Group, dict[str, tuple[Any, str, str]]] = defaultdict(dict)
    one_off: dict[str, set[str]] = defaultdict(set)  # chats in the unnamed group by a one-off
    for criterion, pattern, day, agent, score, chat_id, plain in conn.execute(
        f"SELECT x.criterion, x.pattern, x.day, x.agent_id, x.score, x.chat_id, x.plain "
        f"FROM problem_examples x WHERE {where} ORDER BY x.score, x.chat_id",
        params,
    ):
        if pattern in named[criterion]:
            group: Group = (criterion, pattern)
        else:
            group = (criterion, None)
            if pattern and not plain:
                one_off[criterion].add(chat_id)
        chats = picked[group]
        if len(chats) < examples and chat_id not in chats:
            chats[chat_id] = (score, agent, day)

    sizes: dict[Group, int] = {}
    for criterion, by_pattern in counts.items():
        for pattern in named[criterion]:
            sizes[(criterion, pattern)] = by_pattern[pattern]
        # no-pattern chats, plus chats whose only unnamed failures are one-off patterns
        one_off[criterion] -= plain_shared[criterion]
        sizes[(criterion, None)] = by_pattern.get("", 0) + len(one_off[criterion])
    rows_picked = [
        (group, rn, chat_id, v)
        for group, chats in picked.items()
        for rn, (chat_id, v) in enumerate(chats.items(), start=1)
    ]
    quotes = _quotes(store, rows_picked, named)
    rows = [
        {
            "criterion": group[0],
            "pattern": group[1],
            "chats": sizes[group],
            "chat_id": chat_id,
            "agent_id": agent or None,
            "day": day,
            "score": score,
            "quote": quotes.get((group, chat_id)),
            "rn": rn,
        }
        for group, rn, chat_id, (score, agent, day) in rows_picked
    ]
    rows.sort(key=lambda r: (r["criterion"], r["pattern"] is not None, r["pattern"] or "", r["rn"]))
    return rows


def _count_shared_once(
    store: Store, scope: Scope, criteria: Sequence[str], counts: dict[str, dict[str, int]]
) -> dict[str, set[str]]:
    """Count each chat stored under several rubrics once per pattern (the rollups count
    results); returns, per criterion, those of them with a no-pattern failure."""
    where, params = scope.where()
    only = f"AND p.criterion IN ({', '.join('?' for _ in criteria)})" if criteria else ""
    results: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for chat_id, rubric_name, criterion, pattern in store.db.conn.execute(
        "SELECT r.chat_id, r.rubric_name, p.criterion, COALESCE(p.pattern, '') "
        "FROM problem_shared_chats s JOIN results r ON r.chat_id = s.chat_id "
        "JOIN failure_patterns p ON p.chat_id = r.chat_id AND p.rubric_name = r.rubric_name "
        f"WHERE {where} {only}",
        [*params, *criteria],
    ):
        results[(chat_id, criterion, pattern)].add(rubric_name)
    plain: dict[str, set[str]] = defaultdict(set)
    for (chat_id, criterion, pattern), rubrics in results.items():
        counts[criterion][pattern] -= len(rubrics) - 1
        if pattern == "":
            plain[criterion].add(chat_id)
    return plain


def _quotes(
    store: Store,
    picked: Sequence[tuple[Group, int, str, Any]],
    named: dict[str, set[str]],
) -> dict[tuple[Group, str], str | None]:
    """Each example's quote: the smallest among the chat's failures in its group."""
    out: dict[tuple[Group, str], str | None] = {}
    conn = store.db.conn
    for group, _, chat_id, _ in picked:
        criterion, pattern = group
        best: str | None = None
        for row_pattern, quote in conn.execute(
            "SELECT pattern, quote FROM failure_patterns WHERE chat_id = ? AND criterion = ?",
            (chat_id, criterion),
        ):
            if pattern is not None:
                in_group = row_pattern == pattern
            else:
                in_group = row_pattern not in named[criterion]
            if in_group and quote is not None and (best is None or quote < best):
                best = quote
        out[(group, chat_id)] = best
    return out
