"""The bulk pipeline: every chat read is audited or rejected, exactly once, across resumes and kills."""

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

from auditor.grading import make_grader
from auditor.ingest import IngestOptions
from auditor.pipeline import run_audit
from auditor.store import Store

REPO = Path(__file__).resolve().parent.parent


def chat_line(i: int, lang: str = "en") -> str:
    base = 1_763_715_600 + i * 600  # 2025-11-21T09:00Z + 10 min per chat, epoch seconds
    if lang == "zh":
        msgs = [
            {"role": "customer", "ts": base, "text": "你好，我的快递三天了还没到"},
            {"role": "agent", "ts": base + 12, "text": "您好，很高兴为您服务，请提供订单号"},
            {"role": "customer", "ts": base + 30, "text": "订单号在上面"},
            {
                "role": "agent",
                "ts": base + 70,
                "text": "已为您催促，预计明天送达。请问还有什么可以帮您？感谢您的耐心",
            },
        ]
    else:
        msgs = [
            {"role": "customer", "ts": base, "text": "Hi, my parcel is late"},
            {
                "role": "agent",
                "ts": base + 8,
                "text": "Hello, thanks for contacting us! Let me check.",
            },
            {
                "role": "agent",
                "ts": base + 60,
                "text": "It will arrive tomorrow. Is there anything else I can help with? Thank you!",
            },
        ]
    return json.dumps(
        {"chat_id": f"{lang}-{i}", "agent_id": f"a{i % 3}", "messages": msgs}, ensure_ascii=False
    )


def write_input(path: Path, n: int, bad_every: int = 0) -> tuple[int, int]:
    good = bad = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            if bad_every and i % bad_every == bad_every - 1:
                fh.write('{"chat_id": "broken", "messages": [\n')
                bad += 1
            else:
                fh.write(chat_line(i, "zh" if i % 2 else "en") + "\n")
                good += 1
    return good, bad


def audit(path: Path, db: Path, **kw):
    store = Store(db)
    try:
        return run_audit(
            [str(path)],
            store=store,
            grader=make_grader("offline"),
            ingest_options=IngestOptions(),
            **kw,
        )
    finally:
        store.close()


def counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return {
            t: con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("results", "rejects", "chats", "findings", "grades")
        }
    finally:
        con.close()


def test_every_chat_audited_or_rejected_and_rerun_skips(tmp_path):
    src = tmp_path / "day.jsonl"
    good, bad = write_input(src, 60, bad_every=10)
    s1 = audit(src, tmp_path / "a.db")
    assert (s1.read, s1.audited, s1.rejected, s1.skipped) == (60, good, bad, 0)
    assert s1.queued <= s1.audited  # chats, counted once whatever their reasons
    c1 = counts(tmp_path / "a.db")
    assert (c1["results"], c1["rejects"]) == (good, bad)
    s2 = audit(src, tmp_path / "a.db")
    assert (s2.audited, s2.skipped, s2.rejected) == (0, good, bad)
    assert counts(tmp_path / "a.db") == c1  # nothing doubled
    s3 = audit(src, tmp_path / "a.db", force=True)
    assert s3.audited == good and counts(tmp_path / "a.db") == c1


def test_changed_transcript_replaces_old_result(tmp_path):
    src = tmp_path / "day.jsonl"
    src.write_text(chat_line(1) + "\n", encoding="utf-8")
    audit(src, tmp_path / "a.db")
    changed = json.loads(chat_line(1))
    changed["messages"][0]["text"] = "Hi, my parcel is very late"
    src.write_text(json.dumps(changed) + "\n", encoding="utf-8")
    s = audit(src, tmp_path / "a.db")
    assert (s.audited, s.skipped) == (1, 0)
    assert counts(tmp_path / "a.db")["results"] == 1
    store = Store(tmp_path / "a.db")
    stored = store.transcript(store.result_json("en-1")["transcript_hash"])
    assert stored["messages"][0]["text"] == "Hi, my parcel is very late"


def test_out_file_has_every_chat_once_even_when_resumed(tmp_path):
    src = tmp_path / "day.jsonl"
    good, _ = write_input(src, 20)
    audit(src, tmp_path / "a.db")
    with (tmp_path / "out.jsonl").open("wb") as out:
        audit(src, tmp_path / "a.db", out=out)
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(r["chat_id"] for r in lines) == sorted(
        json.loads(chat_line(i, "zh" if i % 2 else "en"))["chat_id"] for i in range(20)
    )
    required = {
        "chat_id",
        "agent_id",
        "language",
        "rubric",
        "score",
        "passed",
        "fatal",
        "metrics",
        "findings",
        "grades",
        "review",
    }
    assert required <= set(lines[0])
    assert set(lines[0]["metrics"]) >= {
        "first_response_s",
        "max_followup_s",
        "avg_response_s",
        "followup_violations",
        "hold_count",
        "typo_count",
        "unanswered_customer",
    }


@pytest.mark.slow
def test_kill_mid_run_then_resume_audits_every_chat_exactly_once(tmp_path):
    src = tmp_path / "day.jsonl"
    good, bad = write_input(src, 6000, bad_every=50)
    db = tmp_path / "a.db"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), "audit", str(src), "--db", str(db), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    saved = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            con = sqlite3.connect(db, timeout=1)
            saved = con.execute("select count(*) from results").fetchone()[0]
            con.close()
        except sqlite3.Error:
            continue
        if saved >= 500:
            break
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be killed; make the input larger")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = counts(db)
    assert 0 < partial["results"] < good
    resumed = subprocess.run(
        [sys.executable, str(REPO / "cli.py"), "audit", str(src), "--db", str(db), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] == partial["results"]
    assert summary["audited"] + summary["skipped"] == good
    assert summary["rejected"] == bad
    final = counts(db)
    assert final["results"] == good and final["chats"] == good and final["rejects"] == bad
    con = sqlite3.connect(db)
    dup = con.execute(
        "select count(*) from (select chat_id from results group by chat_id having count(*) > 1)"
    ).fetchone()[0]
    assert dup == 0
    # the killed run does not stay `running` forever
    statuses = [r[0] for r in con.execute("select status from runs order by started_at")]
    assert statuses == ["interrupted", "completed"]
