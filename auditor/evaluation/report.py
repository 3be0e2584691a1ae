"""Model-vs-human agreement reports: from per-criterion ratings to the JSON/table a team reads.

The same builder serves the gold-set eval (``auditor eval``) and live agreement on the
review queue (``auditor agreement``): both end up as, per criterion, a list of items with
the model's level, the raters' levels and the model's confidence.

Conventions (documented in docs/evaluation.md):

* ``unscored`` model grades (grader failures) are counted and left out of every metric.
* ``na``: the human consensus is "not applicable" when more than half of the raters who
  rated the criterion said ``na``; otherwise it is the low median of the levels given.
  Items where either side is ``na`` are counted under ``na`` and left out of the ordinal
  metrics (n/a is not a point on the scale).
* Overall figures: exact/adjacent agreement and mean signed error are pooled over every
  (chat, criterion) pair; kappa and alpha are the mean of the per-criterion values
  (criteria have different scales, so their levels are not pooled into one kappa).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from . import metrics as M
from .selective import DEFAULT_THRESHOLDS, ScoredItem, selective_report

NA = "na"
UNSCORED = "unscored"


@dataclass
class CriterionItems:
    """Everything rated for one criterion, item by item (parallel lists).

    ``model[i]`` is an ordinal position, ``"na"``, or ``"unscored"``; ``humans[i]`` maps
    each rater who rated item i to a position or ``"na"``.
    """

    criterion: str
    levels: list[str]  # level ids, worst to best
    title: str = ""
    model: list[int | str] = field(default_factory=list)
    humans: list[dict[str, int | str]] = field(default_factory=list)
    confidence: list[float | None] = field(default_factory=list)

    def add(
        self, model: int | str, humans: Mapping[str, int | str], confidence: float | None
    ) -> None:
        self.model.append(model)
        self.humans.append(dict(humans))
        self.confidence.append(confidence)


def human_consensus(ratings: Mapping[str, int | str]) -> int | str | None:
    """The per-item human value: ``na`` by strict majority, else the low median level."""
    if not ratings:
        return None
    values = list(ratings.values())
    n_na = sum(v == NA for v in values)
    if n_na * 2 > len(values):
        return NA
    return M.median_level([v for v in values if isinstance(v, int)])


class HumanHuman(BaseModel):
    qwk: float | None = None
    krippendorff_alpha: float | None = None
    n_raters: int = 0
    qwk_vs_median: float | None = None  # each rater vs the low median of the others


class CriterionReport(BaseModel):
    n: int  # (model level, human level) pairs in the ordinal metrics
    unscored: int
    exact_agreement: float | None
    adjacent_agreement: float | None
    qwk: float | None
    krippendorff_alpha: float | None
    mean_signed_error: float | None
    ci95: dict[str, list[float] | None]
    confusion: dict[str, dict[str, int]]  # human level -> model level -> count
    human_human: HumanHuman
    # extras
    title: str = ""
    levels: list[str] = Field(default_factory=list)
    n_items: int = 0  # items with a human rating for this criterion
    na: dict[str, int] = Field(default_factory=dict)
    selective: dict[str, Any] = Field(default_factory=dict)


def criterion_report(
    items: CriterionItems,
    *,
    n_boot: int = M.DEFAULT_BOOTSTRAP,
    seed: int = M.DEFAULT_SEED,
    target_kappa: float | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_accepted: int | None = None,
) -> tuple[CriterionReport, list[ScoredItem]]:
    """All metrics for one criterion, plus its graded pairs for the pooled coverage table."""
    k = len(items.levels)
    pairs_m: list[int] = []
    pairs_h: list[int] = []
    scored: list[ScoredItem] = []
    na = {"model_na_human_level": 0, "human_na_model_level": 0, "both_na": 0}
    unscored = n_items = 0
    for model, humans, conf in zip(items.model, items.humans, items.confidence, strict=True):
        consensus = human_consensus(humans)
        if consensus is None:
            continue
        n_items += 1
        if model == UNSCORED:
            unscored += 1
        elif model == NA and consensus == NA:
            na["both_na"] += 1
        elif model == NA:
            na["model_na_human_level"] += 1
        elif consensus == NA:
            na["human_na_model_level"] += 1
        else:
            assert isinstance(model, int) and isinstance(consensus, int)
            pairs_m.append(model)
            pairs_h.append(consensus)
            scored.append(ScoredItem(items.criterion, model, consensus, conf))

    point = M.ordinal_metrics(pairs_m, pairs_h, k)
    matrix = M.confusion(pairs_m, pairs_h, k)
    confusion = {
        items.levels[h]: {items.levels[m]: matrix[h][m] for m in range(k)} for h in range(k)
    }
    raters = sorted({r for humans in items.humans for r in humans})
    table = {
        r: [v if isinstance(v := humans.get(r), int) else None for humans in items.humans]
        for r in raters
    }
    hh = M.human_human(table, k) if len(raters) >= 2 else {"n_raters": len(raters)}
    sel_kwargs: dict[str, Any] = {"target_kappa": target_kappa, "thresholds": thresholds}
    if min_accepted is not None:
        sel_kwargs["min_accepted"] = min_accepted
    sel = selective_report(scored, {items.criterion: k}, **sel_kwargs)
    report = CriterionReport(
        n=len(pairs_m),
        unscored=unscored,
        ci95=M.bootstrap_cis(pairs_m, pairs_h, k, n_boot=n_boot, seed=seed),
        confusion=confusion,
        human_human=HumanHuman(**hh),
        title=items.title,
        levels=items.levels,
        n_items=n_items,
        na=na,
        selective={
            "auroc_disagreement": sel["auroc_disagreement"],
            "aurc": sel["risk_coverage"]["aurc"],
            "recommended": sel.get("recommended"),
        },
        **point,
    )
    return report, scored


def _mean(values: Sequence[float | None]) -> float | None:
    vs = [v for v in values if v is not None]
    return sum(vs) / len(vs) if vs else None


def overall_metrics(
    criteria: Mapping[str, CriterionReport], scored: Sequence[ScoredItem]
) -> dict[str, Any]:
    """Whole-rubric figures: pooled rates over every pair, macro-averaged kappa/alpha."""
    ms, hs = [s.model for s in scored], [s.human for s in scored]
    return {
        "n": len(scored),
        "unscored": sum(c.unscored for c in criteria.values()),
        "exact_agreement": M.exact_agreement(ms, hs),
        "adjacent_agreement": M.adjacent_agreement(ms, hs),
        "mean_signed_error": M.mean_signed_error(ms, hs),
        "qwk": _mean([c.qwk for c in criteria.values()]),
        "krippendorff_alpha": _mean([c.krippendorff_alpha for c in criteria.values()]),
        "human_human": {
            "qwk": _mean([c.human_human.qwk for c in criteria.values()]),
            "krippendorff_alpha": _mean(
                [c.human_human.krippendorff_alpha for c in criteria.values()]
            ),
            "qwk_vs_median": _mean([c.human_human.qwk_vs_median for c in criteria.values()]),
        },
    }


class AgreementReport(BaseModel):
    """Model-vs-human agreement, per criterion and overall (the shared part of every report)."""

    n_items: int
    criteria: dict[str, CriterionReport]
    total_score: dict[str, Any] = Field(default_factory=lambda: {"mae": None, "spearman": None})
    pass_fail: dict[str, Any] = Field(default_factory=lambda: {"accuracy": None, "kappa": None})
    coverage: list[dict[str, Any]] = Field(default_factory=list)
    # extras
    overall: dict[str, Any] = Field(default_factory=dict)
    risk_coverage: dict[str, Any] = Field(default_factory=dict)
    auroc_disagreement: float | None = None
    recommended_threshold: dict[str, Any] | None = None
    target_kappa: float | None = None
    n_boot: int = M.DEFAULT_BOOTSTRAP
    seed: int = M.DEFAULT_SEED

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def dumps(self) -> str:
        return orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2).decode()


def build_agreement(
    per_criterion: Sequence[CriterionItems],
    *,
    n_items: int,
    model_scores: Sequence[float | None] = (),
    human_scores: Sequence[float | None] = (),
    model_passed: Sequence[bool | None] = (),
    human_passed: Sequence[bool | None] = (),
    n_boot: int = M.DEFAULT_BOOTSTRAP,
    seed: int = M.DEFAULT_SEED,
    target_kappa: float | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_accepted: int | None = None,
) -> dict[str, Any]:
    """The fields of an AgreementReport (returned as a dict so EvalReport can extend it)."""
    criteria: dict[str, CriterionReport] = {}
    scored: list[ScoredItem] = []
    for items in per_criterion:
        rep, sc = criterion_report(
            items,
            n_boot=n_boot,
            seed=seed,
            target_kappa=target_kappa,
            thresholds=thresholds,
            min_accepted=min_accepted,
        )
        criteria[items.criterion] = rep
        scored.extend(sc)
    n_levels = {c.criterion: len(c.levels) for c in per_criterion}
    sel_kwargs: dict[str, Any] = {"target_kappa": target_kappa, "thresholds": thresholds}
    if min_accepted is not None:
        sel_kwargs["min_accepted"] = min_accepted
    sel = selective_report(scored, n_levels, **sel_kwargs)
    total = M.total_score_metrics(model_scores, human_scores)
    pf = M.pass_fail_metrics(model_passed, human_passed)
    return {
        "n_items": n_items,
        "criteria": criteria,
        "total_score": {"mae": total["mae"], "spearman": total["spearman"], "n": total["n"]},
        "pass_fail": {"accuracy": pf["accuracy"], "kappa": pf["kappa"], "n": pf["n"]},
        "coverage": sel["coverage"],
        "overall": overall_metrics(criteria, scored),
        "risk_coverage": sel["risk_coverage"],
        "auroc_disagreement": sel["auroc_disagreement"],
        "recommended_threshold": sel.get("recommended"),
        "target_kappa": target_kappa,
        "n_boot": n_boot,
        "seed": seed,
    }


# ---- rendering ---------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _with_ci(x: float | None, ci: list[float] | None) -> str:
    if x is None:
        return "n/a"
    if not ci:
        return fmt(x)
    return f"{x:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def render_agreement(
    report: AgreementReport, console: Console, *, show_confusion: bool = False
) -> None:
    """The human-readable form: one table per criterion row, then totals and coverage."""
    t = Table(title="Model vs human (per criterion; 95% bootstrap CIs)")
    for col in ("criterion", "n", "unscored", "exact", "±1", "QWK", "α ordinal", "leniency"):
        t.add_column(col, justify="left" if col == "criterion" else "right")
    t.add_column("human-human QWK / α / vs median", justify="right")
    for cid, c in report.criteria.items():
        hh = c.human_human
        t.add_row(
            cid,
            str(c.n),
            str(c.unscored),
            _with_ci(c.exact_agreement, c.ci95.get("exact_agreement")),
            fmt(c.adjacent_agreement),
            _with_ci(c.qwk, c.ci95.get("qwk")),
            _with_ci(c.krippendorff_alpha, c.ci95.get("krippendorff_alpha")),
            f"{c.mean_signed_error:+.2f}" if c.mean_signed_error is not None else "n/a",
            f"{fmt(hh.qwk)} / {fmt(hh.krippendorff_alpha)} / {fmt(hh.qwk_vs_median)}"
            if hh.n_raters >= 2
            else "1 rater",
        )
    o = report.overall
    if o:
        ohh = o.get("human_human", {})
        t.add_row(
            "[bold]overall[/bold]",
            str(o.get("n", 0)),
            str(o.get("unscored", 0)),
            fmt(o.get("exact_agreement")),
            fmt(o.get("adjacent_agreement")),
            fmt(o.get("qwk")),
            fmt(o.get("krippendorff_alpha")),
            f"{o['mean_signed_error']:+.2f}" if o.get("mean_signed_error") is not None else "n/a",
            f"{fmt(ohh.get('qwk'))} / {fmt(ohh.get('krippendorff_alpha'))}"
            f" / {fmt(ohh.get('qwk_vs_median'))}",
        )
    console.print(t)
    console.print(
        "model vs the per-item median human level. leniency = mean (model − human) in level"
        " steps, positive: the model grades more kindly. human-human: mean pairwise QWK,"
        " Krippendorff's α over all raters, and each rater vs the median of the others"
        " (the like-for-like ceiling)."
    )
    ts, pf = report.total_score, report.pass_fail
    console.print(
        f"total score: MAE {fmt(ts.get('mae'), 1)} points, Spearman {fmt(ts.get('spearman'))}"
        f" (n={ts.get('n', 0)});  pass/fail: accuracy {fmt(pf.get('accuracy'))},"
        f" kappa {fmt(pf.get('kappa'))} (n={pf.get('n', 0)})"
    )
    if show_confusion:
        for cid, c in report.criteria.items():
            ct = Table(title=f"{cid}: rows human, columns model")
            ct.add_column("human \\ model")
            for lv in c.levels:
                ct.add_column(lv, justify="right")
            for h, row in c.confusion.items():
                ct.add_row(h, *(str(row[m]) for m in c.levels))
            console.print(ct)
    if report.coverage:
        cov = Table(title="Selective prediction: auto-accept grades with confidence ≥ threshold")
        for col in ("threshold", "accepted", "coverage", "exact", "±1", "QWK (macro)"):
            cov.add_column(col, justify="right")
        for row in report.coverage:
            cov.add_row(
                f"{row['threshold']:.1f}",
                f"{row['n_accepted']}/{row['n']}",
                fmt(row["coverage"]),
                fmt(row["exact_agreement"]),
                fmt(row["adjacent_agreement"]),
                fmt(row["qwk"]),
            )
        console.print(cov)
        console.print(
            f"AUROC of confidence for predicting disagreement: {fmt(report.auroc_disagreement)}"
            " (0.5 = confidence tells nothing)"
        )
    if report.target_kappa is not None:
        rec = report.recommended_threshold
        if rec:
            console.print(
                f"target QWK {report.target_kappa:g}: auto-accept confidence ≥ {rec['threshold']:.3g}"
                f" (coverage {rec['coverage']:.0%}, QWK {rec['qwk']:.2f})"
            )
        else:
            console.print(
                f"target QWK {report.target_kappa:g}: no confidence threshold reaches it;"
                " review everything this grader scores"
            )
        for cid, c in report.criteria.items():
            r = c.selective.get("recommended")
            if r:
                console.print(f"  {cid}: review_threshold {r['threshold']:.3g}")
