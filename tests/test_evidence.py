"""Evidence verification: the model's quotes checked against the transcript, stored verbatim."""

from __future__ import annotations

from fake_openai.data import make_chat

from auditor.grading.evidence import find_quote, fold, verify_evidence
from auditor.grading.pii import mask_chat

CHAT = make_chat(
    ("agent", "您好，欢迎光临！"),
    ("customer", "我的快递“丢了”，怎么办？"),
    ("agent", "非常抱歉！我马上为您补发，预计 3 天内送达。"),
    ("agent", "I'm SO sorry — let's fix this right away."),
    auto={1},
)


def check(items, scope="agent", **kw):
    return verify_evidence(items, CHAT, criterion="empathy", scope=scope, **kw)


def test_fold_maps_every_character_back_to_the_original():
    folded, index = fold("Ｈｉ，“您好”！")
    assert folded == "hi您好"
    assert index == (0, 1, 4, 5)


def test_quote_found_despite_punctuation_width_case_and_spaces():
    text = CHAT.messages[2].text
    # full-width vs half-width punctuation, dropped spaces
    assert find_quote(text, "非常抱歉!我马上为您补发,预计3天内送达") == (0, len(text) - 1)
    english = CHAT.messages[3].text
    a, b = find_quote(english, "i'm so sorry - lets fix this")
    assert english[a:b] == "I'm SO sorry — let's fix this"


def test_ellipsis_joins_fragments_in_order():
    text = CHAT.messages[2].text
    a, b = find_quote(text, "非常抱歉……预计 3 天")
    assert text[a:b] == "非常抱歉！我马上为您补发，预计 3 天"
    assert find_quote(text, "预计 3 天...非常抱歉") is None  # out of order


def test_verified_evidence_stores_the_transcripts_own_words():
    result = check([("m3", "我马上为您补发,预计3天")])
    assert result.ok
    assert [(e.message_id, e.quote) for e in result.evidence] == [
        ("m3", "我马上为您补发，预计 3 天")
    ]


def test_unknown_message_id_is_explained_for_the_model():
    result = check([("m7", "非常抱歉")])
    assert result.evidence == []
    assert result.errors == [
        "empathy: evidence[0] cites message id 'm7', which is not in the transcript; "
        "use one of the ids in square brackets (m1, m2, m3, …)."
    ]


def test_agent_scope_rejects_customer_and_automatic_messages():
    result = check([("m2", "丢了"), ("m1", "欢迎光临")])
    assert len(result.errors) == 2 and result.evidence == []
    assert "which is the customer's" in result.errors[0]
    assert "automatic agent message" in result.errors[1]
    # a chat-scope criterion may cite anyone
    assert check([("m2", "丢了")], scope="chat").ok


def test_invented_quote_is_rejected():
    result = check([("m3", "我们保证全额退款")])
    assert result.errors == [
        "empathy: evidence[0]: the quote '我们保证全额退款' does not appear in message 'm3'; "
        "copy the words exactly as they are written in that message."
    ]


def test_a_scored_level_needs_evidence_but_na_does_not():
    assert not check([]).ok
    assert "without evidence" in check([]).errors[0]
    assert check([], require=False).ok


def test_quotes_with_placeholders_map_back_to_the_original():
    chat = make_chat(("agent", "已为您登记手机 13812345678，请保持畅通。"))
    masked = mask_chat(chat)
    assert masked.masked("m1") == "已为您登记手机 ⟨PHONE_1⟩，请保持畅通。"
    result = verify_evidence(
        [("m1", "登记手机 ⟨PHONE_1⟩"), ("m1", "手机 <PHONE_1>，请保持")],
        chat,
        criterion="info_security",
        scope="agent",
        masked=masked,
    )
    assert result.ok
    assert [e.quote for e in result.evidence] == [
        "登记手机 13812345678",
        "手机 13812345678，请保持",
    ]
    # a quote cut inside a placeholder widens to the whole original value
    result = verify_evidence(
        [("m1", "手机 ⟨PHO")], chat, criterion="x", scope="agent", masked=masked
    )
    assert [e.quote for e in result.evidence] == ["手机 13812345678"]
