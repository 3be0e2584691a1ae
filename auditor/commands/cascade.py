"""``--escalate-model``: the cheap-then-strong cascade (auditor/grading/cascade.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError

if TYPE_CHECKING:  # `auditor --help` imports nothing heavy (pydantic comes with grading)
    from ..grading import Grader
    from ..grading.base import CallLog

F = TypeVar("F", bound=Callable[..., Any])

escalate_option = click.option(
    "--escalate-model",
    default=None,
    metavar="M2",
    help="Cascade: criteria the --model grades unscored or below the review confidence "
    "threshold are re-graded by M2 (needs --samples k or logprobs to measure confidence).",
)


def model_options(grading: dict[str, Any], concurrency: int | None) -> dict[str, Any]:
    opts = {
        k: grading.get(k)
        for k in ("base_url", "samples", "temperature", "timeout", "max_cost", "max_tokens")
    }
    if grading.get("response_format"):
        opts["response_format"] = grading["response_format"]
    if concurrency:
        opts["concurrency"] = concurrency
    return opts


def with_escalation(
    grader: Grader,
    call_log: CallLog,
    escalate_model: str | None,
    grading: dict[str, Any],
    concurrency: int | None,
) -> Grader:
    """``grader`` itself, or a cascade from it to ``escalate_model``."""
    if not escalate_model:
        return grader
    if grader.name != "openai":
        raise UsageError("--escalate-model needs --grader openai and --model")
    from ..grading import make_grader
    from ..grading.cascade import CascadeGrader

    strong = make_grader(
        "openai",
        call_log=call_log,
        model=escalate_model,
        budget=getattr(grader, "budget", None),  # one --max-cost for both models
        **model_options(grading, concurrency),
    )
    return CascadeGrader(grader, strong)
