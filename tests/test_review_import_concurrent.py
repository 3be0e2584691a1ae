"""Concurrent imports of one reviewer sheet append each review once (issue 11, item 12).

Real processes, started together, each running `auditor review import` on the same filled-in
sheet against the same database.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

REPO = Path(__file__).resolve().parent.parent
PROCESSES = 4


def run(*args: str) -> None:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output


@pytest.mark.slow
def test_concurrent_imports_of_one_sheet_write_no_duplicates(tmp_path):
    lines = (REPO / "examples" / "sample-day.jsonl").read_text(encoding="utf-8").splitlines()
    src = tmp_path / "day.jsonl"
    src.write_text("\n".join(lines[:80]) + "\n", encoding="utf-8")
    db = str(tmp_path / "a.db")
    run("audit", str(src), "--db", db, "--quiet")
    sheet = tmp_path / "sheet.csv"
    run("review", "export", "--format", "csv", "-o", str(sheet), "--db", db)
    with open(sheet, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["human_level"] = r["allowed_levels"].split("|")[0]
    with open(sheet, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert len(rows) > 50

    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(REPO / "cli.py"), "review", "import", str(sheet)]
    procs = [
        subprocess.Popen(
            [*cmd, "--db", db, "--reviewer", "ann"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * PROCESSES, outs

    con = sqlite3.connect(db)
    try:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT chat_id || '|' || rubric_name || '|' || criterion) "
            "FROM reviews WHERE reviewer = 'ann'"
        ).fetchone()
    finally:
        con.close()
    assert (total, distinct) == (len(rows), len(rows))
    # one import appended them all; the others found every row already recorded
    imported = sorted(int(out.split("imported ")[1].split(" ")[0]) for out, _ in outs)
    assert imported == [0] * (PROCESSES - 1) + [len(rows)]
