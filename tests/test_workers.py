"""`auditor audit --workers N` (auditor/workers.py): the same results as one process, resumable
after a kill -9, no worker left behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_pipeline import counts, write_input

from cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "sample-day.jsonl"

#: what a run writes that legitimately differs between two runs (ids and clocks)
VOLATILE = {"run_id", "audited_at", "queued_at", "updated_at"}


def _rows(db: Path, table: str, order: str) -> list[dict]:
    con = sqlite3.connect(db)
    cur = con.execute(f"SELECT * FROM {table} ORDER BY {order}")
    names = [d[0] for d in cur.description]
    rows = [
        {k: v for k, v in zip(names, r, strict=True) if k not in VOLATILE} for r in cur.fetchall()
    ]
    con.close()
    return rows


def test_one_two_and_three_workers_give_the_same_audit(tmp_path) -> None:
    runs = {}
    for n in (1, 2, 3):
        db, out = tmp_path / f"w{n}.db", tmp_path / f"w{n}.jsonl"
        res = CliRunner().invoke(
            main,
            ["audit", str(EXAMPLE), "--db", str(db), "--out", str(out), "--workers", str(n),
             "--json"],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        summary = json.loads(res.output)
        runs[n] = (db, out.read_bytes(), {k: v for k, v in summary.items() if k in
                                          ("read", "audited", "skipped", "rejected", "failed_qa",
                                           "queued", "unscored", "quota_added", "over_capacity",
                                           "failed_criteria")})  # fmt: skip
    (db1, out1, sum1) = runs[1]
    assert sum1["audited"] == 400
    for n in (2, 3):
        db2, out2, sum2 = runs[n]
        assert out1 == out2, n  # every result, in the same order
        assert sum1 == sum2, n
        _same_tables(db1, db2)
    con = sqlite3.connect(runs[2][0])
    (options,) = con.execute("SELECT options FROM runs").fetchone()
    assert json.loads(options)["workers"] == 2


def _same_tables(db1: Path, db2: Path) -> None:
    for table, order in (
        ("results", "chat_id, rubric_name"),
        ("findings", "chat_id, rubric_name, seq"),
        ("grades", "chat_id, rubric_name, seq"),
        ("failure_patterns", "chat_id, rubric_name, criterion, seq"),
        ("review_queue", "chat_id, rubric_name"),
        ("transcripts", "hash"),
        ("messages", "id"),
        ("chats", "chat_id"),
    ):
        assert _rows(db1, table, order) == _rows(db2, table, order), table


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        out += [int(c) for c in text.split()]
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_with_workers_then_resume_audits_every_chat_once(tmp_path) -> None:
    src = tmp_path / "day.jsonl"
    good, bad = write_input(src, 6000, bad_every=50)
    db = tmp_path / "a.db"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(REPO / "cli.py"), "audit", str(src), "--db", str(db)]
    proc = subprocess.Popen(
        [*cmd, "--quiet", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    workers: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        workers = _children(proc.pid) or workers
        try:
            con = sqlite3.connect(db, timeout=1)
            saved = con.execute("select count(*) from results").fetchone()[0]
            con.close()
        except sqlite3.Error:
            continue
        if saved >= 1000 and workers:
            break
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be killed; make the input larger")
    assert workers, "the run forked no worker"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone = time.monotonic() + 10
    while time.monotonic() < gone and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if Path(f"/proc/{w}/stat").exists()
             and Path(f"/proc/{w}/stat").read_text().split(") ")[1][0] != "Z"]  # fmt: skip
    assert alive == [], "workers outlived the killed writer"
    partial = counts(db)
    assert 0 < partial["results"] < good
    resumed = subprocess.run(
        [*cmd, "--json", "--workers", "2"], env=env, capture_output=True, text=True, check=True
    )
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] == partial["results"]
    assert summary["audited"] + summary["skipped"] == good
    assert summary["rejected"] == bad
    final = counts(db)
    assert final["results"] == good and final["chats"] == good and final["rejects"] == bad


def test_the_run_collects_itself_and_gives_the_collector_back(tmp_path) -> None:
    """One chat at a time, automatic collection is off for the whole run (each saved batch
    collects and freezes the heap); graded concurrently, it is back on once the first
    rubric's tables are frozen; either way the state found is given back."""
    import gc

    from auditor.grading import make_grader
    from auditor.pipeline import run_audit
    from auditor.store import Store

    src = tmp_path / "day.jsonl"
    write_input(src, 6)
    seen: dict[int, list[bool]] = {}
    for concurrency in (1, 3):
        for was_on in (True, False):
            seen[concurrency] = []
            (gc.enable if was_on else gc.disable)()
            try:
                summary = run_audit(
                    [str(src)],
                    store=Store(str(tmp_path / f"c{concurrency}-{was_on}.db")),
                    grader=make_grader("offline"),
                    batch_size=2,
                    concurrency=concurrency,
                    progress=lambda s, c=concurrency: seen[c].append(gc.isenabled()),
                )
                assert gc.isenabled() is was_on
            finally:
                gc.enable()
                gc.unfreeze()
            assert summary.audited == 6
    assert seen[1] and not any(seen[1])
    assert seen[3] and seen[3][-1]
