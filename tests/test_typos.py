"""Typo check (issue #3): hand-made cases for each tier, skip rule, dictionary layer and script.

Expected spans and suggestions are worked out by hand from the message texts below.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.checks.typos import TypoChecker, TypoReport
from auditor.errors import UsageError
from auditor.models import Chat, Message
from auditor.rubric import TypoSettings

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def chat(*turns: tuple[str, str], language: str = "en", auto: set[int] = frozenset()) -> Chat:
    msgs = [
        Message(id=f"m{i}", role=role, ts=T0 + timedelta(seconds=10 * i), text=text, auto=i in auto)
        for i, (role, text) in enumerate(turns)
    ]
    return Chat(chat_id="c1", messages=msgs, language=language)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def checker() -> TypoChecker:
    return TypoChecker(TypoSettings())


def spans(report: TypoReport, tier: str = "typo") -> list[tuple[str, int, int, str, str | None]]:
    items = report.typos if tier == "typo" else report.possible
    return [(t.message_id, t.start, t.end, t.text, t.suggestion) for t in items]


def assert_offsets(c: Chat, report: TypoReport) -> None:
    for t in report.typos + report.possible:
        msg = c.message(t.message_id)
        assert msg is not None
        assert msg.text[t.start : t.end] == t.text


# ---------------------------------------------------------------------------- English tiers
def test_english_counted_typos_with_offsets_and_suggestions(checker: TypoChecker) -> None:
    text = "Your pakage will arrive tomorow, sorry for teh delay."
    c = chat(("customer", "Where is my parcel?"), ("agent", text))
    r = checker.check(c)
    # pakage at 5..11, tomorow at 24..31, teh at 43..46
    assert spans(r) == [
        ("m1", 5, 11, "pakage", "package"),
        ("m1", 24, 31, "tomorow", "tomorrow"),
        ("m1", 43, 46, "teh", "the"),
    ]
    assert r.count == 3
    assert r.possible == []
    assert_offsets(c, r)


def test_english_clean_agent_text_has_no_typos(checker: TypoChecker) -> None:
    c = chat(
        (
            "agent",
            "Hi! I'm sorry for the delay; your refund was processed and you'll see it in 3-5 days.",
        ),
        ("agent", "Don't worry, the customer's boxes and their addresses were updated. Thanks!"),
    )
    r = checker.check(c)
    assert r.typos == [] and r.possible == []


def test_capitalised_unknown_word_mid_sentence_is_only_possible(checker: TypoChecker) -> None:
    c = chat(("agent", "Thank you, Mrs Smiht, I have noted it."))
    r = checker.check(c)
    assert r.typos == []
    assert spans(r, "possible") == [("m0", 15, 20, "Smiht", "Smith")]
    assert "name" in r.possible[0].reason


def test_capitalised_word_at_sentence_start_is_counted(checker: TypoChecker) -> None:
    r = checker.check(chat(("agent", "Recieve it tomorrow.")))
    assert spans(r) == [("m0", 0, 7, "Recieve", "Receive")]


def test_contraction_without_apostrophe_is_possible(checker: TypoChecker) -> None:
    r = checker.check(chat(("agent", "I dont know yet, let me check.")))
    assert r.typos == []
    assert spans(r, "possible") == [("m0", 2, 6, "dont", "don't")]


def test_chat_slang_and_interjections_are_not_typos(checker: TypoChecker) -> None:
    r = checker.check(chat(("agent", "Hmmm ok, pls restart the app and the wifi, thx")))
    assert r.typos == [] and r.possible == []


# ---------------------------------------------------------------------------- skip rules
@pytest.mark.parametrize(
    "text",
    [
        "Please open https://shop.example.com/trackk?id=abcdefg now",  # url
        "See www.exampel.com/helpp for details",  # bare url
        "Write to suport.teem@example.com please",  # e-mail
        "Your order JD20240105XQ ships today",  # order code (letters + digits)
        "The SKU AB-12cdx is back",  # code with hyphen
        "Thanks @jonnyy for waiting",  # mention
        "Check #blakfriday deals",  # hashtag
        "It is a VIPP offer",  # ALL-CAPS acronym
        "Try your iPhonee settings",  # internal capital (brand spelling)
        "Your refund is done 😀👍",  # emoji
        "Order [ORDERIDD_123] is ready",  # anonymisation placeholder
    ],
)
def test_non_prose_is_skipped(checker: TypoChecker, text: str) -> None:
    r = checker.check(chat(("agent", text)))
    assert r.typos == [] and r.possible == [], (text, r)


# ---------------------------------------------------------------------------- dictionary layers
def test_shipped_org_dictionary_protects_jargon(checker: TypoChecker) -> None:
    r = checker.check(
        chat(("agent", "亲，价保申请已提交，京豆和白条优惠券都可以用哈，亲爱滴"), language="zh")
    )
    assert r.typos == []


def test_extra_dictionary_file_layer(tmp_path: Path) -> None:
    text = "Try the pakage finder."
    assert TypoChecker(TypoSettings()).check(chat(("agent", text))).count == 1
    org = tmp_path / "org.txt"
    org.write_text("# our products\npakage\n", encoding="utf-8")
    r = TypoChecker(TypoSettings(), extra_dictionaries=[org]).check(chat(("agent", text)))
    assert r.count == 0 and r.possible == []


def test_rubric_terms_and_rubric_dictionary_files(tmp_path: Path) -> None:
    f = tmp_path / "rubric-terms.txt"
    f.write_text("tomorow\n", encoding="utf-8")
    s = TypoSettings(terms=["pakage", "Zip Zappo"], dictionaries=[str(f)])
    r = TypoChecker(s).check(chat(("agent", "Your pakage arrives tomorow via zip zappo")))
    assert r.typos == [] and r.possible == []


def test_missing_dictionary_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="dictionary file not found"):
        TypoChecker(TypoSettings(), extra_dictionaries=[tmp_path / "nope.txt"])


def test_chat_layer_customer_words_are_not_typos(checker: TypoChecker) -> None:
    c = chat(
        ("customer", "Hi, I'm Mr Brixley, the parcel is for brixley street"),
        ("agent", "Thanks, the parcel to brixley street is on its way."),
    )
    assert checker.check(c).typos == []
    alone = chat(("agent", "Thanks, the parcel to brixley street is on its way."))
    assert [t.text for t in checker.check(alone).typos] == ["brixley"]


def test_chat_layer_chinese_customer_text(checker: TypoChecker) -> None:
    agent = "好的，因该公司的货已发出"
    assert checker.check(chat(("agent", agent), language="zh")).count == 1
    c = chat(("customer", "我们是因该公司"), ("agent", agent), language="zh")
    assert checker.check(c).count == 0


# ---------------------------------------------------------------------------- roles
def test_only_agent_messages_and_auto_messages_are_not_counted(checker: TypoChecker) -> None:
    c = chat(
        ("customer", "the parcel is late"),
        ("bot", "Welcom to teh shop"),
        ("agent", "Welcom! How can I help?"),
        ("agent", "Sorry for teh wait."),
        auto={2},
    )
    r = checker.check(c)
    assert spans(r) == [("m3", 10, 13, "teh", "the")]
    assert [(t.message_id, t.text, t.tier) for t in r.possible] == [("m2", "Welcom", "possible")]
    assert "automatic" in r.possible[0].reason


# ---------------------------------------------------------------------------- Chinese
@pytest.mark.parametrize(
    ("text", "start", "wrong", "right"),
    [
        ("我因该可以帮您处理", 1, "因", "应"),
        ("非常报歉，给您带来不便", 2, "报", "抱"),
        ("这是您自已的订单", 4, "已", "己"),
        ("我以经为您提交了", 1, "以", "已"),
        ("请问还有什么问提吗", 7, "提", "题"),  # homophone detector: 问提 -> 问题
        ("您可以使用优惠卷下单", 7, "卷", "券"),
    ],
)
def test_chinese_counted_typos(
    checker: TypoChecker, text: str, start: int, wrong: str, right: str
) -> None:
    c = chat(("agent", text), language="zh")
    r = checker.check(c)
    assert spans(r) == [("m0", start, start + 1, wrong, right)]
    assert_offsets(c, r)


def test_chinese_clean_text_and_straddle_guard(checker: TypoChecker) -> None:
    for text in (
        "您好，很高兴为您服务，请问有什么可以帮您？",
        "现在见到的是最新的物流信息",  # 在见 inside 现在 + 见到: not 再见
        "这个原因该怎么解释呢",  # 因该 inside 原因 + 该
        "好的，已经为您登记了，请您耐心等待",
    ):
        r = checker.check(chat(("agent", text), language="zh"))
        assert r.typos == [], (text, r.typos)


def test_zai_de_swaps_are_possible_unless_the_rubric_counts_them() -> None:
    c = chat(("agent", "好的，祝您生活愉快，在见！"), language="zh")
    default = TypoChecker(TypoSettings()).check(c)
    assert default.typos == []
    assert spans(default, "possible") == [("m0", 10, 11, "在", "再")]
    strict = TypoChecker(TypoSettings(count_function_chars=True)).check(c)
    assert spans(strict) == [("m0", 10, 11, "在", "再")]


def test_traditional_input_reports_original_text_and_offsets(checker: TypoChecker) -> None:
    c = chat(("agent", "您好，非常報歉，您的訂單我以經處理了"), language="zh")
    r = checker.check(c)
    assert spans(r) == [("m0", 5, 6, "報", "抱"), ("m0", 13, 14, "以", "已")]
    assert_offsets(c, r)


def test_mixed_chinese_and_english_message(checker: TypoChecker) -> None:
    text = "亲，您的 recieve 已经发货，tracking number 请查看 APP，因该明天到"
    c = chat(("agent", text), language="zh")
    r = checker.check(c)
    # the English non-word (not pinyin, 7 letters) is counted, and so is 因该 at 42
    assert spans(r) == [("m0", 5, 12, "recieve", "receive"), ("m0", 42, 43, "因", "应")]
    assert_offsets(c, r)


def test_pinyin_in_a_chinese_message_is_only_possible(checker: TypoChecker) -> None:
    # "pakage" splits into pa-ka-ge: in a Chinese message it may be pinyin, so not counted
    r = checker.check(chat(("agent", "好的 haode，pakage 马上处理"), language="zh"))
    assert r.typos == []
    assert [t.text for t in r.possible] == ["haode", "pakage"]


# ---------------------------------------------------------------------------- invariants
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "teh",
                "报歉",
                "報歉",
                "😀",
                " ",
                "，",
                "pakage",
                "http://x.io/a",
                "因该",
                "A1",
                "在见",
                "。",
                "Smiht",
                "ok",
            ]
        ),
        max_size=12,
    )
)
def test_offsets_always_point_at_the_reported_text(parts: list[str]) -> None:
    text = "".join(parts) or "ok"
    c = chat(("agent", text), language="zh")
    r = _SHARED.check(c)
    assert_offsets(c, r)
    assert all(t.tier == "typo" for t in r.typos) and all(t.tier == "possible" for t in r.possible)


_SHARED = TypoChecker(TypoSettings())


def test_same_text_in_two_chats_is_judged_with_each_chats_own_words():
    """Suspects are remembered per text; the chat's own-words layer must still apply per chat."""
    checker = TypoChecker(TypoSettings())
    text = "Your order ships to Zorbleton tomorrow, we recieve stock daily."
    plain = chat(("customer", "Where is my parcel?"), ("agent", text))
    named = chat(("customer", "I live in Zorbleton."), ("agent", text))
    first = checker.check(plain)
    second = checker.check(named)
    third = checker.check(plain)
    assert [t.text for t in first.typos] == ["recieve"]
    assert "Zorbleton" in [t.text for t in first.possible]
    assert "Zorbleton" not in [t.text for t in second.typos + second.possible]
    assert [t.text for t in second.typos] == ["recieve"]
    assert [(t.text, t.tier) for t in third.typos + third.possible] == [
        (t.text, t.tier) for t in first.typos + first.possible
    ]
    assert {t.message_id for t in second.typos} == {named.messages[1].id}
