"""``auditor rules test``: each deterministic check's verdicts against a QA reviewer's labels.

The labelled set is JSONL, one ``{"source", "chat": {native chat}, "labels": {...},
"notes"}`` per line (``../shared/LABELS.md``). Each label says whether a chat *has a
problem* the check exists to catch; the check's ``fail`` is its claim that it does:

| check | a problem when |
| --- | --- |
| ``greeting`` | ``greeting`` is false |
| ``closing`` | the rubric's closing rule needs offer *and* thanks: either label false; offer *or* thanks: both false |
| ``forbidden_phrase`` | ``forbidden`` is true |
| ``unanswered_customer`` | ``unanswered`` is true |
| ``polite_address`` | ``impolite_address`` is true |
| ``typos`` | ``typos`` is a non-empty list |

The ``typos`` check fails a chat only above the rubric's limit (3 typos), while the label marks
any real typo, so its recall says little about how well typos are found. Beside it the report
gives ``typos_found`` (:data:`TYPO_DETECTION`): the same chats, "at least one counted typo"
against the label — what the typo detector sees, with the check's contract unchanged.

Per check: true positives (fails on a problem), false positives (fails on a clean chat),
false negatives (passes a problem), true negatives; precision = TP/(TP+FP) ("share of its
fails that are right"), recall = TP/(TP+FN) ("share of real problems it fails"). A null
label is left out; so is a chat where the check was not applicable (counted as ``na``).
Every misjudged chat is listed with the verdict, the label and the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..checks import ChatChecker
from ..errors import InputError
from ..ingest.native import parse_chat_obj
from ..models import Chat, Finding, SourceRef
from ..rubric import Rubric, RubricSet

#: The checks measured, in report order.
MEASURED_CHECKS: tuple[str, ...] = (
    "greeting",
    "closing",
    "forbidden_phrase",
    "unanswered_customer",
    "polite_address",
    "typos",
)

#: the chat-level typo detection figure reported beside the ``typos`` check
TYPO_DETECTION = "typos_found"


@dataclass
class Misjudged:
    chat_id: str
    source: str
    verdict: str
    label: bool  # True: the reviewer saw a problem
    detail: str
    evidence: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "source": self.source,
            "verdict": self.verdict,
            "label": "problem" if self.label else "no problem",
            "detail": self.detail,
            "evidence": self.evidence,
        }


@dataclass
class CheckFigures:
    check: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    na: int = 0  # the check was not applicable (left out)
    unlabelled: int = 0  # null label (left out)
    misjudged: list[Misjudged] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "n": self.n,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "na": self.na,
            "unlabelled": self.unlabelled,
            "precision": self.precision,
            "recall": self.recall,
            "misjudged": [m.as_dict() for m in self.misjudged],
        }


@dataclass
class RulesTestReport:
    set_path: str
    rubric: str
    chats: int = 0
    rejected: list[str] = field(default_factory=list)
    checks: dict[str, CheckFigures] = field(default_factory=dict)
    # "at least one counted typo" vs the typos label (None unless typos is measured)
    typo_detection: CheckFigures | None = None
    # chats per language (detected or given), and those no rubric covers
    languages: dict[str, int] = field(default_factory=dict)
    unsupported: dict[str, int] = field(default_factory=dict)
    # language label vs the chat's language (detected unless the input said it)
    language_agree: int = 0
    language_labelled: int = 0
    # chats in an uncovered language failed on a language check (must stay 0)
    unsupported_language_fails: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.set_path,
            "rubric": self.rubric,
            "chats": self.chats,
            "rejected": self.rejected,
            "languages": self.languages,
            "unsupported_languages": self.unsupported,
            "unsupported_language_fails": self.unsupported_language_fails,
            "language_accuracy": (
                self.language_agree / self.language_labelled if self.language_labelled else None
            ),
            "language_labelled": self.language_labelled,
            "checks": {c: f.as_dict() for c, f in self.checks.items()},
            TYPO_DETECTION: (
                None if self.typo_detection is None else self.typo_detection.as_dict()
            ),
        }


def read_labelled(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` for each line of a labelled set; a malformed line is an InputError."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                raise InputError(f"{path}:{lineno}: not valid JSON: {e}") from e
            if not isinstance(row, dict) or not isinstance(row.get("chat"), dict):
                raise InputError(
                    f"{path}:{lineno}: expected {{'chat': {{...}}, 'labels': {{...}}}}"
                )
            if not isinstance(row.get("labels"), dict):
                raise InputError(f"{path}:{lineno}: no 'labels' object")
            yield lineno, row


def closing_needs_both(rubric: Rubric) -> bool:
    """Whether the rubric's closing needs offer and thanks (else either one is enough)."""
    rule = rubric.rules.get("closing")
    if rule is None:
        return True  # the phrase-list closing needs every listed part
    return rule.condition.any_of is None


def problem_label(check: str, labels: dict[str, Any], rubric: Rubric) -> bool | None:
    """Whether the labels say the chat has the problem ``check`` catches; None: unknown."""
    if check == "greeting":
        v = labels.get("greeting")
        return None if v is None else not v
    if check == "closing":
        offer, thanks = labels.get("closing_offer"), labels.get("closing_thanks")
        if closing_needs_both(rubric):
            if offer is False or thanks is False:
                return True
            return None if offer is None or thanks is None else False
        if offer is True or thanks is True:
            return False
        return None if offer is None or thanks is None else True
    if check == "forbidden_phrase":
        return _flag(labels.get("forbidden"))
    if check == "unanswered_customer":
        return _flag(labels.get("unanswered"))
    if check == "polite_address":
        return _flag(labels.get("impolite_address"))
    if check == "typos":
        v = labels.get("typos")
        return None if v is None else bool(v)
    raise ValueError(f"no label for check {check!r}")


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def run_rules_test(
    set_path: str | Path,
    *,
    rubric_spec: str = "auto",
    checks: Sequence[str] = MEASURED_CHECKS,
    dictionaries: Sequence[Path] = (),
) -> RulesTestReport:
    """Audit every labelled chat's deterministic checks and compare them with the labels."""
    rubrics = RubricSet(rubric_spec)
    checkers: dict[str, ChatChecker] = {}
    report = RulesTestReport(str(set_path), rubric_spec)
    report.checks = {c: CheckFigures(c) for c in checks}
    if "typos" in report.checks:
        report.typo_detection = CheckFigures(TYPO_DETECTION)
    for lineno, row in read_labelled(set_path):
        chat = parse_chat_obj(row["chat"], SourceRef(file=str(set_path), line=lineno))
        if not isinstance(chat, Chat):
            report.rejected.append(str(chat))
            continue
        report.chats += 1
        report.languages[chat.language] = report.languages.get(chat.language, 0) + 1
        labels = row["labels"]
        if labels.get("language") is not None:
            report.language_labelled += 1
            report.language_agree += labels["language"] == chat.language
        rubric = rubrics.for_language(chat.language)
        covered = rubric.language == chat.language
        if not covered:
            report.unsupported[chat.language] = report.unsupported.get(chat.language, 0) + 1
        checker = checkers.get(rubric.hash)
        if checker is None:
            checker = checkers[rubric.hash] = ChatChecker(rubric, dictionaries=dictionaries)
        findings, _ = checker.run(chat)
        by_check: dict[str, Finding] = {f.check: f for f in findings}
        if not covered and any(
            f.status == "fail" and checker.language_dependent(f.check) for f in findings
        ):
            report.unsupported_language_fails += 1
        for check, fig in report.checks.items():
            _tally(fig, by_check.get(check), problem_label(check, labels, rubric), chat, row)
        if report.typo_detection is not None:
            _tally(
                report.typo_detection,
                typos_found(by_check.get("typos")),
                problem_label("typos", labels, rubric),
                chat,
                row,
            )
    return report


def typos_found(finding: Finding | None) -> Finding | None:
    """The ``typos`` finding read at the chat level: ``fail`` when it counted any typo at all
    (whatever the limit), ``pass`` when none; ``na`` and a missing finding stay as they are."""
    if finding is None or finding.status == "na":
        return finding
    count = len((finding.data or {}).get("typos") or [])
    return finding.model_copy(
        update={
            "status": "fail" if count else "pass",
            "detail": f"{count} counted typo{'s' if count != 1 else ''} ({finding.detail})",
        }
    )


def _tally(
    fig: CheckFigures,
    finding: Finding | None,
    problem: bool | None,
    chat: Chat,
    row: dict[str, Any],
) -> None:
    if problem is None:
        fig.unlabelled += 1
        return
    if finding is None or finding.status == "na":
        fig.na += 1
        return
    failed = finding.status == "fail"
    if failed and problem:
        fig.tp += 1
    elif failed:
        fig.fp += 1
    elif problem:
        fig.fn += 1
    else:
        fig.tn += 1
    if failed != problem:
        fig.misjudged.append(
            Misjudged(
                chat_id=chat.chat_id,
                source=str(row.get("source", "")),
                verdict=finding.status,
                label=problem,
                detail=finding.detail,
                evidence=[e.model_dump() for e in finding.evidence],
            )
        )


__all__ = [
    "MEASURED_CHECKS",
    "TYPO_DETECTION",
    "CheckFigures",
    "RulesTestReport",
    "problem_label",
    "read_labelled",
    "run_rules_test",
    "typos_found",
]
