"""The per-text and per-value memos of the audit's hot path give what the work they skip
gives: shared zone objects for ISO times, remembered hold durations and acknowledgements,
detail-line seconds, the offline grader's per-text analyses and per-rubric plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auditor.checks import _s
from auditor.checks.timing import AckMatcher, stated_duration_s
from auditor.grading.offline import OfflineGrader, _is_long, _pii_spans, normalise
from auditor.ingest import IngestOptions, parse_timestamp
from auditor.ingest.native import build_chat
from auditor.models import Chat, SourceRef
from auditor.rubric import RubricSet

SOURCE = SourceRef(file="t.jsonl", line=1)


def _chat(stamps: list[object]) -> Chat:
    messages = [
        {"id": f"m{i + 1}", "role": "customer" if i % 2 == 0 else "agent", "ts": ts, "text": "hi"}
        for i, ts in enumerate(stamps)
    ]
    chat = build_chat(
        {"chat_id": "c1", "language": "en", "messages": messages}, SOURCE, IngestOptions()
    )
    assert isinstance(chat, Chat)
    return chat


def test_iso_times_of_one_offset_share_one_zone_object_and_keep_their_values() -> None:
    texts = [
        "2026-11-21T08:00:05+08:00",
        "2026-11-21T08:00:09.250000+08:00",
        "2026-11-21T08:01:00+08:00",
        "2026-11-21T02:01:30+02:00",
        "2026-11-21T00:02:00Z",
    ]
    chat = _chat(texts)
    stamps = [m.ts for m in chat.messages]
    for ts, text in zip(stamps, texts, strict=True):
        fresh = datetime.fromisoformat(text)
        assert ts == fresh
        assert ts is not None and ts.isoformat() == fresh.isoformat()
        assert ts.utcoffset() == fresh.utcoffset()
    assert stamps[0] is not None and stamps[1] is not None and stamps[2] is not None
    assert stamps[0].tzinfo is stamps[1].tzinfo is stamps[2].tzinfo
    assert stamps[4] is not None and stamps[4].tzinfo is UTC
    # another chat's +08:00 times get the same object; the general parser's too
    again = _chat(["2026-11-22T09:00:00+08:00", "2026-11-22T09:00:30+08:00"])
    assert again.messages[0].ts is not None and again.messages[0].ts.tzinfo is stamps[0].tzinfo
    parsed, naive = parse_timestamp(" 2026-11-22 09:00:00+08:00 ", UTC)
    assert not naive and parsed.tzinfo is stamps[0].tzinfo
    assert parsed == datetime(2026, 11, 22, 1, tzinfo=UTC)


def test_remembered_timing_answers_equal_fresh_ones() -> None:
    texts = ["请稍等两分钟", "give me 2 minutes", "one sec", "please hold", "稍等1分30秒"]
    fresh = [stated_duration_s.__wrapped__(t) for t in texts]
    assert [stated_duration_s(t) for t in texts] == fresh == [120.0, 120.0, None, None, 90.0]
    assert [stated_duration_s(t) for t in texts] == fresh  # from the memo
    ack = AckMatcher(["ok", "thanks", "好的", "谢谢"])
    cases = {
        "ok thanks :)": True,
        "好的，谢谢！": True,
        "ok?": False,
        "好的，那退款呢": False,
        "👍": True,
    }
    for _ in range(2):  # the second round reads the memo
        assert {t: ack.is_ack(t) for t in cases} == cases
        assert {t: ack._is_ack(t) for t in cases} == cases


def test_detail_seconds_are_remembered_but_zero_keeps_its_sign() -> None:
    for _ in range(2):
        assert [_s(30), _s(30.0), _s(2.04), _s(2.06), _s(0.0), _s(-0.0)] == [
            "30 s",
            "30 s",
            "2 s",
            "2.1 s",
            "0 s",
            "-0 s",
        ]


def test_offline_analysis_memo_and_rubric_plan() -> None:
    grader = OfflineGrader()
    library = grader.library
    text = "非常抱歉给您带来不便，请您放心，我的电话13812345678"
    got = library.analyse(text, "zh", "agent")
    norm = normalise(text, "zh")
    assert got == (
        norm,
        tuple(library.match(text, norm, "zh", "agent")),
        _is_long(text, "zh"),
        _pii_spans(text),
    )
    assert got[1] and got[3]  # cues and a phone number found
    assert library.memo("zh", "agent")[text] is got
    assert library.analyse(text, "zh", "agent") is got
    customer = library.analyse("太慢了！", "zh", "customer")
    assert customer[2:] == (False, ())  # over-long and personal data are read for the agent

    rubric = RubricSet("auto").for_language("zh")
    chat = build_chat(
        {
            "chat_id": "p1",
            "language": "zh",
            "messages": [
                {"role": "customer", "ts": "2026-11-21T08:00:00+08:00", "text": "太慢了！我很生气"},
                {"role": "agent", "ts": "2026-11-21T08:00:20+08:00", "text": text},
            ],
        },
        SOURCE,
        IngestOptions(),
    )
    assert isinstance(chat, Chat)
    first = grader.grade_sync(chat, rubric)
    plans = grader._plan(rubric)
    assert [p.criterion.id for p in plans] == [c.id for c in rubric.llm_criteria]
    assert grader._plan(rubric) is plans  # once per rubric
    again = grader.grade_sync(chat, rubric)
    assert [g.model_dump() for g in again] == [g.model_dump() for g in first]
    assert [g.criterion for g in first] == [c.id for c in rubric.llm_criteria]
    # a plan's templates are its criterion's: the grade's settled fields come from them
    for plan, grade in zip(plans, first, strict=True):
        rank = None if grade.status == "na" else [lv.id for lv in plan.criterion.ordered_levels]
        assert grade.criterion == plan.criterion.id
        assert rank is None or grade.level in rank


def test_zone_sharing_keeps_times_apart_across_offsets() -> None:
    chat = _chat(["2026-11-21T08:00:00+08:00", "2026-11-21T01:00:10+01:00"])
    a, b = (m.ts for m in chat.messages)
    assert a is not None and b is not None
    assert b - a == timedelta(seconds=10)
    assert a.tzinfo is not b.tzinfo


def test_plain_iso_reads_every_shape_as_fromisoformat_does() -> None:
    """The offsets read before take a shortcut (wall clock + shared zone): same datetimes,
    and the same texts refused (None sends them to the general parser)."""
    from auditor.ingest.native import _plain_iso

    shapes = [
        "2026-11-21T08:00:05{}",
        "2026-11-21T08:00:05.250{}",
        "2026-11-21T08:00{}",
        "2026-11-21T08{}",
        "2026-11-21T25:00:05{}",
        "2026-02-29T08:00:05{}",
        "2026-11-21T08:00:05 {}",
        "2026-11-21T08:00:05{} ",
    ]
    offsets = ["+08:00", "Z", "-05:30", "+0800", "+08", "+08:00:30", "+25:00", "z", ""]
    for _ in range(2):  # the second round reads the offsets remembered by the first
        for shape in shapes:
            for offset in offsets:
                text = shape.format(offset)
                got = _plain_iso(text)
                want: datetime | None = None  # what the shortcut-free reading gives
                if len(text) >= 20 and text[10] == "T" and text[4] == "-":
                    try:
                        want = datetime.fromisoformat(text)
                    except ValueError:
                        want = None
                if want is not None and want.tzinfo is None:
                    want = None  # naive: the general parser reads it in --tz
                if want is None:
                    assert got is None, text
                else:
                    assert got == want and got.isoformat() == want.isoformat(), text
                    assert got.utcoffset() == want.utcoffset(), text
