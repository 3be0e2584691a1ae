"""Selective prediction: the coverage table, risk-coverage, AUROC and the recommended threshold."""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from auditor.evaluation.selective import (
    ScoredItem,
    coverage_table,
    disagreement_auroc,
    recommend_threshold,
    risk_coverage_curve,
)

N_LEVELS = {"c": 3}
# (model, human, confidence): agreements at 0.9, 0.8, 0.6; disagreements at 0.7, 0.3.
ITEMS = [
    ScoredItem("c", 2, 2, 0.9),
    ScoredItem("c", 0, 0, 0.8),
    ScoredItem("c", 2, 1, 0.7),
    ScoredItem("c", 1, 1, 0.6),
    ScoredItem("c", 0, 2, 0.3),
]


def test_coverage_table_by_hand():
    rows = {r["threshold"]: r for r in coverage_table(ITEMS, N_LEVELS, [0.0, 0.65, 0.85, 0.95])}
    # threshold 0: all 5 accepted, 3 agree -> 0.6; within one level: all but (0,2) -> 0.8
    assert rows[0.0]["n_accepted"] == 5 and rows[0.0]["coverage"] == 1.0
    assert rows[0.0]["exact_agreement"] == pytest.approx(0.6)
    assert rows[0.0]["adjacent_agreement"] == pytest.approx(0.8)
    # 0.65: 0.9, 0.8, 0.7 accepted -> 3/5; 2 of 3 agree
    assert rows[0.65]["coverage"] == pytest.approx(0.6)
    assert rows[0.65]["exact_agreement"] == pytest.approx(2 / 3)
    # 0.65 QWK on (2,2),(0,0),(2,1): observed 1/4 weighted; marginals human (1,1,1),
    # model (1,0,2): expected 2/3 + 1/4 + 1/3 = 5/4 -> 1 - (1/4)/(5/4) = 0.8
    assert rows[0.65]["qwk"] == pytest.approx(0.8)
    # 0.85: only the 0.9 item -> one level on both sides -> QWK undefined
    assert rows[0.85]["n_accepted"] == 1 and rows[0.85]["exact_agreement"] == 1.0
    assert rows[0.85]["qwk"] is None
    # 0.95: nothing accepted
    assert rows[0.95]["n_accepted"] == 0 and rows[0.95]["exact_agreement"] is None


def test_missing_confidence_counts_as_zero():
    items = [ScoredItem("c", 1, 1, None), ScoredItem("c", 1, 1, 0.5)]
    rows = coverage_table(items, N_LEVELS, [0.0, 0.1])
    assert [r["n_accepted"] for r in rows] == [2, 1]


def test_risk_coverage_curve_by_hand():
    curve = risk_coverage_curve(ITEMS)
    got = [(p["threshold"], p["coverage"], p["risk"]) for p in curve["points"]]
    # top-k by confidence: agree, agree, disagree, agree, disagree
    expected = [
        (0.9, 0.2, 0.0),
        (0.8, 0.4, 0.0),
        (0.7, 0.6, 1 / 3),
        (0.6, 0.8, 0.25),
        (0.3, 1.0, 0.4),
    ]
    for (t, c, r), (et, ec, er) in zip(got, expected, strict=True):
        assert (t, c) == pytest.approx((et, ec)) and r == pytest.approx(er)
    # AURC = 0.2 * (0 + 0 + 1/3 + 1/4 + 2/5) = 0.2 * 59/60 = 59/300
    assert curve["aurc"] == pytest.approx(59 / 300)


def test_auroc_by_hand_and_against_sklearn():
    # agreeing confidences {0.9, 0.8, 0.6} vs disagreeing {0.7, 0.3}: of the 6 pairs the
    # agreeing one is higher in 5 (all but 0.6 < 0.7) -> 5/6
    assert disagreement_auroc(ITEMS) == pytest.approx(5 / 6)
    assert disagreement_auroc(ITEMS) == pytest.approx(
        roc_auc_score([1, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.3])
    )


def test_auroc_undefined_with_one_class():
    assert disagreement_auroc([ScoredItem("c", 1, 1, 0.5), ScoredItem("c", 2, 2, 0.2)]) is None


def test_recommended_threshold_is_the_lowest_reaching_the_target():
    # thresholds tried: 0 (QWK on all five), 0.3 (same set), 0.6 (four items), 0.7 ...
    # all five: (2,2),(0,0),(2,1),(1,1),(0,2); at 0.6 the (0,2) item is dropped.
    # at 0.6: pairs (m,h) (2,2),(0,0),(2,1),(1,1): observed 1/4; human (1,2,1) model (1,1,2):
    #   expected row0 1/4*1/4 + 2/4*1 = 9/16; row1 (2*1/4)/4 + (2*2/4)/4 = 3/8;
    #   row2 1/4*1 + 1/4*1/4 = 5/16 -> 5/4; QWK = 1 - (1/4)/(5/4) = 0.8
    rec = recommend_threshold(ITEMS, N_LEVELS, 0.75, min_accepted=2)
    assert rec is not None
    assert rec["threshold"] == pytest.approx(0.6)
    assert rec["coverage"] == pytest.approx(0.8)
    assert rec["qwk"] == pytest.approx(0.8)


def test_no_recommendation_when_too_few_items_or_unreachable():
    assert recommend_threshold(ITEMS, N_LEVELS, 0.75, min_accepted=10) is None
    # min 3 accepted: 0.6 (QWK 0.8) and 0.7 (three items, QWK 0.8 as in the coverage
    # table) fall short of 0.99, and 0.8 leaves only two items -> no threshold
    assert recommend_threshold(ITEMS, N_LEVELS, 0.99, min_accepted=3) is None
    # with two items allowed, 0.8 accepts (2,2),(0,0): QWK 1
    assert recommend_threshold(ITEMS, N_LEVELS, 0.99, min_accepted=2)["threshold"] == 0.8


def test_macro_qwk_does_not_pool_criteria():
    # criterion a agrees perfectly on two levels (QWK 1); b is the 0.8 example above
    items = [ScoredItem("a", 0, 0, 1.0), ScoredItem("a", 1, 1, 1.0)] + [
        ScoredItem("b", i.model, i.human, i.confidence) for i in ITEMS[:3]
    ]
    row = coverage_table(items, {"a": 2, "b": 3}, [0.0])[0]
    assert row["qwk"] == pytest.approx((1.0 + 0.8) / 2)
