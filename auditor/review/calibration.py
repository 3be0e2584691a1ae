"""Calibration (校准): reviewer-vs-reviewer agreement on items several reviewers scored,
and live model-vs-human pairs for ``auditor agreement``."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

from ..rubric import Rubric

if TYPE_CHECKING:
    from ..store import Store

# ---------------------------------------------------------------------------- calibration


@dataclass
class PairAgreement:
    reviewer_a: str
    reviewer_b: str
    n: int  # items both scored
    exact_agreement: float
    kappa: float | None  # Cohen's kappa (unweighted); None when undefined (one label only)


@dataclass
class CriterionCalibration:
    rubric_name: str
    criterion: str
    n_items: int  # items scored by at least two reviewers
    reviewers: list[str]
    pairs: list[PairAgreement]
    exact_agreement: float | None  # pooled over every reviewer pair and item
    mean_kappa: float | None  # mean of the defined pairwise kappas
    disagreements: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Unweighted Cohen's kappa (scikit-learn); None where it is undefined."""
    import math

    from sklearn.metrics import cohen_kappa_score

    if not a:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = float(cohen_kappa_score(a, b, replace_undefined_by=float("nan")))
    return None if math.isnan(k) else k


def calibration_report(
    store: Store,
    *,
    rubric_name: str | None = None,
    criterion: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[CriterionCalibration]:
    """Reviewer-vs-reviewer agreement on items several reviewers scored (校准).

    Each reviewer's latest level per (chat, criterion) counts; ``since``/``until`` are review
    days (UTC), so a calibration session is the reviews given in its window.
    """
    rows = store.reviews(rubric_name=rubric_name, since=since, until=until)
    return calibration_from_reviews(rows, criterion=criterion)


def calibration_from_reviews(
    rows: Iterable[dict[str, Any]], *, criterion: str | None = None
) -> list[CriterionCalibration]:
    """The calibration figures over these review rows (oldest first), e.g. one session's."""
    latest: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for r in rows:
        if criterion is None or r["criterion"] == criterion:
            latest[(r["rubric_name"], r["criterion"], r["chat_id"])][r["reviewer"]] = r["level"]
    by_crit: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for (rub, crit, chat_id), levels in latest.items():
        if len(levels) >= 2:
            by_crit[(rub, crit)].append((chat_id, levels))
    out = []
    for (rub, crit), items in sorted(by_crit.items()):
        items.sort()
        reviewers = sorted({name for _, levels in items for name in levels})
        pairs: list[PairAgreement] = []
        for a, b in combinations(reviewers, 2):
            common = [(lv[a], lv[b]) for _, lv in items if a in lv and b in lv]
            if not common:
                continue
            xs, ys = [x for x, _ in common], [y for _, y in common]
            agree = sum(x == y for x, y in common) / len(common)
            pairs.append(PairAgreement(a, b, len(common), agree, cohen_kappa(xs, ys)))
        n_pairs = sum(p.n for p in pairs)
        kappas = [p.kappa for p in pairs if p.kappa is not None]
        out.append(
            CriterionCalibration(
                rubric_name=rub,
                criterion=crit,
                n_items=len(items),
                reviewers=reviewers,
                pairs=pairs,
                exact_agreement=(
                    sum(p.exact_agreement * p.n for p in pairs) / n_pairs if n_pairs else None
                ),
                mean_kappa=sum(kappas) / len(kappas) if kappas else None,
                disagreements=[(c, lv) for c, lv in items if len(set(lv.values())) > 1],
            )
        )
    return out


# ---------------------------------------------------------------------------- live agreement

#: (criterion, model level or "na" or None for unscored, human level, model confidence)
LivePair = tuple[str, str | None, str | None, float | None]


def live_pairs(
    store: Store, *, since: str | None = None, until: str | None = None
) -> dict[str, tuple[Rubric, list[LivePair]]]:
    """Model grade vs the latest human review, per rubric, for every reviewed graded criterion.

    ``since``/``until`` select by the day (UTC) of that latest review. Check criteria are
    left out: they are deterministic, and a reviewer overriding one is a bug report, not a
    disagreement to measure. Each rubric name comes with the newest rubric version audited.
    """
    out: dict[str, tuple[Rubric, list[LivePair]]] = {}
    for row in store.reviewed_grades(since=since, until=until):
        name = row["rubric_name"]
        if name not in out:
            out[name] = (store.stored_rubric(store.newest_rubric_hash(name)), [])
        model: str | None
        if row["status"] == "scored":
            model = row["model_level"]
        elif row["status"] == "na":
            model = "na"
        else:
            model = None
        out[name][1].append((row["criterion"], model, row["level"], row["confidence"]))
    return out
