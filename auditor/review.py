"""Review-queue policy: which audited chats a human should look at, and why.

Reasons are computed per chat from its result (pure), so a resumed run queues exactly
what an uninterrupted one would. The random sample is a seeded hash of the chat id — the
same chat is always in or out of the sample for a given seed, and the sample is
independent of the model's output (an unbiased agreement estimate needs that).
"""

from __future__ import annotations

import hashlib

from .models import ChatResult, Evidence
from .rubric import Rubric

LOW_CONFIDENCE = "low_confidence"
UNSCORED = "unscored"
INJECTION = "suspected_injection"
FATAL = "fatal"
CRITICAL = "critical_failure"
RANDOM = "random_sample"

REASONS = (LOW_CONFIDENCE, UNSCORED, INJECTION, FATAL, CRITICAL, RANDOM)


def in_random_sample(chat_id: str, rate: float, seed: int) -> bool:
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"{seed}:{chat_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def queue_reasons(
    result: ChatResult, rubric: Rubric, injection: list[Evidence] | None = None
) -> list[str]:
    """Why this chat goes to the spot-check queue (empty: it does not)."""
    policy = rubric.review
    reasons: list[str] = []
    low = []
    for g in result.grades:
        if g.status == "unscored" or g.confidence is None:
            continue
        c = rubric.criterion(g.criterion)
        threshold = (
            c.review_threshold
            if c is not None and c.review_threshold is not None
            else policy.confidence_threshold
        )
        if g.confidence < threshold:
            low.append(g.criterion)
    if low:
        reasons.append(LOW_CONFIDENCE)
    if policy.queue_unscored and result.unscored_criteria:
        reasons.append(UNSCORED)
    flagged = any("suspected_injection" in g.flags for g in result.grades)
    if policy.queue_injection and (injection or flagged):
        reasons.append(INJECTION)
    if policy.queue_fatal and result.fatal:
        reasons.append(FATAL)
    if policy.queue_critical and any(
        f.severity == "critical" and f.status == "fail" for f in result.findings
    ) | any(g.severity == "critical" and g.failed for g in result.grades):
        reasons.append(CRITICAL)
    if in_random_sample(result.chat_id, policy.random_sample_rate, policy.random_seed):
        reasons.append(RANDOM)
    return reasons
