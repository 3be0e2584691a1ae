"""Fuzzing the whole ingest-to-store path (issue 11, Done-when): duplicate ids, long cells,
control characters and odd timestamps never raise, and every chat read is counted once:
read = audited + rejected + duplicates on a fresh database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.grading import make_grader
from auditor.pipeline import run_audit
from auditor.store import Store

CONTROL = "".join(map(chr, [0, 1, 7, 8, 11, 12, 27, 127, 0x85, 0x2028, 0xFEFF]))
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CONTROL + "ab\n\r\t\"',;你好", max_size=40),
    st.sampled_from(["\x1b[31mred\x1b[0m", "a\x00b", '"unbalanced', "line\nbreak", ""]),
    # a long cell: over csv's default field limit of 131,072 characters
    st.integers(1, 3).map(lambda k: "长" * (70_000 * k)),
)
timestamps = st.one_of(
    st.integers(1_763_000_000, 1_764_000_000),  # 2025, epoch seconds
    st.sampled_from(
        [
            "2025-11-21T10:00:00Z",
            "2025-11-21 10:00:05",  # naive
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            0,
            -1,
            10**13,
            10**15,
            "yesterday",
            "",
            None,
            True,
            1.5e9,
        ]
    ),
)
messages = st.fixed_dictionaries(
    {"role": st.sampled_from(["customer", "agent", "system", "bot"]), "ts": timestamps},
    optional={"text": texts},
)
chats = st.fixed_dictionaries(
    {
        "chat_id": st.sampled_from(["c1", "c2", "c3", "c4", " c1", "", 7]),
        "messages": st.lists(messages, min_size=0, max_size=4),
    },
    optional={"agent_id": st.sampled_from(["a1", "a2", ""])},
)


def _write_jsonl(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for chat in items:
            fh.write(json.dumps(chat, ensure_ascii=False) + "\n")


def _write_csv(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["chat_id", "role", "ts", "text", "agent_id"])
        for chat in items:
            for m in chat["messages"] or [{"role": "", "ts": "", "text": ""}]:
                ts = "" if m["ts"] is None else m["ts"]
                w.writerow(
                    [chat["chat_id"], m["role"], ts, m.get("text", ""), chat.get("agent_id")]
                )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(chats, min_size=1, max_size=6),
    st.lists(chats, max_size=4),
    st.sampled_from(["jsonl", "csv"]),
    st.booleans(),
)
def test_counts_hold_and_nothing_raises(tmp_path_factory, day1, day2, fmt, bom):
    tmp = tmp_path_factory.mktemp("fuzz")
    paths = []
    for name, items in (("day1", day1), ("day2", day2)):
        if not items:
            continue
        path = tmp / f"{name}.{fmt}"
        (_write_jsonl if fmt == "jsonl" else _write_csv)(path, items)
        if bom:
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        paths.append(path)
    both = tmp / f"cat.{fmt}"  # and the two files as `cat day1 day2` joins them
    both.write_bytes(b"".join(p.read_bytes() for p in paths))
    for inputs in ([str(p) for p in paths], [str(both)]):
        store = Store(":memory:")
        try:
            s = run_audit(inputs, store=store, grader=make_grader("offline"))
            stored = store.count("results")
        finally:
            store.close()
        assert s.status == "completed"
        assert s.skipped == 0
        assert s.read == s.audited + s.rejected + s.duplicates
        assert stored == s.audited  # one result per distinct chat id
