"""CLI end to end with click's CliRunner: exit codes, rows in the database, files written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.store import Store
from cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "sample-day.jsonl"


def line(chat_id: str, agent_text: str, lang: str = "zh") -> str:
    msgs = [
        {"role": "bot", "ts": "2026-11-21T09:00:00+08:00", "text": "您好，我是智能助手小京"},
        {"role": "customer", "ts": "2026-11-21T09:00:05+08:00", "text": "我的退款什么时候到账？"},
        {"role": "agent", "ts": "2026-11-21T09:00:50+08:00", "text": agent_text},
        {"role": "customer", "ts": "2026-11-21T09:01:10+08:00", "text": "好的，谢谢"},
    ]
    return json.dumps(
        {"chat_id": chat_id, "agent_id": "A1", "language": lang, "messages": msgs},
        ensure_ascii=False,
    )


@pytest.fixture
def day(tmp_path: Path) -> Path:
    p = tmp_path / "day.jsonl"
    p.write_text(
        "\n".join(
            [
                line(
                    "c1",
                    "您好，很高兴为您服务。退款已受理，预计1-3个工作日到账。请问还有什么可以帮您？感谢您的耐心",
                ),
                line("c2", "不知道，公司规定的"),
                '{"chat_id": "c3", "messages": [{"role": "operator", "ts": 1, "text": "x"}]}',
                "{not json",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return p


def test_audit_show_export_roundtrip(day: Path, tmp_path: Path):
    runner = CliRunner()
    db = tmp_path / "a.db"
    out = tmp_path / "results.jsonl"
    r = runner.invoke(main, ["audit", str(day), "--db", str(db), "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert (summary["read"], summary["audited"], summary["rejected"]) == (4, 2, 2)
    results = {
        x["chat_id"]: x for x in map(json.loads, out.read_text(encoding="utf-8").splitlines())
    }
    assert set(results) == {"c1", "c2"}
    # c1: first human reply 45 s after the customer (the bot greeting starts no clock) > 30 s
    assert results["c1"]["metrics"]["first_response_s"] == 45
    fr = next(f for f in results["c1"]["findings"] if f["check"] == "first_response")
    assert fr["status"] == "fail"
    # c2: 不知道 + 公司规定的 are forbidden phrases: fatal, score 0
    assert results["c2"]["fatal"] is True and results["c2"]["score"] == 0
    forb = next(f for f in results["c2"]["findings"] if f["check"] == "forbidden_phrase")
    assert {e["quote"] for e in forb["evidence"]} >= {"不知道", "公司规定的"}

    store = Store(db)
    rejects = store.rejects()
    assert [(Path(x["file"]).name, x["line"]) for x in rejects] == [
        ("day.jsonl", 3),
        ("day.jsonl", 4),
    ]
    assert "operator" in rejects[0]["reason"]

    r = runner.invoke(main, ["show", "c2", "--db", str(db)])
    assert r.exit_code == 0 and "公司规定的" in r.output
    r = runner.invoke(main, ["show", "nope", "--db", str(db)])
    assert r.exit_code == 2 and "no audited chat" in r.output

    csv_path = tmp_path / "r.csv"
    r = runner.invoke(main, ["export", "--format", "csv", "-o", str(csv_path), "--db", str(db)])
    assert r.exit_code == 0
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8-sig")))
    assert {row["chat_id"]: row["fatal"] for row in rows} == {"c1": "0", "c2": "1"}


def test_nothing_readable_is_an_error(tmp_path: Path):
    p = tmp_path / "empty.jsonl"
    p.write_text("\n\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["audit", str(p), "--db", str(tmp_path / "a.db")])
    assert r.exit_code == 3 and "no chats were read" in r.output


def test_all_rejected_is_an_error(tmp_path: Path):
    p = tmp_path / "bad.jsonl"
    p.write_text("{oops\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["audit", str(p), "--db", str(tmp_path / "a.db")])
    assert r.exit_code == 3 and "rejected" in r.output


def test_missing_file_and_bad_options_are_usage_errors(tmp_path: Path):
    r = CliRunner().invoke(
        main, ["audit", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "a.db")]
    )
    assert r.exit_code != 0 and "nope.jsonl" in r.output
    p = tmp_path / "x.jsonl"
    p.write_text(line("c1", "您好"), encoding="utf-8")
    r = CliRunner().invoke(main, ["audit", str(p), "--tz", "Mars/Base"])
    assert r.exit_code == 2 and "time zone" in r.output
    r = CliRunner().invoke(main, ["audit", str(p), "--csv-column", "chat_id"])
    assert r.exit_code == 2 and "FIELD=HEADER" in r.output


def test_openai_grader_without_key_says_what_to_do(tmp_path: Path):
    p = tmp_path / "x.jsonl"
    p.write_text(line("c1", "您好"), encoding="utf-8")
    r = CliRunner().invoke(
        main,
        ["audit", str(p), "--grader", "openai", "--model", "m", "--db", str(tmp_path / "a.db")],
    )
    assert r.exit_code == 6 and "OPENAI_API_KEY" in r.output


def test_rubrics_lists_and_validates(tmp_path: Path):
    r = CliRunner().invoke(main, ["rubrics"])
    assert (
        r.exit_code == 0
        and "online-chat-zh@1.1.0" in r.output
        and "online-chat-en@1.1.1" in r.output
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (REPO / "rubrics" / "online-chat-en.yaml")
        .read_text()
        .replace("severity: fatal", "severity: deadly")
    )
    r = CliRunner().invoke(main, ["rubrics", str(bad)])
    assert r.exit_code == 4 and "criteria.6.severity" in r.output


@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/sample-day.jsonl not generated")
def test_example_day_audits_end_to_end(tmp_path: Path):
    db = tmp_path / "a.db"
    r = CliRunner().invoke(main, ["audit", str(EXAMPLE), "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    n_lines = sum(1 for x in EXAMPLE.read_text(encoding="utf-8").splitlines() if x.strip())
    assert s["read"] == n_lines >= 300
    assert s["audited"] + s["rejected"] == n_lines
    store = Store(db)
    assert store.count("results") == s["audited"]
    langs = {r["language"] for r in store.query("select distinct language from results")}
    assert langs == {"zh", "en"}
    # the example day has real problems in it: some chats fail, some are fatal
    assert 0 < s["failed_qa"] < s["audited"]
    assert store.query("select count(*) n from results where fatal = 1")[0]["n"] > 0


def test_reviews_change_the_effective_result_in_show_and_export(day: Path, tmp_path: Path):
    runner = CliRunner()
    db = str(tmp_path / "a.db")
    assert runner.invoke(main, ["audit", str(day), "--db", db, "--quiet"]).exit_code == 0
    # a reviewer decides the forbidden-phrase finding on c2 was wrong: the fatal is lifted
    r = runner.invoke(
        main,
        [
            "review",
            "score",
            "c2",
            "--criterion",
            "forbidden_phrase",
            "--level",
            "pass",
            "--reviewer",
            "li",
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["export", "--db", db])
    rows = {x["chat_id"]: x for x in map(json.loads, r.output.splitlines())}
    assert rows["c2"]["fatal"] is False and rows["c2"]["score"] > 0
    assert rows["c2"]["reviewed_criteria"] == ["forbidden_phrase"]
    assert rows["c1"]["reviewed_criteria"] == []
    r = runner.invoke(main, ["show", "c2", "--json", "--db", db])
    assert json.loads(r.output)["fatal"] is False
    # the model's own stored result is unchanged
    assert Store(db).result_json("c2")["fatal"] is True
