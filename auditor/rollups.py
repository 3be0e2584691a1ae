"""Per-day rollups kept at audit time (m011_rollups), so `auditor report` over a period
reads one row per day, rubric and agent instead of every chat.

``Store.save_rows`` calls :func:`batch_deltas` with the chats of a batch (their new rows and
what their earlier results contributed, if any) and adds the deltas to ``day_rollups`` and
``criterion_rollups`` in the batch's transaction, so the rollups always equal a GROUP BY over
the stored results (a test checks this through re-audits).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from .store_rows import RESULT_ROW_COLUMNS, ChatRows

_DAY = RESULT_ROW_COLUMNS.index("day")
_HASH = RESULT_ROW_COLUMNS.index("rubric_hash")
_AGENT = RESULT_ROW_COLUMNS.index("agent_id")
_SCORE = RESULT_ROW_COLUMNS.index("score")
_PASSED = RESULT_ROW_COLUMNS.index("passed")
_FATAL = RESULT_ROW_COLUMNS.index("fatal")
_QUEUED = RESULT_ROW_COLUMNS.index("review_queued")

#: (day, rubric_hash, agent) -> [chats, passed, score_sum, fatal, queued]
DayDelta = dict[tuple[str, str, str], list[float]]
#: (day, rubric_name, agent, criterion) -> [failed, fatal]
CriterionDelta = dict[tuple[str, str, str, str], list[int]]

#: The old contribution of a stored result: (day, rubric_hash, agent_id, score, passed,
#: fatal, review_queued) and its failing (criterion, severity) pairs.
OldResult = tuple[tuple[Any, ...], list[tuple[str, str]]]


def failing_criteria(rows: ChatRows) -> list[tuple[str, str]]:
    """(criterion, severity) of each failing finding and grade of a chat's rows."""
    out = [(f[2], f[5]) for f in rows.findings if f[4] == "fail"]
    return out + [(g[2], g[7]) for g in rows.grades if g[6]]


def _add(
    days: DayDelta,
    crits: CriterionDelta,
    rubric_name: str,
    summary: Sequence[Any],
    failing: Iterable[tuple[str, str]],
    sign: int,
) -> None:
    day, rubric_hash, agent, score, passed, fatal, queued = summary
    if day is None:
        return  # a chat without timestamps has no day to count in
    agent = agent or ""
    d = days[(day, rubric_hash, agent)]
    for i, v in enumerate((1, passed, score or 0.0, fatal, queued)):
        d[i] += sign * (v or 0)
    for criterion, severity in failing:
        c = crits[(day, rubric_name, agent, criterion)]
        c[0] += sign
        c[1] += sign * (severity == "fatal")


def batch_deltas(
    audited: Sequence[ChatRows], old: dict[tuple[str, str], OldResult]
) -> tuple[DayDelta, CriterionDelta]:
    """What a batch changes in the rollups: each new result in, each replaced one out."""
    days: DayDelta = defaultdict(lambda: [0, 0, 0.0, 0, 0])
    crits: CriterionDelta = defaultdict(lambda: [0, 0])
    for a in audited:
        previous = old.get((a.chat_id, a.rubric_name))
        if previous is not None:
            _add(days, crits, a.rubric_name, previous[0], previous[1], -1)
        r = a.result
        summary = (r[_DAY], r[_HASH], r[_AGENT], r[_SCORE], r[_PASSED], r[_FATAL], r[_QUEUED])
        _add(days, crits, a.rubric_name, summary, failing_criteria(a), +1)
    return dict(days), dict(crits)


def removal_deltas(old: dict[tuple[str, str], OldResult]) -> tuple[DayDelta, CriterionDelta]:
    """What removing stored results (a chat repeated in another language) takes out."""
    days: DayDelta = defaultdict(lambda: [0, 0, 0.0, 0, 0])
    crits: CriterionDelta = defaultdict(lambda: [0, 0])
    for (_, rubric_name), (summary, failing) in old.items():
        _add(days, crits, rubric_name, summary, failing, -1)
    return dict(days), dict(crits)
