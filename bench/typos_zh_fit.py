"""Fit the Chinese context detector's logistic regression on SIGHAN train13–15 (only).

    python bench/typos_zh_fit.py [--data ../shared/data]

For every orphan character with a swap (``ChineseDetector.suspects``) in the training
sentences, the features of ``zh.CONTEXT_FEATURES`` are taken and the label is 1 when the gold
correction changes that character to the suggested one. A plain L2 logistic regression
(scikit-learn, C=1) gives the weights committed as ``ZhParams.context_weights`` /
``context_bias``; the script prints them, then strict sentence P/R on the training sets for a
range of ``typo_min_prob`` (the operating point is chosen there). Test sets are not read.
Skips when the data is absent. Needs scikit-learn (not a dependency of the package).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from typos_bench import sighan_pairs  # noqa: E402

from auditor.typos.zh import CONTEXT_FEATURES, ChineseDetector, ZhParams  # noqa: E402
from auditor.typos.zhdata import to_simplified  # noqa: E402

TRAIN = ("train13", "train14", "train15")


def rows(det: ChineseDetector, pairs: list[tuple[str, str]]) -> tuple[list[list[float]], list[int]]:
    xs: list[list[float]] = []
    ys: list[int] = []
    for err, cor in pairs:
        s = to_simplified(err)
        blocked = [False] * len(s)
        taken = [False] * len(s)
        det._curated_hits(s, blocked, taken)
        found = det.suspects(s, blocked, taken)
        at = {x.i for x in found}
        for x in found:
            nb = (x.i - 1 in at) + (x.i + 1 in at)
            xs.append(det.features(x, s[x.i], nb))
            ys.append(int(to_simplified(cor[x.i]) == x.ch and cor[x.i] != err[x.i]))
    return xs, ys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--lm", default="off", help="fit for the optional KenLM path: auto or a path")
    args = ap.parse_args(argv)
    typos_dir = args.data / "typos"
    if not typos_dir.is_dir():
        print(f"skipped: no data at {typos_dir}")
        return 0
    from sklearn.linear_model import LogisticRegression

    det = ChineseDetector(set(), ZhParams(language_model=args.lm))
    xs: list[list[float]] = []
    ys: list[int] = []
    for name in TRAIN:
        x, y = rows(det, sighan_pairs(typos_dir, "simplified", name))
        xs += x
        ys += y
    model = LogisticRegression(C=1.0, max_iter=2000).fit(xs, ys)
    weights = tuple(round(float(w), 4) for w in model.coef_[0])
    bias = round(float(model.intercept_[0]), 4)
    print(f"{len(ys)} suspects, {sum(ys)} real slips (SIGHAN {', '.join(TRAIN)})")
    for name, w in zip(CONTEXT_FEATURES, weights, strict=True):
        print(f"  {name:20s} {w:+.4f}")
    print(f"  {'bias':20s} {bias:+.4f}")
    print(f"ZhParams(context_weights={weights}, context_bias={bias})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
