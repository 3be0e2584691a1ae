"""The rule engine and the shipped rubrics' rules, on real-looking chats written for the tests.

Each failure mode of issue 9 is one test here: the chat is what real exports look like
(JD-style 亲/小妹 wording, Twitter-style @mentions), the expected verdicts are by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import ChatChecker
from auditor.errors import RubricError
from auditor.ingest.native import parse_chat_obj
from auditor.models import Chat, Finding, SourceRef
from auditor.rubric import load_rubric, parse_rubric
from auditor.rules.engine import compile_condition, evaluate
from auditor.rules.model import Condition
from auditor.rules.similar import NgramBackend, candidate_spans, fold

SRC = SourceRef(file="t.jsonl", line=1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_chat(
    turns: list[tuple[str, str]], *, language: str | None = None, ts: bool = True
) -> Chat:
    """A chat from (role, text) pairs, 10 s apart (no ``ts`` at all when ``ts=False``)."""
    messages: list[dict[str, Any]] = []
    for i, (role, text) in enumerate(turns):
        m: dict[str, Any] = {"id": f"m{i + 1}", "role": role, "text": text}
        if ts:
            m["ts"] = (T0 + timedelta(seconds=10 * i)).isoformat()
        messages.append(m)
    obj: dict[str, Any] = {"chat_id": "c1", "agent_id": "a1", "messages": messages}
    if language:
        obj["language"] = language
    chat = parse_chat_obj(obj, SRC)
    assert isinstance(chat, Chat), chat
    return chat


_CHECKERS: dict[str, ChatChecker] = {}


def findings(chat: Chat, rubric: str | None = None) -> dict[str, Finding]:
    name = rubric or f"online-chat-{chat.language if chat.language in ('zh', 'en') else 'en'}"
    if name not in _CHECKERS:
        _CHECKERS[name] = ChatChecker(load_rubric(name))
    found, _ = _CHECKERS[name].run(chat)
    return {f.check: f for f in found}


# -- forbidden phrases: brush-offs only, never innocent uses ---------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "亲，您的情况我们已经记录，会尽快处理的呢",
        "这个不知道能不能成功哦，小妹先帮您提交申请试试",  # honest uncertainty
        "亲，我们不会不知道的，请您放心",  # double negative
        "不知道您是否方便提供一下订单号呢？",  # polite 不知道您是否
        "如有不清楚的地方，随时联系小妹哦",
        "这个订单不是售后的呢，不会有运费",  # a fact about the order (CSDS csds-565)
    ],
)
def test_innocent_uses_of_forbidden_words_pass(reply: str) -> None:
    chat = make_chat([("customer", "我的订单怎么还没到"), ("agent", "您好，" + reply)])
    f = findings(chat)["forbidden_phrase"]
    assert f.status == "pass", f.detail


@pytest.mark.parametrize(
    ("reply", "quote"),
    [
        ("这个我不太清楚的呢", "不太清楚"),  # nothing offered after it
        ("小妹不是售后的呢", "不是售后的"),
        ("我不是售后人员的哦", "不是售后"),
        ("这边不知道呢", "不知道"),
    ],
)
def test_brush_offs_fail_with_the_phrase_quoted(reply: str, quote: str) -> None:
    chat = make_chat(
        [
            ("customer", "你们附近有没有维修点"),
            ("agent", "您好"),
            ("customer", "在哪里修"),
            ("agent", reply),
            ("customer", "好吧"),
            ("agent", "还有其他问题吗"),
        ]
    )
    f = findings(chat)["forbidden_phrase"]
    assert f.status == "fail"
    assert [(e.message_id, e.quote) for e in f.evidence] == [("m4", quote)]


def test_dont_know_followed_by_an_offer_is_not_a_brush_off() -> None:
    chat = make_chat(
        [
            ("customer", "这个什么时候到货"),
            ("agent", "您好，这个小妹暂时不清楚呢"),
            ("agent", "小妹帮您联系仓库核实一下哦"),
        ]
    )
    assert findings(chat)["forbidden_phrase"].status == "pass"


def test_deal_with_it_in_a_helpful_sentence_is_not_forbidden() -> None:
    chat = make_chat(
        [
            ("customer", "@AcmeHelp my parcel arrived broken"),
            ("agent", "@115 Hi there, sorry! We will deal with it and reply as soon as possible."),
        ],
        language="en",
    )
    assert findings(chat)["forbidden_phrase"].status == "pass"


def test_deal_with_it_said_to_the_customer_is_forbidden() -> None:
    chat = make_chat(
        [
            ("customer", "the app keeps logging me out"),
            ("agent", "Hi. That's how it works, you'll have to deal with it."),
        ],
        language="en",
    )
    f = findings(chat)["forbidden_phrase"]
    assert f.status == "fail"
    assert [e.quote for e in f.evidence] == ["you'll have to deal with it"]


def test_english_dont_know_as_the_whole_answer_is_forbidden() -> None:
    chat = make_chat(
        [
            ("customer", "Which stores sell the 2-pack?"),
            ("agent", "Hello! I really do not know which stores sell that one."),
        ],
        language="en",
    )
    f = findings(chat)["forbidden_phrase"]
    assert f.status == "fail"
    assert f.evidence[0].quote == "I really do not know"


# -- greeting and closing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "language", "status"),
    [
        ("晚上好，请问有什么可以帮您", "zh", "pass"),
        ("亲亲，小妹在的哦", "zh", "pass"),
        ("请问有什么可以帮您", "zh", "fail"),  # a bare "what can I help with"
        ("@116 Hey there! DM us your account email, please.", "en", "pass"),
        ("Good evening, let me look into it.", "en", "pass"),
        ("How can I help you today?", "en", "fail"),
        ("We're sorry to hear that.", "en", "fail"),  # an apology alone
    ],
)
def test_greetings(first: str, language: str, status: str) -> None:
    chat = make_chat([("customer", "在吗" if language == "zh" else "hello?"), ("agent", first)])
    assert findings(chat)["greeting"].status == status


def test_jd_standard_closing_is_recognised() -> None:
    chat = make_chat(
        [
            ("customer", "发票开好了吗"),
            ("agent", "您好，已经为您开好了"),
            ("agent", "请问还有其他还可以帮到您的吗?"),
            ("customer", "没有了"),
            ("agent", "感谢您对京东的支持，祝您生活愉快，再见!"),
        ]
    )
    f = findings(chat)["closing"]
    assert f.status == "pass", f.detail
    assert [e.message_id for e in f.evidence][:1] == ["m3"]


def test_closing_names_what_is_missing() -> None:
    chat = make_chat(
        [
            ("customer", "发票开好了吗"),
            ("agent", "您好，已经为您开好了"),
            ("agent", "请问还有其他还可以帮到您的吗?"),
        ]
    )
    f = findings(chat)["closing"]
    assert f.status == "fail"
    assert f.detail == "致谢或祝福 not found in the agent's last 2 messages"
    assert f.data["missing"] == ["致谢或祝福"]


# -- endings: what needs no reply --------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "language"),
    [
        ("不用了，谢谢", "zh"),
        ("暂时没有了", "zh"),
        ("晚安", "zh"),
        ("[图片]", "zh"),
        ("", "zh"),
        ("👍", "zh"),
        ("Thanks, that's all I needed!", "en"),
        ("ok will do, thank you!", "en"),
    ],
)
def test_goodbyes_and_empty_endings_are_not_unanswered(last: str, language: str) -> None:
    if language == "zh":
        turns = [
            ("customer", "怎么退货"),
            ("agent", "您好，在订单页点申请售后即可"),
            ("customer", last),
        ]
    else:
        turns = [
            ("customer", "how do I return it?"),
            ("agent", "Hi! Use the returns page."),
            ("customer", last),
        ]
    f = findings(make_chat(turns, language=language))["unanswered_customer"]
    assert f.status == "pass", f.detail


def test_venting_that_asks_nothing_is_not_unanswered() -> None:
    chat = make_chat(
        [
            ("customer", "退款到了吗"),
            ("agent", "您好，已经退回原账户了"),
            ("customer", "好，方便的时候我再看看，谢谢"),
        ]
    )
    assert findings(chat)["unanswered_customer"].status == "pass"


def test_a_question_left_unanswered_fails_citing_it() -> None:
    chat = make_chat(
        [
            ("customer", "退款到了吗"),
            ("agent", "您好，已经退回原账户了"),
            ("customer", "好的"),
            ("customer", "那运费险什么时候退？"),
        ]
    )
    f = findings(chat)["unanswered_customer"]
    assert f.status == "fail"
    assert [e.message_id for e in f.evidence] == ["m4"]


def test_a_question_then_thanks_needs_no_reply() -> None:
    chat = make_chat(
        [
            ("customer", "How do I reset it?"),
            ("agent", "Hi! Hold the button for 5 seconds."),
            ("customer", "and what if that fails?"),
            ("customer", "never mind, it worked. Thanks!"),
        ],
        language="en",
    )
    assert findings(chat)["unanswered_customer"].status == "pass"


_EN_OPENING = [
    ("customer", "@ShopCo my parcel was left at the wrong door again"),
    (
        "agent",
        "@cust Hi! Sorry about that. We've flagged it with the courier, it'll be redone today.",
    ),
]


@pytest.mark.parametrize(
    "ending",
    [
        # a wish or an interjection with a question mark: rhetorical
        ["@ShopCo Courier came, dropped it in a puddle this time. Merry Christmas?"],
        ["@ShopCo And now it's soaked through. Seriously?"],
        # sarcasm that requests nothing directly
        [
            '@ShopCo Great job guys. What is your slogan again? Something like "we deliver, sort of"?'
        ],
        ["@ShopCo lol, who needs a dry parcel anyway?"],
        # a complaint, then the customer gives up asking
        ["@ShopCo The box is still sitting in the rain.", "@ShopCo Oh well. #wetparcel"],
        ["@ShopCo why does this always happen to me", "@ShopCo never mind, I'll dry it myself"],
    ],
)
def test_rhetorical_and_venting_endings_are_not_unanswered(ending: list[str]) -> None:
    chat = make_chat([*_EN_OPENING, *(("customer", t) for t in ending)], language="en")
    f = findings(chat)["unanswered_customer"]
    assert f.status == "pass", f.detail


@pytest.mark.parametrize(
    "ending",
    [
        # sarcasm, but with a direct request: needs an answer
        ["@ShopCo Great job lol. Can you send a new one please?"],
        # a real question, even after an interjection
        ["@ShopCo Seriously? When will the replacement arrive?"],
        # a wish without a question mark, then a question
        ["@ShopCo Happy holidays to me. Where is my refund?"],
        # a complaint left standing (no giving up)
        ["@ShopCo The box is still sitting in the rain.", "@ShopCo #wetparcel"],
    ],
)
def test_questions_beside_sarcasm_still_need_an_answer(ending: list[str]) -> None:
    chat = make_chat([*_EN_OPENING, *(("customer", t) for t in ending)], language="en")
    f = findings(chat)["unanswered_customer"]
    assert f.status == "fail", f.detail


# -- polite address ------------------------------------------------------------------------


def test_polite_address_quotes_context_and_skips_greetings_and_slips() -> None:
    chat = make_chat(
        [
            ("customer", "在吗"),
            ("agent", "你好，请问有什么可以帮您"),  # 你好 as a greeting
            ("agent", "这边是留言的你 无法直接联系售后的呢"),  # a stray 你 (a slip)
            ("agent", "你的订单已经发货了"),
        ]
    )
    f = findings(chat)["polite_address"]
    assert f.status == "fail"
    assert [(e.message_id, e.quote) for e in f.evidence] == [("m4", "你的订单已经发货了")]


# -- languages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent_text", "code"),
    [
        ("いらっしゃいませ。ご注文の確認をいたします。少々お待ちください。", "ja"),
        ("Hola, gracias por contactarnos. ¿En qué puedo ayudarle con su pedido?", "es"),
        ("Guten Tag, vielen Dank für Ihre Nachricht. Wie kann ich Ihnen helfen?", "de"),
    ],
)
def test_a_chat_in_a_language_no_rubric_covers_is_never_failed_on_language_checks(
    agent_text: str, code: str
) -> None:
    chat = make_chat([("customer", "?"), ("agent", agent_text), ("customer", "???")])
    assert chat.language == code
    found = findings(chat)
    for check in ("greeting", "closing", "forbidden_phrase", "typos", "unanswered_customer"):
        assert found[check].status == "na", check
        assert repr(code) in found[check].detail
    assert found["first_response"].status == "pass"  # timing still applies


def test_japanese_with_kanji_is_not_audited_as_chinese() -> None:
    chat = make_chat(
        [
            ("customer", "注文した商品が届きません"),
            ("agent", "大変申し訳ございません。確認いたします。"),
        ]
    )
    assert chat.language == "ja"


# -- chats without timestamps --------------------------------------------------------------


def test_a_chat_without_timestamps_is_audited_with_timing_checks_na() -> None:
    chat = make_chat(
        [("customer", "发票开好了吗"), ("agent", "你的发票开好了"), ("customer", "那运费呢？")],
        ts=False,
    )
    assert not chat.timed
    assert chat.warnings == ["no timestamps: the timing checks are not applicable"]
    found = findings(chat)
    for check in ("first_response", "followup_response", "avg_response", "hold"):
        assert found[check].status == "na"
        assert found[check].detail.startswith("no timestamps")
    assert found["polite_address"].status == "fail"  # the text is still checked
    assert found["unanswered_customer"].status == "fail"  # order is enough for this one


# -- the engine: operators, scopes, anchors ------------------------------------------------


def cond(data: dict[str, Any]) -> Condition:
    return Condition.model_validate(data)


CHAT = [
    ("customer", "我要退款"),
    ("agent", "您好，请提供一下订单号"),
    ("customer", "123456789012"),
    ("agent", "好的，已经为您申请退款"),
]


def test_keywords_all_and_none() -> None:
    chat = make_chat(CHAT)
    both = compile_condition(cond({"keywords": {"all": ["申请", "退款"]}}))
    out = evaluate(both, chat)
    assert out.holds and [(h.message_id, h.text) for h in out.hits] == [
        ("m4", "申请"),
        ("m4", "退款"),
    ]
    nothing = compile_condition(cond({"keywords": {"any": ["订单号"], "none": ["您好"]}}))
    assert not evaluate(nothing, chat).holds


def test_scope_first_and_last() -> None:
    chat = make_chat(CHAT)
    first = compile_condition(
        cond({"in": {"role": "agent", "first": 1}, "keywords": {"any": ["退款"]}})
    )
    last = compile_condition(
        cond({"in": {"role": "agent", "last": 1}, "keywords": {"any": ["退款"]}})
    )
    customer = compile_condition(cond({"in": {"role": "customer"}, "keywords": {"any": ["退款"]}}))
    assert not evaluate(first, chat).holds
    assert evaluate(last, chat).holds
    assert [h.message_id for h in evaluate(customer, chat).hits] == ["m1"]


def test_anchor_before_asked_for_the_order_number_before_promising_a_refund() -> None:
    rule = cond(
        {
            "anchor": {
                "find": {"keywords": {"any": ["申请退款"]}},
                "expect": {"keywords": {"any": ["订单号"]}},
                "before": 3,
                "role": "agent",
                "self": False,
                "keep": "absent",
            }
        }
    )
    node = compile_condition(rule)
    assert not evaluate(node, make_chat(CHAT)).holds  # asked first: nothing kept
    rushed = make_chat([("customer", "我要退款"), ("agent", "好的，已经为您申请退款")])
    out = evaluate(node, rushed)
    assert out.holds and [(h.message_id, h.text) for h in out.hits] == [("m2", "申请退款")]


def test_regex_exclude_drops_only_overlapping_hits() -> None:
    node = compile_condition(cond({"regex": {"pattern": "不知道", "exclude": "不知道您是否"}}))
    chat = make_chat([("customer", "?"), ("agent", "不知道您是否方便？这个我不知道")])
    out = evaluate(node, chat)
    assert [(h.start, h.end) for h in out.hits] == [(12, 15)]


def test_not_and_any() -> None:
    chat = make_chat(CHAT)
    node = compile_condition(
        cond({"not": {"any": [{"keywords": {"any": ["抱歉"]}}, {"regex": {"pattern": "稍等"}}]}})
    )
    out = evaluate(node, chat)
    assert out.holds and out.hits == []


def test_a_new_check_from_the_rubric_alone() -> None:
    text = (
        Path(load_rubric("online-chat-zh").path or "")
        .read_text(encoding="utf-8")
        .replace(
            "\ncriteria:\n",
            """
  order_number_first:
    forbid:
      anchor:
        find: {keywords: {any: [申请退款, 为您退款]}}
        expect: {keywords: {any: [订单号]}}
        before: 5
        role: agent
        keep: absent
criteria:
  - {id: order_number_first, title: 先核实订单号再承诺退款, points: 0, kind: check, check: order_number_first}
""",
            1,
        )
    )
    rubric = parse_rubric(text, "custom.yaml")
    f = {
        x.check: x
        for x in ChatChecker(rubric).run(
            make_chat([("customer", "我要退款"), ("agent", "您好，已经为您退款")])
        )[0]
    }
    assert f["order_number_first"].status == "fail"
    assert f["order_number_first"].evidence[0].quote == "为您退款"


# -- validation: file and key in every error ---------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            "greeting: {require: {keywords: {anyy: [您好]}}}",
            "rules.greeting.require.keywords.anyy: unknown key",
        ),
        (
            "greeting: {require: {keywords: {any: [您好]}, regex: {pattern: x}}}",
            "exactly one operator",
        ),
        ("greeting: {require: {regex: {pattern: '(unclosed'}}}", "invalid regular expression"),
        ("first_response: {forbid: {keywords: {any: [x]}}}", "not configured by a rule"),
        ("forbidden_phrase: {require: {keywords: {any: [x]}}}", "use 'forbid'"),
        ("greeting: {require: {similar: {examples: [您好], threshold: 2}}}", "threshold"),
    ],
)
def test_rule_errors_name_the_file_and_the_key(rules: str, message: str) -> None:
    text = f"""
name: r
version: "1"
language: zh
total: 4
rules:
  {rules}
criteria:
  - {{id: greeting, title: g, points: 4, kind: check, check: greeting}}
"""
    with pytest.raises(RubricError) as e:
        parse_rubric(text, "bad.yaml")
    assert "bad.yaml" in str(e.value)
    assert message in str(e.value)


# -- similar sentences -----------------------------------------------------------------------


def test_ngram_similarity_by_hand() -> None:
    # "您好啊" vs "您好": grams {您好, 好啊, 您好啊} and {您好}: Dice = 2*1/(3+1) = 0.5
    assert NgramBackend().score("您好啊", "您好") == pytest.approx(0.5)
    assert fold("Hello,  World!") == "hello world"
    assert fold("请问 还有 什么") == "请问还有什么"


def test_similar_matches_a_reworded_sentence_not_an_unrelated_one() -> None:
    b = NgramBackend()
    examples = ["请问还有什么可以帮您的吗", "请问还有其他可以帮到您的吗"]
    hit = b.best("好的，请问还有其他还可以帮到您的吗?", examples, 0.55)
    assert hit is not None and hit.span.text == "请问还有其他还可以帮到您的吗"
    assert b.best("好的亲，这边帮您看下订单", examples, 0.55) is None


def test_candidate_spans_are_verbatim() -> None:
    text = "您好，很高兴为您服务。请问有什么可以帮您？"
    for span in candidate_spans(text):
        assert text[span.start : span.end] == span.text


def test_asking_the_customer_not_to_go_away_is_not_forbidden() -> None:
    # STC-3 en: "Do not go away from Little Wo, OK?" pleads with the customer to stay
    reply = "Do not go away from Little Wo, OK? I suggest you learn about the local offers first."
    chat = make_chat(
        [("customer", "I will not renew the contract"), ("agent", reply)], language="en"
    )
    assert findings(chat)["forbidden_phrase"].status == "pass"
    told = make_chat([("customer", "Hello?"), ("agent", "Go away, we are closed.")], language="en")
    f = findings(told)["forbidden_phrase"]
    assert f.status == "fail"
    assert [e.quote for e in f.evidence] == ["Go away"]


@pytest.mark.parametrize(
    "replies",
    [
        # who can help and how to reach them, in the same message (TWCS twcs-3981)
        ["We're sorry we can't help, but their telephone number is 0344 493 0787 option 1."],
        # an alternative in the agent's next message (MAIA)
        [
            "I really do not know which stores sell it in Austria.",
            "Our nearest online store is for Italy. We also sell in some stores in Switzerland.",
        ],
    ],
)
def test_english_cant_help_with_a_way_forward_is_not_a_brush_off(replies: list[str]) -> None:
    turns = [("customer", "Where can I buy it?")]
    for reply in replies:
        turns += [("agent", reply), ("customer", "hm")]
    chat = make_chat(turns, language="en")
    assert findings(chat)["forbidden_phrase"].status == "pass"
