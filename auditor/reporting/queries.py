"""The report's SQL: aggregates over the indexed ``results``/``findings``/``grades`` tables.

Every figure in the report is computed here by SQLite, never by loading chats into Python:
``results`` is filtered by its ``(day)`` or ``(agent_id, day)`` index and joined to the
findings and grades of the chats in scope by their primary keys. Only the handful of
example chats (fatal findings, common-problem examples, best/worst chats) come back as
rows, and even for those only the short evidence quote is read, not the stored JSON.

All functions take a :class:`~auditor.store.Store` and a :class:`Scope` and return plain
rows (dicts); :mod:`auditor.reporting.build` turns them into the report model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..extreme_rollups import best_key, worst_key
from ..store import Store

Row = dict[str, Any]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: Memory-mapped reads (up to SQLite's default 2 GB cap) and a 64 MB page cache while the
#: report runs: the joins probe indexes all over a large file, which through mmap is a
#: memory access instead of a read() call per page, and sorts of ~100k rows stay in memory.
SCAN_PRAGMAS = {"mmap_size": 0x7FFF0000, "cache_size": -65536}


@contextmanager
def tuned_for_scans(store: Store) -> Iterator[None]:
    """Apply :data:`SCAN_PRAGMAS` to the store's connection, restoring them afterwards."""
    conn = store.db.conn
    before = {}  # an in-memory database has no mmap_size
    for name in SCAN_PRAGMAS:
        row = conn.execute(f"PRAGMA {name}").fetchone()
        if row is not None:
            before[name] = row[0]
    try:
        for name in before:
            conn.execute(f"PRAGMA {name} = {int(SCAN_PRAGMAS[name])}")
        yield
    finally:
        for name, value in before.items():
            conn.execute(f"PRAGMA {name} = {int(value)}")


@dataclass(frozen=True)
class Scope:
    """Which results a query covers: days ``since..until`` inclusive, optionally one agent."""

    since: str  # YYYY-MM-DD
    until: str  # YYYY-MM-DD
    agent_id: str | None = None

    def where(self, alias: str = "r") -> tuple[str, list[Any]]:
        """A WHERE clause on ``results`` that the (day) / (agent_id, day) indexes serve."""
        sql = f"{alias}.day BETWEEN ? AND ?"
        params: list[Any] = [self.since, self.until]
        if self.agent_id is not None:
            sql += f" AND {alias}.agent_id = ?"
            params.append(self.agent_id)
        return sql, params

    def team(self) -> Scope:
        """The same period for the whole team (an agent is compared against it)."""
        return Scope(self.since, self.until)


@dataclass(frozen=True)
class Limits:
    """The thresholds a rubric sets for the figures the report compares against a limit."""

    first_response_s: float
    followup_s: float
    max_typos: int


def _limits_cte(limits: Mapping[str, Limits]) -> tuple[str, list[Any]]:
    """A ``lim(h, fr, fu, mt)`` CTE mapping each rubric hash to its limits.

    Chats audited under different rubrics are each held to their own rubric's limits.
    """
    if not limits:
        return "lim(h, fr, fu, mt) AS (SELECT NULL, NULL, NULL, NULL WHERE 0)", []
    values = ", ".join("(?, ?, ?, ?)" for _ in limits)
    params: list[Any] = []
    for h, lim in limits.items():
        params += [h, lim.first_response_s, lim.followup_s, lim.max_typos]
    return f"lim(h, fr, fu, mt) AS (VALUES {values})", params


# -------------------------------------------------------------------------- the data present


def data_range(store: Store, agent_id: str | None = None) -> Row | None:
    """First and last day with results (for one agent, or all); None when there are none."""
    if agent_id is None:
        row = store.query("SELECT MIN(day) AS first, MAX(day) AS last FROM results")[0]
    else:
        row = store.query(
            "SELECT MIN(day) AS first, MAX(day) AS last FROM results WHERE agent_id = ?",
            [agent_id],
        )[0]
    return row if row["last"] is not None else None


def untimed_results(store: Store, agent_id: str | None = None) -> int:
    """Results with no day (chats exported without timestamps): reports leave them out."""
    sql = "SELECT COUNT(*) AS n FROM results WHERE day IS NULL"
    params: list[Any] = []
    if agent_id is not None:
        sql += " AND agent_id = ?"
        params.append(agent_id)
    return int(store.query(sql, params)[0]["n"])


def rollup_where(scope: Scope, alias: str) -> tuple[str, list[Any]]:
    """The scope as a WHERE clause on a rollup table (an agent with no id is '' there)."""
    sql = f"{alias}.day BETWEEN ? AND ?"
    params: list[Any] = [scope.since, scope.until]
    if scope.agent_id is not None:
        sql += f" AND {alias}.agent_id = ?"
        params.append(scope.agent_id)
    return sql, params


def rubrics_in_scope(store: Store, scope: Scope) -> list[Row]:
    """Each rubric used in the period with its stored YAML body and how many chats used it."""
    where, params = rollup_where(scope, "d")
    return store.query(
        f"SELECT c.hash AS hash, COALESCE(b.id, c.hash) AS rubric, c.chats AS chats, "
        f"b.body AS body FROM (SELECT d.rubric_hash AS hash, SUM(d.chats) AS chats "
        f"FROM day_rollups d WHERE {where} GROUP BY d.rubric_hash) c "
        f"LEFT JOIN rubrics b ON b.hash = c.hash ORDER BY c.chats DESC",
        params,
    )


# -------------------------------------------------------------------------- volumes and scores
# From the per-day rollups kept at audit time (m011_rollups, auditor/rollups.py): one row per
# day, rubric and agent, not one per chat.


def daily(store: Store, scope: Scope) -> list[Row]:
    """Per day: chats, passed, score sum, fatal chats, queued for review."""
    where, params = rollup_where(scope, "d")
    return store.query(
        f"SELECT d.day AS day, SUM(d.chats) AS chats, SUM(d.passed) AS passed, "
        f"SUM(d.score_sum) AS score_sum, SUM(d.fatal) AS fatal, SUM(d.queued) AS queued "
        f"FROM day_rollups d WHERE {where} GROUP BY d.day ORDER BY d.day",
        params,
    )


def provisional(store: Store, scope: Scope) -> int:
    """Chats whose grades were lost to an outage (provisional: not a pass until re-graded)."""
    where, params = scope.where()
    row = store.query(
        f"SELECT COUNT(*) AS n FROM results r WHERE {where} AND r.provisional = 1", params
    )
    return int(row[0]["n"])


def agent_daily(store: Store, scope: Scope) -> list[Row]:
    """Per agent and day: the same figures as :func:`daily`."""
    where, params = rollup_where(scope, "d")
    return store.query(
        f"SELECT NULLIF(d.agent_id, '') AS agent_id, d.day AS day, SUM(d.chats) AS chats, "
        f"SUM(d.passed) AS passed, SUM(d.score_sum) AS score_sum, SUM(d.fatal) AS fatal, "
        f"SUM(d.queued) AS queued "
        f"FROM day_rollups d WHERE {where} GROUP BY d.agent_id, d.day "
        f"ORDER BY NULLIF(d.agent_id, ''), d.day",
        params,
    )


# -------------------------------------------------------------------------- response times, typos


def chat_measures(
    store: Store, scope: Scope, limits: Mapping[str, Limits]
) -> list[tuple[Any, ...]]:
    """Per chat of the scope: first response time, whether it is over its rubric's limit,
    the slowest follow-up and whether it is over, the typo count and whether it is over.

    One read of the covering index ``idx_results_report`` for the response-time histograms,
    their quantiles and the typo distribution (:mod:`.measures` sums them): one pass and a
    sort in Python cost less than SQLite's GROUP BY and ``ORDER BY ... OFFSET`` sorters,
    one per figure. A flag is NULL where the time is unknown or the rubric sets no limit.
    """
    where, params = scope.where()
    cte, cte_params = _limits_cte(limits)
    return store.db.conn.execute(
        f"WITH {cte} SELECT r.first_response_s, r.first_response_s > lim.fr, "
        f"r.max_followup_s, r.max_followup_s > lim.fu, r.typo_count, r.typo_count > lim.mt "
        f"FROM results r LEFT JOIN lim ON lim.h = r.rubric_hash WHERE {where}",
        [*cte_params, *params],
    ).fetchall()


# -------------------------------------------------------------------------- failing criteria


def _failing(table: str, scope: Scope, extra: str = "") -> tuple[str, list[Any]]:
    """FROM/WHERE for the failing rows of ``findings`` or ``grades`` of the chats in scope.

    A failing finding has ``status = 'fail'``; a failing grade is one at a failing level
    (``failed = 1``). The conditions are written exactly as the partial indexes
    ``idx_findings_failing`` / ``idx_grades_failing`` (see docs/reports.md) are defined, so
    that SQLite can probe them per chat instead of every finding of every chat.
    ``CROSS JOIN`` keeps ``results`` (filtered by day) the outer loop: left to itself, SQLite
    may walk every failing finding through the (criterion, status) index to serve a GROUP BY
    and look up each one's chat, which costs a table row read per finding.
    """
    where, params = scope.where()
    cond = "x.status = 'fail'" if table == "findings" else "x.failed = 1"
    sql = (
        f"FROM results r CROSS JOIN {table} x ON x.chat_id = r.chat_id "
        f"AND x.rubric_name = r.rubric_name WHERE {where} AND {cond} {extra}"
    )
    return sql, params


def criterion_failures(store: Store, scope: Scope) -> list[Row]:
    """Chats failing each criterion per agent (findings and grades), and how many fatally.

    From ``criterion_rollups`` (kept at audit time): a chat counts once per criterion.
    Per agent because every use sums these rows: the team's figures, each agent's archive
    and the fatal total all come from this one read.
    """
    where, params = rollup_where(scope, "c")
    return store.query(
        f"SELECT NULLIF(c.agent_id, '') AS agent_id, c.criterion AS criterion, "
        f"SUM(c.failed) AS failed, SUM(c.fatal) AS fatal FROM criterion_rollups c "
        f"WHERE {where} GROUP BY c.agent_id, c.criterion ORDER BY NULLIF(c.agent_id, ''), "
        f"c.criterion",
        params,
    )


def fatal_failures(store: Store, scope: Scope, *, limit: int) -> list[Row]:
    """The ``limit`` newest fatal failures with their first quote.

    Driven from the fatal failures (partial indexes ``idx_findings_fatal`` /
    ``idx_grades_fatal``, m005; the conditions are written as they are defined), each
    looked up in ``results`` for its day: they are rare, the chats of a period are not.
    They are counted by :func:`criterion_failures`.
    """
    where, params = scope.where()
    rows: list[Row] = []
    # a finding's evidence left out (NULL, m019_compact_findings) is its hits' texts
    quotes = {
        "findings": (
            "CASE WHEN x.evidence IS NULL THEN json_extract(x.data, '$.hits[0].text') "
            "ELSE json_extract(x.evidence, '$[0][1]') END",
            "CASE WHEN x.evidence IS NULL THEN json_array_length(x.data, '$.hits') "
            "ELSE json_array_length(x.evidence) END",
        ),
        "grades": ("json_extract(x.evidence, '$[0][1]')", "json_array_length(x.evidence)"),
    }
    for table, cond in (
        ("findings", "x.status = 'fail'"),
        ("grades", "x.failed = 1"),
    ):
        quote, n_quotes = quotes[table]
        rows += store.query(
            f"SELECT r.chat_id AS chat_id, r.agent_id AS agent_id, r.day AS day, "
            f"r.started_at AS started_at, x.criterion AS criterion, "
            f"{quote} AS quote, {n_quotes} AS n_quotes "
            f"FROM {table} x CROSS JOIN results r ON r.chat_id = x.chat_id "
            f"AND r.rubric_name = x.rubric_name WHERE {cond} AND x.severity = 'fatal' "
            f"AND {where} ORDER BY r.started_at DESC, r.chat_id LIMIT ?",
            [*params, limit],
        )
    rows.sort(key=lambda r: (r["started_at"] or "", r["chat_id"]), reverse=True)
    return rows[:limit]


# -------------------------------------------------------------------------- best / worst chats


def extreme_chats(store: Store, scope: Scope, *, per_agent: int) -> list[Row]:
    """Each agent's ``per_agent`` best and worst chats by score (ties: earlier chat first).

    From ``agent_day_extremes`` (kept at audit time, auditor/extreme_rollups.py): each day's
    best and worst three per agent, so the period's are among a few rows per agent and day
    instead of a ranking of every chat. ``best_rank``/``worst_rank`` are 1-based, None where
    the chat is not among that side's ``per_agent``; the failed-criteria list is read only
    for the chats kept.
    """
    where, params = rollup_where(scope, "x")
    sides: dict[tuple[Any, str], list[tuple[Any, ...]]] = {}
    for agent, side, score, started, chat_id, rubric_name, day in store.db.conn.execute(
        "SELECT x.agent_id, x.side, x.score, x.started_at, x.chat_id, x.rubric_name, x.day "
        f"FROM agent_day_extremes x WHERE {where}",
        params,
    ):
        sides.setdefault((agent, side), []).append((score, started, chat_id, rubric_name, day))
    ranks: dict[tuple[Any, str, str], dict[str, Any]] = {}
    for (agent, side), entries in sides.items():
        key = best_key if side == "best" else worst_key
        for rank, (score, _, chat_id, rubric_name, day) in enumerate(
            sorted(entries, key=lambda e: key(e[:4]))[:per_agent], start=1
        ):
            row = ranks.setdefault(
                (agent, chat_id, rubric_name),
                {
                    "agent_id": agent,
                    "chat_id": chat_id,
                    "rubric_name": rubric_name,
                    "day": day,
                    "score": score,
                    "best_rank": None,
                    "worst_rank": None,
                },
            )
            row[f"{side}_rank"] = rank
    out = list(ranks.values())
    for row in out:
        found = store.db.conn.execute(
            "SELECT passed, failed_criteria FROM results WHERE chat_id = ? AND rubric_name = ?",
            (row["chat_id"], row["rubric_name"]),
        ).fetchone()
        row["passed"], row["failed_criteria"] = found
    out.sort(key=lambda r: (r["agent_id"] is not None, r["agent_id"] or "", r["best_rank"] or 0))
    return out


# -------------------------------------------------------------------------- human reviews


def table_columns(store: Store, table: str) -> set[str]:
    """The columns of a table, empty when it does not exist (e.g. before migration m002)."""
    return {r["name"] for r in store.query(f"PRAGMA table_info({table})")}


#: The reviews table columns the report reads. ``chat_id``, ``criterion`` and ``level`` are
#: required; the rest are shown when present. The latest review of a (chat, criterion) is
#: the one with the highest rowid: reviews only append, so insertion order is time order.
REVIEW_REQUIRED = {"chat_id", "criterion", "level"}
REVIEW_TIME_COLUMNS = ("created_at", "reviewed_at", "at", "ts")


def _latest_reviews_sql(columns: set[str], where: str) -> str:
    same_rubric = "AND v.rubric_name = r.rubric_name" if "rubric_name" in columns else ""
    reviewer = "v.reviewer" if "reviewer" in columns else "NULL"
    comment = "v.comment" if "comment" in columns else "NULL"
    at = next((f"v.{c}" for c in REVIEW_TIME_COLUMNS if c in columns), "NULL")
    group = "chat_id, rubric_name, criterion" if "rubric_name" in columns else "chat_id, criterion"
    return f"""
        SELECT r.chat_id AS chat_id, r.agent_id AS agent_id, r.day AS day,
               v.criterion AS criterion, v.level AS human_level,
               {reviewer} AS reviewer, {comment} AS comment, {at} AS reviewed_at,
               CASE WHEN g.criterion IS NOT NULL THEN
                        CASE g.status WHEN 'scored' THEN g.level WHEN 'na' THEN 'na' END
                    ELSE f.status END AS model_level
        FROM reviews v
        JOIN results r ON r.chat_id = v.chat_id {same_rubric}
        LEFT JOIN grades g ON g.chat_id = r.chat_id AND g.rubric_name = r.rubric_name
             AND g.criterion = v.criterion
        LEFT JOIN findings f ON f.chat_id = r.chat_id AND f.rubric_name = r.rubric_name
             AND f.criterion = v.criterion
        WHERE {where} AND v.rowid IN (SELECT MAX(rowid) FROM reviews GROUP BY {group})
    """


def review_agreement(store: Store, scope: Scope, columns: set[str]) -> list[Row]:
    """Per criterion: reviewed (chat, criterion) items and how many the model got exactly.

    An unscored grade has no model level and counts as a disagreement; ``reviews``
    counts every review row (calibration sessions score an item several times).
    """
    where, params = scope.where()
    return store.query(
        f"WITH latest AS ({_latest_reviews_sql(columns, where)}) "
        "SELECT criterion, COUNT(*) AS items, "
        "SUM(model_level IS NOT NULL AND model_level = human_level) AS agree, "
        "COUNT(DISTINCT chat_id) AS chats FROM latest GROUP BY criterion ORDER BY criterion",
        params,
    )


def review_counts(store: Store, scope: Scope, columns: set[str]) -> Row:
    """Review rows and reviewed chats in the period, and queued chats still unreviewed."""
    where, params = scope.where()
    same_rubric = "AND v.rubric_name = r.rubric_name" if "rubric_name" in columns else ""
    row = store.query(
        f"SELECT COUNT(*) AS reviews, COUNT(DISTINCT r.chat_id) AS reviewed_chats "
        f"FROM reviews v JOIN results r ON r.chat_id = v.chat_id {same_rubric} WHERE {where}",
        params,
    )[0]
    pending = store.query(
        f"SELECT COUNT(*) AS pending FROM results r WHERE {where} AND r.review_queued = 1 "
        f"AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.chat_id = r.chat_id {same_rubric})",
        params,
    )[0]
    return {**row, **pending}


def agent_reviews(store: Store, scope: Scope, columns: set[str], *, limit: int) -> list[Row]:
    """The latest human reviews of each agent's chats (newest first, ``limit`` per agent)."""
    where, params = scope.where()
    return store.query(
        f"WITH latest AS ({_latest_reviews_sql(columns, where)}), "
        "numbered AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY agent_id "
        "ORDER BY reviewed_at DESC, day DESC, chat_id, criterion) AS rn, "
        "COUNT(*) OVER (PARTITION BY agent_id) AS total FROM latest) "
        "SELECT * FROM numbered WHERE rn <= ? ORDER BY agent_id, rn",
        [*params, limit],
    )


def dispute_counts(store: Store, scope: Scope) -> dict[str, list[Row]]:
    """Disputes on the period's chats (the review desk's), per criterion and per agent, most
    disputed first, with how many were accepted, rejected and are still open. Empty where
    the database has no disputes table yet."""
    if not table_columns(store, "disputes"):
        return {"criterion": [], "agent_id": []}
    where, params = scope.where()
    out = {}
    for key in ("criterion", "agent_id"):
        out[key] = store.query(
            f"SELECT d.{key} AS key, COUNT(*) AS disputes, "
            "SUM(e.event = 'accepted') AS accepted, SUM(e.event = 'rejected') AS rejected, "
            "SUM(e.event IS NULL) AS open FROM disputes d "
            "JOIN results r ON r.chat_id = d.chat_id AND r.rubric_name = d.rubric_name "
            f"LEFT JOIN dispute_events e ON e.dispute_id = d.id WHERE {where} "
            f"GROUP BY d.{key} ORDER BY disputes DESC, key",
            params,
        )
    return out
