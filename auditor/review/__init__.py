"""Human review as one package: the library both faces (the CLI's ``auditor review …`` and
the web desk, ``auditor serve``) call.

- ``policy``: which chats are queued, why, which criteria (pure; the store and the
  migrations use it, so it imports neither).
- ``queue``: reading the queue (filters, paging), who is reviewing, which day.
- ``reviews``: appending a review and the effective result it gives.
- ``calibration``: reviewer-vs-reviewer agreement (校准) and live model-vs-human pairs.
- ``sheets``: the spreadsheet round trip (export the queue, import reviews).
- ``quotas``: per-agent sample quotas and the daily capacity.
- ``users``, ``claims``, ``disputes``, ``sessions``: who may use the desk (login tokens),
  queue claims and the desk's review, agents' disputes, calibration sessions; ``access``
  (who may see and do what) and ``errors`` (each with its HTTP status) beside them.

SQLite is the store's: the desk's tables are read and written by ``auditor.store_desk``,
the rest by ``auditor.store``; nothing here opens a connection or writes SQL.
``from auditor.review import X`` keeps working for every name the old ``auditor/review.py``
module had: they are loaded from their module on first use, so importing one light module
(``auditor.review.policy``, as the store does) loads nothing else.
"""

# ruff: noqa: F401 - the TYPE_CHECKING imports tell mypy what the lazy names are
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "PRIORITY": "policy",
    "ADVISORY": "policy",
    "AGENT_QUOTA": "policy",
    "CRITICAL": "policy",
    "FATAL": "policy",
    "INJECTION": "policy",
    "LOW_CONFIDENCE": "policy",
    "RANDOM": "policy",
    "REASONS": "policy",
    "SAMPLE_REASONS": "policy",
    "STICKY_REASONS": "policy",
    "UNSCORED": "policy",
    "allowed_levels": "policy",
    "cue_evidence": "policy",
    "in_random_sample": "policy",
    "level_problem": "policy",
    "low_confidence_criteria": "policy",
    "lowest_confidence": "policy",
    "queue_item_row": "policy",
    "queue_reasons": "policy",
    "review_targets": "policy",
    "review_threshold": "policy",
    "seeded_fraction": "policy",
    "sort_reasons": "policy",
    "AuditedRef": "reviews",
    "chat_from_transcript": "reviews",
    "effective_result": "reviews",
    "latest_levels": "reviews",
    "record_review": "reviews",
    "resolve_audited": "reviews",
    "review_row": "reviews",
    "with_reviews_applied": "reviews",
    "CriterionCalibration": "calibration",
    "LivePair": "calibration",
    "PairAgreement": "calibration",
    "calibration_from_reviews": "calibration",
    "calibration_report": "calibration",
    "cohen_kappa": "calibration",
    "live_pairs": "calibration",
    "QueueFilter": "queue",
    "QueueItem": "queue",
    "list_queue": "queue",
    "queue_item": "queue",
    "queue_item_of": "queue",
    "resolve_day": "queue",
    "reviewer_name": "queue",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .calibration import (
        CriterionCalibration,
        LivePair,
        PairAgreement,
        calibration_from_reviews,
        calibration_report,
        cohen_kappa,
        live_pairs,
    )
    from .policy import (
        ADVISORY,
        AGENT_QUOTA,
        CRITICAL,
        FATAL,
        INJECTION,
        LOW_CONFIDENCE,
        PRIORITY,
        RANDOM,
        REASONS,
        SAMPLE_REASONS,
        STICKY_REASONS,
        UNSCORED,
        allowed_levels,
        cue_evidence,
        in_random_sample,
        level_problem,
        low_confidence_criteria,
        lowest_confidence,
        queue_item_row,
        queue_reasons,
        review_targets,
        review_threshold,
        seeded_fraction,
        sort_reasons,
    )
    from .queue import (
        QueueFilter,
        QueueItem,
        list_queue,
        queue_item,
        queue_item_of,
        resolve_day,
        reviewer_name,
    )
    from .reviews import (
        AuditedRef,
        chat_from_transcript,
        effective_result,
        latest_levels,
        record_review,
        resolve_audited,
        review_row,
        with_reviews_applied,
    )
