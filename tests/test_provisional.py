"""Grades lost to an outage (issue 11 item 10): the chat is not done, its score is provisional
and not a pass, and the next run grades it again — only it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from fake_openai import FakeOpenAI, Reply
from test_openai_grader import make_grader
from test_pipeline import chat_line

from auditor.models import TRANSPORT_ERROR
from auditor.pipeline import run_audit
from auditor.store import Store


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


def _line(i: int) -> str:
    """A chat with its own text (identical requests would be answered from the call log)."""
    chat = json.loads(chat_line(i))
    chat["messages"][0]["text"] = f"Hi, my parcel number {i} is late"
    return json.dumps(chat)


def _audit(server: FakeOpenAI, src, db):
    store = Store(db)
    try:
        return run_audit([str(src)], store=store, grader=make_grader(server, store, max_attempts=2))
    finally:
        store.close()


def _results(db) -> dict[str, tuple[int, int, float]]:
    con = sqlite3.connect(db)
    try:
        return {
            r[0]: (r[1], r[2], r[3])
            for r in con.execute("select chat_id, provisional, passed, score from results")
        }
    finally:
        con.close()


def test_an_outage_leaves_provisional_results_that_the_next_run_grades(server, tmp_path):
    src = tmp_path / "day.jsonl"
    src.write_text("\n".join(_line(i) for i in range(3)) + "\n")
    db = tmp_path / "a.db"
    # chat en-0 is graded; every attempt for en-1 fails (HTTP 500 twice); en-2 is graded
    server.queue(Reply(), Reply(status=500), Reply(status=500))
    s1 = _audit(server, src, db)
    assert s1.audited == 3
    first = _results(db)
    assert first["en-1"][:2] == (1, 0)  # provisional, not a pass
    assert first["en-0"][0] == 0 and first["en-2"][0] == 0
    store = Store(db)
    r = store.result_json("en-1")
    store.close()
    assert r["provisional"] is True and r["passed"] is False
    assert all(TRANSPORT_ERROR in g["flags"] for g in r["grades"] if g["status"] == "unscored")
    # the score itself is kept, marked provisional (unscored grades lose no points)
    assert first["en-1"][2] == r["score"]

    before = server.request_count
    s2 = _audit(server, src, db)
    assert (s2.audited, s2.skipped) == (1, 2)  # only the provisional chat is graded again
    assert server.request_count - before == 1
    assert _results(db)["en-1"][0] == 0
    # and once graded, nothing is left to do
    before = server.request_count
    s3 = _audit(server, src, db)
    assert (s3.audited, s3.skipped, server.request_count - before) == (0, 3, 0)


def test_provisional_is_shown_in_show_and_exports(server, tmp_path):
    from click.testing import CliRunner

    from cli import main

    src = tmp_path / "day.jsonl"
    src.write_text(_line(5) + "\n")
    db = tmp_path / "a.db"
    server.queue(Reply(status=500), Reply(status=500))
    _audit(server, src, db)
    runner = CliRunner()
    shown = runner.invoke(main, ["show", "en-5", "--db", str(db)], catch_exceptions=False)
    assert "PROVISIONAL" in shown.output
    out = tmp_path / "x.csv"
    runner.invoke(
        main, ["export", "--db", str(db), "--format", "csv", "-o", str(out)], catch_exceptions=False
    )
    import csv

    (row,) = list(csv.DictReader(out.open(encoding="utf-8")))
    assert row["provisional"] == "1" and row["passed"] == "0"
    md = tmp_path / "r.md"
    report = runner.invoke(main, ["report", "--db", str(db), "--format", "md", "-o", str(md)])
    assert report.exit_code == 0, report.output
    assert "**1 chat(s) have provisional scores**" in md.read_text(encoding="utf-8")
