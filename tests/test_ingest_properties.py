"""Property tests for ingest: never raises, nothing lost, timestamps and sorting behave."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.ingest import IngestOptions, parse_chat_obj, parse_timestamp, read_chats
from auditor.ingest.native import sort_messages
from auditor.models import ROLES, Chat, Message, Reject, SourceRef

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# the generated times span 1973..2500: widen the plausible window (docs/input-format.md) to it
OPTIONS = IngestOptions(earliest_ts="1970-01-01", latest_ts_days_ahead=200_000)

# aware datetimes at second precision, 1973..2500 (clear of the epoch s/ms cut-off)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
moments = st.builds(
    lambda seconds, tz: datetime.fromtimestamp(seconds, tz),
    st.integers(min_value=100_000_000, max_value=16_725_225_600),
    offsets,
)
ts_values = st.one_of(
    moments.map(lambda d: d.isoformat()),
    moments.map(lambda d: d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
    moments.map(lambda d: int(d.timestamp())),
    moments.map(lambda d: int(d.timestamp()) * 1000),
    moments.map(lambda d: str(int(d.timestamp()) * 1000)),
)
messages = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES), "ts": ts_values, "text": st.text(max_size=30)},
    optional={"auto": st.booleans(), "author": st.text(min_size=1, max_size=8)},
)
good_chats = st.builds(
    lambda i, msgs: {"chat_id": f"c{i}", "messages": msgs},
    st.integers(min_value=0, max_value=10**6),
    st.lists(messages, min_size=1, max_size=4),
)
bad_lines = st.sampled_from(
    [
        b"{",
        b"[]",
        b'{"chat_id": "x"}',
        b'{"chat_id": "x", "messages": []}',
        b'{"chat_id": "x", "messages": [{"role": "operator", "ts": 1, "text": ""}]}',
        b'{"chat_id": "x", "messages": [{"role": "agent", "text": "a"}, {"role": "agent", "ts": 1, "text": "b"}]}',  # some ts missing
        b'{"chat_id": "\xff"}',
    ]
)


@settings(SETTINGS, max_examples=30)
@given(st.lists(st.one_of(good_chats, bad_lines), max_size=8))
def test_every_line_is_a_chat_or_a_reject(tmp_path: Path, items: list):
    path = tmp_path / "p.jsonl"
    with path.open("wb") as f:
        for item in items:
            f.write(item if isinstance(item, bytes) else json.dumps(item).encode())
            f.write(b"\n\n")  # blank lines between chats are skipped
    results = list(read_chats([str(path)], OPTIONS))
    assert len(results) == len(items)  # nothing dropped, nothing invented
    for item, result in zip(items, results, strict=True):
        if isinstance(item, bytes):
            assert isinstance(result, Reject)
            assert result.reason
        else:
            assert isinstance(result, Chat)
            assert result.chat_id == item["chat_id"]
            assert sorted(m.text for m in result.messages) == sorted(
                m["text"] for m in item["messages"]
            )
    lines = [r.source.line for r in results if r.source]
    assert lines == [2 * i + 1 for i in range(len(items))]


@SETTINGS
@given(st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), max_size=10))
def test_arbitrary_bytes_never_raise(tmp_path: Path, lines: list[bytes]):
    path = tmp_path / "junk.jsonl"
    data = b"\n".join(lines)
    path.write_bytes(data)
    results = list(read_chats([str(path)], IngestOptions(format="jsonl")))
    if data.startswith(b"\x1f\x8b"):  # looks like gzip but is not: one reject for the file
        [reject] = results
        assert isinstance(reject, Reject) and "could not be read" in reject.reason
        return

    def is_blank(line: bytes) -> bool:
        # a byte-order mark may open any line (the first line of a concatenated file)
        return not line.removeprefix(b"\xef\xbb\xbf").strip()

    assert len(results) == sum(1 for line in lines if not is_blank(line))
    assert all(isinstance(r, Chat | Reject) for r in results)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", ""]),
            st.sampled_from([*ROLES, "boss", ""]),
            st.one_of(ts_values.map(str), st.text(max_size=5)),
            st.text(max_size=20),
        ),
        max_size=12,
    )
)
def test_arbitrary_csv_rows_never_raise(tmp_path: Path, rows: list[tuple[str, str, str, str]]):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["chat_id", "role", "ts", "text"])
    writer.writerows(rows)
    path = tmp_path / "rows.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    results = list(read_chats([str(path)], OPTIONS))
    assert all(isinstance(r, Chat | Reject) for r in results)
    # every chat or fragment (a run of rows with one chat_id) gives exactly one result
    nonblank = [r for r in rows if any(cell.strip() for cell in r)]
    runs = sum(1 for i, r in enumerate(nonblank) if i == 0 or r[0] != nonblank[i - 1][0])
    assert len(results) == runs
    for result in results:
        if isinstance(result, Chat):
            assert len(result.messages) >= 1


@SETTINGS
@given(moments)
def test_timestamp_forms_agree(moment: datetime):
    seconds = int(moment.timestamp())
    for value in (moment.isoformat(), seconds, str(seconds), seconds * 1000, str(seconds * 1000)):
        parsed, naive = parse_timestamp(value, UTC)
        assert parsed == moment
        assert naive is False


@SETTINGS
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=3), st.text(max_size=3)), max_size=10))
def test_sorting_is_stable_and_idempotent(stamps: list[tuple[int, str]]):
    base = datetime(2026, 11, 21, tzinfo=UTC)
    msgs = [
        Message(id=f"m{i}", role="customer", ts=base + timedelta(seconds=s), text=t)
        for i, (s, t) in enumerate(stamps)
    ]
    ordered, moved = sort_messages(msgs)
    assert [m.ts for m in ordered] == sorted(m.ts for m in msgs)
    # equal timestamps keep input order: ids (which follow input order) ascend within a tie
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.ts == b.ts:
            assert int(a.id[1:]) < int(b.id[1:])
    again, moved_again = sort_messages(ordered)
    assert again == ordered
    assert moved_again == 0
    assert (moved == 0) == (ordered == msgs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
chat_like = st.fixed_dictionaries(
    {},
    optional={
        "chat_id": json_values,
        "language": json_values,
        "agent_id": json_values,
        "messages": st.lists(
            st.fixed_dictionaries(
                {}, optional={k: json_values for k in ("role", "ts", "text", "id", "auto")}
            ),
            max_size=3,
        )
        | json_values,
    },
)


@SETTINGS
@given(chat_like)
def test_parse_chat_obj_never_raises(obj: dict):
    result = parse_chat_obj(obj, SourceRef(file="x", line=1))
    assert isinstance(result, Chat | Reject)
    if isinstance(result, Reject):
        assert result.reason
