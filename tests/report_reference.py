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


def extreme_chats(store: Store, scope: Scope, *, per_agent: int) -> list[Row]:
    """Each agent's ``per_agent`` best and worst chats by score (ties: earlier chat first).

    Ranking every chat twice (best first, worst first) is two sorts of the whole period.
    Instead the chats are counted per agent and score, which tells for each score how many
    of the agent's chats are better (``better``) and worse (``worse``); only chats at a
    score with fewer than ``per_agent`` better or worse chats can be kept, and among those
    one sort by (score, start) gives each chat's place among its ties, ``k``: its best
    rank is ``better + k`` and its worst rank ``worse + k``. The failed-criteria list is
    read only for the few chats kept.
    """
    where, params = scope.where()
    # A NULL agent is a group too: x'00' (a blob) never equals a text agent id.
    agent_key = "COALESCE(r.agent_id, x'00')"
    return store.query(
        f"""
        WITH per_score AS (
            SELECT {agent_key} AS agent_key, r.score AS score, COUNT(*) AS n
            FROM results r WHERE {where} GROUP BY 1, 2
        ),
        around AS (
            SELECT * FROM (
                SELECT agent_key, score,
                       COALESCE(SUM(n) OVER (PARTITION BY agent_key ORDER BY score DESC
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS better,
                       COALESCE(SUM(n) OVER (PARTITION BY agent_key ORDER BY score ASC
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS worse
                FROM per_score)
            WHERE better < ? OR worse < ?
        ),
        tied AS (
            SELECT * FROM (
                SELECT {agent_key} AS agent_key, r.agent_id AS agent_id, r.chat_id AS chat_id,
                       r.rubric_name AS rubric_name, r.day AS day, r.score AS score,
                       r.passed AS passed,
                       ROW_NUMBER() OVER (PARTITION BY {agent_key}, r.score
                                          ORDER BY r.started_at, r.chat_id) AS k
                FROM results r
                WHERE {where} AND ({agent_key}, r.score) IN (SELECT agent_key, score FROM around))
            WHERE k <= ?
        ),
        kept AS (
            SELECT t.agent_id, t.chat_id, t.rubric_name, t.day, t.score, t.passed,
                   a.better + t.k AS best_rank, a.worse + t.k AS worst_rank
            FROM tied t JOIN around a ON a.agent_key = t.agent_key AND a.score = t.score
            WHERE a.better + t.k <= ? OR a.worse + t.k <= ?
        )
        SELECT k.*, f.failed_criteria AS failed_criteria
        FROM kept k JOIN results f ON f.chat_id = k.chat_id AND f.rubric_name = k.rubric_name
        ORDER BY k.agent_id, k.best_rank
        """,
        [*params, per_agent, per_agent, *params, per_agent, per_agent, per_agent],
    )
