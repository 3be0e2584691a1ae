"""The queue policy (pure): which chats a person should look at, why, which criteria.

* ``queue_reasons`` says *why* a chat is queued. Reasons are computed from its result, so a
  resumed run queues exactly what an uninterrupted one would. The random sample is a
  seeded hash of the chat id — the same chat is always in or out of the sample for a given
  seed, and the sample is independent of the model's output (an unbiased agreement
  estimate needs that).
* ``review_targets`` says *which criteria* each reason asks a reviewer to score; an item is
  done when every target has a review.
* ``PRIORITY`` orders the queue, most urgent first.
* Grades flagged ``advisory`` (the offline grader's: its confidence is not measured) never
  queue a chat for low confidence.

A leaf of the review package: it imports no store and no other review module, so the
store and the migrations may use it without an import circle.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..models import ChatResult, Evidence, Grade
from ..reasons import (
    ADVISORY,
    AGENT_QUOTA,
    CRITICAL,
    FATAL,
    INJECTION,
    LOW_CONFIDENCE,
    PRIORITY,
    RANDOM,
    UNSCORED,
)
from ..rubric import Criterion, Rubric
from ..scoring import CHECK_LEVELS

__all__ = ["PRIORITY"]

#: A fatal error and a suspected injection can each mean a wrong verdict on the agent; an
#: unscored grade is a hole in the audit; a critical failure fails the chat; low confidence
#: is the model asking for help; the two samples are there to measure, not to fix.
REASONS = PRIORITY
#: Reasons decided after the audit (``quotas.apply_quotas``); a re-audit of the chat keeps them.
STICKY_REASONS: tuple[str, ...] = (AGENT_QUOTA,)
#: Sampling reasons ask for a full review of the chat (every graded criterion and every
#: failed check), so that agreement estimated on them is not biased towards hard cases.
SAMPLE_REASONS: tuple[str, ...] = (RANDOM, AGENT_QUOTA)


# ---------------------------------------------------------------------------- policy (pure)


def in_random_sample(chat_id: str, rate: float, seed: int) -> bool:
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    return seeded_fraction(seed, chat_id) < rate


def seeded_fraction(seed: int | str, key: str) -> float:
    """A uniform number in [0, 1) fixed by the seed and the key (sha256; no global RNG)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def review_threshold(criterion: Criterion | None, rubric: Rubric) -> float:
    """The confidence under which a grade goes to review: the criterion's, else the rubric's."""
    if criterion is not None and criterion.review_threshold is not None:
        return criterion.review_threshold
    return rubric.review.confidence_threshold


def low_confidence_criteria(result: ChatResult, rubric: Rubric) -> list[str]:
    """Criteria whose grade is under its review threshold — measured confidences only: an
    advisory grade (the offline grader's, flagged ``advisory``) is never "low confidence"."""
    return [g.criterion for g in result.grades if _low(g, rubric)]


def _low(g: Grade, rubric: Rubric) -> bool:
    """A measured confidence (not an advisory grade's) under the criterion's threshold."""
    return (
        g.status != "unscored"
        and g.confidence is not None
        and ADVISORY not in g.flags
        and g.confidence < review_threshold(rubric.criterion(g.criterion), rubric)
    )


def lowest_confidence(result: ChatResult) -> float | None:
    """The lowest measured confidence among the chat's grades (None: nothing measured)."""
    measured = [
        g.confidence
        for g in result.grades
        if g.status == "scored" and g.confidence is not None and ADVISORY not in g.flags
    ]
    return min(measured) if measured else None


def cue_evidence(result: ChatResult) -> int:
    """How much evidence the advisory grades cite against the agent: the quotes of their
    failing levels. It ranks chats the offline grader finds at fault, the most cited first."""
    return sum(len(g.evidence) for g in result.grades if ADVISORY in g.flags and g.failed)


def _failed(result: ChatResult, severity: str) -> list[str]:
    out = [f.criterion for f in result.findings if f.status == "fail" and f.severity == severity]
    return out + [g.criterion for g in result.grades if g.failed and g.severity == severity]


def queue_reasons(
    result: ChatResult, rubric: Rubric, injection: list[Evidence] | None = None
) -> list[str]:
    """Why this chat goes to the spot-check queue (empty: it does not), most urgent first."""
    policy = rubric.review
    reasons: set[str] = set()
    # one pass over the grades for what low_confidence_criteria, the injection flag and
    # _failed(result, "critical") each ask of them
    want_low = policy.queue_low_confidence
    low = flagged = critical = False
    for g in result.grades:
        flags = g.flags
        if flags and INJECTION in flags:
            flagged = True
        if g.failed and g.severity == "critical":
            critical = True
        if want_low and not low and _low(g, rubric):
            low = True
    if low:
        reasons.add(LOW_CONFIDENCE)
    if policy.queue_unscored and result.unscored_criteria:
        reasons.add(UNSCORED)
    if policy.queue_injection and (injection or flagged):
        reasons.add(INJECTION)
    if policy.queue_fatal and result.fatal:
        reasons.add(FATAL)
    if policy.queue_critical and (
        critical or any(f.status == "fail" and f.severity == "critical" for f in result.findings)
    ):
        reasons.add(CRITICAL)
    if in_random_sample(result.chat_id, policy.random_sample_rate, policy.random_seed):
        reasons.add(RANDOM)
    return sort_reasons(reasons) if reasons else []


def sort_reasons(reasons: set[str] | list[str]) -> list[str]:
    return sorted(set(reasons), key=lambda r: PRIORITY.index(r) if r in PRIORITY else len(PRIORITY))


def review_targets(result: ChatResult, rubric: Rubric, reasons: list[str]) -> dict[str, list[str]]:
    """The criteria a reviewer is asked to score, each with the reasons that ask for it.

    A suspected injection targets every graded criterion (it can sway any grade); a sample
    is a full review: every graded criterion and every failed check. A reason whose list
    comes out empty (say, injection under a rubric with no graded criteria) falls back to
    that full review, or to every criterion of the result, so no item is queued with nothing
    to do.
    """
    graded = [g.criterion for g in result.grades]
    failed_checks = [f.criterion for f in result.findings if f.status == "fail"]
    whole = list(dict.fromkeys(graded + failed_checks)) or [f.criterion for f in result.findings]
    per_reason: dict[str, list[str]] = {
        LOW_CONFIDENCE: low_confidence_criteria(result, rubric),
        UNSCORED: list(result.unscored_criteria),
        INJECTION: graded,  # text aimed at the grader sways grades, not deterministic checks
        FATAL: _failed(result, "fatal"),
        CRITICAL: _failed(result, "critical"),
        RANDOM: whole,
        AGENT_QUOTA: whole,
    }
    targets: dict[str, list[str]] = {}
    for reason in sort_reasons(reasons):
        for crit in per_reason.get(reason) or whole:
            targets.setdefault(crit, []).append(reason)
    order = {c.id: i for i, c in enumerate(rubric.criteria)}
    return {c: targets[c] for c in sorted(targets, key=lambda c: order.get(c, len(order)))}


def queue_item_row(
    result: ChatResult,
    rubric: Rubric,
    reasons: list[str],
    *,
    run_id: str | None,
    now: str,
    queued_at: str | None = None,
) -> dict[str, Any]:
    """The ``review_queue`` row for a chat (the store writes it; this decides its content)."""
    import orjson

    ordered = sort_reasons(reasons)
    return {
        "chat_id": result.chat_id,
        "rubric_name": rubric.name,
        "rubric": rubric.id,
        "agent_id": result.agent_id,
        "day": result.started_at.date().isoformat() if result.started_at else None,
        "started_at": result.started_at.isoformat() if result.started_at else None,
        "reasons": orjson.dumps(ordered).decode(),
        "targets": orjson.dumps(review_targets(result, rubric, ordered)).decode(),
        "priority": PRIORITY.index(ordered[0]) if ordered else len(PRIORITY),
        "min_confidence": lowest_confidence(result),
        "cue_evidence": cue_evidence(result),
        "run_id": run_id,
        "queued_at": queued_at or now,
        "updated_at": now,
    }


def allowed_levels(criterion: Criterion) -> tuple[str, ...]:
    """What a reviewer may give: pass|fail|na for a check; the levels (and na) otherwise."""
    if criterion.kind == "check":
        return CHECK_LEVELS
    ids = tuple(lv.id for lv in criterion.levels)
    return (*ids, "na") if criterion.na_allowed else ids


def level_problem(rubric: Rubric, criterion_id: str, level: str) -> str | None:
    """Why ``level`` is not a valid review of ``criterion_id`` under ``rubric`` (None: valid)."""
    crit = rubric.criterion(criterion_id)
    if crit is None:
        known = ", ".join(c.id for c in rubric.criteria)
        return f"unknown criterion {criterion_id!r} in {rubric.id} (known: {known})"
    allowed = allowed_levels(crit)
    if level not in allowed:
        return f"level {level!r} is not allowed for {criterion_id} ({'|'.join(allowed)})"
    return None
