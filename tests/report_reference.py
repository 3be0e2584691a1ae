"""The common-problem grouping as the report computed it from the stored failures before the
rollups of m017 (auditor/problem_rollups.py): the reference the rollups are checked against."""

from __future__ import annotations

from collections.abc import Sequence

from auditor.reporting.queries import Row, Scope
from auditor.store import Store


def problem_groups(
    store: Store, scope: Scope, *, examples: int, criteria: Sequence[str] = ()
) -> list[Row]:
    """Failing findings grouped by criterion and pattern, with example chats, in one query.

    The patterns were computed once, when the audit saved each failure (table
    ``failure_patterns``, see auditor/patterns.py), so this is joins and GROUP BYs only.
    A pattern seen in only one chat is not a *common* problem: it is folded into the
    criterion's unnamed group (pattern NULL). Returns the lowest-scoring ``examples`` chats
    of each group, each row carrying its group's size (``chats``, distinct chats) and the
    quote that put the chat there. ``criteria`` limits it to those criteria (the report
    shows only the ones failing most); empty means all.
    """
    where, params = scope.where()
    # ``+p.criterion``: probe the patterns by chat only (one seek per chat, not one per
    # criterion) and filter the few rows found.
    only = f"AND +p.criterion IN ({', '.join('?' for _ in criteria)})" if criteria else ""
    sql = f"""
        WITH failing AS MATERIALIZED (
            SELECT p.criterion AS criterion, p.pattern AS pattern, p.quote AS quote,
                   r.chat_id AS chat_id, r.agent_id AS agent_id, r.day AS day,
                   r.score AS score
            FROM results r CROSS JOIN failure_patterns p
                 ON p.chat_id = r.chat_id AND p.rubric_name = r.rubric_name
            WHERE {where} {only}
        ),
        named AS (  -- the common patterns: seen in two chats or more
            SELECT criterion, pattern FROM failing WHERE pattern != ''
            GROUP BY criterion, pattern HAVING COUNT(DISTINCT chat_id) >= 2
        ),
        folded AS (  -- a chat with several one-off typos is one chat of the unnamed group
            SELECT f.criterion AS criterion, n.pattern AS pat, f.chat_id AS chat_id,
                   MIN(f.quote) AS quote, f.agent_id AS agent_id, f.day AS day,
                   MIN(f.score) AS score
            FROM failing f LEFT JOIN named n ON n.criterion = f.criterion
                 AND n.pattern = f.pattern
            GROUP BY f.criterion, n.pattern, f.chat_id
        ),
        ranked AS (  -- one sort: both figures use the same window
            SELECT *, ROW_NUMBER() OVER w AS rn,
                   COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                   AS chats
            FROM folded WINDOW w AS (PARTITION BY criterion, pat ORDER BY score, chat_id)
        )
        SELECT criterion, pat AS pattern, chats, chat_id, agent_id, day, score, quote, rn
        FROM ranked WHERE rn <= ? ORDER BY criterion, pat, rn
    """
    return store.query(sql, [*params, *criteria, examples])
