"""The human spot-check queue: which chats a person should look at, why, and what they said.

Policy (pure, per chat):

* ``queue_reasons`` says *why* a chat is queued. Reasons are computed from its result, so a
  resumed run queues exactly what an uninterrupted one would. The random sample is a
  seeded hash of the chat id — the same chat is always in or out of the sample for a given
  seed, and the sample is independent of the model's output (an unbiased agreement
  estimate needs that).
* ``review_targets`` says *which criteria* each reason asks a reviewer to score; an item is
  done when every target has a review. "Done" is derived from the ``reviews`` table on
  every read, never stored, so it cannot drift from the reviews.
* ``PRIORITY`` orders the queue, most urgent first; within a reason the lowest measured
  confidence, then the most advisory cue evidence (``lowest_confidence``, ``cue_evidence``)
  come first. auditor/capacity.py then trims each chat day to ``review.daily_capacity``,
  never dropping a fatal or suspected-injection item.
* Grades flagged ``advisory`` (the offline grader's: its confidence is not measured) never
  queue a chat for low confidence.

Reviews (``record_review``, ``review_io.import_reviews``) only append rows; the effective
result (``effective_result``) is derived with ``scoring.rescore_with_reviews`` from the
latest human level per criterion. Calibration (``calibration_report``) measures reviewers
against each other; ``live_pairs`` feeds ``auditor agreement``.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .models import Chat, ChatResult, Evidence, Message, ReviewInfo
from .rubric import Criterion, Rubric
from .scoring import CHECK_LEVELS, rescore_with_reviews

if TYPE_CHECKING:
    from .store import Store

from .reasons import (  # noqa: E402 - the reason names live in a light module of their own
    ADVISORY,
    AGENT_QUOTA,
    CRITICAL,
    FATAL,
    INJECTION,
    LOW_CONFIDENCE,
    PRIORITY,
    RANDOM,
    UNSCORED,
)

#: Every reason, in the order the queue is worked (most urgent first; auditor/reasons.py).
#: A fatal error and a suspected injection can each mean a wrong verdict on the agent; an
#: unscored grade is a hole in the audit; a critical failure fails the chat; low confidence
#: is the model asking for help; the two samples are there to measure, not to fix.
REASONS = PRIORITY
#: Reasons decided after the audit (``quotas.apply_quotas``); a re-audit of the chat keeps them.
STICKY_REASONS: tuple[str, ...] = (AGENT_QUOTA,)
#: Sampling reasons ask for a full review of the chat (every graded criterion and every
#: failed check), so that agreement estimated on them is not biased towards hard cases.
SAMPLE_REASONS: tuple[str, ...] = (RANDOM, AGENT_QUOTA)


# ---------------------------------------------------------------------------- policy (pure)


def in_random_sample(chat_id: str, rate: float, seed: int) -> bool:
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    return seeded_fraction(seed, chat_id) < rate


def seeded_fraction(seed: int | str, key: str) -> float:
    """A uniform number in [0, 1) fixed by the seed and the key (sha256; no global RNG)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def review_threshold(criterion: Criterion | None, rubric: Rubric) -> float:
    """The confidence under which a grade goes to review: the criterion's, else the rubric's."""
    if criterion is not None and criterion.review_threshold is not None:
        return criterion.review_threshold
    return rubric.review.confidence_threshold


def low_confidence_criteria(result: ChatResult, rubric: Rubric) -> list[str]:
    """Criteria whose grade is under its review threshold — measured confidences only: an
    advisory grade (the offline grader's, flagged ``advisory``) is never "low confidence"."""
    return [
        g.criterion
        for g in result.grades
        if g.status != "unscored"
        and g.confidence is not None
        and ADVISORY not in g.flags
        and g.confidence < review_threshold(rubric.criterion(g.criterion), rubric)
    ]


def lowest_confidence(result: ChatResult) -> float | None:
    """The lowest measured confidence among the chat's grades (None: nothing measured)."""
    measured = [
        g.confidence
        for g in result.grades
        if g.status == "scored" and g.confidence is not None and ADVISORY not in g.flags
    ]
    return min(measured) if measured else None


def cue_evidence(result: ChatResult) -> int:
    """How much evidence the advisory grades cite against the agent: the quotes of their
    failing levels. It ranks chats the offline grader finds at fault, the most cited first."""
    return sum(len(g.evidence) for g in result.grades if ADVISORY in g.flags and g.failed)


def _failed(result: ChatResult, severity: str) -> list[str]:
    out = [f.criterion for f in result.findings if f.status == "fail" and f.severity == severity]
    return out + [g.criterion for g in result.grades if g.failed and g.severity == severity]


def queue_reasons(
    result: ChatResult, rubric: Rubric, injection: list[Evidence] | None = None
) -> list[str]:
    """Why this chat goes to the spot-check queue (empty: it does not), most urgent first."""
    policy = rubric.review
    reasons: set[str] = set()
    if policy.queue_low_confidence and low_confidence_criteria(result, rubric):
        reasons.add(LOW_CONFIDENCE)
    if policy.queue_unscored and result.unscored_criteria:
        reasons.add(UNSCORED)
    flagged = any(INJECTION in g.flags for g in result.grades)
    if policy.queue_injection and (injection or flagged):
        reasons.add(INJECTION)
    if policy.queue_fatal and result.fatal:
        reasons.add(FATAL)
    if policy.queue_critical and _failed(result, "critical"):
        reasons.add(CRITICAL)
    if in_random_sample(result.chat_id, policy.random_sample_rate, policy.random_seed):
        reasons.add(RANDOM)
    return sort_reasons(reasons)


def sort_reasons(reasons: set[str] | list[str]) -> list[str]:
    return sorted(set(reasons), key=lambda r: PRIORITY.index(r) if r in PRIORITY else len(PRIORITY))


def review_targets(result: ChatResult, rubric: Rubric, reasons: list[str]) -> dict[str, list[str]]:
    """The criteria a reviewer is asked to score, each with the reasons that ask for it.

    A suspected injection targets every graded criterion (it can sway any grade); a sample
    is a full review: every graded criterion and every failed check. A reason whose list
    comes out empty (say, injection under a rubric with no graded criteria) falls back to
    that full review, or to every criterion of the result, so no item is queued with nothing
    to do.
    """
    graded = [g.criterion for g in result.grades]
    failed_checks = [f.criterion for f in result.findings if f.status == "fail"]
    whole = list(dict.fromkeys(graded + failed_checks)) or [f.criterion for f in result.findings]
    per_reason: dict[str, list[str]] = {
        LOW_CONFIDENCE: low_confidence_criteria(result, rubric),
        UNSCORED: list(result.unscored_criteria),
        INJECTION: graded,  # text aimed at the grader sways grades, not deterministic checks
        FATAL: _failed(result, "fatal"),
        CRITICAL: _failed(result, "critical"),
        RANDOM: whole,
        AGENT_QUOTA: whole,
    }
    targets: dict[str, list[str]] = {}
    for reason in sort_reasons(reasons):
        for crit in per_reason.get(reason) or whole:
            targets.setdefault(crit, []).append(reason)
    order = {c.id: i for i, c in enumerate(rubric.criteria)}
    return {c: targets[c] for c in sorted(targets, key=lambda c: order.get(c, len(order)))}


def queue_item_row(
    result: ChatResult,
    rubric: Rubric,
    reasons: list[str],
    *,
    run_id: str | None,
    now: str,
    queued_at: str | None = None,
) -> dict[str, Any]:
    """The ``review_queue`` row for a chat (the store writes it; this decides its content)."""
    import orjson

    ordered = sort_reasons(reasons)
    return {
        "chat_id": result.chat_id,
        "rubric_name": rubric.name,
        "rubric": rubric.id,
        "agent_id": result.agent_id,
        "day": result.started_at.date().isoformat() if result.started_at else None,
        "started_at": result.started_at.isoformat() if result.started_at else None,
        "reasons": orjson.dumps(ordered).decode(),
        "targets": orjson.dumps(review_targets(result, rubric, ordered)).decode(),
        "priority": PRIORITY.index(ordered[0]) if ordered else len(PRIORITY),
        "min_confidence": lowest_confidence(result),
        "cue_evidence": cue_evidence(result),
        "run_id": run_id,
        "queued_at": queued_at or now,
        "updated_at": now,
    }


def allowed_levels(criterion: Criterion) -> tuple[str, ...]:
    """What a reviewer may give: pass|fail|na for a check; the levels (and na) otherwise."""
    if criterion.kind == "check":
        return CHECK_LEVELS
    ids = tuple(lv.id for lv in criterion.levels)
    return (*ids, "na") if criterion.na_allowed else ids


def level_problem(rubric: Rubric, criterion_id: str, level: str) -> str | None:
    """Why ``level`` is not a valid review of ``criterion_id`` under ``rubric`` (None: valid)."""
    crit = rubric.criterion(criterion_id)
    if crit is None:
        known = ", ".join(c.id for c in rubric.criteria)
        return f"unknown criterion {criterion_id!r} in {rubric.id} (known: {known})"
    allowed = allowed_levels(crit)
    if level not in allowed:
        return f"level {level!r} is not allowed for {criterion_id} ({'|'.join(allowed)})"
    return None


# ---------------------------------------------------------------------------- settings, dates


def reviewer_name(explicit: str | None = None) -> str:
    """Who is reviewing: --reviewer, then $AUDITOR_REVIEWER, then the OS user."""
    name = (explicit or os.environ.get("AUDITOR_REVIEWER") or "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError) as e:
        raise UsageError(
            "cannot tell who is reviewing: pass --reviewer or set AUDITOR_REVIEWER"
        ) from e


_RELATIVE = re.compile(r"^(\d+)d$")


def resolve_day(text: str | None, today: date | None = None) -> str | None:
    """``YYYY-MM-DD`` as given, or ``Nd`` = N days before today (UTC); None passes through."""
    if text is None or text == "":
        return None
    m = _RELATIVE.match(text.strip())
    if m:
        today = today or datetime.now(UTC).date()
        return (today - timedelta(days=int(m.group(1)))).isoformat()
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError as e:
        raise UsageError(f"expected a date YYYY-MM-DD or a span like 7d, got {text!r}") from e


# ---------------------------------------------------------------------------- queue reads


@dataclass
class QueueItem:
    """One queued chat as a reviewer sees it in ``review list``."""

    chat_id: str
    rubric_name: str
    rubric: str
    agent_id: str | None
    day: str | None
    reasons: list[str]
    targets: dict[str, list[str]]
    reviewed: list[str]  # targets that have at least one review
    queued_at: str

    @property
    def done(self) -> bool:
        return all(c in self.reviewed for c in self.targets)

    @property
    def status(self) -> str:
        return "done" if self.done else "open"


@dataclass(frozen=True)
class QueueFilter:
    reason: str | None = None
    agent_id: str | None = None
    criterion: str | None = None
    since: str | None = None  # chat day, inclusive
    until: str | None = None
    status: str = "open"  # open | done | all
    rubric_name: str | None = None


def list_queue(
    store: Store, filters: QueueFilter | None = None, limit: int | None = None, offset: int = 0
) -> tuple[list[QueueItem], int]:
    """Queue items, most urgent first, and how many match in all (so a limit hides nothing);
    ``offset``: skip that many (the queue is paged by limit and offset in a stable order)."""
    if offset < 0:
        raise UsageError(f"offset must be 0 or more, not {offset}")
    filters = filters or QueueFilter()
    if filters.reason is not None and filters.reason not in PRIORITY:
        raise UsageError(f"unknown reason {filters.reason!r} (known: {', '.join(PRIORITY)})")
    if filters.status not in ("open", "done", "all"):
        raise UsageError(f"--status is open, done or all, not {filters.status!r}")
    rows, total = store.queue_rows(filters, limit, offset)
    return [_item(r) for r in rows], total


def queue_item(store: Store, chat_id: str, rubric_name: str | None = None) -> QueueItem | None:
    row = store.queue_row(chat_id, rubric_name)
    return _item(row) if row else None


def queue_item_of(row: dict[str, Any]) -> QueueItem:
    """The item of a ``store.queue_row`` / ``store.queue_rows`` row."""
    return _item(row)


def _item(row: dict[str, Any]) -> QueueItem:
    import orjson

    return QueueItem(
        chat_id=row["chat_id"],
        rubric_name=row["rubric_name"],
        rubric=row["rubric"],
        agent_id=row["agent_id"],
        day=row["day"],
        reasons=orjson.loads(row["reasons"]),
        targets=orjson.loads(row["targets"]),
        reviewed=orjson.loads(row["reviewed"]) if row.get("reviewed") else [],
        queued_at=row["queued_at"],
    )


# ---------------------------------------------------------------------------- reviews


@dataclass
class AuditedRef:
    """A stored result, resolved: which rubric it was audited under, and that rubric."""

    chat_id: str
    rubric_name: str
    rubric: Rubric
    result: ChatResult
    transcript_hash: str


def resolve_audited(
    store: Store,
    chat_id: str,
    rubric_name: str | None = None,
    *,
    refs: list[dict[str, Any]] | None = None,
) -> AuditedRef:
    """The stored result a review is about; a chat audited under several rubrics needs a name.

    ``refs``: the chat's ``store.result_refs(chat_id, results=False)``, when the caller read
    them already (an access check); only the chosen result is then rebuilt.
    """
    rows = refs if refs is not None else store.result_refs(chat_id, results=False)
    if rubric_name is not None:
        rows = [r for r in rows if r["rubric_name"] == rubric_name]
    if not rows:
        where = f" under rubric {rubric_name!r}" if rubric_name else ""
        raise UsageError(f"no audited chat {chat_id!r}{where} in {store.path}")
    if len(rows) > 1:
        names = ", ".join(r["rubric_name"] for r in rows)
        raise UsageError(
            f"chat {chat_id!r} was audited under several rubrics ({names}): pass --rubric"
        )
    row = rows[0]
    stored = row.get("result") or store.result_json(chat_id, row["rubric_name"])
    return AuditedRef(
        chat_id=chat_id,
        rubric_name=row["rubric_name"],
        rubric=store.stored_rubric(row["rubric_hash"]),
        result=ChatResult.model_validate(stored),
        transcript_hash=row["transcript_hash"],
    )


def review_row(
    ref: AuditedRef,
    criterion: str,
    level: str,
    reviewer: str,
    *,
    comment: str = "",
    source: str = "cli",
    now: str | None = None,
) -> dict[str, Any]:
    """A validated ``reviews`` row; raises UsageError naming what is wrong."""
    problem = level_problem(ref.rubric, criterion, level)
    if problem:
        raise UsageError(problem)
    if not reviewer.strip():
        raise UsageError("a review needs a reviewer: pass --reviewer or set AUDITOR_REVIEWER")
    return {
        "chat_id": ref.chat_id,
        "rubric_name": ref.rubric_name,
        "rubric": ref.rubric.id,
        "transcript_hash": ref.transcript_hash,
        "criterion": criterion,
        "level": level,
        "reviewer": reviewer.strip(),
        "comment": comment or "",
        "created_at": now or datetime.now(UTC).isoformat(timespec="milliseconds"),
        "source": source,
    }


def record_review(
    store: Store,
    chat_id: str,
    criterion: str,
    level: str,
    *,
    reviewer: str,
    comment: str = "",
    rubric_name: str | None = None,
    source: str = "cli",
    ref: AuditedRef | None = None,
) -> int:
    """Append one review (validated against the rubric the chat was audited with); its id.

    ``ref``: the chat's ``resolve_audited``, when the caller resolved it already."""
    if ref is None or ref.chat_id != chat_id:
        ref = resolve_audited(store, chat_id, rubric_name)
    row = review_row(ref, criterion, level.strip(), reviewer, comment=comment, source=source)
    return store.add_reviews([row])[0]


def latest_levels(store: Store, chat_id: str, rubric_name: str) -> dict[str, str]:
    """criterion -> the latest human level (the last review appended wins)."""
    return {r["criterion"]: r["level"] for r in store.reviews(chat_id, rubric_name)}


def chat_from_transcript(body: dict[str, Any]) -> Chat:
    """Rebuild the Chat from its stored canonical transcript (for re-scoring)."""
    return Chat(
        chat_id=body["chat_id"],
        agent_id=body.get("agent_id"),
        customer_id=body.get("customer_id"),
        channel=body.get("channel"),
        language=body["language"],
        messages=[Message.model_validate(m) for m in body["messages"]],
    )


def effective_result(
    store: Store,
    chat_id: str,
    rubric_name: str | None = None,
    *,
    ref: AuditedRef | None = None,
    queue_row: dict[str, Any] | None = None,
) -> ChatResult | None:
    """The chat's result with the latest human level per criterion in place of the model's.

    The stored model result is never changed. Without reviews this is the stored result;
    ``review`` carries the queue reasons (including quota picks made after the audit).
    ``rubric_name=None`` takes the most recently audited result, like ``auditor show``.
    ``ref`` / ``queue_row``: the chat's resolved result and its ``store.queue_row``, when
    the caller (the desk's chat page) read them already; nothing is then read twice.
    """
    if ref is not None:
        row = {"rubric_name": ref.rubric_name, "rubric_hash": None,
               "transcript_hash": ref.transcript_hash}  # fmt: skip
        result = ref.result.model_copy()
    else:
        refs = store.result_refs(chat_id)
        if rubric_name is not None:
            refs = [r for r in refs if r["rubric_name"] == rubric_name]
        if not refs:
            return None
        row = refs[0]  # newest audit first
        result = ChatResult.model_validate(row["result"])
    item = queue_row if queue_row is not None else store.queue_row(chat_id, row["rubric_name"])
    if item is not None:
        import orjson

        result.review = ReviewInfo(queued=True, reasons=orjson.loads(item["reasons"]))
    else:  # not (or no longer) queued: over the day's capacity, or reviewed and re-audited
        result.review = ReviewInfo(queued=False, reasons=result.review.reasons)
    levels = latest_levels(store, chat_id, row["rubric_name"])
    if not levels:
        return result
    rubric = ref.rubric if ref is not None else store.stored_rubric(row["rubric_hash"])
    body = store.transcript(row["transcript_hash"])
    if body is None:  # pragma: no cover - transcripts are saved with their results
        raise UsageError(f"the transcript of {chat_id!r} is missing from {store.path}")
    out = rescore_with_reviews(result, rubric, levels, chat_from_transcript(body))
    return out.model_copy(
        update={
            "warnings": result.warnings,
            "source": result.source,
            "review": result.review,
            "reviewed_criteria": sorted(levels),
        }
    )


def with_reviews_applied(
    store: Store, results: Iterable[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Stored result JSONs, each replaced by its effective result where reviewers scored it.

    One query finds the reviewed chats up front, so unreviewed rows (the vast majority)
    stream through untouched.
    """
    reviewed = store.reviewed_keys()
    for r in results:
        key = (r["chat_id"], r["rubric"].partition("@")[0])
        if key in reviewed:
            eff = effective_result(store, *key)
            yield eff.to_json() if eff is not None else r
        else:
            yield r


# ---------------------------------------------------------------------------- calibration


@dataclass
class PairAgreement:
    reviewer_a: str
    reviewer_b: str
    n: int  # items both scored
    exact_agreement: float
    kappa: float | None  # Cohen's kappa (unweighted); None when undefined (one label only)


@dataclass
class CriterionCalibration:
    rubric_name: str
    criterion: str
    n_items: int  # items scored by at least two reviewers
    reviewers: list[str]
    pairs: list[PairAgreement]
    exact_agreement: float | None  # pooled over every reviewer pair and item
    mean_kappa: float | None  # mean of the defined pairwise kappas
    disagreements: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Unweighted Cohen's kappa (scikit-learn); None where it is undefined."""
    import math

    from sklearn.metrics import cohen_kappa_score

    if not a:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = float(cohen_kappa_score(a, b, replace_undefined_by=float("nan")))
    return None if math.isnan(k) else k


def calibration_report(
    store: Store,
    *,
    rubric_name: str | None = None,
    criterion: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[CriterionCalibration]:
    """Reviewer-vs-reviewer agreement on items several reviewers scored (校准).

    Each reviewer's latest level per (chat, criterion) counts; ``since``/``until`` are review
    days (UTC), so a calibration session is the reviews given in its window.
    """
    rows = store.reviews(rubric_name=rubric_name, since=since, until=until)
    return calibration_from_reviews(rows, criterion=criterion)


def calibration_from_reviews(
    rows: Iterable[dict[str, Any]], *, criterion: str | None = None
) -> list[CriterionCalibration]:
    """The calibration figures over these review rows (oldest first), e.g. one session's."""
    latest: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for r in rows:
        if criterion is None or r["criterion"] == criterion:
            latest[(r["rubric_name"], r["criterion"], r["chat_id"])][r["reviewer"]] = r["level"]
    by_crit: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for (rub, crit, chat_id), levels in latest.items():
        if len(levels) >= 2:
            by_crit[(rub, crit)].append((chat_id, levels))
    out = []
    for (rub, crit), items in sorted(by_crit.items()):
        items.sort()
        reviewers = sorted({name for _, levels in items for name in levels})
        pairs: list[PairAgreement] = []
        for a, b in combinations(reviewers, 2):
            common = [(lv[a], lv[b]) for _, lv in items if a in lv and b in lv]
            if not common:
                continue
            xs, ys = [x for x, _ in common], [y for _, y in common]
            agree = sum(x == y for x, y in common) / len(common)
            pairs.append(PairAgreement(a, b, len(common), agree, cohen_kappa(xs, ys)))
        n_pairs = sum(p.n for p in pairs)
        kappas = [p.kappa for p in pairs if p.kappa is not None]
        out.append(
            CriterionCalibration(
                rubric_name=rub,
                criterion=crit,
                n_items=len(items),
                reviewers=reviewers,
                pairs=pairs,
                exact_agreement=(
                    sum(p.exact_agreement * p.n for p in pairs) / n_pairs if n_pairs else None
                ),
                mean_kappa=sum(kappas) / len(kappas) if kappas else None,
                disagreements=[(c, lv) for c, lv in items if len(set(lv.values())) > 1],
            )
        )
    return out


# ---------------------------------------------------------------------------- live agreement

#: (criterion, model level or "na" or None for unscored, human level, model confidence)
LivePair = tuple[str, str | None, str | None, float | None]


def live_pairs(
    store: Store, *, since: str | None = None, until: str | None = None
) -> dict[str, tuple[Rubric, list[LivePair]]]:
    """Model grade vs the latest human review, per rubric, for every reviewed graded criterion.

    ``since``/``until`` select by the day (UTC) of that latest review. Check criteria are
    left out: they are deterministic, and a reviewer overriding one is a bug report, not a
    disagreement to measure. Each rubric name comes with the newest rubric version audited.
    """
    out: dict[str, tuple[Rubric, list[LivePair]]] = {}
    for row in store.reviewed_grades(since=since, until=until):
        name = row["rubric_name"]
        if name not in out:
            out[name] = (store.stored_rubric(store.newest_rubric_hash(name)), [])
        model: str | None
        if row["status"] == "scored":
            model = row["model_level"]
        elif row["status"] == "na":
            model = "na"
        else:
            model = None
        out[name][1].append((row["criterion"], model, row["level"], row["confidence"]))
    return out
