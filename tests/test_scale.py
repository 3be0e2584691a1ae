"""Issue #12: the speed work changes no verdict, `--help` stays light, the store stays lean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "sample-day.jsonl"

HEAVY = ("pydantic", "numpy", "sqlite_utils", "openai", "matplotlib", "sklearn", "scipy")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['auditor', '--help']\n"
        "import cli\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, check=True
    )
    assert "Usage:" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------- the lean store (m010)

import orjson  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from sqlite_utils import Database  # noqa: E402

from auditor.ingest import IngestOptions, read_chats  # noqa: E402
from auditor.migrations import migrations  # noqa: E402
from auditor.store import Store  # noqa: E402
from cli import main  # noqa: E402


@pytest.fixture(scope="module")
def audited_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """The example day audited once: the database and the `--out` results."""
    d = tmp_path_factory.mktemp("day")
    db, out = d / "audit.db", d / "out.jsonl"
    res = CliRunner().invoke(
        main, ["audit", str(EXAMPLE), "--db", str(db), "--out", str(out), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    return db, [orjson.loads(line) for line in out.read_bytes().splitlines()]


def test_each_result_is_stored_once_and_read_back_exactly(audited_day) -> None:
    db, written = audited_day
    store = Store(db, readonly=True)
    columns = {r["name"] for r in store.query("PRAGMA table_info(results)")}
    assert "result" not in columns  # no JSON copy beside the rows
    assert len(written) == 400
    for result in written:
        stored = store.result_json(result["chat_id"])
        # the queue reasons can grow after --out is written (agent quota picks)
        assert stored is not None
        assert {**stored, "review": None} == {**result, "review": None}
        assert set(result["review"]["reasons"]) <= set(stored["review"]["reasons"])
    exported = {r["chat_id"]: r for r in store.iter_results()}
    assert exported == {r["chat_id"]: store.result_json(r["chat_id"]) for r in written}


def test_transcripts_are_rows_and_read_back_exactly(audited_day) -> None:
    db, written = audited_day
    store = Store(db, readonly=True)
    chats = {c.chat_id: c for c in read_chats([str(EXAMPLE)], IngestOptions())}
    for result in written:
        body = store.transcript(result["transcript_hash"])
        assert body == chats[result["chat_id"]].transcript_dict()
    n_messages = sum(len(c.messages) for c in chats.values())
    assert store.count("messages") == n_messages


def test_foreign_keys_are_declared_and_hold(audited_day) -> None:
    db, _ = audited_day
    store = Store(db, readonly=True)
    declared = {
        (t, r["table"])
        for t in ("results", "findings", "grades", "review_queue", "reviews", "messages")
        for r in store.query(f"PRAGMA foreign_key_list({t})")
    }
    assert {
        ("results", "chats"),
        ("findings", "results"),
        ("grades", "results"),
        ("reviews", "results"),
        ("review_queue", "results"),
        ("messages", "transcripts"),
    } <= declared
    assert store.query("PRAGMA foreign_key_check") == []


def test_full_text_search_finds_chinese_words_and_english_words(tmp_path) -> None:
    chat = {
        "chat_id": "s1",
        "language": "zh",
        "messages": [
            {"role": "customer", "ts": "2026-11-21T09:00:00+08:00", "text": "我的快递怎么还没到"},
            {"role": "agent", "ts": "2026-11-21T09:00:10+08:00", "text": "您好，请稍等"},
        ],
    }
    en = {
        "chat_id": "s2",
        "language": "en",
        "messages": [
            {"role": "customer", "ts": "2026-11-21T09:00:00Z", "text": "Where is my refund?"},
            {"role": "agent", "ts": "2026-11-21T09:00:10Z", "text": "Hello, let me check."},
        ],
    }
    src = tmp_path / "d.jsonl"
    src.write_text("\n".join(json_line(c) for c in (chat, en)) + "\n", encoding="utf-8")
    db = tmp_path / "a.db"
    assert CliRunner().invoke(main, ["audit", str(src), "--db", str(db), "-q"]).exit_code == 0
    store = Store(db)
    assert store.search("快递") == ["s1"]
    assert store.search("递快") == []  # characters adjacent and in order
    assert store.search("快递怎么") == ["s1"]
    assert store.search("快递到了") == []  # every pair must occur
    assert store.search("REFUND") == ["s2"]
    assert store.search('"quoted" 快递') == []  # every word must occur; quotes are literal
    assert store.search("") == []


def json_line(obj: dict) -> str:
    return orjson.dumps(obj).decode()


def test_migration_converts_a_database_from_before_in_place(audited_day, tmp_path) -> None:
    """m010_lean_store on a database written in the old layout (JSON result and transcript
    body): every result and transcript reads back as before, searchable, keys declared."""
    lean_path, written = audited_day
    lean = Store(lean_path, readonly=True)
    old_path = tmp_path / "old.db"
    old = Database(old_path)
    migrations.apply(old, stop_before="m010_lean_store")
    old_results = {r["name"] for r in old.query("PRAGMA table_info(results)")}
    for table in ("chats", "rubrics", "review_queue", "failure_patterns"):
        cols = {r["name"] for r in old.query(f"PRAGMA table_info({table})")}
        rows = [{k: v for k, v in r.items() if k in cols} for r in lean.db.table(table).rows]
        old.table(table).insert_all(rows)
    for table in ("findings", "grades"):
        cols = {r["name"] for r in old.query(f"PRAGMA table_info({table})")}
        # grades as they read before m018 (their source's columns with them)
        source = "grades_full" if table == "grades" else table
        rows = lean.query(f"SELECT * FROM {source} ORDER BY chat_id, rubric_name, seq")
        if table == "findings":  # evidence and hits as they read before m019 (the result's)
            for r in rows:
                f = next(
                    f
                    for f in lean.result_json(r["chat_id"], r["rubric_name"])["findings"]
                    if f["criterion"] == r["criterion"]
                )
                r["evidence"] = orjson.dumps([[e["message_id"], e["quote"]] for e in f["evidence"]])
                r["data"] = orjson.dumps(f["data"]).decode() if f["data"] else None
        for r in rows:  # evidence as it was stored before: [{message_id, quote}]
            r["evidence"] = orjson.dumps(
                [{"message_id": m, "quote": q} for m, q in orjson.loads(r["evidence"])]
            ).decode()
        old.table(table).insert_all([{k: v for k, v in r.items() if k in cols} for r in rows])
    for r in lean.db.table("results").rows:
        row = {k: v for k, v in r.items() if k in old_results}
        row["result"] = orjson.dumps(lean.result_json(r["chat_id"], r["rubric_name"])).decode()
        old.table("results").insert(row)
    for r in lean.db.table("transcripts").rows:
        body = lean.transcript(r["hash"])
        old.table("transcripts").insert(
            {"hash": r["hash"], "chat_id": r["chat_id"], "body": orjson.dumps(body).decode()}
        )
    old.close()

    converted = Store(old_path)
    assert "result" not in {r["name"] for r in converted.query("PRAGMA table_info(results)")}
    for result in written:
        assert converted.result_json(result["chat_id"]) == lean.result_json(result["chat_id"])
        h = result["transcript_hash"]
        assert converted.transcript(h) == lean.transcript(h)
    assert converted.search("您好")[:3] == lean.search("您好")[:3] != []
    assert converted.query("PRAGMA foreign_key_check") == []


def test_example_day_queue_is_sized_to_the_team_and_keeps_every_fatal_chat(audited_day) -> None:
    """Issue #12 item 4 on examples/sample-day.jsonl with the default settings: at most 20% of
    the chats queued, every chat with a fatal failure among them, no advisory (offline) grade
    queued for low confidence."""
    db, written = audited_day
    store = Store(db, readonly=True)
    queued = store.query("SELECT chat_id, reasons FROM review_queue")
    fatal = {r["chat_id"] for r in written if r["fatal"]}
    assert fatal  # the example day has fatal chats to keep
    assert len(queued) <= 0.20 * len(written)
    assert fatal <= {q["chat_id"] for q in queued}
    assert not any("low_confidence" in orjson.loads(q["reasons"]) for q in queued)
    assert all("advisory" in g["flags"] for r in written for g in r["grades"])


def test_a_chats_rows_give_back_its_result() -> None:
    """store_rows.result_of (the writer's path for re-queueing a re-audited chat) is exact."""
    from test_review import make_chat, make_result, queued, tiny_rubric

    from auditor.store import AuditedChat
    from auditor.store_rows import chat_rows, result_of

    rubric = tiny_rubric()
    chat = make_chat("c1")
    result = queued(make_result(chat, rubric, fail=("greeting",), empathy=("poor", 0.4)), rubric)
    rows = chat_rows(AuditedChat(chat, rubric, result, "offline:1"), "run-1", "2026-11-21T00:00Z")
    assert result_of(rows).to_json() == result.to_json()


# ---------------------------------------------------------------- per-day rollups (m011)

ROLLUP_CHECK = (
    (
        "SELECT day, rubric_hash, agent_id, chats, passed, round(score_sum, 6), fatal, queued "
        "FROM day_rollups ORDER BY 1, 2, 3",
        "SELECT day, rubric_hash, COALESCE(agent_id, ''), count(*), sum(passed), "
        "round(sum(score), 6), sum(fatal), sum(review_queued) FROM results "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    ),
    (
        "SELECT day, rubric_name, agent_id, criterion, failed, fatal FROM criterion_rollups "
        "ORDER BY 1, 2, 3, 4",
        "SELECT r.day, r.rubric_name, COALESCE(r.agent_id, ''), x.criterion, count(*), "
        "sum(x.severity = 'fatal') FROM results r JOIN (SELECT chat_id, rubric_name, criterion, "
        "severity FROM findings WHERE status = 'fail' UNION ALL SELECT chat_id, rubric_name, "
        "criterion, severity FROM grades WHERE failed = 1) x ON x.chat_id = r.chat_id AND "
        "x.rubric_name = r.rubric_name GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    ),
)


def _rollups_match(db: Path) -> None:
    store = Store(db, readonly=True)
    for kept, recomputed in ROLLUP_CHECK:
        assert store.db.execute(kept).fetchall() == store.db.execute(recomputed).fetchall()


def test_rollups_equal_the_stored_results_through_re_audits(tmp_path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()[:60]
    src = tmp_path / "day.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "a.db"
    run = ["audit", str(src), "--db", str(db), "-q", "--workers", "1"]
    assert CliRunner().invoke(main, run).exit_code == 0
    _rollups_match(db)
    # change every agent's words (new transcripts: results replaced, verdicts move)
    changed = [
        line.replace("您好", "你好").replace("Hello", "Yo").replace("感谢", "") for line in lines
    ]
    src.write_text("\n".join(changed) + "\n", encoding="utf-8")
    assert CliRunner().invoke(main, run).exit_code == 0
    _rollups_match(db)
    assert CliRunner().invoke(main, [*run, "--force"]).exit_code == 0
    _rollups_match(db)
    store = Store(db, readonly=True)
    assert store.count("day_rollups") > 0 and store.count("criterion_rollups") > 0


def test_rollups_are_backfilled_for_a_database_from_before(audited_day, tmp_path) -> None:
    import shutil

    db = tmp_path / "copy.db"
    shutil.copy(audited_day[0], db)
    con = Database(db)
    con.execute("DROP TABLE day_rollups")
    con.execute("DROP TABLE criterion_rollups")
    con.execute("DELETE FROM _sqlite_migrations WHERE name = 'm011_rollups'")
    con.conn.commit()
    con.close()
    Store(db).close()  # applies m011 again: backfill
    _rollups_match(db)


def test_the_lean_store_keeps_column_defaults(tmp_path) -> None:
    """m010 rebuilds tables from their own columns: a default another migration set stays."""
    store = Store(tmp_path / "a.db")
    cols = {r["name"]: r for r in store.query("PRAGMA table_info(results)")}
    assert cols["provisional"]["dflt_value"] == "0" and cols["provisional"]["notnull"] == 1
