"""The store: migrations, batch saves, resume keys, replacement without duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auditor.models import Chat, Finding, Grade, Message, Metrics, Reject, SourceRef
from auditor.rubric import load_rubric
from auditor.scoring import score_chat
from auditor.store import AuditedChat, Store, StoredKey


def make_chat(chat_id: str, text: str = "hello") -> Chat:
    t = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    return Chat(
        chat_id=chat_id,
        language="en",
        agent_id="a1",
        messages=[
            Message(id="m1", role="customer", ts=t, text="hi"),
            Message(id="m2", role="agent", ts=t + timedelta(seconds=5), text=text),
        ],
        source=SourceRef(file="day.jsonl", line=1),
    )


def audited(chat: Chat, grader_key: str = "offline:1") -> AuditedChat:
    rubric = load_rubric("online-chat-en")
    result = score_chat(
        chat,
        rubric,
        [Finding(criterion="greeting", check="greeting", status="fail")],
        [Grade(criterion="empathy", status="na")],
        Metrics(first_response_s=5),
        grader="offline",
    )
    return AuditedChat(chat, rubric, result, grader_key)


def test_migrations_apply_once(tmp_path):
    db = tmp_path / "a.db"
    Store(db).close()
    s = Store(db)  # reopening applies nothing twice
    rows = s.query("select name from _sqlite_migrations where migration_set = 'auditor'")
    assert [r["name"] for r in rows][0] == "m001_initial"
    assert len(rows) == len({r["name"] for r in rows})


def test_save_and_read_back(tmp_path):
    s = Store(tmp_path / "a.db")
    run = s.start_run({"grader": "offline", "options": {"x": 1}})
    chat = make_chat("c1")
    s.save_batch(
        run, [audited(chat)], [Reject(source=SourceRef(file="day.jsonl", line=7), reason="bad")]
    )
    r = s.result_json("c1")
    assert r is not None and r["chat_id"] == "c1" and r["score"] == 95  # greeting (5 pts) failed
    assert s.stored_key("c1", "online-chat-en") == StoredKey(
        chat.transcript_hash, load_rubric("online-chat-en").hash, "offline:1"
    )
    assert s.transcript(chat.transcript_hash)["messages"][1]["text"] == "hello"
    assert s.count("findings") == 1 and s.count("grades") == 1 and s.count("rejects") == 1
    assert s.rejects(run)[0]["line"] == 7


def test_resaving_replaces_never_duplicates(tmp_path):
    s = Store(tmp_path / "a.db")
    run = s.start_run({})
    bad = Reject(source=SourceRef(file="day.jsonl", line=7), reason="bad")
    s.save_batch(run, [audited(make_chat("c1"))], [bad])
    changed = make_chat("c1", text="hello, how can I help?")
    s.save_batch(run, [audited(changed)], [bad])
    assert s.count("results") == 1 and s.count("findings") == 1 and s.count("rejects") == 1
    assert s.stored_key("c1", "online-chat-en").transcript_hash == changed.transcript_hash
    assert s.count("transcripts") == 2  # both versions kept, content-addressed


def test_call_log_roundtrip(tmp_path):
    s = Store(tmp_path / "a.db")
    s.record_call({"request_hash": "h1", "status": "http_error", "attempt": 1, "response": None})
    assert s.cached_response("h1") is None
    s.record_call(
        {
            "request_hash": "h1",
            "status": "ok",
            "attempt": 2,
            "response": {"a": 1},
            "new_column": "kept",
        }
    )
    cached = s.cached_response("h1")
    assert (
        cached["response"] == {"a": 1} and cached["attempt"] == 2 and cached["new_column"] == "kept"
    )


def test_where_clause_skips_unset_filters_and_takes_switches():
    from auditor.store import where_clause

    assert where_clause([("a = ?", None), ("passed = 0", False)]) == ("", [])
    assert where_clause([("a = ?", "x"), ("b >= ?", 0), ("passed = 0", True)]) == (
        " WHERE a = ? AND b >= ? AND passed = 0",
        ["x", 0],
    )


def test_transcripts_are_numbered_once_whether_stored_or_repeated(tmp_path):
    """A batch stores each new transcript once (not one stored before, nor a repeat in the
    batch), numbered as SQLite numbers a rowid, with its messages under that number."""
    from auditor.store_rows import chat_rows
    from auditor.transcript_rows import SEQ_BITS

    s = Store(tmp_path / "a.db")
    run = s.start_run({})
    first, second = make_chat("c1"), make_chat("c2", text="a second chat")
    s.save_batch(run, [audited(first)])
    now = "2026-11-21T10:00:00+00:00"
    rows = [chat_rows(audited(c), run, now) for c in (first, second)]
    # the same transcript twice in one batch: the second chat under another rubric too
    zh = audited(second)
    zh.rubric = load_rubric("online-chat-zh")
    rows.append(chat_rows(zh, run, now))
    s.register_rubric(zh.rubric)
    s.save_rows(run, rows)
    assert s.count("results") == 3
    ids = dict(s.db.conn.execute("SELECT hash, id FROM transcripts").fetchall())
    assert ids == {first.transcript_hash: 1, second.transcript_hash: 2}
    messages = s.db.conn.execute("SELECT id, transcript_id, seq FROM messages").fetchall()
    assert messages == [(t << SEQ_BITS | q, t, q) for t in (1, 2) for q in (0, 1)]
    assert s.search("second") == ["c2"]  # the new messages are in the full-text index
    # a gap in the numbers (a transcript deleted by hand): the next is the largest plus one
    s.db.conn.execute("INSERT INTO transcripts (id, hash) VALUES (7, 'x')")
    s.db.conn.commit()
    s.save_batch(run, [audited(make_chat("c3", text="third"))])
    assert s.db.conn.execute("SELECT max(id) FROM transcripts").fetchone() == (8,)
    assert s.transcript(make_chat("c3", text="third").transcript_hash)["messages"][1]["text"] == (
        "third"
    )


def test_hit_rules_are_added_once_and_a_collision_is_an_error() -> None:
    """The audit's batches and the m019 migration write hit rules through one function:
    an id already holding another rule stops the write instead of mixing two rules up."""
    import sqlite3

    import pytest

    from auditor.errors import StoreError
    from auditor.store_rows import add_hit_rules

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE hit_rules (id INTEGER PRIMARY KEY, rule TEXT)")
    add_hit_rules(conn, {1: "您好", 2: "再见"})
    add_hit_rules(conn, {1: "您好"})  # the same rule again: nothing new
    assert conn.execute("SELECT id, rule FROM hit_rules ORDER BY id").fetchall() == [
        (1, "您好"),
        (2, "再见"),
    ]
    with pytest.raises(StoreError, match="names both"):
        add_hit_rules(conn, {2: "拜拜"})


def test_message_rows_as_written(tmp_path):
    """save_rows numbers messages as message_rows does (id = transcript id << SEQ_BITS |
    seq; transcript_id and seq its parts, computed in SQL) and writes a missing author as
    NULL (it travels as 0): an author "0" or "" stays text, and a grade's error is written
    whether it is NULL or not."""
    from auditor.transcript_rows import SEQ_BITS, message_rows

    t = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    authors = [None, "0", "", "agent 7", None]
    chats = [
        make_chat("c1"),
        Chat(
            chat_id="c2",
            language="en",
            agent_id="a1",
            messages=[
                Message(
                    id=f"m{i}",
                    role="customer" if i % 2 else "agent",
                    ts=t + timedelta(seconds=i),
                    author=a,
                    text=f"t{i}",
                )
                for i, a in enumerate(authors)
            ],
        ),
    ]
    batch = [audited(c) for c in chats]
    failed = batch[1].result.grades[0].model_copy(update={"error": "timeout"})
    batch[1].result.grades.append(failed.model_copy(update={"criterion": "solution"}))
    s = Store(tmp_path / "a.db")
    s.save_batch(s.start_run({}), batch)
    got = s.db.conn.execute(
        "SELECT m.id, m.transcript_id, m.seq, m.message_id, m.role, m.author, m.ts, m.text, "
        "m.auto FROM messages m JOIN transcripts t ON t.id = m.transcript_id "
        "WHERE t.chat_id = 'c2' ORDER BY m.id"
    ).fetchall()
    (tid,) = s.db.conn.execute("SELECT id FROM transcripts WHERE chat_id = 'c2'").fetchone()
    expected = message_rows(
        tid,
        [
            (f"m{i}", "customer" if i % 2 else "agent", a, i * 1000, f"t{i}", 0)
            for i, a in enumerate(authors)
        ],
    )
    assert got == expected and got[0][0] == tid << SEQ_BITS
    assert [type(r[5]) for r in got] == [type(None), str, str, str, type(None)]
    errors = s.db.conn.execute(
        "SELECT criterion, error FROM grades WHERE chat_id = 'c2' ORDER BY criterion"
    ).fetchall()
    assert errors == [("empathy", None), ("solution", "timeout")]
