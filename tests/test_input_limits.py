"""Input that used to lose a day's audit (issue 11 items 4, 5, 6, 8): long cells, huge
messages, implausible timestamps, unterminated quotes and byte-order marks mid-stream."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.ingest import IngestOptions, read_chats
from auditor.ingest.csv_records import MAX_CELL_CHARS
from auditor.ingest.options import MAX_MESSAGE_CHARS
from auditor.models import Chat, Reject

HEADER = "chat_id,role,ts,text\n"


def rows(chat_id: str, minute: int, reply: str = "Hello, happy to help.") -> str:
    ts = f"2026-11-21T10:{minute:02d}:00Z"
    ts2 = f"2026-11-21T10:{minute:02d}:30Z"
    return f"{chat_id},customer,{ts},Where is my parcel?\n{chat_id},agent,{ts2},{reply}\n"


def read(path: Path, **options) -> list[Chat | Reject]:
    return list(read_chats([str(path)], IngestOptions(**options)))


def summary(items: list[Chat | Reject]) -> list[tuple[str, str | None, int]]:
    """(kind, chat id, number of messages or the reject's line) per item."""
    return [
        ("chat", i.chat_id, len(i.messages))
        if isinstance(i, Chat)
        else ("reject", i.chat_id, i.source.line)
        for i in items
    ]


# ---------------------------------------------------------------- item 4: long CSV cells


def test_a_cell_over_the_old_csv_limit_is_read_whole(tmp_path):
    long_reply = "x" * 200_000  # over csv's default 131,072
    path = tmp_path / "day.csv"
    path.write_text(HEADER + rows("c1", 0) + rows("c2", 1, long_reply) + rows("c3", 2))
    items = read(path)
    assert summary(items) == [("chat", "c1", 2), ("chat", "c2", 2), ("chat", "c3", 2)]
    c2 = items[1]
    assert isinstance(c2, Chat)
    # the agent's reply is there (capped at the per-message limit, with a warning)
    assert c2.messages[1].role == "agent" and len(c2.messages[1].text) == MAX_MESSAGE_CHARS
    assert any("200,000 characters" in w for w in c2.warnings)


def test_a_cell_over_the_cell_limit_rejects_exactly_its_chat(tmp_path):
    huge = "y" * (MAX_CELL_CHARS + 10)
    path = tmp_path / "day.csv"
    path.write_text(HEADER + rows("c1", 0) + rows("c2", 1, huge) + rows("c3", 2))
    items = read(path)
    assert summary(items) == [("chat", "c1", 2), ("reject", "c2", 4), ("chat", "c3", 2)]
    assert "line 5" in items[1].reason and "not all read" in items[1].reason


def test_review_import_reads_the_tools_own_export_of_a_long_chat(tmp_path):
    from auditor.review.sheets import read_sheet

    long_text = "z" * 200_000
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["chat_id", "criterion", "transcript", "level"])
        w.writerow(["c1", "empathy", long_text, "good"])
        w.writerow(["c2", "empathy", "short", "poor"])
    got = read_sheet(path)
    assert [len(cells) for _, cells in got] == [4, 4, 4]
    assert got[1][1][2] == long_text and got[2][1][0] == "c2"


# ---------------------------------------------------------------- item 8: quotes and BOMs


def test_an_unterminated_quote_rejects_its_chat_and_the_rest_is_read(tmp_path):
    path = tmp_path / "day.csv"
    broken = 'c2,customer,2026-11-21T10:01:00Z,"this quote is never closed\n'
    path.write_text(HEADER + rows("c1", 0) + broken + rows("c3", 2) + rows("c4", 3))
    items = read(path)
    assert summary(items) == [
        ("chat", "c1", 2),
        ("reject", "c2", 4),
        ("chat", "c3", 2),
        ("chat", "c4", 2),
    ]
    assert "line 4" in items[1].reason and "never closed" in items[1].reason


def test_a_multi_line_quoted_cell_at_the_end_is_still_one_cell(tmp_path):
    path = tmp_path / "day.csv"
    last = 'c2,agent,2026-11-21T10:01:30Z,"line one\nline two"\n'
    path.write_text(HEADER + rows("c1", 0) + "c2,customer,2026-11-21T10:01:00Z,hi\n" + last)
    items = read(path)
    assert summary(items) == [("chat", "c1", 2), ("chat", "c2", 2)]
    assert items[1].messages[1].text == "line one\nline two"


def test_concatenated_csv_files_with_byte_order_marks(tmp_path):
    a = ("\ufeff" + HEADER + rows("c1", 0)).encode("utf-8")
    b = ("\ufeff" + "text,ts,role,chat_id\n" + "hi,2026-11-21T10:05:00Z,customer,c2\n").encode()
    path = tmp_path / "both.csv"
    path.write_bytes(a + b)  # what `cat a.csv b.csv` gives
    items = read(path)
    assert summary(items) == [("chat", "c1", 2), ("chat", "c2", 1)]
    assert items[1].messages[0].text == "hi"  # b's own column order


def test_concatenated_jsonl_files_with_byte_order_marks(tmp_path):
    line = json.dumps(
        {"chat_id": "j1", "messages": [{"role": "customer", "ts": 1795000000, "text": "hi"}]}
    )
    path = tmp_path / "both.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + line.encode() + b"\n\xef\xbb\xbf" + line.replace("j1", "j2").encode()
    )
    assert summary(read(path)) == [("chat", "j1", 1), ("chat", "j2", 1)]


# ---------------------------------------------------------------- item 6: timestamps


@pytest.mark.parametrize(
    "ts", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", 0]
)
def test_implausible_timestamps_reject_the_chat(tmp_path, ts):
    chat = {"chat_id": "odd", "messages": [{"role": "customer", "ts": ts, "text": "hi"}]}
    path = tmp_path / "day.jsonl"
    path.write_text(json.dumps(chat) + "\n")
    (item,) = read(path)
    assert isinstance(item, Reject) and item.source.line == 1
    assert "message 1 has ts" in item.reason


def test_the_window_is_configurable(tmp_path):
    chat = {
        "chat_id": "old",
        "messages": [{"role": "customer", "ts": "1995-06-01T00:00:00Z", "text": "hi"}],
    }
    path = tmp_path / "day.jsonl"
    path.write_text(json.dumps(chat) + "\n")
    assert isinstance(read(path)[0], Reject)
    assert isinstance(read(path, earliest_ts="1990-01-01")[0], Chat)


# ---------------------------------------------------------------- item 5: huge messages


def test_a_10_mb_message_is_capped_with_a_warning(tmp_path):
    chat = {
        "chat_id": "big",
        "messages": [
            {"role": "customer", "ts": 1795000000, "text": "请您放心" * 2_500_000},
            {"role": "agent", "ts": 1795000010, "text": "ok"},
        ],
    }
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps(chat, ensure_ascii=False) + "\n")
    (item,) = read(path, max_message_chars=1000)
    assert isinstance(item, Chat)
    assert len(item.messages[0].text) == 1000 and item.messages[1].text == "ok"
    assert item.warnings == [
        "message m1 has 10,000,000 characters; only the first 1,000 are audited "
        "(the per-message limit)"
    ]


# ---------------------------------------------------------------- item 6: reports


def _report(db: Path, *args: str):
    from click.testing import CliRunner

    from cli import main

    return CliRunner().invoke(main, ["report", "--db", str(db), *args], catch_exceptions=False)


@pytest.mark.parametrize(
    "args",
    [
        ["--until", "9999-12-31"],
        ["--since", "0001-01-01"],
        ["--since", "0001-01-01", "--until", "0001-01-03"],
        ["--since", "2025-11-01", "--until", "9999-12-31"],
    ],
)
def test_reports_guard_date_arithmetic_at_the_ends_of_the_calendar(tmp_path, args):
    from test_pipeline import audit, write_input

    src = tmp_path / "day.jsonl"
    write_input(src, 3)
    db = tmp_path / "a.db"
    audit(src, db)
    got = _report(db, *args, "-o", str(tmp_path / "r.html"))
    assert got.exit_code != 0 and got.exit_code != 1  # a usage/input error, not a traceback
    assert "Error:" in got.output and ("days" in got.output or "no audited chats" in got.output)


def test_a_chat_stored_in_year_9999_still_reports(tmp_path):
    """A database written before the window existed (or with a widened window) still reports."""
    from test_pipeline import audit

    chat = {
        "chat_id": "far",
        "agent_id": "a1",
        "messages": [
            {"role": "customer", "ts": "9999-12-30T10:00:00Z", "text": "hi"},
            {"role": "agent", "ts": "9999-12-30T10:00:05Z", "text": "Hello, how can I help?"},
        ],
    }
    src = tmp_path / "far.jsonl"
    src.write_text(json.dumps(chat) + "\n")
    db = tmp_path / "a.db"
    s = audit(src, db)
    assert s.rejected == 1  # the default window rejects it
    from auditor.grading import make_grader
    from auditor.pipeline import run_audit
    from auditor.store import Store

    store = Store(db)
    wide = IngestOptions(latest_ts_days_ahead=3_000_000)
    run_audit([str(src)], store=store, grader=make_grader("offline"), ingest_options=wide)
    store.close()
    for fmt_args in (["-o", str(tmp_path / "r.html")], ["--format", "md"], ["--format", "csv"]):
        for period in ([], ["--until", "9999-12-31"]):
            got = _report(db, *period, *fmt_args)
            assert got.exit_code == 0, got.output


# ---------------------------------------------------------------- item 5: linear grading

_hits = st.lists(
    st.tuples(
        st.sampled_from(["g1", "g2"]),
        st.just("cue"),
        st.integers(0, 40),
        st.integers(1, 8),
    ).map(lambda t: (t[0], t[1], t[2], t[2] + t[3])),
    max_size=30,
)


def _outermost_by_hand(found):
    """The old quadratic rule: drop a hit inside a kept hit of its group."""
    found = sorted(found, key=lambda f: (f[2], f[2] - f[3]))
    kept = []
    for f in found:
        if not any(k[0] == f[0] and k[2] <= f[2] and f[3] <= k[3] for k in kept):
            kept.append(f)
    return kept


@settings(max_examples=200, deadline=None)
@given(_hits)
def test_outermost_keeps_exactly_what_the_quadratic_rule_kept(found):
    from auditor.grading.offline import _outermost

    assert sorted(_outermost(list(found))) == sorted(_outermost_by_hand(found))


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ab。!\n", max_size=40),
    st.integers(0, 40),
    st.integers(0, 5),
)
def test_sentence_bounds_match_the_regex_definition(text, start, length):
    import re

    from auditor.grading.offline import _sentence_bounds

    start = min(start, len(text))
    end = min(len(text), start + length)
    before = re.compile(r".*[。！？!?；;\n]", re.DOTALL).match(text, 0, start)
    after = re.compile(r"[。！？!?；;\n]").search(text, max(start, end - 1))
    expected = (before.end() if before else 0), (after.end() if after else len(text))
    assert _sentence_bounds(text, start, end) == expected


def test_many_hits_in_one_message_take_linear_work():
    """200,000 hits of one group: the old pairwise rule needed ~2e10 comparisons (hours);
    the kept hits and the veto look-ups are each one pass."""
    from auditor.grading.offline import _outermost, _Vetoes

    n = 200_000
    found = [("g", "cue", 3 * i, 3 * i + 2) for i in range(n)]  # none nested
    found += [("g", "cue", 3 * i, 3 * i + 1) for i in range(n)]  # each inside the one above
    kept = _outermost(found)
    assert len(kept) == n and all(f[3] - f[2] == 2 for f in kept)
    vetoes = _Vetoes([(3 * i + 1, 3 * i + 2) for i in range(0, n, 2)])
    assert sum(vetoes.overlaps(f[2], f[3]) for f in kept) == n // 2


def test_a_huge_message_is_graded_after_the_cap(tmp_path):
    """A 10 MB message full of cues: capped at ingest, so the grader sees max_message_chars."""
    from auditor.grading import make_grader
    from auditor.pipeline import run_audit
    from auditor.store import Store

    chat = {
        "chat_id": "big",
        "messages": [
            {"role": "customer", "ts": 1795000000, "text": "在吗？"},
            {"role": "agent", "ts": 1795000010, "text": "请您放心！" * 2_000_000},
        ],
    }
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps(chat, ensure_ascii=False) + "\n")
    store = Store(tmp_path / "a.db")
    try:
        s = run_audit([str(src)], store=store, grader=make_grader("offline"))
        result = store.result_json("big")
    finally:
        store.close()
    assert (s.audited, s.rejected) == (1, 0)
    assert any("10,000,000 characters" in w for w in result["warnings"])
