"""``auditor eval --set ... --escalate-model M2``: cheap-only, cascade and strong-only on one
gold set, side by side: agreement with the human raters, and what each cost.

Each configuration grades the whole set with fresh graders whose calls are recorded in the
store but never answered from it (``NoReplay``), so each pays its own way and the costs
compare: the cascade's figure is its cheap pass plus its escalations, measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..grading.base import CallLog, Grader
from ..grading.cascade import CascadeGrader
from ..rubric import RubricSet
from .harness import run_eval


class NoReplay:
    """Records every call in ``log``; never answers a request from it."""

    def __init__(self, log: CallLog):
        self.log = log

    def record_call(self, row: dict[str, Any]) -> None:
        self.log.record_call(row)

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        return None


@dataclass
class ConfigResult:
    config: str
    models: str
    qwk: float | None
    exact_agreement: float | None
    unscored: int
    cost_usd: float | None
    tokens: int
    escalated_share: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _spent(*graders: Any) -> tuple[float | None, int]:
    cost, tokens, known = 0.0, 0, True
    for g in graders:
        budget = getattr(g, "budget", None)
        if budget is None:
            known = False
            continue
        cost += budget.spent_usd
        tokens += budget.spent_tokens
        prices = getattr(g, "prices", None)
        if prices is not None and prices.price(g.model) is None:
            known = False
    return (cost if known else None), tokens


def compare_cascade(
    set_path: str,
    rubrics: RubricSet,
    make: Callable[[str, CallLog], Grader],
    *,
    cheap_model: str,
    strong_model: str,
    log: CallLog,
    concurrency: int = 8,
    n_boot: int = 200,
) -> list[ConfigResult]:
    """Run the three configurations; ``make(model, call_log)`` builds one model grader."""
    out = []
    for config in ("cheap-only", "cascade", "strong-only"):
        if config == "cheap-only":
            graders = [make(cheap_model, NoReplay(log))]
            grader: Grader = graders[0]
            models = cheap_model
        elif config == "strong-only":
            graders = [make(strong_model, NoReplay(log))]
            grader = graders[0]
            models = strong_model
        else:
            graders = [make(cheap_model, NoReplay(log)), make(strong_model, NoReplay(log))]
            grader = CascadeGrader(graders[0], graders[1])
            models = f"{cheap_model} → {strong_model}"
        report = run_eval(set_path, rubrics, grader, n_boot=n_boot, concurrency=concurrency)
        cost, tokens = _spent(*graders)
        overall = report.overall
        share = None
        if isinstance(grader, CascadeGrader) and grader.graded:
            share = grader.escalated / grader.graded
        out.append(
            ConfigResult(
                config=config,
                models=models,
                qwk=overall.get("qwk"),
                exact_agreement=overall.get("exact_agreement"),
                unscored=int(overall.get("unscored") or 0),
                cost_usd=cost,
                tokens=tokens,
                escalated_share=share,
            )
        )
    return out


def render_cascade(rows: list[ConfigResult]) -> str:
    def f(x: float | None, d: int = 3) -> str:
        return "-" if x is None else f"{x:.{d}f}"

    lines = [
        f"{'config':<12} {'models':<28} {'QWK':>6} {'exact':>6} {'unscored':>8} "
        f"{'escalated':>9} {'cost USD':>10} {'tokens':>9}"
    ]
    for r in rows:
        lines.append(
            f"{r.config:<12} {r.models:<28} {f(r.qwk):>6} {f(r.exact_agreement):>6} "
            f"{r.unscored:>8} {f(r.escalated_share, 2):>9} {f(r.cost_usd, 5):>10} {r.tokens:>9}"
        )
    return "\n".join(lines)
