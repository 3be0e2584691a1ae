"""Agreement metrics on hand-computed examples, cross-checked against the libraries' conventions."""

from __future__ import annotations

import pytest

from auditor.evaluation import metrics as M

# The running example: a 3-level scale (0 worst .. 2 best), six items.
HUMAN = [0, 1, 2, 2, 1, 0]
MODEL = [0, 2, 2, 1, 1, 1]


def test_exact_adjacent_and_signed_error():
    # equal at items 0, 2, 4 -> 3/6
    assert M.exact_agreement(MODEL, HUMAN) == pytest.approx(0.5)
    # differences 0,1,0,1,0,1 are all within one level -> 6/6
    assert M.adjacent_agreement(MODEL, HUMAN) == pytest.approx(1.0)
    # model - human = 0,+1,0,-1,0,+1 -> 1/6 (slightly lenient)
    assert M.mean_signed_error(MODEL, HUMAN) == pytest.approx(1 / 6)


def test_confusion_rows_are_human_columns_model():
    # human 0 -> model 0 (item 0), model 1 (item 5); human 1 -> model 2, 1; human 2 -> model 2, 1
    assert M.confusion(MODEL, HUMAN, 3) == [[1, 1, 0], [0, 1, 1], [0, 1, 1]]


def test_quadratic_kappa_by_hand():
    # weights (i-j)^2/4. Observed weighted disagreement (counts): three off-by-one cells
    # -> 3 * 1/4 = 0.75. Human marginals (2,2,2), model marginals (1,3,2); expected
    # counts E_ij = 2 * m_j / 6 = (1/3, 1, 2/3) in every row; weighted expected sum:
    # row0 1/4*1 + 1*2/3 = 11/12; row1 1/4*1/3 + 1/4*2/3 = 1/4; row2 1*1/3 + 1/4*1 = 7/12
    # -> 21/12 = 1.75. kappa = 1 - 0.75/1.75 = 4/7.
    assert M.quadratic_kappa(MODEL, HUMAN, 3) == pytest.approx(4 / 7)


def test_krippendorff_ordinal_by_hand():
    # Coincidence matrix of the six (model, human) units, each pair counted both ways:
    # o = [[2,1,0],[1,2,2],[0,2,2]], n_c = (3,5,4), n = 12.
    # Ordinal distances: d01 = ((3+5)/2)^2 = 16, d12 = ((5+4)/2)^2 = 20.25,
    # d02 = (12 - (3+4)/2)^2 = 72.25.
    # sum o*d (c != k) = 2*(1*16 + 2*20.25) = 113; sum n_c n_k d = 2*(15*16 + 20*20.25 + 12*72.25) = 3024
    # alpha = 1 - (n-1) * 113 / 3024 = 1 - 1243/3024 = 1781/3024.
    assert M.krippendorff_ordinal([MODEL, HUMAN], 3) == pytest.approx(1781 / 3024)


def test_single_level_makes_kappa_and_alpha_undefined_but_not_agreement():
    same = [1, 1, 1, 1]
    assert M.quadratic_kappa(same, same, 3) is None
    assert M.krippendorff_ordinal([same, same], 3) is None
    assert M.exact_agreement(same, same) == 1.0
    metrics = M.ordinal_metrics(same, same, 3)
    assert metrics["qwk"] is None and metrics["krippendorff_alpha"] is None


def test_one_side_constant_gives_zero_kappa_not_undefined():
    # model always 1; human 0,1,2. Observed weighted: (0,1) 1/4 + (2,1) 1/4 = 1/2.
    # Expected: human marginals (1,1,1), model (0,3,0): E_i1 = 1 for each row; weighted
    # 1/4 + 0 + 1/4 = 1/2. kappa = 1 - 0.5/0.5 = 0.
    assert M.quadratic_kappa([1, 1, 1], [0, 1, 2], 3) == pytest.approx(0.0)


def test_missing_ratings_are_dropped_pairwise():
    assert M.paired([0, None, 2, 1], [0, 1, None, 1]) == [(0, 0), (1, 1)]
    with pytest.raises(ValueError):
        M.paired([0, 1], [0])


def test_empty_inputs_are_none():
    assert M.exact_agreement([], []) is None
    assert M.mean_signed_error([], []) is None
    assert M.quadratic_kappa([], [], 3) is None
    assert M.krippendorff_ordinal([[], []], 3) is None


def test_median_level_ties_take_the_lower_middle():
    assert M.median_level([0, 2]) == 0  # even count, split: the stricter level
    assert M.median_level([2, 1, 1, 2]) == 1  # sorted 1,1,2,2 -> lower middle 1
    assert M.median_level([0, 1, 2]) == 1
    assert M.median_level([2]) == 2
    with pytest.raises(ValueError):
        M.median_level([])


def test_score_median_and_pass_majority():
    assert M.median_score([80, 90]) == 85  # scores are continuous: the usual median
    assert M.median_score([]) is None
    assert M.majority_pass([True, True, False]) is True
    assert M.majority_pass([True, False]) is False  # a tie is not a pass
    assert M.majority_pass([]) is None


def test_human_human_pairwise_kappa_and_alpha_with_a_missing_rating():
    raters = {"r1": [0, 1, 2, 2], "r2": [0, 1, 2, 1], "r3": [0, 2, 2, None]}
    # r1-r2 (4 items): one (2,1) cell -> observed 1/4. Marginals r1 (1,1,2), r2 (1,2,1);
    #   expected weighted: row0 2/4*1/4 + 1/4*1 = 3/8; row1 1/4*1/4 + 1/4*1/4 = 1/8;
    #   row2 2/4*1 + 4/4*1/4 = 3/4 -> 5/4. kappa = 1 - (1/4)/(5/4) = 0.8.
    # r1-r3 and r2-r3 (3 common items, (0,0),(1,2),(2,2)): observed 1/4; marginals
    #   (1,1,1) and (1,0,2): expected 2/3 + 1/4 + 1/3 = 5/4 -> kappa 0.8 each.
    # mean pairwise = 0.8.
    # alpha: units {0,0,0}, {1,1,2}, {2,2,2}, {2,1}; coincidences o00=3, o11=1, o12=o21=2,
    #   o22=3; n_c = (3,3,5), n = 11; d01 = 9, d12 = 16, d02 = 49;
    #   sum o*d = 2*2*16 = 64; sum n n d = 2*(9*9 + 15*16 + 15*49) = 2112;
    #   alpha = 1 - 10*64/2112 = 23/33.
    hh = M.human_human(raters, 3)
    assert hh["n_raters"] == 3
    assert hh["qwk"] == pytest.approx(0.8)
    assert hh["krippendorff_alpha"] == pytest.approx(23 / 33)
    # each rater vs the low median of the others: r1 vs (0,1,2,1) [item 3: only r2 = 1],
    # r2 vs (0,1,2,2) [only r1 = 2], r3 vs (0,1,2) on its three items: the same cells as
    # the pairs above, 0.8 each -> 0.8
    assert hh["qwk_vs_median"] == pytest.approx(0.8)


def test_pairwise_kappa_skips_pairs_without_two_common_items():
    assert M.mean_pairwise_qwk({"a": [0, None], "b": [None, 1]}, 3) is None


def test_total_score_mae_and_spearman_with_ties():
    # |80-85| + |80-90| + |70-60| + |100-95| = 30 -> MAE 7.5
    # ranks model (2.5, 2.5, 1, 4), human (2, 3, 1, 4); deviations from 2.5:
    # (0,0,-1.5,1.5) and (-.5,.5,-1.5,1.5): cov 4.5, var 4.5 and 5 -> rho = 4.5/sqrt(22.5) = sqrt(0.9)
    out = M.total_score_metrics([80, 80, 70, 100, None], [85, 90, 60, 95, 50])
    assert out["n"] == 4
    assert out["mae"] == pytest.approx(7.5)
    assert out["spearman"] == pytest.approx(0.9**0.5)


def test_spearman_undefined_when_a_side_is_constant():
    assert M.total_score_metrics([80, 80], [70, 90])["spearman"] is None


def test_pass_fail_accuracy_and_kappa():
    # agree on 4 of 5 -> 0.8; p_model(T) = 3/5, p_human(T) = 2/5;
    # pe = .6*.4 + .4*.6 = .48; kappa = (.8 - .48)/(1 - .48) = 8/13
    out = M.pass_fail_metrics(
        [True, True, False, False, True, None], [True, False, False, False, True, True]
    )
    assert out["n"] == 5
    assert out["accuracy"] == pytest.approx(0.8)
    assert out["kappa"] == pytest.approx(8 / 13)


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    a = M.bootstrap_cis(MODEL, HUMAN, 3, n_boot=300, seed=7)
    b = M.bootstrap_cis(MODEL, HUMAN, 3, n_boot=300, seed=7)
    assert a == b
    lo, hi = a["exact_agreement"]
    assert 0 <= lo <= 0.5 <= hi <= 1
    assert a["adjacent_agreement"] == [1.0, 1.0]  # every resample is all-adjacent


def test_bootstrap_of_perfect_agreement_on_one_level_has_no_kappa_interval():
    cis = M.bootstrap_cis([1, 1, 1], [1, 1, 1], 3, n_boot=50)
    assert cis["exact_agreement"] == [1.0, 1.0]
    assert cis["qwk"] is None
    assert M.bootstrap_cis([1], [1], 3)["qwk"] is None  # fewer than two items: no interval
