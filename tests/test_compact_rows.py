"""m018_compact_rows (issue 12, the store ≤ 8 KiB a chat): grades name their source in
``grade_sources``, message times are milliseconds after the transcript's first one — and
everything read before reads the same: the ``grades_full``/``messages_full`` views, `show`,
`export`, the report, and a database written by the code before the migration."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from pre_m018 import DATA, capture

from auditor.ingest import IngestOptions, read_chats
from auditor.store import Store
from auditor.transcript_rows import ISO_TS_SQL, compact_times, iso_time

TZ8 = timezone(timedelta(hours=8))
ODD = timezone(timedelta(hours=5, minutes=30, seconds=15))
BERLIN = ZoneInfo("Europe/Berlin")

TIMES = [
    # one offset, whole seconds and milliseconds, a day later
    [
        datetime(2026, 11, 21, 8, 0, 1, tzinfo=TZ8),
        datetime(2026, 11, 21, 8, 0, 6, 250000, tzinfo=TZ8),
        datetime(2026, 11, 22, 1, 0, 6, 123000, tzinfo=TZ8),
    ],
    # another offset mid-chat, sub-millisecond digits: kept as ISO text
    [
        datetime(2026, 11, 21, 8, 0, 1, tzinfo=TZ8),
        datetime(2026, 11, 21, 1, 0, 7, tzinfo=UTC),
        datetime(2026, 11, 21, 8, 0, 8, 5, tzinfo=TZ8),
    ],
    # a first time with microseconds: every time as ISO text
    [datetime(2026, 11, 21, 8, 0, 1, 5, tzinfo=TZ8), datetime(2026, 11, 21, 8, 0, 2, tzinfo=TZ8)],
    # a first time with milliseconds, later ones without, across the year's end
    [
        datetime(2026, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC),
    ],
    [datetime(2026, 11, 21, 8, 0, 1, tzinfo=ODD), datetime(2026, 11, 21, 8, 0, 3, tzinfo=ODD)],
    [None, None],  # a chat exported without timestamps
    # one zone object whose offset changes mid-chat (summer time ends): the later times
    # have another offset, kept as ISO text
    [
        datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN),
        datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN),
        datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1),
        datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN),
    ],
    # naive times (no zone at all)
    [datetime(2026, 11, 21, 8, 0, 1), datetime(2026, 11, 22, 8, 0, 1, 1000)],  # noqa: DTZ001
]


@pytest.mark.parametrize("stamps", TIMES)
def test_message_times_read_back_as_the_iso_text_written_in_python_and_sql(stamps) -> None:
    started, stored = compact_times(stamps)
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (started_at TEXT)")
    con.execute("CREATE TABLE m (ts INTEGER)")
    con.execute("INSERT INTO t VALUES (?)", (started,))
    for ts, value in zip(stamps, stored, strict=True):
        want = None if ts is None else ts.isoformat()
        assert iso_time(started, value) == want
        con.execute("DELETE FROM m")
        con.execute("INSERT INTO m VALUES (?)", (value,))
        assert con.execute(f"SELECT {ISO_TS_SQL} FROM t, m").fetchone()[0] == want
    if stamps[0] is not None and stamps[0].microsecond % 1000 == 0:
        assert stored[0] == 0  # the first time itself is kept in transcripts.started_at


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list]]:
    """tests/data/pre-m018/audit.db.gz (17 chats audited by the code before m018), its grade
    and message rows as that code stored them, then opened (and so converted) by this code."""
    db = tmp_path_factory.mktemp("pre-m018") / "audit.db"
    db.write_bytes(gzip.decompress((DATA / "audit.db.gz").read_bytes()))
    con = sqlite3.connect(db)
    assert "m018_compact_rows" not in {
        r[0] for r in con.execute("SELECT name FROM _sqlite_migrations")
    }
    before = {
        "grades": con.execute("SELECT * FROM grades ORDER BY chat_id, rubric_name, seq").fetchall(),
        "messages": con.execute("SELECT * FROM messages ORDER BY id").fetchall(),
        "messages_fts": con.execute("SELECT rowid FROM messages_fts('您好') ORDER BY 1").fetchall(),
        "findings": con.execute(
            "SELECT chat_id, rubric_name, criterion, evidence, data FROM findings "
            "ORDER BY chat_id, rubric_name, criterion"
        ).fetchall(),
    }
    con.close()
    Store(db).close()
    return db, before


def test_the_migration_keeps_every_grade_and_message_time(migrated) -> None:
    db, before = migrated
    con = sqlite3.connect(db)
    grades = con.execute("SELECT * FROM grades_full ORDER BY chat_id, rubric_name, seq").fetchall()
    assert grades == before["grades"]
    assert con.execute("SELECT * FROM messages_full ORDER BY id").fetchall() == before["messages"]
    # the example day's times are milliseconds now; MIX-1's odd ones stay text
    kinds = dict(con.execute("SELECT typeof(ts), count(*) FROM messages GROUP BY 1").fetchall())
    assert kinds["integer"] >= 200 and kinds["text"] == 2 and kinds["null"] == 2
    assert con.execute("SELECT count(*) FROM grade_sources").fetchone()[0] == 1
    assert (
        con.execute("SELECT rowid FROM messages_fts('您好') ORDER BY 1").fetchall()
        == (before["messages_fts"])
        != []
    )
    con.close()


def test_the_migration_keeps_what_show_export_and_the_report_print(migrated) -> None:
    db, _ = migrated
    expected = json.loads(gzip.decompress((DATA / "outputs.json.gz").read_bytes()))
    got = capture(db)
    assert got.keys() == expected.keys()
    for key, text in expected.items():
        assert got[key] == text, key


def test_the_converted_database_gives_back_the_audit_it_was_written_by(migrated) -> None:
    db, _ = migrated
    store = Store(db, readonly=True)
    written = [
        orjson.loads(line)
        for line in gzip.decompress((DATA / "out.jsonl.gz").read_bytes()).splitlines()
    ]
    chats = {c.chat_id: c for c in read_chats([str(DATA / "chats.jsonl")], IngestOptions())}
    assert len(written) == len(chats) == 17
    for result in written:
        stored = store.result_json(result["chat_id"])
        assert stored is not None
        # the queue reasons can grow after --out is written (agent quota picks)
        assert {**stored, "review": None} == {**result, "review": None}
        assert (
            store.transcript(result["transcript_hash"])
            == chats[result["chat_id"]].transcript_dict()
        )
    assert store.query("PRAGMA foreign_key_check") == []


#: the offline grader's version names its rules and cue files (offline-rules-2+cues-<hash>):
#: the fixture was audited by an older one, and a cue edit is not a change of layout
_GRADER_VERSION = re.compile(r"offline-rules-\d+\+cues-[0-9a-f]{12}")


def _any_version(rows: list[tuple]) -> list[tuple]:
    return [
        tuple(_GRADER_VERSION.sub("offline-rules-*", v) if isinstance(v, str) else v for v in r)
        for r in rows
    ]


def test_a_new_audit_writes_what_the_migration_gives(migrated, tmp_path) -> None:
    """The rows this code writes equal the rows m018 converts (same chats, same layout)."""
    from click.testing import CliRunner

    from cli import main

    converted, _ = migrated
    db = tmp_path / "new.db"
    res = CliRunner().invoke(main, ["audit", str(DATA / "chats.jsonl"), "--db", str(db), "-q"])
    assert res.exit_code == 0, res.output
    a, b = sqlite3.connect(converted), sqlite3.connect(db)
    for table, order in (
        ("grades", "chat_id, rubric_name, seq"),
        ("grade_sources", "id"),
        ("findings", "chat_id, rubric_name, seq"),
        ("hit_rules", "id"),
        ("messages", "id"),
        ("transcripts", "id"),
    ):
        sql = f"SELECT * FROM {table} ORDER BY {order}"
        assert _any_version(a.execute(sql).fetchall()) == _any_version(b.execute(sql).fetchall()), (
            table
        )
    schema = "SELECT name, sql FROM sqlite_master WHERE name IN ('grades', 'messages', 'transcripts', 'grade_sources', 'grades_full', 'messages_full', 'findings', 'hit_rules', 'finding_hits') ORDER BY name"
    assert a.execute(schema).fetchall() == b.execute(schema).fetchall()


def test_grades_reference_their_source_with_a_label_for_datasette(migrated) -> None:
    db, _ = migrated
    store = Store(db, readonly=True)
    keys = {
        (r["from"], r["table"], r["to"]) for r in store.query("PRAGMA foreign_key_list(grades)")
    }
    assert ("source", "grade_sources", "id") in keys
    (source,) = store.query("SELECT * FROM grade_sources")
    assert source["grader"] == "offline" and json.loads(source["flags"]) == ["advisory"]
    assert source["name"] == f"offline · {source['prompt_version']} · advisory"


def test_findings_keep_their_hits_rules_once_and_no_evidence_the_hits_give(migrated) -> None:
    """m019_compact_findings: long rules named by their ``hit_rules`` id, evidence that is
    exactly the hits' texts left out — and the ``finding_hits`` view (what Datasette shows)
    and the store's reader give back every hit and every quote as they were stored."""
    db, before = migrated
    con = sqlite3.connect(db)
    now = {
        r[:3]: r[3:]
        for r in con.execute(
            "SELECT chat_id, rubric_name, criterion, evidence, data FROM findings"
        ).fetchall()
    }
    assert len(now) == len(before["findings"])
    rules = dict(con.execute("SELECT id, rule FROM hit_rules").fetchall())
    assert any(r.startswith("^\\W*(?:@") for r in rules.values())  # the greeting regex
    left_out = ided = 0
    for chat_id, rubric_name, criterion, evidence, data in before["findings"]:
        new_evidence, new_data = now[(chat_id, rubric_name, criterion)]
        old = orjson.loads(data) if data else None
        hits = (old or {}).get("hits") or []
        view = con.execute(
            'SELECT hit, message_id, start, "end", text, rule FROM finding_hits '
            "WHERE chat_id = ? AND rubric_name = ? AND criterion = ? ORDER BY hit",
            (chat_id, rubric_name, criterion),
        ).fetchall()
        assert view == [
            (i, h["message_id"], h["start"], h["end"], h["text"], h["rule"])
            for i, h in enumerate(hits)
        ]
        if new_evidence is None:
            left_out += 1
            assert orjson.loads(evidence) == [[h["message_id"], h["text"]] for h in hits] != []
        else:
            assert new_evidence == evidence
        stored_hits = (orjson.loads(new_data) if new_data else {}).get("hits") or []
        for h, s in zip(hits, stored_hits, strict=True):
            if len(h["rule"]) > 13:
                ided += 1
                assert rules[s["rule"]] == h["rule"]
            else:
                assert s == h
    assert left_out > 10 and ided > 10
    con.close()


def test_a_rule_whose_id_another_rule_holds_stops_the_save(migrated, tmp_path) -> None:
    """Two rules with one ``hit_rules`` id (40 bits of their hashes) would mix up their hits:
    the writer refuses the batch instead."""
    from click.testing import CliRunner

    from auditor.cli import main

    converted, _ = migrated
    con = sqlite3.connect(converted)
    taken = con.execute("SELECT id FROM hit_rules ORDER BY id LIMIT 1").fetchone()[0]
    con.close()
    db = tmp_path / "clash.db"
    Store(db).close()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO hit_rules VALUES (?, ?)", (taken, "another rule"))
    con.commit()
    con.close()
    res = CliRunner().invoke(main, ["audit", str(DATA / "chats.jsonl"), "--db", str(db), "-q"])
    assert res.exit_code != 0
    assert "hit_rules id" in res.output + str(res.exception)
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM findings").fetchone()[0] == 0
    con.close()
