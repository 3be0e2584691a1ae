"""Resume and run state (issue 11 items 3, 9, 11): duplicate chat ids in a run, a failed batch,
the quota step after a kill, and runs killed mid-way."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from test_pipeline import audit, chat_line, write_input

import auditor.pipeline as pipeline
from auditor.store import Store


def _with_text(i: int, text: str) -> str:
    chat = json.loads(chat_line(i))
    chat["messages"][0]["text"] = text
    return json.dumps(chat)


def _stored_first_text(db, chat_id: str) -> str:
    store = Store(db)
    try:
        body = store.transcript(store.result_json(chat_id)["transcript_hash"])
        return body["messages"][0]["text"]
    finally:
        store.close()


def _runs(db) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("select id, status from runs order by started_at, id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("batch_size,concurrency", [(500, 1), (1, 1), (500, 4)])
def test_a_chat_repeated_across_files_keeps_the_later_occurrence(tmp_path, batch_size, concurrency):
    day1, day2 = tmp_path / "day1.jsonl", tmp_path / "day2.jsonl"
    day1.write_text(chat_line(1) + "\n" + _with_text(2, "first version") + "\n")
    day2.write_text(_with_text(2, "second version") + "\n" + chat_line(3) + "\n")
    db = tmp_path / "a.db"
    store = Store(db)
    try:
        s = pipeline.run_audit(
            [str(day1), str(day2)],
            store=store,
            grader=_offline(),
            batch_size=batch_size,
            concurrency=concurrency,
        )
    finally:
        store.close()
    assert (s.status, s.read, s.audited, s.duplicates, s.rejected) == ("completed", 4, 3, 1, 0)
    assert s.read == s.audited + s.skipped + s.rejected + s.duplicates
    assert s.counts()["duplicates"] == 1
    assert _stored_first_text(db, "en-2") == "second version"
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from results").fetchone()[0] == 3
    con.close()
    # the re-run works, and still ends with the later occurrence
    store = Store(db)
    try:
        s2 = pipeline.run_audit([str(day1), str(day2)], store=store, grader=_offline())
    finally:
        store.close()
    assert s2.status == "completed" and s2.duplicates == 1
    assert s2.read == s2.audited + s2.skipped + s2.rejected + s2.duplicates
    assert _stored_first_text(db, "en-2") == "second version"


def test_an_identical_repeat_in_one_file_is_counted_once(tmp_path):
    src = tmp_path / "export.jsonl"
    src.write_text("\n".join([chat_line(1), chat_line(2), chat_line(1)]) + "\n")
    s = audit(src, tmp_path / "a.db")
    assert (s.read, s.audited, s.duplicates) == (3, 2, 1)
    # the summary counts each chat once: the repeat's verdicts are not added twice
    once = tmp_path / "once.jsonl"
    once.write_text("\n".join([chat_line(1), chat_line(2)]) + "\n")
    s1 = audit(once, tmp_path / "once.db")
    assert (s.failed_qa, s.queued, s.unscored, s.failed_criteria) == (
        s1.failed_qa,
        s1.queued,
        s1.unscored,
        s1.failed_criteria,
    )
    s2 = audit(src, tmp_path / "a.db")
    assert (s2.read, s2.audited, s2.skipped, s2.duplicates) == (3, 0, 2, 1)


def _offline():
    from auditor.grading import make_grader

    return make_grader("offline")


def test_a_batch_that_fails_to_save_is_not_saved_again_and_the_run_is_failed(tmp_path, monkeypatch):
    src = tmp_path / "day.jsonl"
    write_input(src, 4)
    db = tmp_path / "a.db"
    calls = []

    def broken(self, run_id, audited, rejects=(), *, now=None):
        calls.append(len(audited))
        raise sqlite3.IntegrityError("UNIQUE constraint failed (simulated)")

    monkeypatch.setattr(Store, "save_rows", broken)
    with pytest.raises(sqlite3.IntegrityError):
        audit(src, db)
    assert calls == [4]  # tried once, not re-flushed by the cleanup
    assert [status for _, status in _runs(db)] == ["failed"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _add_run(db, run_id: str, *, pid: int | None, host: str, beat: datetime) -> None:
    con = sqlite3.connect(db)
    with con:
        con.execute(
            "insert into runs (id, started_at, status, pid, host, heartbeat_at) "
            "values (?, ?, 'running', ?, ?, ?)",
            (run_id, beat.isoformat(), pid, host, beat.isoformat()),
        )
    con.close()


def test_killed_runs_are_marked_interrupted_and_live_ones_are_not(tmp_path):
    db = tmp_path / "a.db"
    Store(db).close()
    now = datetime.now(UTC)
    here = socket.gethostname()
    _add_run(db, "0-dead-here", pid=_dead_pid(), host=here, beat=now)
    _add_run(db, "1-live-here", pid=__import__("os").getpid(), host=here, beat=now)
    _add_run(db, "2-live-elsewhere", pid=1, host=here + "-other", beat=now)
    _add_run(db, "3-dead-elsewhere", pid=1, host=here + "-other", beat=now - timedelta(hours=1))
    src = tmp_path / "day.jsonl"
    write_input(src, 2)
    audit(src, db)
    status = dict(_runs(db))
    assert status["0-dead-here"] == "interrupted"
    assert status["1-live-here"] == "running"  # this very process: a live concurrent run
    assert status["2-live-elsewhere"] == "running"  # heartbeat fresh
    assert status["3-dead-elsewhere"] == "interrupted"
    assert sorted(status.values()).count("completed") == 1


def _quota_items(db) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return sorted(
            r[0]
            for r in con.execute(
                "select q.chat_id from review_queue q, json_each(q.reasons) x "
                "where x.value = 'agent_quota'"
            )
        )
    finally:
        con.close()


@pytest.mark.parametrize("killed", [False, True])
def test_a_kill_before_the_quota_step_gets_its_quotas_on_the_next_run(
    tmp_path, monkeypatch, killed
):
    src = tmp_path / "day.jsonl"
    write_input(src, 30)
    audit(src, tmp_path / "clean.db")
    expected = _quota_items(tmp_path / "clean.db")
    assert expected  # each of the 3 agents gets at least its minimum quota

    db = tmp_path / "a.db"
    real = pipeline.apply_quotas

    class Killed(BaseException):
        """Stands for the process dying between the last batch and the quota step."""

    def interrupted(store, run_id):
        raise Killed

    monkeypatch.setattr(pipeline, "apply_quotas", interrupted)
    with pytest.raises(Killed):
        audit(src, db)
    assert _quota_items(db) == []
    if killed:  # as kill -9 leaves it: still `running`, its process gone
        con = sqlite3.connect(db)
        with con:
            con.execute("update runs set status = 'running', pid = ?", (_dead_pid(),))
        con.close()
    monkeypatch.setattr(pipeline, "apply_quotas", real)
    s = audit(src, db)
    assert s.skipped == 30 and s.audited == 0
    assert _quota_items(db) == expected
    assert s.quota_added == len(expected)
    assert [st for _, st in _runs(db)] == ["interrupted" if killed else "failed", "completed"]
    # and once done, it is not done again
    assert audit(src, db).quota_added == 0


def test_a_repeat_in_another_language_replaces_the_earlier_result(tmp_path):
    en = json.loads(chat_line(4, "en"))
    zh = json.loads(chat_line(4, "zh"))
    zh["chat_id"] = en["chat_id"]  # the same chat id, now in Chinese (another rubric)
    src = tmp_path / "day.jsonl"
    src.write_text(json.dumps(en) + "\n" + json.dumps(zh, ensure_ascii=False) + "\n")
    for batch_size in (1, 500):
        db = tmp_path / f"a{batch_size}.db"
        store = Store(db)
        try:
            s = pipeline.run_audit(
                [str(src)], store=store, grader=_offline(), batch_size=batch_size
            )
            rows = store.query("select chat_id, language from results")
        finally:
            store.close()
        assert (s.audited, s.duplicates) == (1, 1)
        assert rows == [{"chat_id": "en-4", "language": "zh"}]
