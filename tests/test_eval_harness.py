"""The eval harness: gold-set validation, run_eval on a hand-computed set, the gate, history."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from rich.console import Console
from sqlite_utils import Database

from auditor.errors import EvalGateFailed, UsageError
from auditor.evaluation import (
    GoldSetError,
    agreement_from_pairs,
    check_fail_under,
    eval_history,
    load_gold_set,
    parse_fail_under,
    record_eval_run,
    render_agreement,
    render_history,
    run_eval,
)
from auditor.models import ChatResult, Grade, Metrics
from auditor.rubric import load_rubric, parse_rubric

REPO = Path(__file__).resolve().parent.parent

RUBRIC = parse_rubric(
    """
name: eval-test
version: "1"
language: en
total: 100
criteria:
  - id: solution
    title: Solution
    points: 50
    kind: llm
    levels:
      - {id: good, points: 50}
      - {id: average, points: 25}
      - {id: poor, points: 0, fail: true}
  - id: empathy
    title: Empathy
    points: 50
    kind: llm
    na: {allowed: true}
    levels:
      - {id: poor, points: 0, fail: true}
      - {id: good, points: 50}
      - {id: average, points: 25}
""",
    "eval-test.yaml",
)

MESSAGES = [
    {"role": "customer", "ts": "2026-01-05T09:00:00Z", "text": "My parcel is late."},
    {"role": "agent", "ts": "2026-01-05T09:00:20Z", "text": "Sorry, let me check."},
]


def chat(chat_id: str, human: list | None) -> dict:
    obj: dict = {"chat_id": chat_id, "language": "en", "messages": MESSAGES}
    if human is not None:
        obj["human"] = human
    return obj


# levels: solution poor=0 average=1 good=2; empathy (ordered by points) poor=0 average=1 good=2
GOLD = [
    chat(
        "c1",
        [
            {
                "rater": "qa1",
                "levels": {"solution": "good", "empathy": "na"},
                "score": 95,
                "passed": True,
            },
            {
                "rater": "qa2",
                "levels": {"solution": "good", "empathy": "na"},
                "score": 85,
                "passed": True,
            },
        ],
    ),
    chat(
        "c2",
        [
            {
                "rater": "qa1",
                "levels": {"solution": "average", "empathy": "good"},
                "score": 70,
                "passed": True,
            },
            {
                "rater": "qa2",
                "levels": {"solution": "poor", "empathy": "na"},
                "score": 60,
                "passed": False,
            },
        ],
    ),
    chat(
        "c3",
        [
            {
                "rater": "qa1",
                "levels": {"solution": "poor", "empathy": "poor"},
                "score": 30,
                "passed": False,
            },
            {"rater": "qa2", "levels": {"solution": "poor"}},
        ],
    ),
    chat(
        "c4",
        [
            {"rater": "qa1", "levels": {"solution": "good", "empathy": None}},
            {"rater": "qa2", "levels": {"solution": "average"}},
        ],
    ),
]

# chat -> (score, passed, {criterion: (status, level, confidence)})
MODEL = {
    "c1": (90, True, {"solution": ("scored", "good", 0.9), "empathy": ("na", None, 0.5)}),
    "c2": (70, True, {"solution": ("scored", "average", 0.4), "empathy": ("scored", "good", 0.7)}),
    "c3": (40, False, {"solution": ("scored", "poor", 0.8), "empathy": ("na", None, 0.3)}),
    "c4": (80, True, {"solution": ("unscored", None, None), "empathy": ("scored", "good", 0.6)}),
}


class FakeGrader:
    """Stands in for a real grader: the fake audit below decides the grades."""

    name = "fake"
    model = "fake-model"

    def settings_key(self) -> str:
        return "fake"

    async def grade(self, chat, rubric):  # pragma: no cover - the fake audit grades
        return []

    async def aclose(self) -> None:
        return None


async def fake_audit(chat, rubric) -> ChatResult:
    score, passed, grades = MODEL[chat.chat_id]
    return ChatResult(
        chat_id=chat.chat_id,
        agent_id=None,
        language=chat.language,
        rubric=rubric.id,
        score=score,
        passed=passed,
        fatal=False,
        metrics=Metrics(),
        findings=[],
        grades=[
            Grade(
                criterion=c,
                status=st,
                level=lv,
                confidence=conf,
                grader="fake",
                prompt_version="p1",
            )
            for c, (st, lv, conf) in grades.items()
        ],
    )


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = write_jsonl(tmp_path_factory.mktemp("gold") / "gold.jsonl", GOLD)
    return run_eval(
        path, RUBRIC, FakeGrader(), audit=fake_audit, n_boot=200, target_kappa=0.5, min_accepted=2
    )


def test_per_criterion_metrics_against_the_median_human(report):
    sol = report.criteria["solution"]
    # medians (low): c1 good(2), c2 avg/poor -> poor(0), c3 poor(0), c4 good/avg -> avg(1)
    # model: 2, 1, 0, unscored -> pairs (2,2), (1,0), (0,0)
    assert (sol.n, sol.unscored, sol.n_items) == (3, 1, 4)
    assert sol.exact_agreement == pytest.approx(2 / 3)
    assert sol.adjacent_agreement == pytest.approx(1.0)
    assert sol.mean_signed_error == pytest.approx(1 / 3)
    # QWK model (2,1,0) vs human (2,0,0): observed 1/4; human marginals (2,0,1), model
    # (1,1,1): expected 2/3*1/4 + 2/3 + 1/3 + 1/3*1/4 = 5/4 -> 1 - (1/4)/(5/4) = 0.8
    assert sol.qwk == pytest.approx(0.8)
    assert sol.confusion["poor"] == {"poor": 1, "average": 1, "good": 0}
    assert sol.confusion["good"] == {"poor": 0, "average": 0, "good": 1}
    # human-human on all four items: qa1 (2,1,0,2), qa2 (2,0,0,1): observed 1/4+1/4;
    # marginals (1,1,2) and (2,1,1): expected 5/16 + 3/16 + 18/16 = 13/8 -> 1 - 0.5/1.625 = 9/13
    assert sol.human_human.qwk == pytest.approx(9 / 13)
    assert sol.human_human.n_raters == 2


def test_not_applicable_and_missing_ratings(report):
    emp = report.criteria["empathy"]
    # c1 both na; c2 one na of two (no strict majority) -> good; c3 only qa1: poor, model na;
    # c4 nobody rated -> not counted
    assert emp.n_items == 3
    assert emp.na == {"model_na_human_level": 1, "human_na_model_level": 0, "both_na": 1}
    assert emp.n == 1 and emp.exact_agreement == 1.0
    assert emp.qwk is None  # one pair, one level: undefined, not 1.0
    assert emp.levels == ["poor", "average", "good"]  # ordered by points, not by file order


def test_overall_totals_and_pass_fail(report):
    # pooled pairs: solution 3 + empathy 1, 3 exact -> 0.75; signed errors sum 1 -> 0.25
    assert report.overall["exact_agreement"] == pytest.approx(0.75)
    assert report.overall["mean_signed_error"] == pytest.approx(0.25)
    assert report.overall["qwk"] == pytest.approx(0.8)  # empathy's undefined kappa is skipped
    # human scores: medians 90, 65, 30, none -> |0| + |5| + |10| = 15 / 3 = 5; ranks agree
    assert report.total_score["mae"] == pytest.approx(5.0)
    assert report.total_score["spearman"] == pytest.approx(1.0)
    # human pass: T, tie -> F, F; model T, T, F: accuracy 2/3; pe = 2/3*1/3 + 1/3*2/3 = 4/9,
    # kappa = (2/3 - 4/9) / (5/9) = 0.4
    assert report.pass_fail["accuracy"] == pytest.approx(2 / 3)
    assert report.pass_fail["kappa"] == pytest.approx(0.4)


def test_json_has_the_agreed_shape(report):
    data = report.to_json()
    assert list(data)[:10] == [
        "set", "grader", "model", "prompt_version", "rubric", "n_items",
        "criteria", "total_score", "pass_fail", "coverage",
    ]  # fmt: skip
    assert data["grader"] == "fake" and data["model"] == "fake-model"
    assert data["prompt_version"] == "p1" and data["rubric"] == "eval-test@1"
    assert data["n_items"] == 4
    crit = data["criteria"]["solution"]
    for key in (
        "n", "unscored", "exact_agreement", "adjacent_agreement", "qwk",
        "krippendorff_alpha", "mean_signed_error", "ci95", "confusion", "human_human",
    ):  # fmt: skip
        assert key in crit
    assert set(crit["human_human"]) >= {"qwk", "krippendorff_alpha"}
    lo, hi = crit["ci95"]["exact_agreement"]
    assert lo <= 2 / 3 <= hi
    json.dumps(data)  # serialisable as it is


def test_coverage_rows_pool_the_scored_grades(report):
    rows = {r["threshold"]: r for r in report.coverage}
    # scored pairs and confidences: solution (2,2) .9, (1,0) .4, (0,0) .8; empathy (2,2) .7
    assert rows[0.0]["n"] == 4 and rows[0.0]["n_accepted"] == 4
    assert rows[0.5]["n_accepted"] == 3 and rows[0.5]["exact_agreement"] == 1.0
    # the one disagreement has the lowest confidence: AUROC 1
    assert report.auroc_disagreement == pytest.approx(1.0)


def test_render_shows_the_figures(report):
    console = Console(record=True, width=200)
    render_agreement(report, console, show_confusion=True)
    text = console.export_text()
    assert "solution" in text and "0.80" in text and "9/13" not in text
    assert "0.69" in text  # human-human QWK 9/13


def test_gold_set_errors_are_line_numbered_and_nothing_is_graded(tmp_path):
    bad = [
        GOLD[0],
        "{not json",
        chat("c5", None),
        chat("c6", [{"rater": "qa1", "levels": {"speed": "good"}}]),
        chat("c7", [{"rater": "qa1", "levels": {"solution": "great"}}]),
        chat("c8", [{"rater": "qa1", "levels": {"solution": "na"}}]),
        chat("c9", [{"rater": "qa1", "levels": {}}, {"rater": "qa1", "score": 500}]),
        chat("c1", [{"rater": "qa1", "levels": {"solution": "good"}}]),
        {"chat_id": "c10", "messages": [], "human": [{"rater": "qa1", "passed": True}]},
        chat("c11", [{"rater": "qa1", "level": {"solution": "good"}}]),
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", bad)
    with pytest.raises(GoldSetError) as err:
        load_gold_set(path, RUBRIC)
    errors = err.value.errors
    by_line = {int(e.split(":")[0].split()[1]) for e in errors}
    assert by_line == {2, 3, 4, 5, 6, 7, 8, 9, 10}
    text = "\n".join(errors)
    assert "line 2: not valid JSON" in text
    assert 'line 3: no "human" key' in text
    assert "line 4" in text and "unknown criterion 'speed'" in text
    assert "line 5" in text and "unknown level 'great'" in text and "good" in text
    assert "line 6" in text and "does not allow 'na'" in text
    assert "line 7" in text and "nothing to compare" in text and "appears twice" in text
    assert "outside 0..100" in text
    assert "line 8: chat_id 'c1' already used on line 1" in text
    assert "line 10" in text and "unknown key" in text
    assert "nothing was graded" in str(err.value)


def test_fail_under_gate(report):
    assert parse_fail_under("kappa=0.6, exact=0.5") == {"kappa": 0.6, "exact": 0.5}
    check_fail_under(report, "kappa=0.8,exact=0.75,spearman=0.9")  # all at or above
    with pytest.raises(EvalGateFailed) as err:
        check_fail_under(report, "kappa=0.9,exact=0.5,empathy.kappa=0.1,solution.exact=0.7")
    msg = str(err.value)
    assert "kappa = 0.800 < 0.9" in msg
    assert "empathy.kappa is undefined" in msg  # undefined never passes a gate
    assert "solution.exact = 0.667 < 0.7" in msg
    assert "exact =" not in msg.replace("solution.exact =", "")
    assert err.value.exit_code == 9


@pytest.mark.parametrize("spec", ["kappa", "kappa=high", "mae=5", "", "speed.kappa=0.5"])
def test_fail_under_rejects_bad_specs(report, spec):
    with pytest.raises(UsageError):
        check_fail_under(report, spec)


def test_history_round_trip(report, tmp_path):
    db = Database(tmp_path / "history.db")
    first = record_eval_run(db, report)
    second = record_eval_run(db, report.model_copy(update={"grader": "other"}))
    assert second == first + 1
    rows = eval_history(db)
    assert [r["id"] for r in rows] == [second, first]  # newest first
    assert rows[1]["metrics"] == report.to_json()
    assert rows[1]["set_hash"] == report.set_hash and rows[1]["n_items"] == 4
    assert [r["id"] for r in eval_history(db, grader="fake")] == [first]
    assert eval_history(Database(memory=True)) == []
    console = Console(record=True, width=200)
    render_history(rows, console)
    assert "0.80" in console.export_text()
    db.close()


def test_agreement_from_live_pairs():
    pairs = [
        ("solution", "good", "good", 0.9),
        ("solution", "average", "poor", 0.4),
        ("solution", "poor", "poor", 0.8),
        ("solution", None, "average", None),  # unscored grade
        ("empathy", "good", "good", 0.7),
        ("empathy", "na", "poor", 0.3),
        ("speed", "good", "good", 0.9),  # not in the rubric any more
        ("solution", "great", "good", 0.9),  # unknown level
    ]
    rep = agreement_from_pairs(pairs, RUBRIC, n_boot=50)
    # the same pairs as the gold-set example: solution QWK 0.8, 1 unscored
    assert rep.criteria["solution"].qwk == pytest.approx(0.8)
    assert rep.criteria["solution"].unscored == 1
    assert rep.criteria["empathy"].na["model_na_human_level"] == 1
    assert rep.overall["skipped"] == 2
    assert rep.overall["exact_agreement"] == pytest.approx(0.75)


def test_demo_gold_set_runs_end_to_end_with_the_offline_grader():
    from auditor.grading import make_grader
    from auditor.rubric import RubricSet

    rep = run_eval(
        REPO / "eval" / "demo-gold.jsonl", RubricSet("auto"), make_grader("offline"), n_boot=50
    )
    assert rep.n_items >= 20 and rep.n_raters == 2
    assert set(rep.rubric.split(",")) == {"online-chat-zh@1.1.0", "online-chat-en@1.1.1"}
    assert rep.errors == []
    assert all(c.human_human.n_raters == 2 for c in rep.criteria.values())
    assert rep.total_score["mae"] is not None and rep.pass_fail["accuracy"] is not None


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "eval" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.realdata
def test_stc3_conversion_produces_a_loadable_gold_set(shared_data, tmp_path):
    build = _load_script("build_stc3")
    path, n = build.build(shared_data / "chats" / "stc3", tmp_path, "zh", limit=25)
    assert n == 25
    gold = load_gold_set(path, load_rubric("stc3-dialogue-zh"))
    assert len(gold.items) == 25 and len(gold.raters) == 19
    first = json.loads((shared_data / "chats" / "stc3" / "stc3_cn_dev.jsonl").open().readline())
    item = gold.items[0]
    assert item.chat.chat_id == f"stc3-zh-{first['id']}"
    a01 = item.ratings[0]
    assert a01.rater == "stc3-a01"
    assert a01.levels["task_accomplishment"] == str(first["quality_per_annotator"]["A"][0])
    assert a01.levels["satisfaction"] == str(first["quality_per_annotator"]["S"][0])
    # the rater's score is the rubric total of their levels
    rubric = load_rubric("stc3-dialogue-zh")
    expected = sum(rubric.criterion(c).level(lv).points for c, lv in a01.levels.items())
    assert a01.score == expected
