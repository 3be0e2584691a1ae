"""Timing definitions (issue #2 §2), each pinned with a hand-computed chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from auditor.checks.timing import (
    AckMatcher,
    analyze_timing,
    hold_limit_s,
    parse_zh_number,
    stated_duration_s,
)
from auditor.models import Chat, Message
from auditor.rubric import TimingSettings

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)

SETTINGS = TimingSettings(
    hold_patterns=["请稍等", "我帮您查一下", "please hold", "one moment"],
    ack_phrases=["好的", "谢谢", "ok", "thanks", "thank you", "👍"],
)


def chat(*rows: tuple, language: str = "zh") -> Chat:
    """rows: (role, seconds after T0, text[, auto]); ids m1, m2, … by position."""
    messages = [
        Message(
            id=f"m{i}",
            role=row[0],
            ts=T0 + timedelta(seconds=row[1]),
            text=row[2],
            auto=row[3] if len(row) > 3 else False,
        )
        for i, row in enumerate(rows, 1)
    ]
    return Chat(chat_id="c1", messages=messages, language=language)


# -- first response ------------------------------------------------------------------------


def test_bot_and_auto_messages_neither_start_nor_stop_the_clock():
    a = analyze_timing(
        chat(
            ("bot", 0, "您好，我是智能助手"),
            ("customer", 5, "我的快递到哪了"),
            ("bot", 6, "正在为您转接人工"),
            ("system", 7, "客服小李已接入"),
            ("agent", 10, "您好，很高兴为您服务", True),  # auto-greeting
            ("agent", 40, "您好，请提供订单号"),
        ),
        SETTINGS,
    )
    assert a.first_customer.id == "m2"
    assert a.first_reply.id == "m6"
    assert a.first_response_s == 35.0  # 40 - 5
    assert a.followups == []
    assert a.avg_response_s == 35.0


def test_customer_burst_starts_the_clock_at_its_first_message():
    a = analyze_timing(
        chat(
            ("customer", 0, "在吗"),
            ("customer", 20, "我要退货"),
            ("customer", 50, "订单123"),
            ("agent", 70, "您好"),
            ("agent", 80, "已为您查询"),
            ("customer", 100, "什么时候退款"),
            ("customer", 130, "急"),
            ("agent", 250, "三天内到账"),
        ),
        SETTINGS,
    )
    assert a.first_response_s == 70.0  # from m1, not m3
    assert [(g.start.id, g.end.id, g.seconds) for g in a.followups] == [("m6", "m8", 150.0)]
    assert a.max_followup_s == 150.0
    assert [(g.start.id, g.end.id) for g in a.followup_violations] == [("m6", "m8")]
    assert a.avg_response_s == (70 + 150) / 2


def test_agent_first_chat_times_from_the_customers_first_message():
    a = analyze_timing(
        chat(
            ("agent", 0, "您好，您的订单已发货"),
            ("customer", 100, "好的，什么时候到"),
            ("agent", 110, "明天"),
        ),
        SETTINGS,
    )
    assert a.first_customer.id == "m2"
    assert a.first_response_s == 10.0


def test_no_customer_message_means_nothing_is_timed():
    a = analyze_timing(chat(("agent", 0, "您好"), ("bot", 5, "会话结束")), SETTINGS)
    assert not a.has_customer
    assert a.first_response_s is None
    assert a.avg_response_s is None
    assert a.last_turn == []
    assert not a.unanswered


def test_customer_never_answered():
    a = analyze_timing(chat(("customer", 0, "有人吗"), ("bot", 3, "客服繁忙")), SETTINGS)
    assert a.first_reply is None
    assert a.first_response_s is None
    assert [m.id for m in a.last_turn] == ["m1"]
    assert a.unanswered


# -- timestamps ----------------------------------------------------------------------------


def test_equal_timestamps_give_zero_second_gaps():
    a = analyze_timing(
        chat(
            ("customer", 0, "hi"),
            ("agent", 0, "hello"),
            ("customer", 30, "where is my order"),
            ("agent", 30, "on its way"),
        ),
        SETTINGS,
    )
    assert a.first_response_s == 0.0
    assert [g.seconds for g in a.followups] == [0.0]
    assert a.avg_response_s == 0.0


def test_mixed_offsets_compare_as_aware_datetimes():
    shanghai = timezone(timedelta(hours=8))
    c = Chat(
        chat_id="c",
        language="zh",
        messages=[
            # 10:00:00+08:00 is 02:00:00Z
            Message(
                id="a",
                role="customer",
                ts=datetime(2026, 3, 1, 10, 0, 0, tzinfo=shanghai),
                text="在吗",
            ),
            Message(
                id="b", role="agent", ts=datetime(2026, 3, 1, 2, 0, 20, tzinfo=UTC), text="您好"
            ),
        ],
    )
    assert analyze_timing(c, SETTINGS).first_response_s == 20.0


def test_epoch_millisecond_times_keep_their_fraction():
    c = Chat(
        chat_id="c",
        language="en",
        messages=[
            Message(
                id="a",
                role="customer",
                ts=datetime.fromtimestamp(1_700_000_000.123, UTC),
                text="hi",
            ),
            Message(
                id="b",
                role="agent",
                ts=datetime.fromtimestamp(1_700_000_025.623, UTC),
                text="hello",
            ),
        ],
    )
    assert analyze_timing(c, SETTINGS).first_response_s == pytest.approx(25.5, abs=1e-6)


# -- follow-ups and the average ------------------------------------------------------------


def _three_responses(last_gap: int) -> Chat:
    # first response 20 s; follow-ups 30 s and `last_gap` s
    return chat(
        ("customer", 0, "q1"),
        ("agent", 20, "a1"),
        ("customer", 100, "q2"),
        ("agent", 130, "a2"),
        ("customer", 200, "q3"),
        ("agent", 200 + last_gap, "a3"),
        language="en",
    )


def test_average_is_the_mean_of_first_response_and_followups():
    a = analyze_timing(_three_responses(70), SETTINGS)
    assert a.responses == [20.0, 30.0, 70.0]
    assert a.avg_response_s == 40.0  # (20 + 30 + 70) / 3, exactly at the limit
    a = analyze_timing(_three_responses(71), SETTINGS)
    assert a.avg_response_s == pytest.approx(121 / 3)


def test_followup_over_the_limit_is_a_violation_with_both_messages():
    a = analyze_timing(_three_responses(121), SETTINGS)
    assert [(g.start.id, g.end.id, g.seconds) for g in a.followup_violations] == [
        ("m5", "m6", 121.0)
    ]
    assert analyze_timing(_three_responses(120), SETTINGS).followup_violations == []


# -- holds ---------------------------------------------------------------------------------


def _hold_chat(hold_text: str, back_after: int) -> Chat:
    return chat(
        ("customer", 0, "帮我查下物流"),
        ("agent", 10, hold_text),
        ("agent", 10 + back_after, "查到了，明天送达"),
    )


def test_hold_without_stated_duration_uses_the_default_limit():
    a = analyze_timing(_hold_chat("请稍等，我帮您查一下", 150), SETTINGS)
    [hold] = a.holds
    assert (hold.start.id, hold.end.id, hold.seconds) == ("m2", "m3", 150.0)
    assert hold.limit_s == 180 and hold.stated_s is None
    assert a.hold_violations == []
    assert analyze_timing(_hold_chat("请稍等", 181), SETTINGS).hold_violations != []


def test_hold_with_stated_duration_zh_uses_it():
    a = analyze_timing(_hold_chat("请稍等两分钟，我帮您查一下", 150), SETTINGS)
    [hold] = a.holds
    assert hold.stated_s == 120 and hold.limit_s == 120
    assert a.hold_violations == [hold]  # 150 > 120


def test_hold_with_stated_duration_en_uses_it():
    c = chat(
        ("customer", 0, "where is my parcel"),
        ("agent", 10, "Please hold for 2 minutes while I check."),
        ("agent", 125, "Found it."),
        language="en",
    )
    [hold] = analyze_timing(c, SETTINGS).holds
    assert (hold.limit_s, hold.seconds, hold.over_limit) == (120, 115.0, False)


def test_stated_duration_is_capped():
    a = analyze_timing(_hold_chat("请稍等十分钟", 301), SETTINGS)
    [hold] = a.holds
    assert hold.stated_s == 600 and hold.limit_s == 300
    assert hold.over_limit


def test_hold_covers_a_customer_turn():
    a = analyze_timing(
        chat(
            ("customer", 0, "帮我查下物流"),
            ("agent", 10, "请稍等，我帮您查一下"),
            ("customer", 100, "还在吗"),
            ("agent", 170, "查到了，明天送达"),
        ),
        SETTINGS,
    )
    [hold] = a.holds
    assert [m.id for m in hold.covered] == ["m3"]
    assert hold.seconds == 160.0 and not hold.over_limit
    assert a.followups == []  # the 70 s wait from m3 is the hold's, not a follow-up gap
    assert [(g.start.id, g.end.id, g.seconds) for g in a.covered] == [("m3", "m4", 70.0)]
    assert a.avg_response_s == 10.0  # only the first response
    assert a.max_followup_s is None


def test_hold_never_closed_is_a_violation():
    a = analyze_timing(
        chat(("customer", 0, "查下物流"), ("agent", 10, "请稍等"), ("bot", 900, "会话已结束")),
        SETTINGS,
    )
    [hold] = a.holds
    assert hold.end is None and hold.over_limit


def test_more_holds_than_allowed():
    rows = [("customer", 0, "查一下")]
    for i in range(4):
        rows += [("agent", 10 + 100 * i, "请稍等"), ("agent", 40 + 100 * i, "好了")]
    a = analyze_timing(chat(*rows), SETTINGS)
    assert len(a.holds) == 4
    assert a.hold_violations == []
    assert a.too_many_holds
    three = analyze_timing(chat(*rows[:-2]), SETTINGS)
    assert len(three.holds) == 3 and not three.too_many_holds


# -- unanswered last turn ------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["好的，谢谢！", "好的呢", "ok thanks :)", "Thank you!!", "👍"])
def test_ack_only_ending_is_not_unanswered(ending):
    a = analyze_timing(
        chat(("customer", 0, "退款到了吗"), ("agent", 10, "已到账"), ("customer", 30, ending)),
        SETTINGS,
    )
    assert [m.id for m in a.last_turn] == ["m3"]
    assert a.last_turn_ack_only and not a.unanswered


def test_a_real_question_at_the_end_is_unanswered():
    a = analyze_timing(
        chat(
            ("customer", 0, "退款到了吗"),
            ("agent", 10, "已到账"),
            ("customer", 30, "好的"),
            ("customer", 35, "那运费呢？"),
            ("system", 600, "会话超时关闭"),
        ),
        SETTINGS,
    )
    assert [m.id for m in a.last_turn] == ["m3", "m4"]
    assert not a.last_turn_ack_only and a.unanswered
    assert a.followups == []  # an unanswered turn is never a follow-up gap


# -- pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("请稍等3分钟", 180),
        ("请您稍等三分钟", 180),
        ("稍等两分钟哦", 120),
        ("大概2分钟左右", 120),
        ("30秒内回复您", 30),
        ("稍等1分半", 90),
        ("一分半钟", 90),
        ("一个半分钟", 90),
        ("1分30秒", 90),
        ("两三分钟", 180),
        ("3-5分钟", 300),
        ("半分钟", 30),
        ("三十秒钟", 30),
        ("稍等２分钟", 120),
        ("2 minutes", 120),
        ("Two Minutes please", 120),
        ("about 90 seconds", 90),
        ("give me a minute", 60),
        ("a minute and a half", 90),
        ("one and a half minutes", 90),
        ("half a minute", 30),
        ("a couple of minutes", 120),
        ("2-3 mins", 180),
        ("1.5 minutes", 90),
    ],
)
def test_stated_duration(text, seconds):
    assert stated_duration_s(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "请稍等",
        "十分抱歉，请稍等",
        "one sec",
        "稍等一秒",
        "a few minutes",
        "退款24小时内到账",
        "几分钟",
    ],
)
def test_no_stated_duration(text):
    assert stated_duration_s(text) is None


def test_hold_limit_default_and_cap():
    assert hold_limit_s("请稍等", SETTINGS) == (180, None)
    assert hold_limit_s("请稍等10 minutes", SETTINGS) == (300, 600)


@pytest.mark.parametrize(
    ("s", "n"),
    [
        ("三", 3),
        ("两", 2),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("九十", 90),
        ("一百二十", 120),
        ("一百零五", 105),
        ("两三", 3),
    ],
)
def test_parse_zh_number(s, n):
    assert parse_zh_number(s) == n


@pytest.mark.parametrize("s", ["", "几", "一二三", "十百", "三二"])
def test_parse_zh_number_rejects(s):
    assert parse_zh_number(s) is None


def test_ack_matcher_rules():
    ack = AckMatcher(["好的", "谢谢", "ok", "thanks"])
    assert ack.is_ack("OK, Thanks!")
    assert not ack.is_ack("okra")  # Latin phrases end at a word boundary
    assert not ack.is_ack("好的，那退款呢")
    assert not ack.is_ack("?")  # "still there?" is a question
    assert not ack.is_ack("ok?")
    assert not ack.is_ack("")  # an empty message (an attachment) may need a reply
