"""The review queue: each reason, the random sample, quotas, append-only reviews, effective
scores and calibration. Every expected number is computed by hand in the comments.

The helpers at the top (``RUBRIC``, ``make_chat``, ``make_result``, ``save``) are shared with
test_review_io.py and test_review_cli.py.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from auditor.errors import UsageError
from auditor.models import Chat, ChatResult, Evidence, Finding, Grade, Message, Metrics
from auditor.review import (
    AGENT_QUOTA,
    CRITICAL,
    FATAL,
    INJECTION,
    LOW_CONFIDENCE,
    RANDOM,
    UNSCORED,
    QueueFilter,
    calibration_report,
    effective_result,
    in_random_sample,
    list_queue,
    live_pairs,
    queue_item,
    queue_reasons,
    record_review,
    resolve_day,
    review_targets,
    reviewer_name,
)
from auditor.review.quotas import apply_quotas, quota_for
from auditor.rubric import ReviewSettings, Rubric, parse_rubric
from auditor.scoring import score_chat
from auditor.store import AuditedChat, Store

RUBRIC = """
name: tiny
version: "1"
language: en
total: 100
review: {confidence_threshold: 0.6, random_sample_rate: 0.0}
criteria:
  - {id: greeting, title: Greeting, points: 10, kind: check, check: greeting}
  - {id: unanswered_customer, title: Unanswered, points: 10, severity: critical, kind: check,
     check: unanswered_customer}
  - {id: forbidden_phrase, title: Forbidden, points: 10, severity: fatal, kind: check,
     check: forbidden_phrase}
  - id: empathy
    title: Empathy
    points: 30
    kind: llm
    review_threshold: 0.9
    na: {allowed: true}
    levels:
      - {id: good, points: 30}
      - {id: average, points: 15}
      - {id: poor, points: 0, fail: true}
  - id: solution
    title: Solution
    points: 40
    severity: critical
    kind: llm
    levels:
      - {id: good, points: 40}
      - {id: average, points: 20}
      - {id: poor, points: 0, fail: true}
"""

CHECKS = ("greeting", "unanswered_customer", "forbidden_phrase")


def tiny_rubric(**review: object) -> Rubric:
    text = RUBRIC
    if review:
        settings = ", ".join(f"{k}: {v}" for k, v in review.items())
        text = RUBRIC.replace(
            "review: {confidence_threshold: 0.6, random_sample_rate: 0.0}",
            f"review: {{{settings}}}",
        )
    return parse_rubric(text, "tiny.yaml")


def make_chat(chat_id: str, agent: str = "a1", day: date = date(2026, 11, 21)) -> Chat:
    t = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    return Chat(
        chat_id=chat_id,
        language="en",
        agent_id=agent,
        messages=[
            Message(id="m1", role="customer", ts=t, text="my parcel is late, I'm upset"),
            Message(
                id="m2", role="agent", ts=t + timedelta(seconds=5), text="sorry, it ships today"
            ),
        ],
    )


def make_result(
    chat: Chat,
    rubric: Rubric,
    *,
    fail: tuple[str, ...] = (),
    empathy: tuple[str, float | None] = ("good", 0.95),
    solution: tuple[str, float | None] = ("good", 0.95),
    flags: tuple[str, ...] = (),
) -> ChatResult:
    """A scored result: checks pass unless named in ``fail``; (level, confidence) per grade;
    the level ``unscored`` makes an unscored grade."""
    findings = [
        Finding(
            criterion=c,
            check=c,
            status="fail" if c in fail else "pass",
            evidence=[Evidence(message_id="m2", quote="sorry")] if c in fail else [],
        )
        for c in CHECKS
    ]
    grades = []
    for crit, (level, conf) in (("empathy", empathy), ("solution", solution)):
        if level == "unscored":
            grades.append(Grade(criterion=crit, status="unscored", error="timeout"))
        else:
            grades.append(
                Grade(
                    criterion=crit,
                    status="scored",
                    level=level,
                    confidence=conf,
                    flags=list(flags),
                    evidence=[Evidence(message_id="m2", quote="sorry")],
                )
            )
    return score_chat(chat, rubric, findings, grades, Metrics(), grader="offline")


def queued(result: ChatResult, rubric: Rubric, injection: list[Evidence] | None = None):
    reasons = queue_reasons(result, rubric, injection)
    result.review.queued = bool(reasons)
    result.review.reasons = reasons
    return result


def save(
    store: Store, rubric: Rubric, results: list[tuple[Chat, ChatResult]], run: str = ""
) -> str:
    run = run or store.start_run({"grader": "offline"})
    store.save_batch(
        run, [AuditedChat(c, rubric, queued(r, rubric), "offline:1") for c, r in results]
    )
    return run


@pytest.fixture
def rubric() -> Rubric:
    return tiny_rubric()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "a.db")
    yield s
    s.close()


# ---------------------------------------------------------------------------- each reason


def test_clean_chat_is_not_queued(rubric):
    chat = make_chat("c1")
    assert queue_reasons(make_result(chat, rubric), rubric) == []


def test_low_confidence_uses_the_criterion_threshold_else_the_rubric(rubric):
    chat = make_chat("c1")
    # empathy 0.8 < its own threshold 0.9; solution 0.7 >= the rubric's 0.6
    r = make_result(chat, rubric, empathy=("good", 0.8), solution=("good", 0.7))
    assert queue_reasons(r, rubric) == [LOW_CONFIDENCE]
    assert review_targets(r, rubric, [LOW_CONFIDENCE]) == {"empathy": [LOW_CONFIDENCE]}
    r = make_result(chat, rubric, empathy=("good", 0.95), solution=("good", 0.59))
    assert review_targets(r, rubric, queue_reasons(r, rubric)) == {"solution": [LOW_CONFIDENCE]}
    off = tiny_rubric(queue_low_confidence="false", random_sample_rate=0)
    assert queue_reasons(r, off) == []


def test_unscored_grade(rubric):
    r = make_result(make_chat("c1"), rubric, solution=("unscored", None))
    assert queue_reasons(r, rubric) == [UNSCORED]
    assert review_targets(r, rubric, [UNSCORED]) == {"solution": [UNSCORED]}


def test_suspected_injection_by_detector_or_flag_targets_every_grade(rubric):
    chat = make_chat("c1")
    r = make_result(chat, rubric)
    hit = [Evidence(message_id="m1", quote="ignore the rubric")]
    assert queue_reasons(r, rubric, hit) == [INJECTION]
    flagged = make_result(chat, rubric, flags=("suspected_injection",))
    assert queue_reasons(flagged, rubric) == [INJECTION]
    assert review_targets(r, rubric, [INJECTION]) == {
        "empathy": [INJECTION],
        "solution": [INJECTION],
    }


def test_fatal_finding(rubric):
    r = make_result(make_chat("c1"), rubric, fail=("forbidden_phrase",))
    assert r.fatal and queue_reasons(r, rubric) == [FATAL]
    assert review_targets(r, rubric, [FATAL]) == {"forbidden_phrase": [FATAL]}


def test_critical_failures_from_checks_and_grades(rubric):
    chat = make_chat("c1")
    r = make_result(chat, rubric, fail=("unanswered_customer",), solution=("poor", 0.95))
    assert queue_reasons(r, rubric) == [CRITICAL]
    assert review_targets(r, rubric, [CRITICAL]) == {
        "unanswered_customer": [CRITICAL],
        "solution": [CRITICAL],
    }


def test_all_reasons_once_most_urgent_first_and_targets_merge(rubric):
    r = make_result(
        make_chat("c1"),
        tiny_rubric(random_sample_rate=1.0),
        fail=("forbidden_phrase", "greeting"),
        empathy=("good", 0.5),
        solution=("unscored", None),
    )
    rub = tiny_rubric(random_sample_rate=1.0)
    reasons = queue_reasons(r, rub, [Evidence(message_id="m1", quote="x")])
    assert reasons == [FATAL, INJECTION, UNSCORED, LOW_CONFIDENCE, RANDOM]
    # the sample asks for every grade and every failed check
    assert review_targets(r, rub, reasons) == {
        "greeting": [RANDOM],
        "forbidden_phrase": [FATAL, RANDOM],
        "empathy": [INJECTION, LOW_CONFIDENCE, RANDOM],
        "solution": [INJECTION, UNSCORED, RANDOM],
    }


# ---------------------------------------------------------------------------- random sample


def test_random_sample_rate_within_a_binomial_bound():
    # n = 20,000, p = 0.02: mean 400, sd = sqrt(20000 * 0.02 * 0.98) = 19.80; 4 sd = 79.2
    hits = sum(in_random_sample(f"chat-{i:06d}", 0.02, 20261122) for i in range(20_000))
    assert 321 <= hits <= 479
    # another seed draws another sample: overlap ~ p^2 * n = 8, far below 400
    other = sum(
        in_random_sample(f"chat-{i:06d}", 0.02, 20261122)
        and in_random_sample(f"chat-{i:06d}", 0.02, 1)
        for i in range(20_000)
    )
    assert other < 40


def test_random_sample_is_stable_and_independent_of_model_output(rubric):
    rub = tiny_rubric(random_sample_rate=0.5)
    ids = [f"c{i}" for i in range(200)]
    picked = {i for i in ids if in_random_sample(i, 0.5, rub.review.random_seed)}
    for i in ids:
        good = make_result(make_chat(i), rub)
        bad = make_result(make_chat(i), rub, empathy=("poor", 0.1), fail=("greeting",))
        assert (RANDOM in queue_reasons(good, rub)) == (i in picked)
        assert (RANDOM in queue_reasons(bad, rub)) == (i in picked)
    assert in_random_sample("x", 0.0, 1) is False and in_random_sample("x", 1.0, 1) is True


# ---------------------------------------------------------------------------- the stored queue


def test_save_batch_queues_once_per_rubric_with_targets(store, rubric):
    c1, c2 = make_chat("c1"), make_chat("c2")
    save(
        store,
        rubric,
        [
            (c1, make_result(c1, rubric, fail=("forbidden_phrase",), empathy=("good", 0.5))),
            (c2, make_result(c2, rubric)),  # clean: not queued
        ],
    )
    assert store.count("review_queue") == 1
    item = queue_item(store, "c1")
    assert item is not None and item.reasons == [FATAL, LOW_CONFIDENCE]
    assert item.targets == {"forbidden_phrase": [FATAL], "empathy": [LOW_CONFIDENCE]}
    assert item.status == "open" and item.agent_id == "a1" and item.day == "2026-11-21"


def test_resave_follows_the_new_result_but_keeps_quota_picks(store, rubric):
    c1 = make_chat("c1")
    save(store, rubric, [(c1, make_result(c1, rubric, empathy=("good", 0.5)))])
    queued_at = store.queue_row("c1")["queued_at"]
    save(store, rubric, [(c1, make_result(c1, rubric))])  # re-audited: now clean
    assert store.count("review_queue") == 0
    save(store, rubric, [(c1, make_result(c1, rubric, empathy=("good", 0.5)))])
    store.upsert_queue_rows([queue_item_row_with_quota(store, rubric, "c1")])
    assert queue_item(store, "c1").reasons == [LOW_CONFIDENCE, AGENT_QUOTA]
    save(store, rubric, [(c1, make_result(c1, rubric, solution=("poor", 0.95)))])
    item = queue_item(store, "c1")  # the new result's reasons, and the quota pick stays
    assert item.reasons == [CRITICAL, AGENT_QUOTA]
    assert item.targets == {
        "empathy": [AGENT_QUOTA],
        "solution": [CRITICAL, AGENT_QUOTA],
    }
    save(store, rubric, [(c1, make_result(c1, rubric))])  # clean: only the quota pick is left
    assert queue_item(store, "c1").reasons == [AGENT_QUOTA]
    assert queue_item(store, "c1").queued_at != queued_at  # it left the queue in between


def queue_item_row_with_quota(store: Store, rubric: Rubric, chat_id: str) -> dict:
    from auditor.review import queue_item_row

    result = ChatResult.model_validate(store.result_refs(chat_id)[0]["result"])
    return queue_item_row(
        result, rubric, [*result.review.reasons, AGENT_QUOTA], run_id="q", now="t"
    )


def test_list_is_ordered_by_priority_and_filters(store, rubric):
    days = {"low": date(2026, 11, 20), "fatal": date(2026, 11, 21), "crit": date(2026, 11, 19)}
    chats = {k: make_chat(k, agent="a2" if k == "crit" else "a1", day=d) for k, d in days.items()}
    save(
        store,
        rubric,
        [
            (chats["low"], make_result(chats["low"], rubric, empathy=("good", 0.5))),
            (chats["fatal"], make_result(chats["fatal"], rubric, fail=("forbidden_phrase",))),
            (chats["crit"], make_result(chats["crit"], rubric, solution=("poor", 0.95))),
        ],
    )
    items, total = list_queue(store)
    assert [i.chat_id for i in items] == ["fatal", "crit", "low"] and total == 3
    items, total = list_queue(store, limit=1)
    assert [i.chat_id for i in items] == ["fatal"] and total == 3  # the limit hides nothing
    assert [i.chat_id for i in list_queue(store, QueueFilter(reason=CRITICAL))[0]] == ["crit"]
    assert [i.chat_id for i in list_queue(store, QueueFilter(agent_id="a2"))[0]] == ["crit"]
    assert [i.chat_id for i in list_queue(store, QueueFilter(criterion="empathy"))[0]] == ["low"]
    since = QueueFilter(since="2026-11-20", until="2026-11-20")
    assert [i.chat_id for i in list_queue(store, since)[0]] == ["low"]
    assert store.queue_reason_counts(QueueFilter()) == {
        FATAL: 1,
        CRITICAL: 1,
        LOW_CONFIDENCE: 1,
    }
    with pytest.raises(UsageError, match="unknown reason"):
        list_queue(store, QueueFilter(reason="nope"))


def test_done_is_derived_from_reviews(store, rubric):
    c1 = make_chat("c1")
    save(store, rubric, [(c1, make_result(c1, rubric, solution=("poor", 0.5)))])
    # critical + low confidence, both on solution; random sample off
    assert queue_item(store, "c1").targets == {"solution": [CRITICAL, LOW_CONFIDENCE]}
    record_review(store, "c1", "empathy", "good", reviewer="ann")  # not a target
    assert queue_item(store, "c1").status == "open"
    record_review(store, "c1", "solution", "average", reviewer="ann")
    item = queue_item(store, "c1")
    assert item.status == "done" and item.reviewed == ["solution"]
    assert list_queue(store)[1] == 0
    assert [i.chat_id for i in list_queue(store, QueueFilter(status="done"))[0]] == ["c1"]
    assert list_queue(store, QueueFilter(status="all"))[1] == 1


# ---------------------------------------------------------------------------- reviews


def test_review_validation_against_the_rubric(store, rubric):
    c1 = make_chat("c1")
    save(store, rubric, [(c1, make_result(c1, rubric))])
    with pytest.raises(UsageError, match="unknown criterion 'tone'"):
        record_review(store, "c1", "tone", "good", reviewer="ann")
    with pytest.raises(UsageError, match=r"not allowed for solution \(good\|average\|poor\)"):
        record_review(store, "c1", "solution", "na", reviewer="ann")  # na not allowed here
    with pytest.raises(UsageError, match=r"pass\|fail\|na"):
        record_review(store, "c1", "greeting", "good", reviewer="ann")
    with pytest.raises(UsageError, match="no audited chat 'nope'"):
        record_review(store, "nope", "greeting", "pass", reviewer="ann")
    record_review(store, "c1", "empathy", "na", reviewer="ann")
    record_review(store, "c1", "greeting", "fail", reviewer="ann", comment="no hello")
    assert store.count("reviews") == 2


def test_reviews_only_append(store, rubric):
    c1 = make_chat("c1")
    save(store, rubric, [(c1, make_result(c1, rubric))])
    record_review(store, "c1", "solution", "poor", reviewer="ann")
    record_review(store, "c1", "solution", "good", reviewer="ann")  # a correction is a new row
    assert [r["level"] for r in store.reviews("c1", "tiny")] == ["poor", "good"]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.conn.execute("UPDATE reviews SET level = 'average'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.conn.execute("DELETE FROM reviews")
    # the model's grade is untouched
    assert store.query("SELECT level FROM grades WHERE criterion = 'solution'") == [
        {"level": "good"}
    ]


def test_effective_result_uses_the_latest_human_level(store, rubric):
    c1 = make_chat("c1")
    # model: greeting fails (-10), empathy average (-15), solution good: 100 - 25 = 75, passed
    # (one normal failure is within max_normal_failures = 2)
    save(
        store, rubric, [(c1, make_result(c1, rubric, fail=("greeting",), empathy=("average", 0.5)))]
    )
    assert effective_result(store, "c1").score == 75
    record_review(store, "c1", "greeting", "pass", reviewer="ann")
    record_review(store, "c1", "empathy", "poor", reviewer="ann")
    record_review(store, "c1", "empathy", "good", reviewer="bob")  # later: wins
    record_review(store, "c1", "solution", "average", reviewer="bob")
    # greeting 0 lost, empathy good 0, solution average -20: 80, passed
    eff = effective_result(store, "c1")
    assert eff.score == 80 and eff.passed and eff.failed_criteria == []
    assert eff.review.reasons == [LOW_CONFIDENCE]
    record_review(store, "c1", "solution", "poor", reviewer="bob")
    # solution poor: -40 and a critical failure: 100 - 40 = 60, not passed
    eff = effective_result(store, "c1")
    assert eff.score == 60 and not eff.passed and eff.failed_criteria == ["solution"]
    record_review(store, "c1", "forbidden_phrase", "fail", reviewer="bob")
    assert effective_result(store, "c1").score == 0 and effective_result(store, "c1").fatal
    # the stored model result never changes
    assert store.result_json("c1")["score"] == 75
    assert effective_result(store, "nope") is None


def test_reviewer_name_flag_then_environment_then_os_user(monkeypatch):
    monkeypatch.setenv("AUDITOR_REVIEWER", "env-name")
    assert reviewer_name("flag-name") == "flag-name"
    assert reviewer_name(None) == "env-name"
    monkeypatch.delenv("AUDITOR_REVIEWER")
    monkeypatch.setattr("getpass.getuser", lambda: "os-user")
    assert reviewer_name(None) == "os-user"


def test_resolve_day():
    assert resolve_day("7d", date(2026, 11, 21)) == "2026-11-14"
    assert resolve_day("2026-11-01") == "2026-11-01"
    assert resolve_day(None) is None
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        resolve_day("last week")


# ---------------------------------------------------------------------------- calibration


def test_calibration_pairwise_agreement_and_kappa(store, rubric):
    chats = [make_chat(f"c{i}") for i in range(1, 5)]
    save(store, rubric, [(c, make_result(c, rubric)) for c in chats])
    levels = {
        "ann": ["good", "good", "poor", "average"],
        "bob": ["good", "average", "poor", "average"],
        "cy": ["good", "good", "poor", None],  # cy skipped c4
    }
    for name, lv in levels.items():
        for chat, level in zip(chats, lv, strict=True):
            if level:
                record_review(store, chat.chat_id, "solution", level, reviewer=name)
    record_review(store, "c1", "empathy", "good", reviewer="ann")  # one reviewer: not calibrated
    (cal,) = calibration_report(store)
    assert (cal.criterion, cal.n_items, cal.reviewers) == ("solution", 4, ["ann", "bob", "cy"])
    pairs = {(p.reviewer_a, p.reviewer_b): p for p in cal.pairs}
    # ann vs bob on 4 items: agree on c1, c3, c4 = 3/4.
    # observed 0.75; ann margins good 2, poor 1, average 1; bob good 1, average 2, poor 1
    # expected = (2*1 + 1*1 + 1*2) / 16 = 5/16; kappa = (0.75 - 5/16) / (1 - 5/16) = 7/11
    ab = pairs[("ann", "bob")]
    assert ab.n == 4 and ab.exact_agreement == 0.75
    assert ab.kappa == pytest.approx(7 / 11)
    # ann vs cy on c1..c3: identical, kappa 1
    ac = pairs[("ann", "cy")]
    assert (ac.n, ac.exact_agreement, ac.kappa) == (3, 1.0, pytest.approx(1.0))
    # bob vs cy on c1..c3: agree on c1, c3 = 2/3; bob good 1 average 1 poor 1, cy good 2 poor 1
    # expected = (1*2 + 1*1) / 9 = 1/3; kappa = (2/3 - 1/3) / (2/3) = 1/2
    bc = pairs[("bob", "cy")]
    assert (bc.n, bc.exact_agreement, bc.kappa) == (3, pytest.approx(2 / 3), pytest.approx(0.5))
    # pooled exact: (3 + 3 + 2) / (4 + 3 + 3) = 0.8; mean kappa = (7/11 + 1 + 1/2) / 3
    assert cal.exact_agreement == pytest.approx(0.8)
    assert cal.mean_kappa == pytest.approx((7 / 11 + 1 + 0.5) / 3)
    assert [c for c, _ in cal.disagreements] == ["c2"]


def test_calibration_uses_each_reviewers_latest_level_and_undefined_kappa(store, rubric):
    c1 = make_chat("c1")
    save(store, rubric, [(c1, make_result(c1, rubric))])
    record_review(store, "c1", "solution", "poor", reviewer="ann")
    record_review(store, "c1", "solution", "good", reviewer="ann")
    record_review(store, "c1", "solution", "good", reviewer="bob")
    (cal,) = calibration_report(store)
    # one item, one label on both sides: agreement 1, kappa undefined
    assert cal.pairs[0].exact_agreement == 1.0 and cal.pairs[0].kappa is None
    assert cal.mean_kappa is None and cal.disagreements == []


def test_live_pairs_take_the_latest_review_and_the_model_grade(store, rubric):
    c1, c2 = make_chat("c1"), make_chat("c2")
    save(
        store,
        rubric,
        [
            (c1, make_result(c1, rubric, empathy=("average", 0.4))),
            (c2, make_result(c2, rubric, solution=("unscored", None))),
        ],
    )
    record_review(store, "c1", "empathy", "poor", reviewer="ann")
    record_review(store, "c1", "empathy", "good", reviewer="bob")
    record_review(store, "c2", "solution", "poor", reviewer="ann")
    record_review(store, "c2", "greeting", "fail", reviewer="ann")  # a check: not paired
    ((name, (rub, pairs)),) = live_pairs(store).items()
    assert name == "tiny" and rub.id == "tiny@1"
    assert pairs == [("empathy", "average", "good", 0.4), ("solution", None, "poor", None)]
    today = datetime.now(UTC).date()
    assert live_pairs(store, since=(today + timedelta(days=1)).isoformat()) == {}


# ---------------------------------------------------------------------------- quotas


QUOTA = ReviewSettings(
    random_sample_rate=0,
    quota_rate=0.1,
    quota_min=1,
    new_agent_days=30,
    new_agent_factor=3,
    failure_window_days=30,
    failing_agent_factor=2,
    clean_days=60,
    clean_agent_quota=2,
)
AS_OF = date(2026, 11, 21)  # the 30-day window is 2026-10-23 .. 2026-11-21


def test_quota_for_by_hand():
    # 40 chats x 10%: 4; new x3: 12; failing x2: 8; clean: min(4, 2) = 2
    assert quota_for(40, new=False, failing=False, clean=False, settings=QUOTA) == 4
    assert quota_for(40, new=True, failing=False, clean=False, settings=QUOTA) == 12
    assert quota_for(40, new=True, failing=True, clean=False, settings=QUOTA) == 12
    assert quota_for(40, new=False, failing=True, clean=False, settings=QUOTA) == 8
    assert quota_for(40, new=False, failing=False, clean=True, settings=QUOTA) == 2
    assert quota_for(3, new=False, failing=False, clean=False, settings=QUOTA) == 1  # quota_min
    assert quota_for(0, new=True, failing=True, clean=False, settings=QUOTA) == 0
    # 300 x 1% x 3 is 9.000000000000002 in floats: still 9
    s = ReviewSettings(quota_rate=0.01, new_agent_factor=3)
    assert quota_for(300, new=True, failing=False, clean=False, settings=s) == 9


def _agent_chats(rubric: Rubric, agent: str, *, old: bool, fail_on: date | None) -> list:
    out = []
    if old:  # a chat 112 days earlier: audited for more than 60 days
        c = make_chat(f"{agent}-old", agent=agent, day=date(2026, 8, 1))
        out.append((c, make_result(c, rubric)))
    for i in range(40):  # 40 chats in the window, 2026-10-23 onwards
        day = date(2026, 10, 23) + timedelta(days=i % 30)
        c = make_chat(f"{agent}-{i:02d}", agent=agent, day=day)
        out.append((c, make_result(c, rubric)))
    if fail_on:
        c = make_chat(f"{agent}-fail", agent=agent, day=fail_on)
        out.append((c, make_result(c, rubric, fail=("unanswered_customer",))))
    return out


def test_quotas_new_agents_more_clean_agents_fewer(store, rubric):
    rows = []
    rows += _agent_chats(rubric, "clean", old=True, fail_on=None)
    rows += _agent_chats(rubric, "regular", old=True, fail_on=date(2026, 9, 30))
    rows += _agent_chats(rubric, "new", old=False, fail_on=None)
    rows += _agent_chats(rubric, "failing", old=True, fail_on=date(2026, 11, 10))
    run = save(store, rubric, rows)
    report = apply_quotas(store, run, QUOTA)
    got = {a.agent_id: (a.volume, a.status, a.quota, len(a.added)) for a in report.agents}
    assert got == {
        "clean": (40, ["clean"], 2, 2),  # ceil(40 x 0.1) = 4, capped at 2
        # the failure on 09-30 is outside the 30-day failure window but inside the 60 clean days
        "regular": (40, [], 4, 4),
        "new": (40, ["new"], 12, 12),  # 40 x 0.1 x 3
        "failing": (41, ["failing"], 9, 9),  # ceil(41 x 0.1 x 2) = ceil(8.2)
    }
    quota_items = list_queue(store, QueueFilter(reason=AGENT_QUOTA), limit=None)[0]
    assert len(quota_items) == 2 + 4 + 12 + 9
    # the failing chat is also queued as a critical failure, once, with both reasons if picked
    assert queue_item(store, "failing-fail").reasons[0] == CRITICAL
    # running the step again adds nothing: the earlier picks fill the quotas
    assert apply_quotas(store, run, QUOTA).added == 0


def test_quota_picks_are_seeded_and_count_the_random_sample(tmp_path, rubric):
    def picks(path, empathy_level):
        s = Store(path)
        rows = []
        for i in range(30):
            c = make_chat(f"x{i:02d}", agent="a", day=AS_OF)
            rows.append((c, make_result(c, rubric, empathy=(empathy_level, 0.95))))
        run = save(s, rubric, rows)
        out = apply_quotas(s, run, QUOTA.model_copy(update={"new_agent_factor": 1.0}))
        s.close()
        return out.agents[0]

    a = picks(tmp_path / "a.db", "good")
    b = picks(tmp_path / "b.db", "poor")  # other model output, same picks
    assert a.quota == 3 and a.added == b.added and len(a.added) == 3
    # with every chat already in the random sample, the quota is met without a top-up
    full = tiny_rubric(random_sample_rate=1.0)
    s = Store(tmp_path / "c.db")
    rows = [(c, make_result(c, full)) for c in (make_chat(f"y{i}", agent="b") for i in range(10))]
    report = apply_quotas(s, save(s, full, rows), QUOTA)
    assert report.agents[0].sampled == 10 and report.added == 0
    s.close()


def test_quotas_default_to_each_rubrics_own_settings(store):
    rub = tiny_rubric(random_sample_rate=0, quotas="false")
    c = make_chat("c1")
    run = save(store, rub, [(c, make_result(c, rub))])
    assert apply_quotas(store, run).agents == []


def test_results_audited_before_the_queue_existed_are_backfilled(tmp_path, rubric):
    path = tmp_path / "old.db"
    s = Store(path)
    c1, c2 = make_chat("c1"), make_chat("c2")
    save(
        s,
        rubric,
        [(c1, make_result(c1, rubric, fail=("forbidden_phrase",))), (c2, make_result(c2, rubric))],
    )
    # what a database from before the queue looks like: results, no queue items
    s.db.execute("DELETE FROM review_queue")
    s.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_review_queue_backfill'")
    s.db.conn.commit()
    s.close()
    s = Store(path)
    item = queue_item(s, "c1")
    assert (
        item is not None
        and item.reasons == [FATAL]
        and item.targets == {"forbidden_phrase": [FATAL]}
    )
    assert s.count("review_queue") == 1
    s.close()
