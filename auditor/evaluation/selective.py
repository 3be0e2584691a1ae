"""Selective prediction: which grades can be auto-accepted, judged by the grader's confidence.

A team does not need the model to be right everywhere: it needs to know *where* it is
right. If grades above some confidence agree with humans well enough, those can be
accepted and only the rest reviewed. This module measures that trade-off:

* the **coverage table**: for each confidence threshold, the share of grades that would
  be auto-accepted (confidence >= threshold) and the agreement on that accepted part;
* the **risk-coverage curve**: risk (1 - exact agreement) of the accepted part as the
  threshold sweeps every observed confidence, and its area (AURC, lower is better);
* the **AUROC of confidence for predicting disagreement**: the chance that a random
  grade the humans disagreed with carries *lower* confidence than a random one they
  agreed with (ties count half). 0.5 means confidence says nothing; 1.0 means every
  disagreement is below every agreement;
* the **recommended threshold** for a target kappa: the lowest threshold (so the most
  auto-accepted) whose accepted grades reach the target QWK with enough of them to mean
  something. It is what a rubric's ``review_threshold`` (per criterion) or
  ``review.confidence_threshold`` (whole rubric) can adopt.

A grade without a confidence is treated as confidence 0: unknown confidence is no
confidence, so it is auto-accepted only at threshold 0 (where everything is).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.metrics import roc_auc_score

from .metrics import adjacent_agreement, exact_agreement, quadratic_kappa

#: The thresholds of the coverage table (the recommendation searches every observed value).
DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
#: Fewest auto-accepted grades for a threshold to be recommended: a kappa on a handful
#: of items is noise.
DEFAULT_MIN_ACCEPTED = 10


@dataclass(frozen=True)
class ScoredItem:
    """One graded (chat, criterion) with a human consensus: ordinal positions + confidence."""

    criterion: str
    model: int
    human: int
    confidence: float | None

    @property
    def conf(self) -> float:
        return 0.0 if self.confidence is None else float(self.confidence)

    @property
    def agrees(self) -> bool:
        return self.model == self.human


def _macro_qwk(items: Sequence[ScoredItem], n_levels: Mapping[str, int]) -> float | None:
    """Mean over criteria of each criterion's QWK (criteria whose kappa is undefined skipped).

    Criteria have different scales, so their grades are not pooled into one kappa.
    """
    by_crit: dict[str, list[ScoredItem]] = {}
    for it in items:
        by_crit.setdefault(it.criterion, []).append(it)
    kappas = []
    for crit, its in by_crit.items():
        k = quadratic_kappa([i.model for i in its], [i.human for i in its], n_levels[crit])
        if k is not None:
            kappas.append(k)
    return sum(kappas) / len(kappas) if kappas else None


def accepted(items: Iterable[ScoredItem], threshold: float) -> list[ScoredItem]:
    """The grades auto-accepted at ``threshold``: confidence at or above it."""
    return [i for i in items if i.conf >= threshold]


def coverage_row(
    items: Sequence[ScoredItem], n_levels: Mapping[str, int], threshold: float
) -> dict[str, Any]:
    """One line of the coverage table."""
    acc = accepted(items, threshold)
    ms, hs = [i.model for i in acc], [i.human for i in acc]
    return {
        "threshold": threshold,
        "n": len(items),
        "n_accepted": len(acc),
        "coverage": len(acc) / len(items) if items else None,
        "exact_agreement": exact_agreement(ms, hs),
        "adjacent_agreement": adjacent_agreement(ms, hs),
        "qwk": _macro_qwk(acc, n_levels),
    }


def coverage_table(
    items: Sequence[ScoredItem],
    n_levels: Mapping[str, int],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> list[dict[str, Any]]:
    """Share auto-accepted vs agreement on the accepted part, for each threshold.

    ``qwk`` is per criterion then averaged (macro) when ``items`` mix criteria.
    """
    return [coverage_row(items, n_levels, t) for t in thresholds]


def risk_coverage_curve(items: Sequence[ScoredItem]) -> dict[str, Any]:
    """Risk (1 - exact agreement) of the accepted part at every distinct confidence.

    Points go from the highest threshold (least coverage) to the lowest (coverage 1).
    ``aurc`` is the mean risk over the points, weighted by the coverage each adds: the
    area under the curve, lower is better.
    """
    if not items:
        return {"points": [], "aurc": None}
    n = len(items)
    points = []
    for t in sorted({i.conf for i in items}, reverse=True):
        acc = accepted(items, t)
        agree = sum(i.agrees for i in acc)
        points.append({"threshold": t, "coverage": len(acc) / n, "risk": 1 - agree / len(acc)})
    area, prev_cov = 0.0, 0.0
    for p in points:
        area += (p["coverage"] - prev_cov) * p["risk"]
        prev_cov = p["coverage"]
    return {"points": points, "aurc": area}


def disagreement_auroc(items: Sequence[ScoredItem]) -> float | None:
    """AUROC of (low) confidence for predicting a disagreement with the humans.

    None when every grade agrees or every grade disagrees (one class: undefined).
    """
    y = [0 if i.agrees else 1 for i in items]
    if len(set(y)) < 2:
        return None
    return float(roc_auc_score(y, [-i.conf for i in items]))


def recommend_threshold(
    items: Sequence[ScoredItem],
    n_levels: Mapping[str, int],
    target_kappa: float,
    *,
    min_accepted: int = DEFAULT_MIN_ACCEPTED,
) -> dict[str, Any] | None:
    """The lowest confidence threshold whose auto-accepted grades reach ``target_kappa``.

    Candidates are 0 and every observed confidence, lowest first, so the first that
    qualifies auto-accepts the most. It must leave at least ``min_accepted`` grades and
    a defined (macro) QWK at or above the target. None when no threshold does — then the
    grader cannot be trusted on its own at that target, at any confidence.
    """
    candidates = sorted({0.0} | {i.conf for i in items})
    for t in candidates:
        row = coverage_row(items, n_levels, t)
        if row["n_accepted"] < min_accepted:
            break  # higher thresholds accept even fewer
        if row["qwk"] is not None and row["qwk"] >= target_kappa:
            return {
                "target_kappa": target_kappa,
                "threshold": t,
                "coverage": row["coverage"],
                "n_accepted": row["n_accepted"],
                "qwk": row["qwk"],
                "exact_agreement": row["exact_agreement"],
            }
    return None


def selective_report(
    items: Sequence[ScoredItem],
    n_levels: Mapping[str, int],
    *,
    target_kappa: float | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_accepted: int = DEFAULT_MIN_ACCEPTED,
) -> dict[str, Any]:
    """Everything above for one group of grades (one criterion, or all of them)."""
    out: dict[str, Any] = {
        "coverage": coverage_table(items, n_levels, thresholds),
        "risk_coverage": risk_coverage_curve(items),
        "auroc_disagreement": disagreement_auroc(items),
    }
    if target_kappa is not None:
        out["recommended"] = recommend_threshold(
            items, n_levels, target_kappa, min_accepted=min_accepted
        )
    return out
