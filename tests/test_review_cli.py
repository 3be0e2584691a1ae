"""`auditor review …` and `auditor agreement` through click's CliRunner: exit codes and rows."""

from __future__ import annotations

import csv

import orjson
import pytest
from click.testing import CliRunner
from test_review import make_chat, make_result, save, tiny_rubric

from auditor.store import Store
from cli import main


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "a.db"
    s = Store(path)
    rubric = tiny_rubric()
    c1, c2, c3 = make_chat("c1"), make_chat("c2", agent="a2"), make_chat("c3")
    save(
        s,
        rubric,
        [
            (c1, make_result(c1, rubric, empathy=("average", 0.5))),  # low confidence: empathy
            (c2, make_result(c2, rubric, fail=("forbidden_phrase",))),  # fatal
            (c3, make_result(c3, rubric, empathy=("good", 0.4), solution=("average", 0.95))),
        ],
    )
    s.close()
    return str(path)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def rows(db: str, sql: str) -> list[dict]:
    s = Store(db)
    try:
        return s.query(sql)
    finally:
        s.close()


def test_list_json_most_urgent_first_with_filters(db):
    r = run("review", "list", "--db", db, "--json")
    assert r.exit_code == 0
    data = orjson.loads(r.output)
    assert data["total"] == 3
    # fatal first, then the lowest measured confidence: c3 (0.4) before c1 (0.5)
    assert [i["chat_id"] for i in data["items"]] == ["c2", "c3", "c1"]
    assert data["items"][0]["reasons"] == ["fatal"] and data["items"][0]["status"] == "open"
    r = run("review", "list", "--db", db, "--json", "--agent", "a2")
    assert [i["chat_id"] for i in orjson.loads(r.output)["items"]] == ["c2"]
    r = run("review", "list", "--db", db, "--json", "--reason", "low_confidence", "--limit", "1")
    data = orjson.loads(r.output)
    assert data["total"] == 2 and [i["chat_id"] for i in data["items"]] == ["c3"]
    r = run("review", "list", "--db", db, "--since", "2026-11-22", "--json")
    assert orjson.loads(r.output) == {"total": 0, "items": []}
    r = run("review", "list", "--db", db)
    assert r.exit_code == 0 and "showing 3 of 3" in r.output
    assert run("review", "list", "--db", db, "--reason", "bogus").exit_code == 2


def test_score_appends_and_validates(db):
    r = run(
        "review", "score", "c1", "--criterion", "empathy", "--level", "poor",
        "--comment", "no apology", "--db", db, env={"AUDITOR_REVIEWER": "ann"},
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    # model: empathy average (-15) = 85; reviewed poor (-30, a normal failure) = 70, passed
    assert "Effective score 70 (passed), model 85; item done" in r.output
    assert rows(db, "SELECT chat_id, criterion, level, reviewer, comment, source FROM reviews") == [
        {
            "chat_id": "c1",
            "criterion": "empathy",
            "level": "poor",
            "reviewer": "ann",
            "comment": "no apology",
            "source": "cli",
        }
    ]
    bad = run("review", "score", "c1", "--criterion", "empathy", "--level", "meh", "--db", db)
    assert bad.exit_code == 2 and "not allowed for empathy (good|average|poor|na)" in bad.output
    bad = run("review", "score", "zz", "--criterion", "empathy", "--level", "good", "--db", db)
    assert bad.exit_code == 2 and "no audited chat 'zz'" in bad.output
    r = run(
        "review", "score", "c2", "--criterion", "forbidden_phrase", "--level", "pass",
        "--reviewer", "bob", "--db", db,
    )  # fmt: skip
    assert r.exit_code == 0 and "Effective score 100 (passed), model 0" in r.output
    assert len(rows(db, "SELECT id FROM reviews")) == 2
    missing = run("review", "score", "c1", "--criterion", "x", "--level", "y", "--db", "nope.db")
    assert missing.exit_code == 5 and "no audit database" in missing.output


def test_show_text_and_json(db):
    run("review", "score", "c1", "--criterion", "empathy", "--level", "good", "--reviewer", "ann",
        "--db", db)  # fmt: skip
    r = run("review", "show", "c1", "--db", db, "--json")
    assert r.exit_code == 0
    data = orjson.loads(r.output)
    assert data["result"]["score"] == 85 and data["effective"]["score"] == 100
    assert data["queue"]["status"] == "done" and data["reviews"][0]["reviewer"] == "ann"
    r = run("review", "show", "c1", "--db", db)
    assert r.exit_code == 0
    assert "sorry, it ships today" in r.output and "ann: good" in r.output
    assert "effective score 100 (passed); model score 85; queue item done" in r.output


def test_export_then_import_round_trip(db, tmp_path):
    sheet = tmp_path / "today.csv"
    r = run("review", "export", "-o", str(sheet), "--db", db)
    assert r.exit_code == 0 and "3 rows (3 chats) written" in r.output
    with open(sheet, encoding="utf-8-sig", newline="") as fh:
        data = list(csv.DictReader(fh))
    # c2: fatal (forbidden_phrase); c3 and c1: low confidence on empathy (0.4 and 0.5 < 0.9),
    # the lowest first
    assert [(d["chat_id"], d["criterion"]) for d in data] == [
        ("c2", "forbidden_phrase"),
        ("c3", "empathy"),
        ("c1", "empathy"),
    ]
    for d in data:
        d["human_level"] = "pass" if d["criterion"] == "forbidden_phrase" else "good"
    data[-1]["human_level"] = ""  # not done yet
    with open(sheet, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)
    r = run("review", "import", str(sheet), "--db", db, env={"AUDITOR_REVIEWER": "li"})
    assert r.exit_code == 0, r.output
    assert "imported 2 reviews" in r.output and "1 rows without a level skipped" in r.output
    assert {x["reviewer"] for x in rows(db, "SELECT reviewer FROM reviews")} == {"li"}
    r = run("review", "list", "--db", db, "--json")
    assert [i["chat_id"] for i in orjson.loads(r.output)["items"]] == ["c1"]


def test_import_errors_exit_8_and_import_nothing(db, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        "chat_id,criterion,human_level,reviewer\n"
        "c1,empathy,good,ann\n"
        "zz,empathy,good,ann\n"
        "c1,empathy,great,ann\n",
        encoding="utf-8",
    )
    r = run("review", "import", str(sheet), "--db", db)
    assert r.exit_code == 8
    assert "line 3: unknown chat 'zz'" in r.output
    assert "line 4: level 'great' is not allowed for empathy" in r.output
    assert "2 problem(s); nothing was imported" in r.output
    assert rows(db, "SELECT count(*) AS n FROM reviews") == [{"n": 0}]


def test_xlsx_export(db, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "q.xlsx"
    r = run("review", "export", "-o", str(out), "--db", db, "--reason", "fatal")
    assert r.exit_code == 0 and "1 rows (1 chats)" in r.output
    ws = load_workbook(out)["review"]
    assert ws.max_row == 2 and ws.cell(row=2, column=1).value == "c2"


def test_calibration_command(db):
    for who, level in (("ann", "good"), ("bob", "poor")):
        for chat in ("c1", "c3"):
            lv = level if chat == "c1" else "good"
            r = run("review", "score", chat, "--criterion", "empathy", "--level", lv,
                    "--reviewer", who, "--db", db)  # fmt: skip
            assert r.exit_code == 0
    r = run("review", "calibration", "--db", db, "--json")
    assert r.exit_code == 0
    (cal,) = orjson.loads(r.output)
    # ann: good, good; bob: poor, good -> agree on c3 only: 1/2. Kappa: observed 0.5,
    # ann all "good" so expected = (2/2 * 1/2) = 0.5 -> kappa (0.5 - 0.5) / 0.5 = 0
    assert cal["n_items"] == 2 and cal["exact_agreement"] == 0.5 and cal["mean_kappa"] == 0
    assert cal["disagreements"] == [{"chat_id": "c1", "levels": {"ann": "good", "bob": "poor"}}]
    r = run("review", "calibration", "--db", db)
    assert r.exit_code == 0 and "discuss empathy on c1: ann=good, bob=poor" in r.output


def test_agreement_command(db):
    # model: c1 empathy average, c3 empathy good, c3 solution average; humans below
    for chat, crit, level in (
        ("c1", "empathy", "average"),
        ("c3", "empathy", "poor"),
        ("c3", "solution", "average"),
    ):
        run("review", "score", chat, "--criterion", crit, "--level", level, "--reviewer", "ann",
            "--db", db)  # fmt: skip
    r = run("agreement", "--db", db, "--json", "--n-boot", "10")
    assert r.exit_code == 0, r.output
    rep = orjson.loads(r.output)["tiny"]
    emp = rep["criteria"]["empathy"]
    # empathy: (average, average) agree, (good, poor) disagree -> n 2, exact 1/2
    assert emp["n"] == 2 and emp["exact_agreement"] == 0.5
    assert emp["confusion"]["poor"]["good"] == 1 and emp["confusion"]["average"]["average"] == 1
    assert rep["criteria"]["solution"]["n"] == 1
    assert rep["criteria"]["solution"]["exact_agreement"] == 1.0
    r = run("agreement", "--db", db, "--n-boot", "10")
    assert r.exit_code == 0 and "3 reviewed (chat, criterion) pairs" in r.output
    r = run("agreement", "--db", db, "--json", "--since", "2999-01-01")
    assert r.exit_code == 0 and orjson.loads(r.output) == {}
