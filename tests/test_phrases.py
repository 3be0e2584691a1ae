"""Phrase checks: forbidden phrases, greeting, closing, polite address — exact quotes and ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auditor.checks.phrases import PhraseChecks, PhraseMatcher, agent_replies
from auditor.models import Chat, Message
from auditor.rubric import PhraseSettings

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)

ZH = PhraseSettings(
    forbidden=["不归我管", "公司规定的", "神经病"],
    forbidden_patterns=["不知道(?![您，,]|是否)"],
    greeting=["您好", "很高兴为您服务"],
    closing_help=["还有什么可以帮您"],
    closing_thanks=["感谢", "谢谢"],
    closing_window=2,
    impolite_address=["你(?!们)"],
    polite_address_allow=["迷你"],
)
EN = PhraseSettings(
    forbidden=["not my problem", "calm down"],
    forbidden_patterns=[r"\bi don't know\b"],
    greeting=["hi", "hello"],
    closing_help=["anything else"],
    closing_thanks=["thank you", "thanks"],
)


def chat(*rows: tuple, language: str = "zh") -> Chat:
    """rows: (role, text[, auto]); ids m1, m2, … ; a second apart."""
    return Chat(
        chat_id="c1",
        language=language,
        messages=[
            Message(
                id=f"m{i}",
                role=row[0],
                ts=T0 + timedelta(seconds=i),
                text=row[1],
                auto=row[2] if len(row) > 2 else False,
            )
            for i, row in enumerate(rows, 1)
        ],
    )


def run(check: str, c: Chat, settings: PhraseSettings):
    pc = PhraseChecks(settings)
    replies = agent_replies(c)
    if check == "polite_address":
        return pc.check_polite_address(c, replies)
    return getattr(pc, f"check_{check}")(replies)


def quotes(result) -> list[tuple[str, str]]:
    return [(e.message_id, e.quote) for e in result.evidence]


# -- matcher -------------------------------------------------------------------------------


def test_matcher_is_case_insensitive_and_quotes_the_original_text():
    m = Message(id="x", role="agent", ts=T0, text="Sorry, that is NOT MY Problem.")
    [hit] = PhraseMatcher(["not my problem"]).find_all(m)
    assert (hit.start, hit.end, hit.text) == (15, 29, "NOT MY Problem")
    assert m.text[hit.start : hit.end] == hit.text


def test_matcher_respects_latin_word_boundaries_but_not_chinese_ones():
    matcher = PhraseMatcher(["hi", "您好"])
    assert matcher.find_all(Message(id="x", role="agent", ts=T0, text="this is it")) == []
    [hit] = matcher.find_all(Message(id="x", role="agent", ts=T0, text="Hi!"))
    assert hit.text == "Hi"
    [hit] = matcher.find_all(Message(id="x", role="agent", ts=T0, text="亲您好呀"))
    assert (hit.start, hit.text) == (1, "您好")


def test_matcher_prefers_the_longest_phrase_and_maps_offsets_past_case_changes():
    matcher = PhraseMatcher(["不知道", "我不知道"])
    [hit] = matcher.find_all(Message(id="x", role="agent", ts=T0, text="这个我不知道"))
    assert (hit.start, hit.end, hit.text) == (2, 6, "我不知道")
    # "İ".lower() is two characters: offsets must still point into the original text.
    [hit] = PhraseMatcher(["calm down"]).find_all(
        Message(id="x", role="agent", ts=T0, text="İİ CALM down")
    )
    assert hit.text == "CALM down"


# -- forbidden phrases ---------------------------------------------------------------------


def test_forbidden_phrases_and_patterns_are_each_cited():
    c = chat(
        ("customer", "我的退款呢"),
        ("agent", "这个不归我管"),
        ("agent", "我也不知道。公司规定的"),
        ("agent", "不知道您是否方便提供订单号"),  # polite use, excluded by the pattern
    )
    r = run("forbidden", c, ZH)
    assert r.status == "fail"
    assert quotes(r) == [("m2", "不归我管"), ("m3", "不知道"), ("m3", "公司规定的")]
    assert [(h["start"], h["end"]) for h in r.data["hits"]] == [(2, 6), (2, 5), (6, 11)]


def test_forbidden_phrase_in_english_keeps_its_case():
    c = chat(
        ("customer", "where is it"),
        ("agent", "Calm down. I Don't Know where it is."),
        language="en",
    )
    r = run("forbidden", c, EN)
    assert quotes(r) == [("m2", "Calm down"), ("m2", "I Don't Know")]


def test_forbidden_ignores_customer_bot_and_auto_messages():
    c = chat(
        ("customer", "你是神经病吗"),
        ("bot", "不归我管"),
        ("agent", "公司规定的", True),
        ("agent", "您好，请问有什么可以帮您"),
    )
    r = run("forbidden", c, ZH)
    assert r.status == "pass" and r.evidence == []


def test_forbidden_is_na_without_agent_replies():
    assert run("forbidden", chat(("customer", "在吗")), ZH).status == "na"


# -- greeting ------------------------------------------------------------------------------


def test_greeting_in_the_first_human_reply():
    c = chat(
        ("agent", "欢迎光临", True),  # the auto-greeting does not count
        ("customer", "在吗"),
        ("agent", "亲，您好，请问有什么可以帮您"),
    )
    r = run("greeting", c, ZH)
    assert r.status == "pass"
    assert quotes(r) == [("m3", "您好")]


def test_greeting_missing_from_the_first_reply_fails_even_if_it_comes_later():
    c = chat(("customer", "在吗"), ("agent", "在的"), ("agent", "您好"))
    r = run("greeting", c, ZH)
    assert r.status == "fail"
    assert quotes(r) == [("m2", "在的")]
    assert "m2" in r.detail


def test_greeting_na_rules():
    assert run("greeting", chat(("customer", "hi")), ZH).status == "na"
    assert run("greeting", chat(("agent", "hi")), PhraseSettings()).status == "na"


# -- closing -------------------------------------------------------------------------------


def test_closing_with_help_and_thanks_in_the_window():
    c = chat(
        ("customer", "好的"),
        ("agent", "请问还有什么可以帮您的吗？"),
        ("customer", "没有了"),
        ("agent", "感谢您的耐心，再见"),
    )
    r = run("closing", c, ZH)
    assert r.status == "pass"
    assert quotes(r) == [("m2", "还有什么可以帮您"), ("m4", "感谢")]
    assert r.data == {"window": ["m2", "m4"], "help": "还有什么可以帮您", "thanks": "感谢"}


def test_closing_says_which_part_is_missing():
    c = chat(("customer", "好的"), ("agent", "谢谢您，再见"))
    r = run("closing", c, ZH)
    assert r.status == "fail"
    assert "offer of further help" in r.detail and "thanks" not in r.detail.split("lacks")[1]
    assert quotes(r) == [("m2", "谢谢")]

    r = run("closing", chat(("customer", "ok"), ("agent", "Anything else?")), EN)
    assert r.status == "fail"
    assert r.detail.startswith("closing lacks thanks")


def test_closing_outside_the_window_does_not_count():
    c = chat(
        ("agent", "还有什么可以帮您？谢谢"),  # three replies before the end; window is 2
        ("agent", "好的"),
        ("agent", "再见"),
    )
    r = run("closing", c, ZH)
    assert r.status == "fail"
    assert "offer of further help and thanks" in r.detail
    assert quotes(r) == [("m3", "再见")]  # nothing found: the last reply is cited


def test_closing_na_rules():
    assert run("closing", chat(("customer", "hi")), ZH).status == "na"
    assert run("closing", chat(("agent", "bye")), PhraseSettings()).status == "na"
    # Only one part configured: only that part is required.
    only_thanks = PhraseSettings(closing_thanks=["thanks"])
    assert run("closing", chat(("agent", "thanks, bye")), only_thanks).status == "pass"


# -- polite address ------------------------------------------------------------------------


def test_polite_address_cites_each_occurrence_with_context():
    c = chat(
        ("customer", "你们的迷你款有货吗"),  # the customer may say 你
        ("agent", "您好，迷你款有货"),  # 迷你 is allowed
        ("agent", "你的订单已发货，你们那边注意查收"),  # 你们 is excluded by the pattern
        ("agent", "请你稍等"),
    )
    r = run("polite_address", c, ZH)
    assert r.status == "fail"
    assert [(h["message_id"], h["start"], h["text"]) for h in r.data["occurrences"]] == [
        ("m3", 0, "你"),
        ("m4", 1, "你"),
    ]
    # context: up to 8 characters each side, verbatim
    assert quotes(r) == [("m3", "你的订单已发货，你"), ("m4", "请你稍等")]
    assert "m3, m4" in r.detail


def test_polite_address_pass_and_na():
    assert run("polite_address", chat(("agent", "您好，您的订单已发货")), ZH).status == "pass"
    en = chat(("agent", "你 is not an English word"), language="en")
    assert run("polite_address", en, ZH).status == "na"
    assert run("polite_address", chat(("customer", "你好")), ZH).status == "na"
    assert run("polite_address", chat(("agent", "你好")), PhraseSettings()).status == "na"


@pytest.mark.parametrize("check", ["forbidden", "greeting", "closing", "polite_address"])
def test_every_quote_is_a_verbatim_substring(check):
    c = chat(
        ("customer", "你们怎么回事"),
        ("agent", "你好，这不归我管"),
        ("agent", "你自己看吧，谢谢"),
    )
    texts = {m.id: m.text for m in c.messages}
    for e in run(check, c, ZH).evidence:
        assert e.quote and e.quote in texts[e.message_id]


@pytest.mark.parametrize(
    "patterns",
    [
        [r"(?i)\bno refunds\b", r"\byour fault\b"],  # screened by one combined regex
        [r"\bno (refunds)\b", r"\byour fault\b"],  # a capturing group: checked one by one
    ],
)
def test_several_forbidden_patterns_each_hit(patterns):
    settings = PhraseSettings(forbidden_patterns=patterns)
    c = chat(
        ("agent", "All good here."),
        ("agent", "It is Your Fault. NO REFUNDS."),
        language="en",
    )
    r = run("forbidden", c, settings)
    assert quotes(r) == [("m2", "Your Fault"), ("m2", "NO REFUNDS")]
