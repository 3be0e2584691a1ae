"""Findings + grades + rubric -> score, passed, fatal (pure; STANDARDS.md §4).

A chat starts at the rubric total and loses the points of each failed item (扣分制):
- a failed check loses the criterion's points;
- a graded level loses ``criterion.points - level.points``;
- not-applicable items and ``unscored`` grades lose nothing (an unscored grade is never a
  silent "poor": it goes to human review instead);
- a grade unscored by a transport error (flag ``transport_error``) makes the result
  *provisional*: its score is shown but the chat is not a pass until it is graded (the next
  run re-grades it, or a reviewer gives the level).
A fatal failure scores 0 and fails the chat; more critical or normal failures than the
rubric's pass rules allow fail it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .models import TRANSPORT_ERROR, Chat, ChatResult, Finding, Grade, Metrics, ReviewInfo, trusted
from .rubric import Criterion, Rubric

#: Levels a reviewer may give a ``kind: check`` criterion.
CHECK_LEVELS = ("pass", "fail", "na")


def settle_finding(finding: Finding, criterion: Criterion) -> Finding:
    lost = criterion.points if finding.status == "fail" else 0.0
    if finding.points_lost == lost and finding.severity == criterion.severity:
        return finding  # already settled (the checker fills both): no copy on the hot path
    return finding.model_copy(update={"points_lost": lost, "severity": criterion.severity})


def grade_outcome(criterion: Criterion, status: str, level: str | None) -> dict[str, Any]:
    """What the rubric makes of a grade: its status, level, points lost, failure and severity.

    The one place these rules live. A grader may build its grades with these fields already
    filled (then settling them costs nothing); an impossible level, or ``na`` where the
    rubric does not allow it, becomes ``unscored`` with the reason.
    """
    return dict(settled_outcome(criterion, status, level))


def settled_outcome(criterion: Criterion, status: str, level: str | None) -> Mapping[str, Any]:
    """:func:`grade_outcome`, remembered per criterion for its own levels: the mapping is
    shared, read it (``Grade(**outcome)``) but never change it."""
    memo = criterion.settled_outcomes
    got = memo.get((status, level))
    if got is None:
        got = _grade_outcome(criterion, status, level)
        if level is None or criterion.level(level) is not None:  # never a model's stray id
            memo[status, level] = got
    return got


def _grade_outcome(criterion: Criterion, status: str, level: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": criterion.severity, "points_lost": 0.0, "failed": False}
    if status == "scored":
        lv = criterion.level(level or "")
        if lv is None:
            known = ", ".join(x.id for x in criterion.levels)
            out.update(
                status="unscored",
                level=None,
                error=f"level {level!r} is not a level of {criterion.id} ({known})",
            )
        else:
            out.update(
                status="scored",
                level=level,
                points_lost=criterion.points - lv.points,
                failed=lv.fail,
            )
    elif status == "na" and not criterion.na_allowed:
        out.update(
            status="unscored",
            level=None,
            error=f"{criterion.id} cannot be not-applicable in this rubric",
        )
    else:
        out.update(status=status, level=None)
    return out


def settle_grade(grade: Grade, criterion: Criterion) -> Grade:
    """Fill points/severity/failed from the rubric; an impossible level becomes unscored."""
    update = settled_outcome(criterion, grade.status, grade.level)
    # every (field, value) of the outcome already the grade's (compared with ==, in C):
    # already settled by its grader, no copy on the hot path
    if update.items() <= grade.__dict__.items():
        return grade
    return grade.model_copy(update=dict(update))


def score_chat(
    chat: Chat,
    rubric: Rubric,
    findings: list[Finding],
    grades: list[Grade],
    metrics: Metrics,
    *,
    grader: str = "",
) -> ChatResult:
    # one pass over each list: settle, then count what failed and what it cost
    by_id = rubric._by_id  # rubric.criterion, without a call per item
    settled_findings: list[Finding] = []
    failed: list[str] = []
    severities: list[str] = []  # of the failures, in order
    lost_checks = lost_grades = 0.0  # summed apart, then added (as sum() + sum() did)
    for f in findings:
        c = by_id.get(f.criterion)
        if c is not None:
            f = settle_finding(f, c)
        settled_findings.append(f)
        lost_checks += f.points_lost
        if f.status == "fail":
            failed.append(f.criterion)
            severities.append(f.severity)
    settled_grades: list[Grade] = []
    unscored: list[str] = []
    provisional = False  # grades lost to an outage lose no points: never a pass (below)
    for g in grades:
        c = by_id.get(g.criterion)
        if c is not None:
            g = settle_grade(g, c)
        settled_grades.append(g)
        lost_grades += g.points_lost
        if g.failed:
            failed.append(g.criterion)
            severities.append(g.severity)
        if g.status == "unscored":
            unscored.append(g.criterion)
            provisional = provisional or TRANSPORT_ERROR in g.flags
    fatal = "fatal" in severities
    n_critical = severities.count("critical")
    n_normal = len(severities) - n_critical - severities.count("fatal")

    rules = rubric.pass_rules
    score = max(0.0, rubric.total - (lost_checks + lost_grades))
    if fatal and rules.fatal_fails:
        score = 0.0
    passed = not (fatal and rules.fatal_fails)
    passed = passed and n_critical <= rules.max_critical_failures
    passed = passed and n_normal <= rules.max_normal_failures
    if rules.min_score is not None:
        passed = passed and score >= rules.min_score
    passed = passed and not provisional

    # what ChatResult(...) validates to (models.trusted): the chat, findings, grades and
    # metrics are validated models, the numbers floats and the flags bools
    return trusted(
        ChatResult,
        {
            "chat_id": chat.chat_id,
            "agent_id": chat.agent_id,
            "language": chat.language,
            "rubric": rubric.id,
            "score": round(score, 4),
            "passed": bool(passed),
            "fatal": fatal,
            "metrics": metrics,
            "findings": settled_findings,
            "grades": settled_grades,
            "review": trusted(ReviewInfo, {"queued": False, "reasons": []}),
            "warnings": list(chat.warnings),
            "transcript_hash": chat.transcript_hash,
            "started_at": chat.started_at,
            "source": chat.source,
            "grader": grader,
            "failed_criteria": failed,
            "unscored_criteria": unscored,
            "provisional": provisional,
            "reviewed_criteria": [],
        },
    )


def rescore_with_reviews(
    result: ChatResult, rubric: Rubric, human_levels: Mapping[str, str], chat: Chat
) -> ChatResult:
    """The effective result: the latest human level replaces the model's, criterion by criterion.

    ``human_levels`` maps criterion id -> level id (for ``kind: check`` criteria: pass|fail|na).
    The stored model grades are never changed; this derives a new result.
    """
    findings: list[Finding] = []
    for f in result.findings:
        lv = human_levels.get(f.criterion)
        findings.append(f.model_copy(update={"status": lv}) if lv in CHECK_LEVELS else f)
    grades: list[Grade] = []
    for g in result.grades:
        lv = human_levels.get(g.criterion)
        if lv is None:
            grades.append(g)
        elif lv == "na":
            grades.append(g.model_copy(update={"status": "na", "level": None, "error": None}))
        else:
            grades.append(
                g.model_copy(
                    update={"status": "scored", "level": lv, "error": None, "confidence": 1.0}
                )
            )
    out = score_chat(chat, rubric, findings, grades, result.metrics, grader=result.grader)
    return out.model_copy(update={"review": result.review})
