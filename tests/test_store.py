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
