"""`auditor eval` and `auditor eval history` through the CLI: JSON contract, gate exit code, history."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli import main

DEMO = Path(__file__).resolve().parent.parent / "eval" / "demo-gold.jsonl"


def test_eval_json_gate_and_history(tmp_path: Path):
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    r = runner.invoke(main, ["eval", "--set", str(DEMO), "--json", "--n-boot", "50", "--db", db])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert {
        "set",
        "grader",
        "model",
        "prompt_version",
        "rubric",
        "n_items",
        "criteria",
        "total_score",
        "pass_fail",
        "coverage",
    } <= set(report)
    assert report["grader"] == "offline" and report["n_items"] == 24
    crit = report["criteria"]["empathy"]
    assert {
        "n",
        "unscored",
        "exact_agreement",
        "adjacent_agreement",
        "qwk",
        "krippendorff_alpha",
        "mean_signed_error",
        "ci95",
        "confusion",
        "human_human",
    } <= set(crit)

    # a floor no baseline reaches: the gate fails with exit code 9 and names the metric
    r = runner.invoke(
        main,
        ["eval", "--set", str(DEMO), "--n-boot", "20", "--db", db, "--fail-under", "kappa=0.99"],
    )
    assert r.exit_code == 9 and "kappa" in r.output

    r = runner.invoke(main, ["eval", "history", "--json", "--db", db])
    assert r.exit_code == 0
    rows = json.loads(r.output)
    assert len(rows) == 2 and {row["grader"] for row in rows} == {"offline"}


def test_eval_without_set_is_a_usage_error(tmp_path: Path):
    r = CliRunner().invoke(main, ["eval", "--db", str(tmp_path / "a.db")])
    assert r.exit_code == 2 and "--set" in r.output


def test_bad_fail_under_spec_fails_before_grading(tmp_path: Path):
    r = CliRunner().invoke(
        main, ["eval", "--set", str(DEMO), "--fail-under", "kappa", "--db", str(tmp_path / "a.db")]
    )
    assert r.exit_code == 2
