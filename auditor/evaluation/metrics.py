"""Agreement statistics between the model and human raters. Pure: lists in, numbers out.

Ratings are *ordinal positions*: ``0`` is the criterion's worst level and ``n_levels - 1``
its best, in the order of ``Criterion.ordered_levels`` (levels sorted by points). The
harness turns level ids into positions; nothing here knows about rubrics or chats.

The statistics come from the established libraries (scikit-learn's ``cohen_kappa_score``,
``krippendorff.alpha``, ``scipy.stats.spearmanr``) so that our figures match what anyone
recomputing them would get. This module only decides the conventions around them:

* **Undefined is ``None``, never a number.** A kappa is undefined when the expected
  disagreement is zero, e.g. when every item sits at one single level for both sides;
  scikit-learn would return NaN (and warn) and Krippendorff's alpha divides by zero. We
  return ``None`` so that JSON shows ``null``, tables show "n/a" and a CI gate fails
  rather than passing on a meaningless figure. Exact agreement is still reported.
* **Missing ratings are ``None``** and are left out pairwise: an item counts for a metric
  only when both sides rated it.
* **Mean signed error is model minus human, in level steps:** positive means the model
  is more lenient (gives better levels) than the humans.
* **The median of an even number of human levels is the lower middle value**
  (``statistics.median_low``): it is always a level some rater actually gave, and when
  raters split evenly the stricter reading wins, as a QA team would rather look at a chat
  twice than wave it through.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

#: Metrics that get a bootstrap confidence interval, by their key in the JSON report.
BOOTSTRAP_METRICS: tuple[str, ...] = (
    "exact_agreement",
    "adjacent_agreement",
    "qwk",
    "krippendorff_alpha",
    "mean_signed_error",
)
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20261122

Pair = tuple[int, int]


def _finite_or_none(x: float) -> float | None:
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def paired(model: Sequence[int | None], human: Sequence[int | None]) -> list[Pair]:
    """The (model, human) pairs where both sides gave a level; missing ones are dropped."""
    if len(model) != len(human):
        raise ValueError(f"model has {len(model)} ratings but human has {len(human)}")
    return [(m, h) for m, h in zip(model, human, strict=True) if m is not None and h is not None]


def exact_agreement(model: Sequence[int], human: Sequence[int]) -> float | None:
    """Share of items where the model gave exactly the human level; None with no items."""
    if not model:
        return None
    return sum(m == h for m, h in zip(model, human, strict=True)) / len(model)


def adjacent_agreement(
    model: Sequence[int], human: Sequence[int], tolerance: int = 1
) -> float | None:
    """Share of items where the model is within ``tolerance`` levels of the human."""
    if not model:
        return None
    return sum(abs(m - h) <= tolerance for m, h in zip(model, human, strict=True)) / len(model)


def mean_signed_error(model: Sequence[int], human: Sequence[int]) -> float | None:
    """Mean of (model - human) in level steps; positive = the model is more lenient."""
    if not model:
        return None
    return sum(m - h for m, h in zip(model, human, strict=True)) / len(model)


def quadratic_kappa(a: Sequence[int], b: Sequence[int], n_levels: int) -> float | None:
    """Quadratic-weighted Cohen's kappa on the full scale ``0..n_levels-1``.

    ``labels`` is the whole scale, so a level nobody used still counts in the weights
    (a 0-vs-2 disagreement on a 3-level scale is the maximum, whatever the data hold).
    Undefined (None) when the expected disagreement is zero, e.g. a single level.
    """
    if len(a) < 1:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = cohen_kappa_score(
            list(a),
            list(b),
            labels=list(range(n_levels)),
            weights="quadratic",
            replace_undefined_by=np.nan,
        )
    return _finite_or_none(k)


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Unweighted Cohen's kappa (for pass/fail); None when undefined."""
    if len(a) < 1:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = cohen_kappa_score(list(a), list(b), replace_undefined_by=np.nan)
    return _finite_or_none(k)


def krippendorff_ordinal(ratings: Sequence[Sequence[int | None]], n_levels: int) -> float | None:
    """Krippendorff's alpha, ordinal, over a raters x items table (None = not rated).

    ``value_domain`` is the whole scale so unused levels still space the ordinal metric.
    Units rated by fewer than two raters carry no pairable values and are ignored by the
    library. Undefined (None) when there is no pairable value or no disagreement is
    possible (every pairable value is the same level).
    """
    data = np.array(
        [[np.nan if v is None else float(v) for v in row] for row in ratings], dtype=float
    )
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 1:
        return None
    pairable = np.sum(~np.isnan(data), axis=0) >= 2
    values = data[:, pairable]
    values = values[~np.isnan(values)]
    if values.size == 0 or np.unique(values).size < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = krippendorff.alpha(
                reliability_data=data,
                level_of_measurement="ordinal",
                value_domain=list(range(n_levels)),
            )
        except (ValueError, ZeroDivisionError):
            return None
    return _finite_or_none(a)


def confusion(model: Sequence[int], human: Sequence[int], n_levels: int) -> list[list[int]]:
    """Counts ``[human][model]``: rows are the human level, columns the model level."""
    table = [[0] * n_levels for _ in range(n_levels)]
    for m, h in zip(model, human, strict=True):
        table[h][m] += 1
    return table


def median_level(levels: Sequence[int]) -> int:
    """The per-item human consensus: the median level, the lower middle one for even counts."""
    if not levels:
        raise ValueError("median of no levels")
    return int(statistics.median_low(levels))


def median_score(scores: Sequence[float]) -> float | None:
    """The consensus total score: the ordinary median (mean of the middle two when even)."""
    return float(statistics.median(scores)) if scores else None


def majority_pass(votes: Sequence[bool]) -> bool | None:
    """Consensus pass/fail: the majority; a tie counts as *not passed* (the stricter side,
    matching the low-median rule for levels)."""
    if not votes:
        return None
    return sum(votes) * 2 > len(votes)


def ordinal_metrics(model: Sequence[int], human: Sequence[int], n_levels: int) -> dict[str, Any]:
    """Every model-vs-human point metric on complete pairs (no bootstrap)."""
    return {
        "exact_agreement": exact_agreement(model, human),
        "adjacent_agreement": adjacent_agreement(model, human),
        "qwk": quadratic_kappa(model, human, n_levels),
        "krippendorff_alpha": krippendorff_ordinal([model, human], n_levels),
        "mean_signed_error": mean_signed_error(model, human),
    }


def bootstrap_cis(
    model: Sequence[int],
    human: Sequence[int],
    n_levels: int,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> dict[str, list[float] | None]:
    """95% CIs for each of ``BOOTSTRAP_METRICS``; every metric sees the same resamples."""
    if len(model) < 2 or n_boot < 1:
        return dict.fromkeys(BOOTSTRAP_METRICS)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in BOOTSTRAP_METRICS}
    m_arr, h_arr = np.asarray(model), np.asarray(human)
    n = len(model)
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        vals = ordinal_metrics(m_arr[idx].tolist(), h_arr[idx].tolist(), n_levels)
        for k in BOOTSTRAP_METRICS:
            if vals[k] is not None:
                draws[k].append(vals[k])
    out: dict[str, list[float] | None] = {}
    for k, vs in draws.items():
        if vs:
            lo, hi = np.percentile(vs, [2.5, 97.5])
            out[k] = [float(lo), float(hi)]
        else:
            out[k] = None
    return out


def mean_pairwise_qwk(ratings: Mapping[str, Sequence[int | None]], n_levels: int) -> float | None:
    """Human-vs-human: the mean quadratic kappa over every pair of raters.

    ``ratings`` maps a rater to their levels on the same items (None = did not rate).
    A pair counts when both rated at least two common items and their kappa is defined;
    None when no pair counts.
    """
    kappas: list[float] = []
    for r1, r2 in combinations(sorted(ratings), 2):
        pairs = paired(ratings[r1], ratings[r2])
        if len(pairs) < 2:
            continue
        k = quadratic_kappa([p[0] for p in pairs], [p[1] for p in pairs], n_levels)
        if k is not None:
            kappas.append(k)
    return sum(kappas) / len(kappas) if kappas else None


def leave_one_out_qwk(ratings: Mapping[str, Sequence[int | None]], n_levels: int) -> float | None:
    """Mean over raters of QWK(rater, low median of the *other* raters), item by item.

    The like-for-like ceiling for the model, which is scored against a median too: how
    well does one human agree with the consensus of the rest? Items where the rater or
    all the others are missing are skipped; None when no rater has a defined kappa.
    """
    raters = sorted(ratings)
    if len(raters) < 2:
        return None
    n_items = len(ratings[raters[0]])
    kappas: list[float] = []
    for r in raters:
        mine, rest = [], []
        for i in range(n_items):
            v = ratings[r][i]
            others = [x for o in raters if o != r and (x := ratings[o][i]) is not None]
            if v is not None and others:
                mine.append(v)
                rest.append(median_level(others))
        if len(mine) >= 2 and (k := quadratic_kappa(mine, rest, n_levels)) is not None:
            kappas.append(k)
    return sum(kappas) / len(kappas) if kappas else None


def human_human(ratings: Mapping[str, Sequence[int | None]], n_levels: int) -> dict[str, Any]:
    """The ceiling: mean pairwise QWK and Krippendorff's alpha over all raters, plus each
    rater against the median of the others (``qwk_vs_median``)."""
    raters = sorted(ratings)
    return {
        "n_raters": len(raters),
        "qwk": mean_pairwise_qwk(ratings, n_levels),
        "qwk_vs_median": leave_one_out_qwk(ratings, n_levels),
        "krippendorff_alpha": krippendorff_ordinal([ratings[r] for r in raters], n_levels)
        if len(raters) >= 2
        else None,
    }


def total_score_metrics(model: Sequence[float | None], human: Sequence[float | None]) -> dict:
    """Total score: mean absolute error (points) and Spearman's rho, on complete pairs."""
    pairs = [(m, h) for m, h in zip(model, human, strict=True) if m is not None and h is not None]
    if not pairs:
        return {"n": 0, "mae": None, "spearman": None}
    ms, hs = [p[0] for p in pairs], [p[1] for p in pairs]
    mae = sum(abs(m - h) for m, h in pairs) / len(pairs)
    rho: float | None = None
    if len(pairs) >= 2 and len(set(ms)) > 1 and len(set(hs)) > 1:
        rho = _finite_or_none(spearmanr(ms, hs).statistic)
    return {"n": len(pairs), "mae": mae, "spearman": rho}


def pass_fail_metrics(model: Sequence[bool | None], human: Sequence[bool | None]) -> dict:
    """Pass/fail: accuracy and unweighted Cohen's kappa, on complete pairs."""
    pairs = [(m, h) for m, h in zip(model, human, strict=True) if m is not None and h is not None]
    if not pairs:
        return {"n": 0, "accuracy": None, "kappa": None}
    ms, hs = [bool(p[0]) for p in pairs], [bool(p[1]) for p in pairs]
    return {
        "n": len(pairs),
        "accuracy": sum(m == h for m, h in zip(ms, hs, strict=True)) / len(pairs),
        "kappa": cohen_kappa(ms, hs),
    }
