"""Model-vs-human agreement: pure metrics, selective prediction, gold sets and the eval harness.

Entry points for the CLI (``auditor eval``, ``auditor eval history``, ``auditor agreement``):

- ``run_eval(set_path, rubric, grader, ...) -> EvalReport`` and ``render_agreement``;
- ``record_eval_run(db, report)``, ``eval_history(db, ...)``, ``render_history``;
- ``check_fail_under(report, "kappa=0.6")`` (raises ``EvalGateFailed``);
- ``agreement_from_pairs(pairs, rubric) -> AgreementReport`` for live reviews.

See docs/evaluation.md for what the figures mean.
"""

from __future__ import annotations

from .goldset import GoldItem, GoldSet, GoldSetError, HumanRating, load_gold_set
from .harness import EvalReport, agreement_from_pairs, arun_eval, run_eval
from .history import (
    check_fail_under,
    eval_history,
    parse_fail_under,
    record_eval_run,
    render_history,
)
from .report import AgreementReport, CriterionReport, render_agreement

__all__ = [
    "AgreementReport",
    "CriterionReport",
    "EvalReport",
    "GoldItem",
    "GoldSet",
    "GoldSetError",
    "HumanRating",
    "agreement_from_pairs",
    "arun_eval",
    "check_fail_under",
    "eval_history",
    "load_gold_set",
    "parse_fail_under",
    "record_eval_run",
    "render_agreement",
    "render_history",
    "run_eval",
]
