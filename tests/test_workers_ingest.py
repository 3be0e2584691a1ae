"""`audit --workers N` with ingest in the workers: the writer hands them raw lines, they parse,
look the chat up and audit it; everything the writer decides (rejects, repeats, resume, the
summary, batches, --out order) comes out as in one process."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from test_pipeline import chat_line

from auditor import pipeline, workers
from auditor.grading import make_grader
from auditor.ingest import IngestOptions, RawLine, read_chats, read_records
from auditor.models import Chat, Reject
from auditor.rubric import RubricSet
from auditor.store import Store
from auditor.store_rows import ChatRows

VOLATILE = {"run_id", "audited_at", "queued_at", "updated_at", "created_at"}
TABLES = (
    ("results", "chat_id, rubric_name"),
    ("findings", "chat_id, rubric_name, seq"),
    ("grades", "chat_id, rubric_name, seq"),
    ("review_queue", "chat_id, rubric_name"),
    ("transcripts", "hash"),
    ("messages", "id"),
    ("chats", "chat_id"),
    ("rejects", "file, line"),
)


def _with_text(i: int, text: str, lang: str = "en") -> str:
    obj = json.loads(chat_line(i, lang))
    obj["messages"][-1]["text"] = text
    return json.dumps(obj, ensure_ascii=False)


def _messy_day(tmp_path: Path) -> list[str]:
    """Every case the writer decides: bad lines, blank lines, a BOM, identical repeats,
    changed repeats, a repeat in another language, untimed chats, and a CSV file after it
    (read by the writer, not sent as raw lines)."""
    lines: list[str] = []
    for i in range(40):
        lines.append(chat_line(i, "zh" if i % 3 == 0 else "en"))
        if i % 9 == 4:
            lines.append('{"chat_id": "broken", "messages": [')
        if i % 11 == 5:
            lines.append("   ")
        if i % 7 == 6:
            lines.append(chat_line(i - 3, "zh" if (i - 3) % 3 == 0 else "en"))  # identical
        if i % 8 == 7:
            lines.append(_with_text(i - 5, "Changed my mind, it arrived. Thank you!"))
    untimed = json.loads(chat_line(100))
    for m in untimed["messages"]:
        del m["ts"]
    lines.append(json.dumps(untimed))
    other = json.loads(chat_line(6, "zh"))  # zh-6, now with an English agent
    other["chat_id"] = "en-7"
    lines.append(json.dumps(other, ensure_ascii=False))
    lines.append("\ufeff" + chat_line(101))
    lines.append('"just a string"')
    jsonl = tmp_path / "day.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    csv = tmp_path / "more.csv"
    csv.write_text(
        "chat_id,role,ts,text\n"
        "c1,customer,2025-11-21T09:00:00Z,Hi my order is late\n"
        "c1,agent,2025-11-21T09:00:30Z,Hello! Let me check that for you. Thank you!\n"
        "c2,customer,not a time,hello\n"
        "en-3,customer,2025-11-21T10:00:00Z,Repeated from the other file\n"
        "en-3,agent,2025-11-21T10:00:10Z,Hello, sorry for the wait. Thanks!\n",
        encoding="utf-8",
    )
    return [str(jsonl), str(csv)]


def _run(inputs: list[str], db: Path, n: int, out: Path, **kw) -> dict:
    store = Store(db)
    try:
        with out.open("wb") as fh:
            s = pipeline.run_audit(
                inputs,
                store=store,
                grader=make_grader("offline"),
                ingest_options=IngestOptions(),
                workers=n,
                out=fh,
                batch_size=kw.pop("batch_size", 7),
                **kw,
            )
    finally:
        store.close()
    counts = {k: v for k, v in s.counts().items() if k != "seconds"}
    counts["status"] = s.status
    counts["rejects"] = [(str(r.source), r.reason, r.chat_id) for r in s.rejects]
    return counts


def _tables(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    out = {}
    for table, order in TABLES:
        cur = con.execute(f"SELECT * FROM {table} ORDER BY {order}")
        names = [d[0] for d in cur.description]
        out[table] = [
            tuple(v for k, v in zip(names, row, strict=True) if k not in VOLATILE)
            for row in cur.fetchall()
        ]
    con.close()
    return out


@pytest.fixture
def pool_early(monkeypatch):
    """Fork the pool after a few chats, so most of a small input goes through the workers."""
    monkeypatch.setattr(pipeline, "POOL_AFTER", 3)


def test_raw_records_parse_to_what_read_chats_gives(tmp_path) -> None:
    inputs = _messy_day(tmp_path)
    options = IngestOptions()
    records = list(read_records(inputs, options))
    assert any(isinstance(r, RawLine) for r in records)
    assert any(isinstance(r, Chat) for r in records)  # the CSV file's chats
    parsed = [r.parse(options) if isinstance(r, RawLine) else r for r in records]
    expected = list(read_chats(inputs, options))
    assert [p.model_dump() for p in parsed if p is not None] == [e.model_dump() for e in expected]
    assert None not in parsed  # blank lines are left out by the reader already


def test_two_workers_decide_every_case_as_one_process(tmp_path, pool_early) -> None:
    inputs = _messy_day(tmp_path)
    one = _run(inputs, tmp_path / "w1.db", 1, tmp_path / "w1.jsonl")
    two = _run(inputs, tmp_path / "w2.db", 2, tmp_path / "w2.jsonl")
    assert one["duplicates"] >= 8 and one["rejected"] >= 6 and one["no_timestamps"] == 1
    assert one["read"] == one["audited"] + one["skipped"] + one["rejected"] + one["duplicates"]
    assert two == one
    assert (tmp_path / "w2.jsonl").read_bytes() == (tmp_path / "w1.jsonl").read_bytes()
    assert _tables(tmp_path / "w2.db") == _tables(tmp_path / "w1.db")


def test_a_large_input_forks_the_pool_before_its_first_chat(tmp_path, monkeypatch) -> None:
    """Input files of ``POOL_AT_ONCE_BYTES`` or more go to the workers from the first chat
    (no ``POOL_AFTER`` chats audited here first), with the same results as one process."""
    inputs = _messy_day(tmp_path)
    one = _run(inputs, tmp_path / "w1.db", 1, tmp_path / "w1.jsonl")
    forked_after: list[int] = []
    real_pool = workers.WorkerPool

    def counting_pool(*args, **kwargs):
        forked_after.append(counted["audited"])
        return real_pool(*args, **kwargs)

    counted = {"audited": 0}
    real_audit = pipeline.audit_chat_sync

    def counting_audit(chat, *args, **kwargs):
        counted["audited"] += chat.chat_id != "warm-up"  # (workers.warm_up's made-up chat)
        return real_audit(chat, *args, **kwargs)

    monkeypatch.setattr(workers, "WorkerPool", counting_pool)
    monkeypatch.setattr(pipeline, "audit_chat_sync", counting_audit)
    monkeypatch.setattr(pipeline, "POOL_AT_ONCE_BYTES", 1)
    two = _run(inputs, tmp_path / "w2.db", 2, tmp_path / "w2.jsonl")
    assert forked_after == [0]  # forked before any chat was audited in this process
    assert two == one
    assert (tmp_path / "w2.jsonl").read_bytes() == (tmp_path / "w1.jsonl").read_bytes()
    assert _tables(tmp_path / "w2.db") == _tables(tmp_path / "w1.db")


def _rerun_both(tmp_path: Path, inputs: list[str], tag: str, **kw) -> dict:
    """Re-run the audit over copies of the database with one process and with two workers;
    both must give the same summary, --out and tables. Returns the summary."""
    one, two = tmp_path / f"{tag}-1.db", tmp_path / f"{tag}-2.db"
    for db in (one, two):
        src = sqlite3.connect(tmp_path / "a.db")
        dst = sqlite3.connect(db)
        src.backup(dst)
        src.close()
        dst.close()
    s1 = _run(inputs, one, 1, tmp_path / f"{tag}-1.jsonl", **kw)
    s2 = _run(inputs, two, 2, tmp_path / f"{tag}-2.jsonl", **kw)
    assert s2 == s1
    assert (tmp_path / f"{tag}-2.jsonl").read_bytes() == (tmp_path / f"{tag}-1.jsonl").read_bytes()
    assert _tables(two) == _tables(one)
    return s2


def test_resume_with_workers_skips_what_is_stored_and_audits_the_rest(tmp_path, pool_early) -> None:
    inputs = _messy_day(tmp_path)
    first = _run(inputs, tmp_path / "a.db", 2, tmp_path / "first.jsonl")
    again = _rerun_both(tmp_path, inputs, "again")
    # all but the earlier occurrences of repeats that changed are skipped (as one process
    # does: the earlier occurrence is not what is stored)
    assert again["skipped"] >= first["audited"] - 5 and again["audited"] <= 5
    # a stored result the writer will not skip (here: every one needs a re-grade) is
    # audited by the writer itself, although the worker found it stored and left it
    pipeline_needs_regrade = pipeline.needs_regrade
    try:
        pipeline.needs_regrade = lambda stored: True  # type: ignore[assignment]
        redo = _rerun_both(tmp_path, inputs, "redo")
    finally:
        pipeline.needs_regrade = pipeline_needs_regrade  # type: ignore[assignment]
    assert redo["skipped"] == 0 and redo["audited"] == first["audited"] + first["skipped"]


def test_force_with_workers_audits_everything_again(tmp_path, pool_early) -> None:
    inputs = _messy_day(tmp_path)
    first = _run(inputs, tmp_path / "a.db", 2, tmp_path / "first.jsonl")
    forced = _rerun_both(tmp_path, inputs, "forced", force=True)
    assert forced["skipped"] == 0 and forced["audited"] == first["audited"] + first["skipped"]


def test_a_worker_parses_looks_up_and_audits_raw_lines(tmp_path) -> None:
    """``audit_records`` in this process: a stored chat is not audited again, a new one is,
    a bad line comes back as its Reject with file:line."""
    db = tmp_path / "a.db"
    src = tmp_path / "day.jsonl"
    src.write_text(chat_line(1) + "\n" + chat_line(2) + "\n")
    _run([str(src)], db, 1, tmp_path / "out.jsonl")
    grader = make_grader("offline")
    rubrics = RubricSet("auto")
    from auditor.checks import ChatChecker

    checkers: dict[str, ChatChecker] = {}

    def checker_for(rubric):
        return checkers.setdefault(rubric.hash, ChatChecker(rubric))

    state = workers.WorkerState(
        rubrics=rubrics,
        checker_for=checker_for,
        grader=grader,
        grader_key=f"{grader.name}:{grader.settings_key()}",
        run_id="r",
        want_out=True,
        options=IngestOptions(),
        db_path=str(db),
    )
    lines = [chat_line(1), chat_line(3), "{not json"]
    records = [RawLine(line.encode(), "x.jsonl", n) for n, line in enumerate(lines, 1)]
    saved = workers._STATE
    workers._STATE = state
    try:
        stored, new, bad = workers.audit_records(records)
    finally:
        workers._STATE = saved
    assert isinstance(stored, workers.Audited) and stored.chat_id == "en-1"
    assert stored.done is None  # already in the store: left to the writer to skip
    assert not stored.looked_new
    assert isinstance(new, workers.Audited) and new.chat_id == "en-3" and new.done is not None
    assert new.looked_new  # looked up, not stored: the writer need not look again
    assert new.done[2].chat_id == "en-3" and new.done[1] is not None
    assert isinstance(bad, Reject) and str(bad.source) == "x.jsonl:3"
    assert bad.reason.startswith("not valid JSON")
    # what travels back to the writer (workers.pack) is the same answers, types and all
    answers = [stored, new, None, bad]
    packed = workers.pack(answers)
    assert isinstance(packed, bytes)
    back = workers.unpack(packed)
    assert back == answers and repr(back) == repr(answers)
    assert type(back[1].done[2]) is ChatRows
    # a value marshal refuses (a str subclass): the answers go as they are, for pickle
    odd = new._replace(done=(new.done[0], new.done[1], new.done[2]._replace(chat_id=_Str("x"))))
    assert workers.pack([odd]) == [odd] and workers.unpack([odd]) == [odd]


class _Str(str):
    pass


def test_a_worker_that_cannot_look_audits_and_says_so(tmp_path, monkeypatch) -> None:
    """No database to look in (``--force``, or it cannot be opened): every chat is audited and
    none is marked as looked up, so the writer looks itself; every FREEZE_EVERY chats the
    worker collects and freezes its heap (its collector is off, as the writer's)."""
    import gc

    grader = make_grader("offline")
    from auditor.checks import ChatChecker

    checkers: dict[str, ChatChecker] = {}
    state = workers.WorkerState(
        rubrics=RubricSet("auto"),
        checker_for=lambda r: checkers.setdefault(r.hash, ChatChecker(r)),
        grader=grader,
        grader_key=f"{grader.name}:{grader.settings_key()}",
        run_id="r",
        want_out=False,
        options=IngestOptions(),
        db_path=str(tmp_path / "missing" / "a.db"),  # cannot be opened
    )
    monkeypatch.setattr(workers, "_lookup", None)
    monkeypatch.setattr(workers, "_STATE", state)
    monkeypatch.setattr(workers, "FREEZE_EVERY", 2)
    monkeypatch.setattr(workers, "_since_freeze", 0)
    records = [RawLine(chat_line(n).encode(), "x.jsonl", n) for n in (1, 2, 3)]
    frozen = gc.get_freeze_count()
    try:
        answers = workers.audit_records(records)
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    assert state.db_path is None  # it stops trying
    assert [a.chat_id for a in answers] == ["en-1", "en-2", "en-3"]
    assert all(a.done is not None and not a.looked_new for a in answers)
