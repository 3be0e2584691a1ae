"""The eval harness: grade a gold set and measure the grader against its human raters.

``run_eval`` audits every gold chat exactly as ``auditor audit`` would (checks, grades,
score, pass/fail — through ``auditor.pipeline.audit_chat``), then compares, per ``llm``
criterion, the model's level with the per-item median human level, and shows the
human-vs-human agreement beside it as the ceiling. ``agreement_from_pairs`` gives the same
figures for live data (model grades vs the review queue's human levels).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from ..errors import UsageError
from ..grading.base import Grader
from ..models import Chat, ChatResult, Grade
from ..provenance import git_commit
from ..rubric import Rubric, RubricSet
from . import metrics as M
from .goldset import NA, GoldSet, load_gold_set
from .report import UNSCORED, AgreementReport, CriterionItems, build_agreement
from .selective import DEFAULT_THRESHOLDS

AuditFn = Callable[[Chat, Rubric], Awaitable[ChatResult]]


class EvalReport(AgreementReport):
    """One eval run. ``to_json()`` is the object of issue #5 §2 (plus extras after it)."""

    set_path: str
    set_hash: str
    grader: str
    model: str | None = None
    prompt_version: str | None = None
    rubric: str
    rubric_hashes: dict[str, str] = Field(default_factory=dict)
    created_at: str = ""
    git_commit: str | None = None
    n_raters: int = 0
    errors: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        head = {
            "set": data.pop("set_path"),
            "grader": data.pop("grader"),
            "model": data.pop("model"),
            "prompt_version": data.pop("prompt_version"),
            "rubric": data.pop("rubric"),
            "n_items": data.pop("n_items"),
            "criteria": data.pop("criteria"),
            "total_score": data.pop("total_score"),
            "pass_fail": data.pop("pass_fail"),
            "coverage": data.pop("coverage"),
        }
        return head | data


def default_audit(grader: Grader) -> AuditFn:
    """Audit a chat as ``auditor audit`` does (one ChatChecker per rubric, no store)."""
    from ..checks import ChatChecker
    from ..pipeline import audit_chat

    checkers: dict[str, ChatChecker] = {}

    async def audit(chat: Chat, rubric: Rubric) -> ChatResult:
        checker = checkers.get(rubric.id)
        if checker is None:
            checker = checkers[rubric.id] = ChatChecker(rubric)
        return await audit_chat(chat, rubric, grader, checker)

    return audit


def _criteria_scaffold(gold: GoldSet) -> dict[str, CriterionItems]:
    """One CriterionItems per llm criterion id, checking the scales agree across rubrics."""
    out: dict[str, CriterionItems] = {}
    for item in gold.items:
        for crit in item.rubric.llm_criteria:
            levels = [lv.id for lv in crit.ordered_levels]
            have = out.get(crit.id)
            if have is None:
                out[crit.id] = CriterionItems(criterion=crit.id, levels=levels, title=crit.title)
            elif len(have.levels) != len(levels):
                raise UsageError(
                    f"criterion {crit.id!r} has {len(have.levels)} levels in one rubric and "
                    f"{len(levels)} in {item.rubric.id}: their grades cannot be compared together"
                )
    return out


def _position(rubric: Rubric, criterion: str, level: str | None) -> int | str | None:
    if level is None:
        return None
    if level == NA:
        return NA
    crit = rubric.criterion(criterion)
    assert crit is not None
    ids = [lv.id for lv in crit.ordered_levels]
    return ids.index(level) if level in ids else None


def _model_value(rubric: Rubric, grade: Grade | None) -> int | str:
    """The model's level as a position, ``na`` or ``unscored`` (a missing grade is unscored)."""
    if grade is None or grade.status == "unscored":
        return UNSCORED
    if grade.status == "na":
        return NA
    pos = _position(rubric, grade.criterion, grade.level)
    return pos if isinstance(pos, int) else UNSCORED


async def _audit_all(
    gold: GoldSet, audit: AuditFn, concurrency: int
) -> tuple[list[ChatResult | None], list[str]]:
    sem = asyncio.Semaphore(max(1, concurrency))
    errors: list[str] = []

    async def one(i: int) -> ChatResult | None:
        item = gold.items[i]
        async with sem:
            try:
                return await audit(item.chat, item.rubric)
            except Exception as e:  # a crash on one chat must not hide the others' figures
                errors.append(f"line {item.line} ({item.chat.chat_id}): {type(e).__name__}: {e}")
                return None

    results = await asyncio.gather(*(one(i) for i in range(len(gold.items))))
    return list(results), errors


async def arun_eval(
    set_path: str | Path,
    rubric: Rubric | RubricSet,
    grader: Grader,
    *,
    audit: AuditFn | None = None,
    target_kappa: float | None = None,
    n_boot: int = M.DEFAULT_BOOTSTRAP,
    seed: int = M.DEFAULT_SEED,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_accepted: int | None = None,
    concurrency: int = 8,
    gold: GoldSet | None = None,
) -> EvalReport:
    """Grade the gold set at ``set_path`` and compare with its raters (see ``run_eval``)."""
    gold = gold or load_gold_set(set_path, rubric)
    results, errors = await _audit_all(gold, audit or default_audit(grader), concurrency)
    per_crit = _criteria_scaffold(gold)
    model_scores: list[float | None] = []
    human_scores: list[float | None] = []
    model_passed: list[bool | None] = []
    human_passed: list[bool | None] = []
    prompt_versions: set[str] = set()
    for item, result in zip(gold.items, results, strict=True):
        grades = {g.criterion: g for g in (result.grades if result else [])}
        prompt_versions.update(g.prompt_version for g in grades.values() if g.prompt_version)
        for crit in item.rubric.llm_criteria:
            humans: dict[str, int | str] = {}
            for r in item.ratings:
                v = _position(item.rubric, crit.id, r.levels.get(crit.id))
                if v is not None:
                    humans[r.rater] = v
            g = grades.get(crit.id)
            per_crit[crit.id].add(_model_value(item.rubric, g), humans, g.confidence if g else None)
        model_scores.append(result.score if result else None)
        model_passed.append(result.passed if result else None)
        human_scores.append(M.median_score([r.score for r in item.ratings if r.score is not None]))
        human_passed.append(
            M.majority_pass([r.passed for r in item.ratings if r.passed is not None])
        )

    fields = build_agreement(
        list(per_crit.values()),
        n_items=len(gold.items),
        model_scores=model_scores,
        human_scores=human_scores,
        model_passed=model_passed,
        human_passed=human_passed,
        n_boot=n_boot,
        seed=seed,
        target_kappa=target_kappa,
        thresholds=thresholds,
        min_accepted=min_accepted,
    )
    rubrics = {it.rubric.id: it.rubric for it in gold.items}
    return EvalReport(
        set_path=gold.path,
        set_hash=gold.hash,
        grader=grader.name,
        model=grader.model,
        prompt_version=",".join(sorted(prompt_versions)) or getattr(grader, "prompt_version", None),
        rubric=",".join(rubrics),
        rubric_hashes={rid: r.hash for rid, r in rubrics.items()},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        git_commit=git_commit(),
        n_raters=len(gold.raters),
        errors=errors,
        options={"settings_key": grader.settings_key(), "concurrency": concurrency},
        **fields,
    )


def run_eval(
    set_path: str | Path,
    rubric: Rubric | RubricSet,
    grader: Grader,
    **kwargs: Any,
) -> EvalReport:
    """Grade a gold set and report model-vs-human agreement (blocking wrapper).

    ``rubric`` is one rubric, or a RubricSet (``auto``: each chat's language picks
    online-chat-zh / online-chat-en). Keyword options: ``target_kappa`` (recommend a
    confidence threshold reaching it), ``n_boot`` and ``seed`` (bootstrap CIs; fixed seed
    so CI runs are reproducible), ``thresholds`` (coverage table rows), ``min_accepted``,
    ``concurrency``, and ``audit`` (a replacement for ``pipeline.audit_chat``, for tests).
    The grader is closed afterwards.
    """

    async def main() -> EvalReport:
        try:
            return await arun_eval(set_path, rubric, grader, **kwargs)
        finally:
            await grader.aclose()

    return asyncio.run(main())


# ---- live agreement (the review queue) ---------------------------------------------------

LivePair = tuple[str, str | None, str | None, float | None]


def agreement_from_pairs(
    pairs: Iterable[LivePair],
    rubric: Rubric,
    *,
    n_boot: int = M.DEFAULT_BOOTSTRAP,
    seed: int = M.DEFAULT_SEED,
    target_kappa: float | None = None,
    min_accepted: int | None = None,
) -> AgreementReport:
    """Model-vs-reviewer agreement from ``(criterion, model_level, human_level, confidence)``.

    One tuple per reviewed (chat, criterion) — the latest review where several exist. A
    ``model_level`` of None (or ``"unscored"``) is an unscored grade; ``"na"`` on either
    side is not-applicable. Criteria not in the rubric or levels unknown to it are
    skipped (a rubric version change); they are counted in ``overall["skipped"]``.
    """
    per_crit = {
        c.id: CriterionItems(
            criterion=c.id, levels=[lv.id for lv in c.ordered_levels], title=c.title
        )
        for c in rubric.llm_criteria
    }
    skipped = 0
    for crit_id, model_level, human_level, confidence in pairs:
        if crit_id not in per_crit:
            skipped += 1
            continue
        human = _position(rubric, crit_id, human_level)
        if human is None:
            skipped += 1
            continue
        if model_level is None or model_level == UNSCORED:
            model: int | str = UNSCORED
        else:
            pos = _position(rubric, crit_id, model_level)
            if pos is None:
                skipped += 1
                continue
            model = pos
        per_crit[crit_id].add(model, {"reviewer": human}, confidence)
    items = [c for c in per_crit.values() if c.model]
    n_items = sum(len(c.model) for c in items)
    fields = build_agreement(
        items,
        n_items=n_items,
        n_boot=n_boot,
        seed=seed,
        target_kappa=target_kappa,
        min_accepted=min_accepted,
    )
    fields["overall"]["skipped"] = skipped
    return AgreementReport(**fields)
