"""ChatChecker: one Finding per check criterion, in rubric order, plus the chat's Metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import auditor.checks as checks_module
from auditor.checks import ChatChecker
from auditor.checks.typos import Typo, TypoReport
from auditor.models import Chat, Message
from auditor.rubric import TypoSettings, load_rubric, parse_rubric

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)

SETTINGS_YAML = """
name: test-zh
version: "1"
language: zh
timing:
  hold_patterns: [请稍等, 我帮您查一下]
  ack_phrases: [好的, 好, 谢谢]
phrases:
  forbidden: [不归我管]
  greeting: [您好]
  closing_help: [还有什么可以帮您]
  closing_thanks: [感谢, 谢谢]
  closing_window: 3
  impolite_address: ['你(?!们)']
typos:
  max_typos: 3
"""

CRITERIA_YAML = """
criteria:
  - {id: forbidden_phrase, title: t, points: 10, severity: fatal, kind: check, check: forbidden_phrase}
  - {id: first_response, title: t, points: 10, kind: check, check: first_response}
  - {id: followup_response, title: t, points: 10, kind: check, check: followup_response}
  - {id: avg_response, title: t, points: 10, kind: check, check: avg_response}
  - {id: hold, title: t, points: 10, kind: check, check: hold}
  - {id: unanswered_customer, title: t, points: 10, severity: critical, kind: check, check: unanswered_customer}
  - {id: typos, title: t, points: 10, kind: check, check: typos}
  - {id: greeting, title: t, points: 5, kind: check, check: greeting}
  - {id: closing, title: t, points: 5, kind: check, check: closing}
  - {id: polite_address, title: t, points: 5, kind: check, check: polite_address}
  - id: empathy
    title: t
    points: 15
    kind: llm
    levels: [{id: good, points: 15}, {id: poor, points: 0, fail: true}]
"""

RUBRIC = parse_rubric(SETTINGS_YAML + CRITERIA_YAML)


class FakeTypoChecker:
    """Stands in for the typo engine so these tests pin the checker, not the dictionaries."""

    report = TypoReport()

    def __init__(self, settings: TypoSettings, extra_dictionaries: Sequence[Path] = ()):
        self.settings = settings

    def check(self, chat: Chat) -> TypoReport:
        return self.report


@pytest.fixture(autouse=True)
def fake_typos(monkeypatch):
    FakeTypoChecker.report = TypoReport()
    monkeypatch.setattr(checks_module, "TypoChecker", FakeTypoChecker)
    return FakeTypoChecker


def chat(*rows: tuple, language: str = "zh") -> Chat:
    """rows: (role, seconds after T0, text[, auto]); ids m1, m2, … by position."""
    return Chat(
        chat_id="c1",
        language=language,
        messages=[
            Message(
                id=f"m{i}",
                role=row[0],
                ts=T0 + timedelta(seconds=row[1]),
                text=row[2],
                auto=row[3] if len(row) > 3 else False,
            )
            for i, row in enumerate(rows, 1)
        ],
    )


SCENARIO = chat(
    ("bot", 0, "您好，我是智能助手小美"),
    ("customer", 2, "我的订单还没到"),
    ("agent", 40, "您好，请提供订单号"),  # first response 38 s > 30
    ("customer", 50, "123456"),
    ("agent", 60, "请稍等，我帮您查一下"),  # follow-up 10 s; opens a hold (limit 180)
    ("customer", 100, "好了吗"),  # covered by the hold
    ("agent", 300, "你的包裹明天送达"),  # closes the hold after 240 s; 你
    ("customer", 310, "为什么这么慢"),
    ("agent", 460, "这个不归我管"),  # follow-up 150 s > 120; forbidden
    ("customer", 470, "好吧"),
    ("agent", 480, "还有什么可以帮您？"),  # follow-up 10 s
    ("customer", 490, "谢谢"),  # ack-only ending
)


def by_id(findings):
    return {f.criterion: f for f in findings}


def test_one_finding_per_check_criterion_in_rubric_order():
    findings, _ = ChatChecker(RUBRIC).run(SCENARIO)
    assert [f.criterion for f in findings] == [
        "forbidden_phrase",
        "first_response",
        "followup_response",
        "avg_response",
        "hold",
        "unanswered_customer",
        "typos",
        "greeting",
        "closing",
        "polite_address",
    ]
    assert all(f.criterion == f.check for f in findings)


def test_scenario_statuses_points_and_evidence():
    findings, metrics = ChatChecker(RUBRIC).run(SCENARIO)
    f = by_id(findings)
    status = {k: v.status for k, v in f.items()}
    assert status == {
        "forbidden_phrase": "fail",
        "first_response": "fail",
        "followup_response": "fail",
        "avg_response": "fail",  # (38 + 10 + 150 + 10) / 4 = 52 > 40
        "hold": "fail",  # 240 s > 180 s
        "unanswered_customer": "pass",
        "typos": "pass",
        "greeting": "pass",
        "closing": "fail",  # no thanks in the last three replies
        "polite_address": "fail",
    }
    assert f["forbidden_phrase"].severity == "fatal"
    assert f["forbidden_phrase"].points_lost == 10
    assert f["unanswered_customer"].severity == "critical"
    assert f["unanswered_customer"].points_lost == 0
    assert f["greeting"].points_lost == 0
    assert f["closing"].points_lost == 5

    ev = {k: [(e.message_id, e.quote) for e in v.evidence] for k, v in f.items()}
    assert ev["forbidden_phrase"] == [("m9", "不归我管")]
    assert ev["first_response"] == [("m2", "我的订单还没到"), ("m3", "您好，请提供订单号")]
    assert ev["followup_response"] == [("m8", "为什么这么慢"), ("m9", "这个不归我管")]
    assert ev["avg_response"] == [("m8", "为什么这么慢"), ("m9", "这个不归我管")]
    assert ev["hold"] == [("m5", "请稍等，我帮您查一下"), ("m7", "你的包裹明天送达")]
    assert ev["greeting"] == [("m3", "您好")]
    assert ev["closing"] == [("m11", "还有什么可以帮您")]
    assert ev["polite_address"] == [("m7", "你的包裹明天送达")]

    assert f["first_response"].detail == "first reply after 38 s (limit 30 s): m2 -> m3"
    assert f["followup_response"].data["gaps"] == [
        {"from": "m4", "to": "m5", "seconds": 10.0},
        {"from": "m8", "to": "m9", "seconds": 150.0},
        {"from": "m10", "to": "m11", "seconds": 10.0},
    ]
    assert f["followup_response"].data["covered"] == [{"from": "m6", "to": "m7", "seconds": 200.0}]
    assert f["avg_response"].data == {"seconds": 52.0, "limit_s": 40, "responses": 4}
    assert f["hold"].data["holds"] == [
        {
            "message_id": "m5",
            "closed_by": "m7",
            "seconds": 240.0,
            "limit_s": 180,
            "stated_s": None,
            "covered": ["m6"],
        }
    ]
    assert "lacks thanks" in f["closing"].detail

    assert metrics.model_dump() == {
        "first_response_s": 38.0,
        "max_followup_s": 150.0,
        "avg_response_s": 52.0,
        "followup_violations": 1,
        "hold_count": 1,
        "typo_count": 0,
        "unanswered_customer": False,
    }


def test_every_quote_is_verbatim_and_long_messages_are_quoted_by_a_prefix():
    long_question = "  " + "我想问一下" * 30  # 152 characters with leading spaces
    c = chat(("customer", 0, long_question), ("agent", 100, "您好"))
    findings, _ = ChatChecker(RUBRIC).run(c)
    [first] = [f for f in findings if f.criterion == "first_response"]
    assert first.status == "fail"
    assert first.evidence[0].quote == ("我想问一下" * 12)[:60]
    for chat_ in (c, SCENARIO):
        texts = {m.id: m.text for m in chat_.messages}
        for f in ChatChecker(RUBRIC).run(chat_)[0]:
            for e in f.evidence:
                assert e.quote in texts[e.message_id], (f.criterion, e)


def test_unanswered_question_and_never_answered_customer():
    findings, metrics = ChatChecker(RUBRIC).run(
        chat(("customer", 0, "在吗"), ("customer", 5, "有人吗"), ("system", 900, "会话结束"))
    )
    f = by_id(findings)
    assert f["first_response"].status == "fail"
    assert f["first_response"].detail == "the customer wrote (m1) and the agent never replied"
    assert f["unanswered_customer"].status == "fail"
    assert [e.message_id for e in f["unanswered_customer"].evidence] == ["m1", "m2"]
    assert f["unanswered_customer"].points_lost == 10
    # nothing the agent wrote: the agent-side checks do not apply
    for check in (
        "followup_response",
        "avg_response",
        "hold",
        "typos",
        "forbidden_phrase",
        "greeting",
        "closing",
        "polite_address",
    ):
        assert f[check].status == "na", check
    assert metrics.unanswered_customer is True
    assert metrics.first_response_s is None and metrics.avg_response_s is None


def test_ack_only_customer_after_agent_outreach_needs_no_reply():
    findings, metrics = ChatChecker(RUBRIC).run(
        chat(("agent", 0, "您好，您的订单已发货"), ("customer", 60, "好的，谢谢！"))
    )
    f = by_id(findings)
    assert f["first_response"].status == "na"
    assert f["unanswered_customer"].status == "pass"
    assert metrics.unanswered_customer is False


def test_no_customer_message_makes_the_timing_checks_not_applicable():
    findings, metrics = ChatChecker(RUBRIC).run(chat(("agent", 0, "您好，通知您订单已发货")))
    f = by_id(findings)
    for check in (
        "first_response",
        "followup_response",
        "avg_response",
        "hold",
        "unanswered_customer",
    ):
        assert f[check].status == "na", check
        assert f[check].points_lost == 0
    assert metrics.first_response_s is None


def test_typos_fail_over_the_limit_with_spans(fake_typos):
    c = chat(("customer", 0, "在吗"), ("agent", 10, "您好，在的，帐户已经冲值了"))
    typos = [
        Typo("m2", 6, 8, "帐户", "账户", "typo", "confusable"),
        Typo("m2", 10, 12, "冲值", "充值", "typo", "confusable"),
    ]
    fake_typos.report = TypoReport(
        typos=typos * 2, possible=[Typo("m2", 0, 2, "您好", None, "possible")]
    )
    findings, metrics = ChatChecker(RUBRIC).run(c)
    f = by_id(findings)["typos"]
    assert f.status == "fail" and f.points_lost == 10
    assert f.detail.startswith("4 typos (limit 3): 帐户->账户, 冲值->充值")
    assert [(e.message_id, e.quote) for e in f.evidence][:2] == [("m2", "帐户"), ("m2", "冲值")]
    assert f.data["typos"][0] == {
        "message_id": "m2",
        "start": 6,
        "end": 8,
        "text": "帐户",
        "suggestion": "账户",
        "reason": "confusable",
    }
    assert [p["text"] for p in f.data["possible"]] == ["您好"]
    assert metrics.typo_count == 4

    fake_typos.report = TypoReport(typos=typos)
    f = by_id(ChatChecker(RUBRIC).run(c)[0])["typos"]
    assert (f.status, f.points_lost) == ("pass", 0)


def test_metrics_without_timing_or_typo_criteria():
    rubric = parse_rubric(
        SETTINGS_YAML
        + """
total: 10
criteria:
  - {id: greet, title: t, points: 10, kind: check, check: greeting}
"""
    )
    findings, metrics = ChatChecker(rubric).run(SCENARIO)
    assert [(f.criterion, f.check, f.status) for f in findings] == [("greet", "greeting", "pass")]
    assert metrics.first_response_s == 38.0
    assert metrics.avg_response_s == 52.0
    assert metrics.hold_count == 1
    assert metrics.typo_count is None  # no typos criterion: typos were not looked for


def test_two_criteria_may_share_a_check():
    rubric = parse_rubric(
        SETTINGS_YAML
        + """
total: 10
criteria:
  - {id: fr_strict, title: t, points: 6, severity: critical, kind: check, check: first_response}
  - {id: fr_again, title: t, points: 4, kind: check, check: first_response}
"""
    )
    findings, _ = ChatChecker(rubric).run(SCENARIO)
    assert [(f.criterion, f.status, f.severity, f.points_lost) for f in findings] == [
        ("fr_strict", "fail", "critical", 6),
        ("fr_again", "fail", "normal", 4),
    ]


@pytest.mark.parametrize("name", ["online-chat-zh", "online-chat-en"])
def test_shipped_rubrics_run(name):
    rubric = load_rubric(name)
    c = chat(
        ("customer", 0, "hello, where is my order?"),
        ("agent", 20, "Hello, thanks for contacting us. Please hold while I check."),
        ("agent", 100, "It ships tomorrow. Anything else I can help with? Thank you!"),
        language=rubric.language,
    )
    findings, metrics = ChatChecker(rubric).run(c)
    assert [f.criterion for f in findings] == [cr.id for cr in rubric.check_criteria]
    assert metrics.first_response_s == 20.0 and metrics.hold_count == (
        1 if rubric.language == "en" else 0
    )
