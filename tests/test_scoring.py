"""Scoring rules (STANDARDS.md §4) on a small hand-made rubric; every expected score is hand-computed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditor.models import Chat, Finding, Grade, Message, Metrics
from auditor.rubric import parse_rubric
from auditor.scoring import rescore_with_reviews, score_chat

RUBRIC = """
name: tiny
version: "1"
language: en
total: 100
pass_rules: {max_critical_failures: 0, max_normal_failures: 1}
criteria:
  - {id: first_response, title: First reply, points: 10, kind: check, check: first_response}
  - {id: greeting, title: Greeting, points: 10, kind: check, check: greeting}
  - {id: forbidden_phrase, title: Forbidden, points: 10, severity: fatal, kind: check, check: forbidden_phrase}
  - id: empathy
    title: Empathy
    points: 30
    kind: llm
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


@pytest.fixture
def rubric():
    return parse_rubric(RUBRIC)


@pytest.fixture
def chat():
    t = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    return Chat(
        chat_id="c1",
        language="en",
        messages=[
            Message(id="m1", role="customer", ts=t, text="hi"),
            Message(id="m2", role="agent", ts=t, text="hello"),
        ],
    )


def findings(fr="pass", gr="pass", fb="pass"):
    return [
        Finding(criterion="first_response", check="first_response", status=fr),
        Finding(criterion="greeting", check="greeting", status=gr),
        Finding(criterion="forbidden_phrase", check="forbidden_phrase", status=fb),
    ]


def grades(emp=("na", None), sol=("scored", "good")):
    return [
        Grade(criterion="empathy", status=emp[0], level=emp[1], confidence=0.9),
        Grade(criterion="solution", status=sol[0], level=sol[1], confidence=0.9),
    ]


def test_all_good_with_na_scores_full(rubric, chat):
    r = score_chat(chat, rubric, findings(), grades(), Metrics())
    assert (r.score, r.passed, r.fatal) == (100, True, False)
    assert r.failed_criteria == []


def test_deductions_add_up(rubric, chat):
    # first_response fails (-10); solution average (-(40-20) = -20); empathy average (-15): 55
    r = score_chat(
        chat,
        rubric,
        findings(fr="fail"),
        grades(emp=("scored", "average"), sol=("scored", "average")),
        Metrics(),
    )
    assert r.score == 55
    # one normal failure (first_response) <= 1 allowed; "average" is not a failing level
    assert r.passed is True
    assert r.failed_criteria == ["first_response"]
    sol = next(g for g in r.grades if g.criterion == "solution")
    assert (sol.points_lost, sol.failed, sol.severity) == (20, False, "critical")


def test_two_normal_failures_fail_when_rubric_allows_one(rubric, chat):
    r = score_chat(chat, rubric, findings(fr="fail", gr="fail"), grades(), Metrics())
    assert r.score == 80
    assert r.passed is False


def test_one_critical_failure_fails_the_chat(rubric, chat):
    r = score_chat(chat, rubric, findings(), grades(sol=("scored", "poor")), Metrics())
    assert r.score == 60
    assert r.passed is False and r.fatal is False


def test_fatal_scores_zero(rubric, chat):
    r = score_chat(chat, rubric, findings(fb="fail"), grades(), Metrics())
    assert (r.score, r.passed, r.fatal) == (0, False, True)


def test_unscored_costs_nothing_and_is_listed(rubric, chat):
    r = score_chat(chat, rubric, findings(), grades(sol=("unscored", None)), Metrics())
    assert r.score == 100
    assert r.unscored_criteria == ["solution"]


def test_na_where_not_allowed_becomes_unscored(rubric, chat):
    r = score_chat(chat, rubric, findings(), grades(sol=("na", None)), Metrics())
    sol = r.grades[1]
    assert sol.status == "unscored" and "cannot be not-applicable" in (sol.error or "")
    assert r.score == 100 and r.unscored_criteria == ["solution"]


def test_unknown_level_becomes_unscored(rubric, chat):
    r = score_chat(chat, rubric, findings(), grades(sol=("scored", "excellent")), Metrics())
    assert r.grades[1].status == "unscored"
    assert "not a level of solution" in (r.grades[1].error or "")


def test_reviews_override_model_levels(rubric, chat):
    model = score_chat(chat, rubric, findings(gr="fail"), grades(sol=("scored", "poor")), Metrics())
    assert (model.score, model.passed) == (50, False)  # -10 greeting, -40 solution
    human = rescore_with_reviews(model, rubric, {"solution": "good", "greeting": "pass"}, chat)
    assert (human.score, human.passed) == (100, True)
    # the model's own result object is unchanged
    assert model.grades[1].level == "poor"
