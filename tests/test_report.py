"""`auditor report`: every figure checked against values computed by hand on a tiny database.

The database (built by ``small_db``): 8 chats over 2026-11-20 and 2026-11-21 by agents a1
and a2, plus one older chat (2026-11-10) that the default 7-day period leaves out and the
"previous period" comparison picks up. The table below is the whole data set; every
expected value in the tests is derived from it by hand.

    chat day   agent score pass fatal first  max-fu typos queued failing criteria
    c1   11-20 a1    100   1    0     10     60     0     0      -
    c2   11-20 a1    90    1    0     40     100    1     0      first_response
    c3   11-20 a2    0     0    1     20     130    4     1      forbidden_phrase("I don't know"),
                                                                 followup_response, typos
    c4   11-20 a2    85    1    0     50     -      0     0      first_response, greeting("Hey there!")
    c5   11-21 a1    95    1    0     5      30     0     1      greeting("hey there")
    c6   11-21 a1    0     0    1     35     200    2     1      forbidden_phrase("i don't know"),
                                                                 first_response, followup_response,
                                                                 empathy (grade: poor)
    c7   11-21 a2    80    0    0     25     90     5     1      typos, unanswered_customer
    c8   11-21 a2    70    0    0     -      -      -     0      first_response, greeting("Yo."),
                                                                 empathy (poor), unanswered_customer
    c0   11-10 a1    50    0    0     -      -      -     0      (outside the default period)

Hand-computed (period 2026-11-15..2026-11-21, 8 chats):
- pass rate 4/8 = 50.0%, mean score 520/8 = 65.0; 11-20: 4 chats, 75.0%, 68.75;
  11-21: 4 chats, 25.0%, 61.25. a1: 4 chats, 75.0%, 71.25; a2: 4 chats, 25.0%, 58.75.
- first response: 7 timed, 3 over 30 s (42.9%); slowest follow-up: 6 timed, 2 over 120 s
  (33.3%); typos: 7 counted, 12 in all, 2 over the limit of 3 (28.6%).
- failing criteria: first_response 4 (50.0%), greeting 3 (37.5%), then five with 2 (25.0%).
- fatal: c3 and c6. Review queue: 4 chats (c3, c5, c6, c7).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.models import (
    Chat,
    ChatResult,
    Evidence,
    Finding,
    Grade,
    Message,
    Metrics,
    ReviewInfo,
)
from auditor.rubric import load_rubric
from auditor.store import AuditedChat, Store

D1, D2 = "2026-11-20", "2026-11-21"


def _fail(criterion: str, quote: str | None = None, **kw: Any) -> Finding:
    severity = {"forbidden_phrase": "fatal", "unanswered_customer": "critical"}.get(
        criterion, "normal"
    )
    evidence = [Evidence(message_id="m2", quote=quote)] if quote else []
    return Finding(
        criterion=criterion,
        check=criterion,
        status="fail",
        severity=severity,
        evidence=evidence,
        **kw,
    )


def _forbidden(text: str) -> Finding:
    hit = {"message_id": "m2", "start": 0, "end": len(text), "text": text, "rule": "x"}
    return _fail("forbidden_phrase", text, data={"hits": [hit]})


def _typos(*pairs: tuple[str, str]) -> Finding:
    typos = [{"message_id": "m2", "text": t, "suggestion": s} for t, s in pairs]
    return _fail("typos", pairs[0][0], data={"count": len(pairs), "typos": typos})


def _poor_empathy() -> Grade:
    return Grade(
        criterion="empathy",
        status="scored",
        level="poor",
        failed=True,
        points_lost=7,
        evidence=[Evidence(message_id="m2", quote="whatever")],
    )


#: chat_id, day, agent, score, passed, fatal, first, max_followup, typos, queued, findings, grades
CHATS: list[tuple[Any, ...]] = [
    ("c1", D1, "a1", 100, 1, 0, 10, 60, 0, 0, [], []),
    ("c2", D1, "a1", 90, 1, 0, 40, 100, 1, 0, [_fail("first_response", "hi")], []),
    (
        "c3",
        D1,
        "a2",
        0,
        0,
        1,
        20,
        130,
        4,
        1,
        [
            _forbidden("I don't know"),
            _fail("followup_response", "anyone?"),
            _typos(
                ("teh", "the"), ("recieve", "receive"), ("adress", "address"), ("untill", "until")
            ),
        ],
        [],
    ),
    (
        "c4",
        D1,
        "a2",
        85,
        1,
        0,
        50,
        None,
        0,
        0,
        [_fail("first_response", "hello?"), _fail("greeting", "Hey there!")],
        [],
    ),
    ("c5", D2, "a1", 95, 1, 0, 5, 30, 0, 1, [_fail("greeting", "hey there")], []),
    (
        "c6",
        D2,
        "a1",
        0,
        0,
        1,
        35,
        200,
        2,
        1,
        [
            _forbidden("i don't know"),
            _fail("first_response", "hello"),
            _fail("followup_response", "still there?"),
        ],
        [_poor_empathy()],
    ),
    (
        "c7",
        D2,
        "a2",
        80,
        0,
        0,
        25,
        90,
        5,
        1,
        [
            _typos(("teh", "the"), ("wich", "which")),
            _fail("unanswered_customer", "and my refund?"),
        ],
        [],
    ),
    (
        "c8",
        D2,
        "a2",
        70,
        0,
        0,
        None,
        None,
        None,
        0,
        [
            _fail("first_response", "help"),
            _fail("greeting", "Yo."),
            _fail("unanswered_customer", "hello??"),
        ],
        [_poor_empathy()],
    ),
    ("c0", "2026-11-10", "a1", 50, 0, 0, None, None, None, 0, [], []),
]


def save_chats(store: Store, rows: list[tuple[Any, ...]]) -> None:
    rubric = load_rubric("online-chat-en")
    run = store.start_run({"command": "test"})
    batch = []
    for cid, day, agent, score, passed, fatal, first, fu, typos, queued, findings, grades in rows:
        t = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
        chat = Chat(
            chat_id=cid,
            language="en",
            agent_id=agent,
            messages=[
                Message(id="m1", role="customer", ts=t, text="hi"),
                Message(id="m2", role="agent", ts=t + timedelta(seconds=5), text="hello"),
            ],
        )
        result = ChatResult(
            chat_id=cid,
            agent_id=agent,
            language="en",
            rubric=rubric.id,
            score=score,
            passed=bool(passed),
            fatal=bool(fatal),
            metrics=Metrics(first_response_s=first, max_followup_s=fu, typo_count=typos),
            findings=findings,
            grades=grades,
            review=ReviewInfo(queued=bool(queued)),
            transcript_hash=chat.transcript_hash,
            started_at=t,
            failed_criteria=[f.criterion for f in findings] + [g.criterion for g in grades],
        )
        batch.append(AuditedChat(chat, rubric, result, "offline:1"))
    store.save_batch(run, batch)


REVIEWS = [  # chat, criterion, level, reviewer, comment (in insertion order)
    ("c3", "forbidden_phrase", "fail", "r1", "clear case"),
    ("c6", "empathy", "average", "r1", "some apology"),
    ("c6", "empathy", "poor", "r2", "on second look: none"),
    ("c7", "typos", "pass", "r1", "those are product names"),
]


def add_reviews(store: Store) -> None:
    """Reviews in the table migration m002 creates (created here if a store predates it)."""
    store.db.conn.execute(
        "CREATE TABLE IF NOT EXISTS reviews (id INTEGER PRIMARY KEY, chat_id TEXT, "
        "rubric_name TEXT, criterion TEXT, level TEXT, reviewer TEXT, comment TEXT, "
        "created_at TEXT)"
    )
    with store.db.conn:
        store.db.conn.executemany(
            "INSERT INTO reviews (chat_id, rubric_name, criterion, level, reviewer, comment, "
            "created_at) VALUES (?, 'online-chat-en', ?, ?, ?, ?, ?)",
            [(*r, f"2026-11-22T10:0{i}:00+00:00") for i, r in enumerate(REVIEWS)],
        )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    store = Store(path)
    save_chats(store, CHATS)
    store.close()
    return path


@pytest.fixture
def store(db_path: Path):
    s = Store(db_path)
    yield s
    s.close()


def build(store: Store, **kw: Any):
    from auditor.reporting import build_report

    return build_report(store, **kw)


# ------------------------------------------------------------------ the numbers


def test_default_period_is_the_last_7_days_with_data(store):
    r = build(store)
    assert (r.period.since, r.period.until) == (date(2026, 11, 15), date(2026, 11, 21))
    assert r.period.data_first == date(2026, 11, 10)
    assert [d.label for d in r.days][0] == "2026-11-15" and len(r.days) == 7
    assert r.weeks is None  # 7 days: no weekly table


def test_totals_and_per_day(store):
    r = build(store)
    assert (r.total.chats, r.total.passed) == (8, 4)
    assert r.total.pass_rate == 0.5
    assert r.total.mean_score == 65.0
    assert (r.total.fatal, r.total.queued) == (2, 4)
    days = {d.label: d for d in r.days if d.chats}
    assert list(days) == [D1, D2]
    assert (days[D1].chats, days[D1].pass_rate, days[D1].mean_score) == (4, 0.75, 68.75)
    assert (days[D2].chats, days[D2].pass_rate, days[D2].mean_score) == (4, 0.25, 61.25)
    assert days[D1].queued == 1 and days[D2].queued == 3
    # the previous 7 days (11-08..11-14) hold c0 only
    assert r.previous is not None
    assert (r.previous.chats, r.previous.pass_rate, r.previous.mean_score) == (1, 0.0, 50.0)


def test_response_times_against_the_limits(store):
    first, followup = build(store).timing
    assert (first.limit_s, first.timed, first.over_limit) == (30, 7, 3)
    assert first.share_over == pytest.approx(3 / 7)
    # bins of 6 s: 5->0, 10->1, 20->3, 25->4, 35->5, 40->6, 50->8
    assert first.bin_width_s == 6 and sum(first.counts) == 7
    assert [i for i, n in enumerate(first.counts) if n] == [0, 1, 3, 4, 5, 6, 8]
    assert first.median_s == 25 and first.p90_s == 50  # nearest rank of 5,10,20,25,35,40,50
    assert (followup.limit_s, followup.timed, followup.over_limit) == (120, 6, 2)
    assert followup.share_over == pytest.approx(1 / 3)


def test_failing_criteria_counts_and_shares(store):
    r = build(store)
    got = [(c.criterion, c.failed, c.share) for c in r.criteria]
    assert got == [
        ("first_response", 4, 0.5),
        ("greeting", 3, 0.375),
        ("empathy", 2, 0.25),  # a failing grade counts like a failing check
        ("followup_response", 2, 0.25),
        ("forbidden_phrase", 2, 0.25),
        ("typos", 2, 0.25),
        ("unanswered_customer", 2, 0.25),
    ]
    assert r.criteria[0].title == "First response time"
    assert [c.fatal for c in r.criteria if c.criterion == "forbidden_phrase"] == [2]


def test_fatal_findings_listed_with_quotes(store):
    r = build(store)
    assert r.fatal_total == 2
    assert [(f.chat_id, f.agent_id, f.quote) for f in r.fatal] == [
        ("c6", "a1", "i don't know"),  # newest first
        ("c3", "a2", "I don't know"),
    ]


def test_typo_distribution_and_over_limit(store):
    t = build(store).typos
    assert (t.checked, t.total_typos, t.limit, t.over_limit) == (7, 12, 3, 2)
    assert t.distribution == [(0, 3), (1, 1), (2, 1), (4, 1), (5, 1)]
    assert t.share_over == pytest.approx(2 / 7)


def test_common_problems_group_by_phrase_with_examples(store):
    problems = {p.criterion: p for p in build(store).problems}
    fp = problems["forbidden_phrase"].patterns
    assert [(p.pattern, p.chats) for p in fp] == [("i don't know", 2)]
    assert {e.chat_id for e in fp[0].examples} == {"c3", "c6"}
    assert {e.quote for e in fp[0].examples} == {"I don't know", "i don't know"}
    greeting = problems["greeting"].patterns
    # "Hey there!" and "hey there" are one phrasing; "Yo." is a one-off, folded into other
    assert [(p.pattern, p.chats) for p in greeting] == [("hey there", 2), (None, 1)]
    assert [e.chat_id for e in greeting[0].examples] == ["c4", "c5"]  # lowest score first
    assert greeting[1].examples[0].chat_id == "c8"
    typos = problems["typos"].patterns
    # "teh -> the" in two chats; c3's three other typos and c7's "wich" are one-offs
    assert [(p.pattern, p.chats) for p in typos] == [("teh → the", 2), (None, 2)]
    assert sorted(e.chat_id for e in typos[1].examples) == ["c3", "c7"]  # each chat once
    # timing checks have no phrase pattern: one group, with at most 3 examples
    first = problems["first_response"].patterns
    assert [(p.pattern, p.chats) for p in first] == [(None, 4)]
    assert [e.chat_id for e in first[0].examples] == ["c6", "c8", "c4"]


# ---------------------------------------------------------------- stored patterns (m005)

#: The report-time normalisation the report ran before patterns were stored (its SQL as it
#: was, kept here as the oracle): the stored patterns must group exactly as it did.
_STRIP, _SPACES = "，。！？、,.!?~～…", "\t\n\r\u3000"


def _replace_all(expr: str, chars: str, by: str) -> str:
    for ch in chars:
        expr = f"replace({expr}, '{ch}', '{by}')"
    return expr


def _old_report_time_patterns(store: Store) -> set[tuple[Any, ...]]:
    """(chat, criterion, pattern, quote) as the old report SQL derived them."""
    quote = "json_extract(x.evidence, '$[0][1]')"  # evidence as stored since m010: [[id, quote]]
    half = len(_STRIP) // 2
    spaces = _replace_all("pattern", _SPACES, " ")
    for _ in range(3):
        spaces = f"replace({spaces}, '  ', ' ')"
    stages = [
        _replace_all("lower(pattern)", _STRIP[:half], ""),
        _replace_all("pattern", _STRIP[half:], ""),
        f"substr(trim({spaces}), 1, 40)",
    ]
    ctes, prev = [], "rows"
    for i, expr in enumerate(stages):
        ctes.append(f"n{i} AS (SELECT chat_id, criterion, {expr} AS pattern, quote FROM {prev})")
        prev = f"n{i}"
    sql = f"""
        WITH rows AS (
            SELECT x.chat_id, x.criterion,
                   CASE WHEN x."check" = 'forbidden_phrase' THEN json_extract(h.value, '$.text')
                        WHEN x."check" = 'typos' THEN json_extract(h.value, '$.text') || ' → '
                             || COALESCE(json_extract(h.value, '$.suggestion'), '?')
                        WHEN x."check" IN ('first_response', 'followup_response',
                             'avg_response', 'hold', 'unanswered_customer') THEN NULL
                        ELSE {quote} END AS pattern,
                   CASE WHEN h.value IS NOT NULL THEN json_extract(h.value, '$.text')
                        ELSE {quote} END AS quote
            FROM findings x LEFT JOIN json_each(CASE x."check"
                 WHEN 'forbidden_phrase' THEN json_extract(x.data, '$.hits')
                 WHEN 'typos' THEN json_extract(x.data, '$.typos') END) h
            WHERE x.status = 'fail'
            UNION ALL
            SELECT x.chat_id, x.criterion, {quote}, {quote} FROM grades x WHERE x.failed = 1
        ), {", ".join(ctes)}
        SELECT chat_id, criterion, pattern, MIN(quote) FROM {prev}
        GROUP BY chat_id, criterion, pattern
    """
    return {tuple(r.values()) for r in store.query(sql)}


def _stored_patterns(store: Store) -> set[tuple[Any, ...]]:
    rows = store.query("SELECT chat_id, criterion, pattern, quote FROM failure_patterns")
    return {tuple(r.values()) for r in rows}


def _hits(*texts: str | None) -> dict[str, Any]:
    return {"hits": [{"message_id": "m2", "text": t, "rule": "x"} for t in texts]}


def _grade(quote: str | None) -> Grade:
    evidence = [Evidence(message_id="m2", quote=quote)] if quote is not None else []
    return Grade(criterion="empathy", status="scored", level="poor", failed=True, evidence=evidence)


#: Hand-made failures that exercise every rule of the normalisation and the pattern choice.
PATTERN_CASES: list[tuple[list[Finding], list[Grade]]] = [
    ([_fail("greeting", "Hey there!")], [_grade("Whatever!!")]),
    ([_fail("greeting", "HEY\tTHERE~")], [_grade(None)]),  # a failing grade without a quote
    ([_fail("greeting", "　亲，在的～")], [_grade("  It's   fine... ")]),
    ([_fail("greeting", "亲在的")], []),
    ([_fail("greeting", "a" + " " * 9 + "b")], []),  # runs longer than 8 spaces
    ([_fail("greeting", "Ä Big ÖPEN. " + "x" * 50)], []),  # only ASCII is lower-cased
    (
        [
            _fail("greeting", "x").model_copy(
                update={"evidence": [Evidence(message_id="m2", quote="")]}
            )
        ],
        [],
    ),
    ([_fail("greeting")], []),  # no evidence at all
    (
        [
            _fail("forbidden_phrase", "I don't know", data=_hits("I don't know", "不知道。")),
            _fail("first_response", "hello??"),  # timing: no pattern
            _typos(("teh", "the"), ("Teh", "the"), ("teh", "the")),
        ],
        [],
    ),
    (
        [
            _fail("forbidden_phrase", "quoted", data={}),  # no hits recorded
            _fail("typos", "recieve", data={"typos": [{"text": "Recieve", "suggestion": None}]}),
            _fail("closing", "Bye!").model_copy(update={"status": "pass"}),  # not failing
        ],
        [],
    ),
    ([_fail("forbidden_phrase", "x", data=_hits(None, "Z!"))], []),  # a hit without text
]


@pytest.fixture
def pattern_store(tmp_path: Path):
    s = Store(tmp_path / "patterns.db")
    rows = [
        (f"p{i}", D1, "a1", 50 + i, 0, 0, None, None, None, 0, findings, grades)
        for i, (findings, grades) in enumerate(PATTERN_CASES)
    ]
    save_chats(s, rows)
    yield s
    s.close()


def test_stored_patterns_equal_the_old_report_time_normalisation(pattern_store):
    stored = _stored_patterns(pattern_store)
    assert stored == _old_report_time_patterns(pattern_store)
    # and hand-checked, for the cases that matter most
    assert ("p0", "greeting", "hey there", "Hey there!") in stored
    assert ("p1", "greeting", "hey\tthere", "HEY\tTHERE~") not in stored
    assert ("p1", "greeting", "hey there", "HEY\tTHERE~") in stored
    assert ("p2", "greeting", "亲在的", "　亲，在的～") in stored
    assert ("p2", "empathy", "it's fine", "  It's   fine... ") in stored
    assert ("p8", "typos", "teh → the", "Teh") in stored  # one row, the smallest quote
    assert ("p8", "first_response", None, "hello??") in stored
    assert ("p9", "typos", "recieve →", "Recieve") in stored  # "?" is punctuation too
    assert ("p4", "greeting", "a  b", "a" + " " * 9 + "b") in stored  # 8 spaces at most
    assert not any(c == "closing" for _, c, _, _ in stored)


def test_normalise_pattern_by_hand():
    from auditor.patterns import normalise_pattern

    assert normalise_pattern("  Hey,  THERE!! ") == "hey there"
    assert normalise_pattern("亲，在的～") == normalise_pattern("亲在的") == "亲在的"
    assert normalise_pattern("don't\r\nstop") == "don't stop"
    assert normalise_pattern("Ä") == "Ä"
    assert normalise_pattern("y" * 50) == "y" * 40
    assert normalise_pattern(None) is None


def test_migration_backfills_the_patterns_of_older_results(pattern_store):
    from auditor.migrations import m005_failure_patterns

    saved = _stored_patterns(pattern_store)
    pattern_store.db.execute("DROP TABLE failure_patterns")
    m005_failure_patterns(pattern_store.db)
    assert _stored_patterns(pattern_store) == saved


def test_resaving_a_chat_replaces_its_patterns(tmp_path):
    s = Store(tmp_path / "a.db")
    save_chats(s, [("c1", D1, "a1", 90, 1, 0, 10, 60, 0, 0, [_fail("greeting", "Yo!")], [])])
    save_chats(s, [("c1", D1, "a1", 95, 1, 0, 10, 60, 0, 0, [_fail("greeting", "Hi!")], [])])
    assert _stored_patterns(s) == {("c1", "greeting", "hi", "Hi!")}
    s.close()


def test_problem_numbers_match_the_old_report_time_grouping(store):
    """The small database's common problems, pattern by pattern, as the old SQL grouped them."""
    from auditor.reporting import queries as Q
    from auditor.reporting.problems import problem_groups

    old: dict[tuple[str, Any], set[str]] = {}
    for chat, criterion, pattern, _ in _old_report_time_patterns(store):
        old.setdefault((criterion, pattern), set()).add(chat)
    rows = problem_groups(store, Q.Scope("2026-11-15", "2026-11-21"), examples=3)
    for r in rows:
        if r["pattern"] is not None:
            assert r["chats"] == len(old[r["criterion"], r["pattern"]])
    named = {(r["criterion"], r["pattern"]) for r in rows if r["pattern"] is not None}
    assert named == {k for k, chats in old.items() if k[1] and len(chats) >= 2}


def test_agent_archives(store):
    agents = {a.agent_id: a for a in build(store).agents}
    a1, a2 = agents["a1"], agents["a2"]
    assert (a1.total.chats, a1.total.pass_rate, a1.total.mean_score) == (4, 0.75, 71.25)
    assert (a2.total.chats, a2.total.pass_rate, a2.total.mean_score) == (4, 0.25, 58.75)
    assert [d.mean_score for d in a1.days if d.chats] == [95.0, 47.5]
    # a2 fails typos and unanswered_customer in 2 of 4 chats where the team fails 2 of 8
    assert [(w.criterion, w.share, w.team_share) for w in a2.worst[:3]] == [
        ("typos", 0.5, 0.25),
        ("unanswered_customer", 0.5, 0.25),
        ("greeting", 0.5, 0.375),
    ]
    assert a2.worst[0].gap == 0.25
    assert [c.chat_id for c in a1.best_chats] == ["c1", "c5", "c2"]
    assert [c.chat_id for c in a1.worst_chats] == ["c6", "c2", "c5"]
    assert a2.worst_chats[0].failed_criteria == ["forbidden_phrase", "followup_response", "typos"]


def test_agent_report_is_that_agents_archive(store):
    r = build(store, agent_id="a2")
    assert r.period.agent_id == "a2" and [a.agent_id for a in r.agents] == ["a2"]
    assert (r.total.chats, r.total.pass_rate, r.total.mean_score) == (4, 0.25, 58.75)
    got = {c.criterion: (c.failed, c.share) for c in r.criteria}
    assert got["typos"] == (2, 0.5) and got["unanswered_customer"] == (2, 0.5)
    assert "empathy" in got and got["empathy"] == (1, 0.25)
    assert r.team_shares["typos"] == 0.25  # the team, same period, for comparison
    assert [f.chat_id for f in r.fatal] == ["c3"]
    # the default period follows the agent's own last day with data
    assert r.period.until == date(2026, 11, 21)


def test_explicit_period_and_weekly_table(store):
    r = build(store, since=date(2026, 10, 20), until=date(2026, 11, 21))
    assert r.period.days == 33 and r.weeks is not None
    assert (r.total.chats, r.total.passed) == (9, 4)  # c0 is in now
    by_week = {w.label: w.chats for w in r.weeks if w.chats}
    assert by_week == {"2026-W46": 1, "2026-W47": 8}  # 11-10 is W46; 11-20, 11-21 are W47
    assert r.agents[0].weeks is not None


# ------------------------------------------------------------------ reviews, with and without


def test_without_a_reviews_table_the_report_says_so(store):
    store.db.conn.execute("DROP TABLE IF EXISTS reviews")  # as before migration m002
    r = build(store)
    assert r.review.available is False and r.review.queued == 4
    assert all(a.reviews is None for a in r.agents)
    from auditor.reporting import render

    assert "no reviews table" in render(r, "html")
    assert "No reviews table" in render(r, "md")


def test_with_reviews_agreement_and_archive(store):
    add_reviews(store)
    rv = build(store).review
    assert rv.available and (rv.reviews, rv.reviewed_chats, rv.pending) == (4, 3, 1)
    got = {a.criterion: (a.items, a.agree) for a in rv.agreement}
    # latest review per item: c3 fail = model fail; c6 empathy poor (r2, the later one) =
    # model poor; c7 typos pass != model fail
    assert got == {"forbidden_phrase": (1, 1), "empathy": (1, 1), "typos": (1, 0)}
    assert rv.items == 3 and rv.exact == pytest.approx(2 / 3)
    agents = {a.agent_id: a for a in build(store).agents}
    assert [(v.chat_id, v.human_level, v.reviewer) for v in agents["a1"].reviews] == [
        ("c6", "poor", "r2")
    ]
    a2 = agents["a2"].reviews
    assert [(v.chat_id, v.criterion, v.agrees) for v in a2] == [
        ("c7", "typos", False),
        ("c3", "forbidden_phrase", True),
    ]


# ------------------------------------------------------------------ the three formats


def test_html_is_self_contained_and_shows_the_numbers(store):
    from auditor.reporting import render

    html = render(build(store), "html")
    assert html.startswith("<!doctype html>")
    # nothing fetched: no external src/href/url() (namespace ids like xmlns are not fetched)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "<script" not in html and "<link" not in html
    assert html.count("<svg") >= 4  # trend, two histograms, criteria (+ sparklines)
    assert 'id="kpi-pass-rate">50.0%' in html and 'id="kpi-mean-score">65.0' in html
    for text in ("68.75", "61.25", "42.9%", "33.3%", "37.5%", "28.6%", "71.2", "58.8"):
        assert text in html, text
    assert "auditor show c3" in html and "I don&#39;t know" in html


def test_markdown_carries_the_same_numbers(store):
    from auditor.reporting import render

    md = render(build(store), "md")
    assert md.startswith("# QA report")
    assert "| pass rate | 50.0% (+50.0 vs previous) | 0.0% |" in md
    assert "| 2026-11-20 | 4 | 3 | 75.0% | 68.75 | 1 | 1 |" in md
    assert "| First response | 30 s | 7 | 3 | 42.9% | 25 s | 50 s |" in md
    assert "| First response time (first_response) | normal | 4 | 50.0% |" in md
    assert "| c3 | a2 | 2026-11-20 | forbidden_phrase | I don't know |" in md
    assert "- **“hey there”**: 2 chats" in md
    assert "`auditor show c4`" in md
    assert "| a2 | 4 | 25.0% | 58.8 | Typos (50.0% vs 25.0%) |" in md


def test_csv_long_format_carries_the_same_numbers(store):
    from auditor.reporting import render

    rows = list(csv.DictReader(io.StringIO(render(build(store), "csv"))))
    assert list(rows[0]) == ["section", "agent_id", "day", "criterion", "key", "metric", "value"]

    def value(**kw: str) -> str:
        hits = [r["value"] for r in rows if all(r[k] == v for k, v in kw.items())]
        assert len(hits) == 1, (kw, hits)
        return hits[0]

    assert value(section="total", metric="pass_rate") == "0.5"
    assert value(section="total", metric="mean_score") == "65.0"
    assert value(section="day", day=D1, metric="mean_score") == "68.75"
    assert value(section="timing", key="first_response_s", metric="over_limit") == "3"
    assert value(section="criterion", criterion="greeting", metric="share") == "0.375"
    assert value(section="agent", agent_id="a2", metric="pass_rate") == "0.25"
    assert value(section="typos", metric="over_limit") == "2"
    assert value(section="problem_pattern", criterion="greeting", key="hey there") == "2"
    assert value(section="fatal", key="c3", metric="quote") == "I don't know"


# ------------------------------------------------------------------ the command


def run_cli(*args: str):
    from cli import main

    return CliRunner().invoke(main, ["report", *args], catch_exceptions=False)


def test_cli_writes_the_html_report(db_path, tmp_path):
    out = tmp_path / "week.html"
    res = run_cli("--db", str(db_path), "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "8 chats, 2026-11-15 – 2026-11-21" in res.output
    assert 'id="kpi-pass-rate">50.0%' in out.read_text(encoding="utf-8")


def test_cli_default_output_and_formats(db_path, tmp_path):
    assert run_cli("--db", str(db_path)).exit_code == 0
    assert (tmp_path / "report.html").exists()  # the test runs in tmp_path
    res = run_cli("--db", str(db_path), "--format", "md", "-o", "-")
    assert res.exit_code == 0 and "| pass rate | 50.0%" in res.output
    res = run_cli("--db", str(db_path), "-o", "week.csv", "--agent", "a1")
    assert res.exit_code == 0
    text = (tmp_path / "week.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("section,agent_id") and "a2" not in text.split("\nagent,", 1)[1]
    res = run_cli("--db", str(db_path), "--since", "2026-11-20", "--until", "2026-11-20", "-o", "-")
    assert res.exit_code == 0 and 'id="kpi-chats">4<' in res.output


def test_cli_empty_database_is_a_clear_error(tmp_path):
    Store(tmp_path / "empty.db").close()
    res = run_cli("--db", str(tmp_path / "empty.db"))
    assert res.exit_code == 3
    assert "no audited chats" in res.output and "auditor audit" in res.output
    assert not (tmp_path / "report.html").exists()


def test_cli_untimed_chats_only_says_they_have_no_day(tmp_path):
    # a day exported without timestamps (JDDC-like): audited, but no day for a report
    chat = {
        "chat_id": "u1",
        "agent_id": "a1",
        "messages": [
            {"role": "customer", "text": "我的订单还没到"},
            {"role": "agent", "text": "您好，我帮您查一下"},
        ],
    }
    day = tmp_path / "untimed.jsonl"
    day.write_text(json.dumps(chat, ensure_ascii=False) + "\n", encoding="utf-8")
    db = tmp_path / "untimed.db"
    from auditor.cli import main

    audited = CliRunner().invoke(main, ["audit", str(day), "--db", str(db), "--workers", "1"])
    assert audited.exit_code == 0, audited.output
    res = run_cli("--db", str(db))
    assert res.exit_code == 3
    assert "the 1 audited chat(s)" in res.output and "no timestamps" in res.output
    assert "run `auditor audit FILE` first" not in res.output
    res = run_cli("--db", str(db), "--agent", "a1")
    assert res.exit_code == 3 and "of agent 'a1' have no timestamps" in res.output


def test_cli_errors_name_the_fix(db_path):
    res = run_cli("--db", str(db_path), "--since", "2025-01-01", "--until", "2025-01-31")
    assert res.exit_code == 3 and "covers 2026-11-10 to 2026-11-21" in res.output
    res = run_cli("--db", str(db_path), "--agent", "nobody")
    assert res.exit_code == 3 and "agent 'nobody' has no audited chats" in res.output
    res = run_cli("--db", str(db_path), "--since", "last week")
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output
    res = run_cli("--db", "missing.db")
    assert res.exit_code == 5 and "no audit database" in res.output
