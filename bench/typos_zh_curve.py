"""Chinese context detector: precision/recall over its counting threshold (``typo_min_prob``).

    python bench/typos_zh_curve.py [--data ../shared/data]

Runs SIGHAN once with every context swap of probability at least ``possible_min_prob`` counted,
keeps each counted hit's probability (curated confusions score as infinite), then re-applies
thresholds:
strict sentence P/R (SIGHAN15 detection rule) on train13–15 pooled (where the threshold is
chosen) beside test13 and test14 (reported only). Skips when the data is absent.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from typos_bench import ratio, sighan_pairs  # noqa: E402

from auditor.checks.typos import TypoChecker  # noqa: E402
from auditor.rubric import TypoSettings  # noqa: E402
from auditor.typos.zh import ZhParams  # noqa: E402

_SCORE = re.compile(r"p=(\d\.\d\d)\)")
Row = tuple[set[int], list[tuple[int, int, float]]]


def collect(checker: TypoChecker, pairs: list[tuple[str, str]]) -> list[Row]:
    rows: list[Row] = []
    for err, cor in pairs:
        gold = {i for i, (a, b) in enumerate(zip(err, cor, strict=True)) if a != b}
        hits = []
        for t in checker.check_text(err):
            if t.tier == "typo":
                m = _SCORE.search(t.reason)
                hits.append((t.start, t.end, float(m.group(1)) if m else math.inf))
        rows.append((gold, hits))
    return rows


def strict(rows: list[Row], threshold: float) -> str:
    tp = flagged = gold_n = clean_flagged = 0
    for gold, hits in rows:
        pred = {i for s, e, sc in hits if sc >= threshold for i in range(s, e)}
        gold_n += bool(gold)
        if pred:
            flagged += 1
            tp += pred == gold
            clean_flagged += not gold
    return f"P {ratio(tp, flagged):.3f} R {ratio(tp, gold_n):.3f} ({clean_flagged} clean flagged)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--lead", type=float, default=None, help="adjacent_min_logit_lead to try")
    args = ap.parse_args(argv)
    typos_dir = args.data / "typos"
    if not typos_dir.is_dir():
        print(f"skipped: no data at {typos_dir}")
        return 0
    default = ZhParams()
    checker = TypoChecker(
        TypoSettings(),
        zh_params=ZhParams(
            typo_min_prob=default.possible_min_prob,
            adjacent_min_logit_lead=default.adjacent_min_logit_lead
            if args.lead is None
            else args.lead,
        ),
    )
    sets = {
        n: collect(checker, sighan_pairs(typos_dir, "simplified", n))
        for n in ("train13", "train14", "train15", "test13", "test14")
    }
    train = sets["train13"] + sets["train14"] + sets["train15"]
    print(
        f"threshold (default {default.typo_min_prob}) | DEV train13-15 | TEST test13 | TEST test14"
    )
    for thr in (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        print(
            f"{thr:4.2f} | {strict(train, thr)} | {strict(sets['test13'], thr)} | "
            f"{strict(sets['test14'], thr)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
