"""The offline grader: hand-made zh / en / traditional-Chinese chats for every criterion and
level, verbatim evidence, n/a rules, level mapping, unknown rule sets and the settings key.

Expected levels are worked out by hand from the cue files and the rules in
``auditor/grading/offline_rules.py``; the comment on each case names the cue that decides it.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import opencc
import pytest
import yaml

from auditor.errors import GraderError
from auditor.grading import offline_rules
from auditor.grading.base import Grader
from auditor.grading.offline import (
    DEFAULT_CUES_DIR,
    CueLibrary,
    OfflineGrader,
    level_for,
    normalise,
    snippet,
)
from auditor.models import Chat, Grade, Message
from auditor.rubric import Rubric, load_rubric, parse_rubric

RULE_SETS = [
    "empathy",
    "proactiveness",
    "solution",
    "understanding",
    "expression",
    "attitude",
    "info_security",
    "honesty",
]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ROLE = {"c": "customer", "a": "agent", "b": "bot"}


@pytest.fixture(scope="module")
def grader() -> OfflineGrader:
    return OfflineGrader()


def make_chat(language: str, turns: list[tuple[str, str]], chat_id: str = "t1") -> Chat:
    return Chat(
        chat_id=chat_id,
        language=language,  # type: ignore[arg-type]
        messages=[
            Message(id=f"m{i + 1}", role=ROLE[r], ts=T0 + timedelta(seconds=15 * i), text=t)  # type: ignore[arg-type]
            for i, (r, t) in enumerate(turns)
        ],
    )


def criterion_spec(cid: str, *, na: bool = False, scope: str = "agent", **extra: object) -> dict:
    spec: dict = {
        "id": cid,
        "title": cid,
        "points": 2,
        "kind": "llm",
        "scope": scope,
        "levels": [
            {"id": "good", "points": 2},
            {"id": "average", "points": 1},
            {"id": "poor", "points": 0, "fail": True},
        ],
        **extra,
    }
    if na:
        spec["na"] = {"allowed": True}
    return spec


def make_rubric(criteria: list[dict], language: str = "zh") -> Rubric:
    total = sum(c["points"] for c in criteria)
    data = {"name": "t", "version": "1", "language": language, "total": total, "criteria": criteria}
    return parse_rubric(yaml.safe_dump(data, allow_unicode=True), "test.yaml")


#: The criteria of the shipped rubrics: empathy and info_security allow n/a.
RUBRIC = make_rubric(
    [criterion_spec(r, na=r in ("empathy", "info_security", "honesty")) for r in RULE_SETS]
)


def grade_one(grader: OfflineGrader, chat: Chat, criterion: str, rubric: Rubric = RUBRIC) -> Grade:
    grades = asyncio.run(grader.grade(chat, rubric))
    assert [g.criterion for g in grades] == [c.id for c in rubric.llm_criteria]
    for g in grades:
        assert_well_formed(chat, rubric, g)
    return next(g for g in grades if g.criterion == criterion)


def assert_well_formed(chat: Chat, rubric: Rubric, g: Grade) -> None:
    """The contract every offline grade keeps, whatever the level."""
    crit = rubric.criterion(g.criterion)
    assert crit is not None
    assert g.grader == "offline" and g.model is None
    if g.status == "scored":
        assert g.level in {lv.id for lv in crit.levels}
    else:
        assert g.level is None
    if g.status != "unscored":
        assert g.confidence is not None and 0.2 <= g.confidence <= 0.55
        assert g.rationale
    for ev in g.evidence:
        msg = chat.message(ev.message_id)
        assert msg is not None
        assert ev.quote and ev.quote in msg.text, (ev.quote, msg.text)  # verbatim substring
        if crit.scope == "agent":
            assert msg.role == "agent"


# (criterion, language, turns, expected level or "na", a cue the rationale must name)
CASES: list[tuple[str, str, list[tuple[str, str]], str, str]] = [
    # --- empathy: emotion decides applicability; soothing > apology only > nothing
    (
        "empathy",
        "zh",
        [
            ("c", "快递三天了还没到，气死我了！"),
            ("a", "非常抱歉让您久等了，我很理解您的心情，我马上帮您查询。"),
        ],
        "good",
        "理解您的心情",
    ),
    (
        "empathy",
        "zh",
        [("c", "你们的服务太差了，我要投诉"), ("a", "不好意思，请问您的订单号是多少？")],
        "average",
        "不好意思",
    ),
    (
        "empathy",
        "zh",
        [("c", "等了半天都没人理，什么破服务"), ("a", "请问有什么可以帮您？")],
        "poor",
        "等了半天",
    ),
    (
        "empathy",
        "zh",
        [("c", "请问你们周末营业吗？"), ("a", "您好，我们周末正常营业，时间是9点到18点。")],
        "na",
        "no customer-emotion",
    ),
    (
        "empathy",
        "en",
        [
            ("c", "This is ridiculous, my package is a week late!"),
            ("a", "I'm so sorry about the delay. I understand how frustrating this must be."),
        ],
        "good",
        "I understand how frustrating",
    ),
    (
        "empathy",
        "en",
        [
            ("c", "I'm really disappointed with this order."),
            ("a", "Sorry about that. What is the order number?"),
        ],
        "average",
        "Sorry",
    ),
    (
        "empathy",
        "en",
        [
            ("c", "This is unacceptable, I've been waiting for an hour!!!"),
            ("a", "What is your order number?"),
        ],
        "poor",
        "unacceptable",
    ),
    (
        "empathy",
        "en",
        [
            ("c", "Hi, do you ship to Canada?"),
            ("a", "Yes, we ship to Canada; delivery takes 5-7 days."),
        ],
        "na",
        "no customer-emotion",
    ),
    # --- proactiveness: next step + timing / alternatives / risk; bare refusal or chasing is poor
    (
        "proactiveness",
        "zh",
        [
            ("c", "我的退款什么时候到账？"),
            ("a", "已为您提交退款申请，预计3个工作日内原路退回，到账后会短信通知您。"),
        ],
        "good",
        "短信通知",
    ),
    (
        "proactiveness",
        "zh",
        [("c", "这款耳机支持降噪吗？"), ("a", "支持的，建议您在App里打开降噪模式。")],
        "average",
        "建议您",
    ),
    (
        "proactiveness",
        "zh",
        [("c", "这款耳机是什么颜色？"), ("a", "这款是黑色的。")],
        "average",
        "no next-step",
    ),
    (
        "proactiveness",
        "zh",
        [("c", "能帮我把发票抬头改一下吗？"), ("a", "这个我们无法处理。")],
        "poor",
        "无法处理",
    ),
    (
        "proactiveness",
        "en",
        [
            ("c", "My parcel hasn't arrived."),
            (
                "a",
                "I've escalated this to the courier and I'll follow up with you "
                "within 24 hours. Alternatively, you can request a full refund.",
            ),
        ],
        "good",
        "I'll follow up",
    ),
    (
        "proactiveness",
        "en",
        [
            ("c", "Do you have this in blue?"),
            ("a", "Yes. Please note the blue one ships from another warehouse."),
        ],
        "average",
        "Please note",
    ),
    (
        "proactiveness",
        "en",
        [("c", "Can I change the delivery date?"), ("a", "Sorry, we cannot change that.")],
        "poor",
        "we cannot",
    ),
    (
        "proactiveness",
        "en",
        [
            ("c", "I returned the item last week."),
            ("a", "I can see the return."),
            ("c", "So what happens next?"),
            ("a", "The return is in our system."),
        ],
        "poor",
        "what happens next",
    ),
    # --- solution: confirmed fix > steps > nothing; "still not working" or "I don't know" is poor
    (
        "solution",
        "zh",
        [
            ("c", "App登录不了怎么办"),
            ("a", "您可以在登录页点击忘记密码，按提示重置即可。"),
            ("c", "可以了，解决了，谢谢！"),
        ],
        "good",
        "解决了",
    ),
    (
        "solution",
        "zh",
        [("c", "怎么修改收货地址？"), ("a", "您可以在订单详情页点击修改地址。")],
        "average",
        "点击",
    ),
    (
        "solution",
        "zh",
        [
            ("c", "优惠券用不了"),
            ("a", "请您在结算页点击使用优惠券。"),
            ("c", "还是不行啊"),
            ("a", "请您稍等。"),
        ],
        "poor",
        "还是不行",
    ),
    ("solution", "zh", [("c", "这个商品什么时候补货？"), ("a", "这个不清楚。")], "poor", "不清楚"),
    (
        "solution",
        "en",
        [
            ("c", "How do I reset my password?"),
            ("a", "Go to Settings, tap Security, then tap Reset password."),
            ("c", "That worked, thanks!"),
        ],
        "good",
        "That worked",
    ),
    (
        "solution",
        "en",
        [
            ("c", "How do I update my billing address?"),
            ("a", "Go to Account > Billing and click Edit."),
        ],
        "average",
        "Go to",
    ),
    (
        "solution",
        "en",
        [
            ("c", "My app keeps crashing."),
            ("a", "Please tap Settings and clear the cache."),
            ("c", "I did that, it still doesn't work."),
        ],
        "poor",
        "still doesn't work",
    ),
    # "doesn't work" in the opening message describes the problem, not a failed answer
    (
        "solution",
        "en",
        [
            ("c", "The app doesn't work."),
            ("a", "Go to Settings and tap Clear cache."),
            ("c", "That worked, thank you!"),
        ],
        "good",
        "That worked",
    ),
    # --- understanding: "that's not what I asked" / repeats / re-asks
    (
        "understanding",
        "zh",
        [("c", "我想查询一下订单物流"), ("a", "好的，请您提供订单号，我帮您查询。")],
        "good",
        "no repeated",
    ),
    (
        "understanding",
        "zh",
        [("c", "我想退货"), ("a", "不好意思，能再说一下您的问题吗？")],
        "average",
        "能再说一下",
    ),
    (
        "understanding",
        "zh",
        [
            ("c", "我想问退款多久到账"),
            ("a", "我们的商品支持七天无理由退货。"),
            ("c", "我问的是退款多久到账"),
        ],
        "poor",
        "我问的是",
    ),
    # the opening message complains about earlier contacts, not about an answer here (STC-3 en)
    (
        "understanding",
        "en",
        [
            ("c", "How many times do I have to call about this bill? It is still wrong."),
            ("a", "Hello, please send us your number via private message and we will check it."),
        ],
        "good",
        "no repeated",
    ),
    (
        "understanding",
        "en",
        [("c", "Can I pay with PayPal?"), ("a", "Yes, we accept PayPal at checkout.")],
        "good",
        "no repeated",
    ),
    (
        "understanding",
        "en",
        [
            ("c", "Please change my delivery address to 5 Oak Road."),
            ("a", "Could you repeat the new address?"),
        ],
        "average",
        "Could you repeat",
    ),
    (
        "understanding",
        "en",
        [
            ("c", "When will my refund arrive?"),
            ("a", "Our return window is 30 days."),
            ("c", "That's not what I asked. When will my refund arrive?"),
        ],
        "poor",
        "not what I asked",
    ),
    (
        "understanding",
        "en",
        [
            ("c", "Where is my order 12345?"),
            ("a", "We have a sale this week."),
            ("c", "Where is my order 12345?"),
            ("a", "Shipping info is on our site."),
            ("c", "Where is my order 12345??"),
        ],
        "poor",
        "repeat themselves 2 times",
    ),
    # --- expression: jargon, filler, over-long unbroken messages
    (
        "expression",
        "zh",
        [("c", "包裹到哪了"), ("a", "您好，您的包裹已经发出，预计明天送达。")],
        "good",
        "no jargon",
    ),
    (
        "expression",
        "zh",
        [("c", "退款呢"), ("a", "这个需要后台处理，请您稍等。")],
        "average",
        "后台",
    ),
    (
        "expression",
        "zh",
        [("c", "退款呢"), ("a", "嗯嗯嗯，这个要走流程，后台派单给二线处理，哈哈哈。")],
        "poor",
        "走流程",
    ),
    (
        "expression",
        "zh",
        [("c", "怎么退货"), ("a", "您好关于退货" + "您需要先在订单页面申请退货然后" * 10)],
        "average",
        "over-long",
    ),
    (
        "expression",
        "en",
        [
            ("c", "Where's my parcel?"),
            ("a", "Your parcel is on its way and should arrive tomorrow."),
        ],
        "good",
        "no jargon",
    ),
    (
        "expression",
        "en",
        [("c", "Any news?"), ("a", "I've raised an internal ticket with the ops team.")],
        "average",
        "internal ticket",
    ),
    (
        "expression",
        "en",
        [
            ("c", "Any news?"),
            (
                "a",
                "lol so the backend flagged it, it's with tier 2 per the SLA, gonna take a while",
            ),
        ],
        "poor",
        "backend",
    ),
    # word boundaries: "sla" is not in "islands" or "Slack"
    (
        "expression",
        "en",
        [("c", "Hi"), ("a", "The islands are lovely; please check Slack for updates.")],
        "good",
        "no jargon",
    ),
    # --- attitude: blame-shifting/dismissive poor, perfunctory/terse average
    (
        "attitude",
        "zh",
        [("c", "你好"), ("a", "您好，很高兴为您服务，请问有什么可以帮您？")],
        "good",
        "请问",
    ),
    ("attitude", "zh", [("c", "能退吗"), ("a", "没办法，规定就是这样。")], "average", "没办法"),
    (
        "attitude",
        "zh",
        [("c", "快递丢了"), ("a", "这个不归我们管，你去找快递公司。")],
        "poor",
        "不归我们管",
    ),
    (
        "attitude",
        "en",
        [("c", "Hi"), ("a", "Happy to help! Thank you for waiting.")],
        "good",
        "Happy to help",
    ),
    (
        "attitude",
        "en",
        [("c", "Is my order shipped?"), ("a", "ok"), ("c", "When will it arrive?"), ("a", "k")],
        "average",
        "one-word",
    ),
    (
        "attitude",
        "en",
        [("c", "My parcel is lost"), ("a", "That's not my job, take it up with the courier.")],
        "poor",
        "not my job",
    ),
    (
        "attitude",
        "en",
        [("c", "Can you help?"), ("a", "I'll do whatever you need to sort this.")],
        "good",
        "no blame-shifting",
    ),
    # --- info_security: identity factor before disclosure; generic check average; none poor
    (
        "info_security",
        "zh",
        [
            ("c", "帮我查下我的订单"),
            ("a", "为了您的账户安全，请提供下单手机号后四位。"),
            ("c", "1234"),
            ("a", "您的收货地址是北京市朝阳区建国路1号。"),
        ],
        "good",
        "下单手机号",
    ),
    (
        "info_security",
        "zh",
        [
            ("c", "我的订单到哪了"),
            ("a", "请提供一下订单号。"),
            ("c", "A123"),
            ("a", "您的收货地址是北京市朝阳区建国路1号。"),
        ],
        "average",
        "请提供",
    ),
    (
        "info_security",
        "zh",
        [("c", "我的快递到哪了"), ("a", "您的收货地址是上海市浦东新区张江路100号，快递明天到。")],
        "poor",
        "收货地址是",
    ),
    (
        "info_security",
        "zh",
        [("c", "怎么登录"), ("a", "请把收到的验证码发给我，我帮您操作。")],
        "poor",
        "验证码发给我",
    ),
    (
        "info_security",
        "zh",
        [("c", "你们几点下班？"), ("a", "我们晚上10点下班。")],
        "na",
        "no personal",
    ),
    # a warning about codes is not asking for one (sentence-scoped exclusion)
    (
        "info_security",
        "zh",
        [("c", "你们几点下班？"), ("a", "温馨提示：请勿向任何人提供验证码。")],
        "na",
        "no personal",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "Can you check my order?"),
            ("a", "Sure, please confirm the last four digits of your phone number."),
            ("c", "4321"),
            ("a", "Thanks. Your shipping address is 5 Oak Road."),
        ],
        "good",
        "last four digits",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "Where is my order?"),
            ("a", "Please provide your order number."),
            ("c", "A1234"),
            ("a", "Thanks. Your shipping address is 5 Oak Road."),
        ],
        "average",
        "Please provide",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "Why haven't I got my receipt?"),
            ("a", "We sent it to jane@example.com, the phone on file is 4155550100."),
        ],
        "poor",
        "jane@example.com",
    ),
    # echoing what the customer wrote is not a leak
    (
        "info_security",
        "en",
        [
            ("c", "My email is jane@example.com, where's my receipt?"),
            ("a", "I've resent the receipt to jane@example.com."),
        ],
        "good",
        "My email",
    ),
    (
        "info_security",
        "en",
        [("c", "What time do you open?"), ("a", "We open at 9am.")],
        "na",
        "no personal",
    ),
    # --- honesty: unhedged guarantee poor, hedged average, grounded commitment good, none n/a
    (
        "honesty",
        "zh",
        [("c", "什么时候到"), ("a", "已为您催促，预计明天送达，具体以物流为准。")],
        "good",
        "预计",
    ),
    (
        "honesty",
        "zh",
        [("c", "什么时候到"), ("a", "我保证明天一定能到，不过具体以物流为准。")],
        "average",
        "保证",
    ),
    ("honesty", "zh", [("c", "能退吗"), ("a", "应该没问题的。")], "average", "应该没问题"),
    (
        "honesty",
        "zh",
        [("c", "什么时候到"), ("a", "您放心，我保证明天一定能送到！")],
        "poor",
        "一定能",
    ),
    (
        "honesty",
        "zh",
        [("c", "什么时候到"), ("a", "这个我们不能保证，预计3天左右到货。")],
        "good",
        "不能保证",
    ),
    ("honesty", "zh", [("c", "营业时间？"), ("a", "9点到18点。")], "na", "no commitment"),
    (
        "honesty",
        "en",
        [
            ("c", "When will it come?"),
            ("a", "It should arrive within 3 business days, though times may vary."),
        ],
        "good",
        "should arrive",
    ),
    (
        "honesty",
        "en",
        [
            ("c", "When will it come?"),
            ("a", "It will definitely arrive tomorrow, but delivery times may vary."),
        ],
        "average",
        "definitely",
    ),
    (
        "honesty",
        "en",
        [("c", "Refund?"), ("a", "I guarantee you'll get a full refund by tomorrow.")],
        "poor",
        "I guarantee",
    ),
    (
        "honesty",
        "en",
        [("c", "When?"), ("a", "I can't guarantee it, but it usually arrives in 3 days.")],
        "good",
        "usually",
    ),
    (
        "honesty",
        "en",
        [("c", "Are you open Sunday?"), ("a", "Yes, 10 to 4.")],
        "na",
        "no commitment",
    ),
    # --- regressions found on real chats
    # "still" in the opening message describes the problem, it is not a failed answer
    (
        "solution",
        "zh",
        [("c", "怎么还是没发货？"), ("a", "已为您催促仓库，请您在订单详情页查看物流。")],
        "average",
        "已为您",
    ),
    # asking for the new address is not reading one out
    (
        "info_security",
        "zh",
        [("c", "我要改地址"), ("a", "请问您的新地址是哪里呢？")],
        "good",
        "改地址",
    ),
    # a promise of effort ("尽快") is vague, not a guaranteed outcome
    (
        "honesty",
        "zh",
        [("c", "什么时候审核"), ("a", "小妹跟您保证我们会尽快为您审核处理。")],
        "average",
        "跟您保证",
    ),
    (
        "honesty",
        "zh",
        [("c", "能改吗"), ("a", "这个因为您改过一次了不能给您保证呢")],
        "na",
        "no commitment",
    ),
    # "without fail" states a rule (ABCD abcd-3695); it guarantees only beside a commitment
    (
        "honesty",
        "en",
        [
            ("c", "When do promo codes expire?"),
            ("a", "All promo codes expire after 7 days without fail."),
        ],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "en",
        [("c", "Call me?"), ("a", "I'll call you back tomorrow without fail.")],
        "poor",
        "without fail",
    ),
    # negations and purpose clauses of "guarantee" (STC-3 en, TWCS split tweets)
    (
        "honesty",
        "en",
        [
            ("c", "Why is it slow?"),
            ("a", "Beyond the one device, the quality will not be guaranteed."),
        ],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "en",
        [
            ("c", "Are the lights uneven?"),
            ("a", "Each phone is checked before shipping to guarantee that the lights match."),
        ],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "en",
        [
            ("c", "Why was my seat moved?"),
            ("a", "...guaranteed. It was changed for operational needs."),
        ],
        "na",
        "no commitment",
    ),
    # refusals and promises of effort (CSDS, STC-3 zh)
    (
        "honesty",
        "zh",
        [("c", "几号能到"), ("a", "具体时间这边没法跟您保证呢")],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "zh",
        [("c", "太慢了"), ("a", "还恳请您再给我们一些时间，这边一定会加快速度的呢")],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "zh",
        [("c", "服务太差"), ("a", "感谢您的支持和信赖，我们一定会做的更好更优秀。")],
        "na",
        "no commitment",
    ),
    # how the specialist will handle it (fairly), not an outcome (CSDS csds-137)
    (
        "honesty",
        "zh",
        [("c", "你们京东想怎么处理"), ("a", "专员肯定会公正的给您处理的呢")],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "zh",
        [("c", "能退吗"), ("a", "专员肯定会给您退款的呢")],
        "poor",
        "肯定会",
    ),
    # a promise of effort or priority (STC-3 en)
    (
        "honesty",
        "en",
        [
            ("c", "Any news on my complaint?"),
            (
                "a",
                "Please rest assured that we will definitely follow it up and reply you in time.",
            ),
        ],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "en",
        [
            ("c", "When will my phone ship?"),
            (
                "a",
                "Delivery may be postponed, but we promise to give the priority to deliver it "
                "to you after the goods arrive.",
            ),
        ],
        "na",
        "no commitment",
    ),
    # info_security: a number to call, an example in instructions, a reminder with no value or
    # a leak the customer suffered is not a disclosure (STC-3 en)
    (
        "info_security",
        "en",
        [
            ("c", "My phone number has a problem with the broadband order"),
            ("a", "You can contact your manager Ou directly, whose contact number is 18927506623."),
        ],
        "good",
        "disclosed nothing",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "How do I set call forwarding on my phone number?"),
            ("a", "For example, to forward the call to 13810011234, input **21*13810011234#."),
        ],
        "good",
        "disclosed nothing",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "Why was my number shut down? My balance was fine"),
            ("a", "We inform you in advance when your balance is lower than a certain value."),
        ],
        "good",
        "disclosed nothing",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "Cheaters keep calling my phone number"),
            ("a", "We feel quite sorry that your phone number is disclosed."),
        ],
        "good",
        "disclosed nothing",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "My broadband is slow"),
            ("a", "We will call your number 18927506623 tomorrow."),
        ],
        "poor",
        "disclosed",
    ),
    # info_security: a question, a check or someone else's number is not a disclosure (CSDS,
    # STC-3 en, MAIA); self-service steps naming the CVV do not ask for it
    (
        "info_security",
        "zh",
        [("c", "我换了手机号"), ("a", "手机号是?")],
        "good",
        "disclosed nothing",
    ),
    (
        "info_security",
        "zh",
        [("c", "你看看手机号码是不是我刚才发给你的那个"), ("a", "是的亲，手机号是对的")],
        "good",
        "disclosed nothing",
    ),
    (
        "info_security",
        "zh",
        [("c", "师傅什么时候来"), ("a", "[电话]师傅手机号是这个，您下午联系下")],
        "na",
        "no personal",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "My line is cut off"),
            ("a", "I found that your number is overdue, please pay the bill."),
        ],
        "na",
        "no personal",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "I can't buy books"),
            ("a", "Could you check if your billing address is correct?"),
        ],
        "na",
        "no personal",
    ),
    (
        "info_security",
        "en",
        [
            ("c", "How do I change my card?"),
            (
                "a",
                "Log in, open Account Settings and enter your card number and security code (CVV).",
            ),
        ],
        "good",
        "disclosed nothing",
    ),
    (
        "info_security",
        "zh",
        [("c", "怎么验证"), ("a", "麻烦您提供一下验证码哦")],
        "poor",
        "验证码",
    ),
    # 致以诚挚的歉意 is an apology (STC-3 zh)
    (
        "empathy",
        "zh",
        [("c", "我要投诉！！！"), ("a", "给您带来不愉快的体验，我们致以诚挚的歉意。")],
        "average",
        "歉意",
    ),
    # proactiveness: a refusal that names who can help and how to reach them (TWCS), and a
    # delivery date answered (JDDC)
    (
        "proactiveness",
        "en",
        [
            ("c", "Can you tell me who can help?"),
            ("a", "We're sorry we can't help, but their telephone number is 0344 493 0787."),
        ],
        "average",
        "their telephone number",
    ),
    (
        "proactiveness",
        "zh",
        [("c", "什么时候到"), ("a", "亲，订单12月5号送达的")],
        "average",
        "号送达",
    ),
    # the problem gone after a step is a confirmed fix (STC-3 en)
    (
        "solution",
        "en",
        [
            ("c", "The keyboard keeps popping up."),
            ("a", "Please try to switch the system language and then switch it back."),
            ("c", "It didn't work."),
            ("a", "Please back up the data and restart the phone."),
            ("c", "I restarted the phone just now. It hasn't been any problem up to now."),
        ],
        "good",
        "hasn't been any problem",
    ),
    # "solved"/好了 in the opening message is about the problem, not a fix the agent gave
    # (STC-3: "it has not been solved for a week", "什么时候能好了")
    (
        "solution",
        "en",
        [
            ("c", "My broadband has not been fixed for a week. When will it be solved?"),
            ("a", "Hello, please send us your account via private message."),
        ],
        "average",
        "no solution step and no confirmation",
    ),
    (
        "solution",
        "en",
        [
            ("c", "My broadband is down."),
            ("a", "Hello, please restart the modem."),
            ("c", "Thanks, it is normal now."),
        ],
        "good",
        "normal now",
    ),
    # an emotion after the agent's last reply: the agent had no turn to soothe it (STC-3 en)
    (
        "empathy",
        "en",
        [
            ("c", "My bill is wrong."),
            ("a", "Please send us your number via private message."),
            ("c", "I called your complaint hotline already, this is ridiculous."),
        ],
        "na",
        "only after the agent's last reply",
    ),
    # not knowing, but passing it on or pointing elsewhere is no dead end (JDDC); a double
    # negative or the customer's phone that "can't answer" is no inability (CSDS, STC-3 en)
    (
        "solution",
        "zh",
        [("c", "可以赔付微信余额吗"), ("a", "这个小妹不清楚呢 小妹帮您转达专员给您回电告知您哦")],
        "average",
        "offered a way on",
    ),
    (
        "solution",
        "zh",
        [("c", "供应商说不知道"), ("a", "不会不知道的哦，晒单活动都是厂家活动的哈")],
        "average",
        "no solution step",
    ),
    (
        "solution",
        "en",
        [
            ("c", "My phone keeps failing to receive calls."),
            ("a", "Is there any reminder while you can't answer the phone?"),
        ],
        "average",
        "no solution step",
    ),
    (
        "solution",
        "zh",
        [("c", "为什么到青县了"), ("a", "亲亲小妹这边不清楚呢")],
        "poor",
        "could not answer",
    ),
    # order cards and product links for different orders are not a question asked again
    # (CSDS, JDDC)
    (
        "understanding",
        "zh",
        [
            ("c", "咨询订单号:[订单编号]商品ID:1263678"),
            ("a", "帮您锁单[数字]天哦"),
            ("c", "咨询订单号:[订单编号]商品ID:1189440129"),
            ("a", "好的"),
            ("c", "咨询订单号:[订单编号]商品ID:1039976"),
            ("a", "也帮您锁单了"),
            ("c", "http://item.jd.com/4116786.html"),
            ("a", "好的"),
            ("c", "http://item.jd.com/4533171.html"),
        ],
        "good",
        "no repeated",
    ),
    # an e-mail address given with thanks, then thanks again: nothing asked twice (STC-3 en)
    (
        "understanding",
        "en",
        [
            ("c", "What is the flow of remote assistance?"),
            ("a", "Please send your email address to me."),
            ("c", "85196069@qq.com. Thank you!"),
            ("a", "I have sent the email."),
            ("c", "OK, thank you!"),
        ],
        "good",
        "no repeated",
    ),
    # a refusal beside another channel or an alternative, or a condition, is not a bare
    # refusal (TWCS, STC-3)
    (
        "proactiveness",
        "en",
        [
            ("c", "Where is my delivery? Refund the charge."),
            (
                "a",
                "Oh no! Please contact us via phone/chat here: https://example.com/help "
                "We're unable to view order details via Twitter.",
            ),
        ],
        "average",
        "contact us via",
    ),
    (
        "proactiveness",
        "zh",
        [("c", "我只需要应用商店能用"), ("a", "这个确实是做不到的.您可以考虑用第三方的应用商店")],
        "average",
        "您可以考虑",
    ),
    (
        "proactiveness",
        "en",
        [
            ("c", "We will file a lawsuit."),
            ("a", "Please provide your order number, otherwise we can't help you to verify it."),
        ],
        "average",
        "no next-step",
    ),
    # the opening question is the request, not a chase; a delivery date given "为您送达" is
    # timing (STC-3 en, JDDC)
    (
        "proactiveness",
        "en",
        [
            ("c", "Any news? The TV broke again two hours after the repair."),
            ("a", "Hello! Your issue has been forwarded to the staff for handling. Thank you!"),
        ],
        "average",
        "no next-step",
    ),
    (
        "proactiveness",
        "zh",
        [("c", "我的快递什么时候能到?"), ("a", "亲亲预计12号为您送达哦")],
        "average",
        "号为您送达",
    ),
    (
        "proactiveness",
        "zh",
        [
            ("c", "我要退款"),
            ("a", "好的，已经为您提交了"),
            ("c", "那要等多久"),
            ("a", "好的"),
        ],
        "poor",
        "要等多久",
    ),
    # attitude: "we will deal with it" takes the problem on
    (
        "attitude",
        "en",
        [
            ("c", "My booking was cancelled!"),
            ("a", "I'm very sorry. We will deal with it and reply as soon as possible."),
        ],
        "good",
        "no blame-shifting, dismissive",
    ),
    # ... and so do "report and deal with it", "so that I can deal with it" (STC-3 en)
    (
        "attitude",
        "en",
        [
            ("c", "My booking was cancelled!"),
            (
                "a",
                "We have noted your problem and will report and deal with it as soon as possible.",
            ),
        ],
        "good",
        "no blame-shifting, dismissive",
    ),
    (
        "attitude",
        "en",
        [
            ("c", "Why was I charged twice?"),
            ("a", "Please send me your number via private message so that I can deal with it~"),
        ],
        "good",
        "no blame-shifting or cold cue",
    ),
    (
        "attitude",
        "en",
        [
            ("c", "The app keeps logging me out"),
            ("a", "That's how it works, you'll have to deal with it."),
        ],
        "poor",
        "deal with it",
    ),
    # 无法随意向您承诺 refuses to promise (JDDC)
    (
        "honesty",
        "zh",
        [
            ("c", "什么时候到货"),
            ("a", "本着对您负责的态度，确实无法随意向您承诺具体的到货时间的呢"),
        ],
        "na",
        "no commitment",
    ),
    (
        "honesty",
        "zh",
        [("c", "什么时候到"), ("a", "请您放心，货物今天肯定会送达哒")],
        "poor",
        "肯定会",
    ),
    # a statement of policy is not a refusal of the request
    (
        "proactiveness",
        "zh",
        [("c", "支持电信卡吗"), ("a", "目前仅支持移动/联通的SIM卡，不支持电信卡。")],
        "average",
        "no next-step",
    ),
]


def _case_id(case: tuple) -> str:
    return f"{case[0]}-{case[1]}-{case[3]}"


def check_case(grader: OfflineGrader, chat: Chat, criterion: str, expected: str, cue: str) -> Grade:
    g = grade_one(grader, chat, criterion)
    if expected == "na":
        assert (g.status, g.level) == ("na", None), g.rationale
        assert g.confidence == offline_rules.ABSENCE
    else:
        assert (g.status, g.level) == ("scored", expected), g.rationale
    assert cue in g.rationale, g.rationale
    return g


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_levels(grader: OfflineGrader, case: tuple) -> None:
    criterion, language, turns, expected, cue = case
    check_case(grader, make_chat(language, turns), criterion, expected, cue)


_S2T = opencc.OpenCC("s2t.json")
ZH_CASES = [c for c in CASES if c[1] == "zh"]


@pytest.mark.parametrize("case", ZH_CASES, ids=[_case_id(c) for c in ZH_CASES])
def test_levels_traditional(grader: OfflineGrader, case: tuple) -> None:
    """Every zh case written in traditional characters grades the same and cites the original."""
    criterion, _, turns, expected, cue = case
    trad = [(r, _S2T.convert(t)) for r, t in turns]
    assert trad != turns or criterion == "info_security"  # the conversion really changed text
    g = check_case(grader, make_chat("zh", trad), criterion, expected, _S2T.convert(cue))
    for ev in g.evidence:  # quotes are the traditional original, not the simplified copy
        assert ev.quote in dict((f"m{i + 1}", t) for i, (_, t) in enumerate(trad))[ev.message_id]


def test_hand_written_traditional_chat(grader: OfflineGrader) -> None:
    chat = make_chat(
        "zh",
        [
            ("c", "我的包裹到底怎麼回事？等了好久了，氣死了！！！"),
            ("a", "非常抱歉給您帶來不便，我很理解您的心情，請您放心。請提供下單手機號後四位。"),
            ("c", "5678"),
            ("a", "已為您加急，24小時內會有專人聯繫您，預計明天送達。"),
            ("c", "好的，謝謝"),
        ],
    )
    grades = {g.criterion: g for g in asyncio.run(grader.grade(chat, RUBRIC))}
    assert grades["empathy"].level == "good"
    assert grades["empathy"].confidence == offline_rules.STRONG  # soothing and apology
    assert "「請您放心」(m2)" in grades["empathy"].rationale
    assert (
        grades["empathy"].evidence[0].quote == "非常抱歉給您帶來不便，我很理解您的心情，請您放心。"
    )
    assert grades["proactiveness"].level == "good"  # 聯繫您 (follow-up) + 小時內 (timing)
    assert grades["info_security"].level == "good"  # 下單手機號 before anything disclosed
    assert grades["info_security"].evidence == [
        grades["info_security"]
        .evidence[0]
        .model_copy(update={"message_id": "m2", "quote": "請提供下單手機號後四位。"})
    ]
    assert grades["honesty"].level == "good"  # 預計 hedges the commitment


def test_agent_scope_cites_only_agent_messages(grader: OfflineGrader) -> None:
    """A poor understanding grade cites the agent reply the customer objected to."""
    chat = make_chat(
        "en",
        [
            ("c", "When will my refund arrive?"),
            ("a", "Our return window is 30 days."),
            ("c", "That's not what I asked."),
        ],
    )
    g = grade_one(grader, chat, "understanding")
    assert g.level == "poor"
    assert [(e.message_id, e.quote) for e in g.evidence] == [
        ("m2", "Our return window is 30 days.")
    ]
    chat_scope = make_rubric([criterion_spec("understanding", scope="chat")], "en")
    g2 = grade_one(grader, chat, "understanding", chat_scope)
    assert g2.level == "poor"  # chat scope may cite the customer too (context only here)
    assert {e.message_id for e in g2.evidence} == {"m2"}


def test_bot_and_auto_messages_are_nobodys_words(grader: OfflineGrader) -> None:
    chat = Chat(
        chat_id="auto",
        language="en",
        messages=[
            Message(id="m1", role="customer", ts=T0, text="This is ridiculous!"),
            Message(id="m2", role="agent", ts=T0, text="Sorry for the wait!", auto=True),
            Message(id="m3", role="bot", ts=T0, text="I understand how frustrating this is."),
            Message(id="m4", role="agent", ts=T0, text="What is the order number?"),
        ],
    )
    g = grade_one(grader, chat, "empathy")
    assert g.level == "poor"  # the macro apology and the bot's line don't count
    assert [e.message_id for e in g.evidence] == ["m4"]


def test_unknown_rule_set_is_unscored(grader: OfflineGrader) -> None:
    rubric = make_rubric(
        [criterion_spec("empathy", na=True), criterion_spec("tone", offline_rules="warmth")]
    )
    grades = asyncio.run(grader.grade(make_chat("zh", [("c", "你好"), ("a", "您好")]), rubric))
    assert [g.criterion for g in grades] == ["empathy", "tone"]
    tone = grades[1]
    assert (tone.status, tone.level, tone.confidence) == ("unscored", None, None)
    assert tone.error is not None
    assert tone.error.startswith(
        "the offline grader has no rules for criterion tone (offline_rules: warmth)"
    )
    no_rules = make_rubric([criterion_spec("creativity")])
    (g,) = asyncio.run(grader.grade(make_chat("en", [("c", "hi")]), no_rules))
    assert g.status == "unscored" and "criterion creativity (offline_rules: creativity)" in g.error


def five_level_rubric() -> Rubric:
    """An eval-style criterion with 5 levels -2..2 (points 0..4), graded by the solution rules."""
    return make_rubric(
        [
            {
                "id": "task",
                "title": "task",
                "points": 4,
                "kind": "llm",
                "offline_rules": "solution",
                "levels": [
                    {"id": "2", "points": 4},
                    {"id": "-1", "points": 1, "fail": True},
                    {"id": "0", "points": 2},
                    {"id": "-2", "points": 0, "fail": True},
                    {"id": "1", "points": 3},
                ],
            }
        ],
        "en",
    )


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        ([("c", "How?"), ("a", "Go to Settings and tap Reset."), ("c", "That worked!")], "2"),
        ([("c", "How?"), ("a", "Go to Settings and tap Reset.")], "0"),  # average -> middle
        ([("c", "How?"), ("a", "Tap Reset."), ("c", "Still not working.")], "-2"),
    ],
)
def test_five_levels_mapped_by_ordinal_position(
    grader: OfflineGrader, turns: list[tuple[str, str]], expected: str
) -> None:
    rubric = five_level_rubric()
    (g,) = asyncio.run(grader.grade(make_chat("en", turns), rubric))
    assert (g.status, g.level) == ("scored", expected)
    assert g.rationale.startswith("[solution] ")  # the rule set is named when it isn't the id


def test_level_for_other_scales() -> None:
    two = make_rubric(
        [
            {
                "id": "x",
                "title": "x",
                "points": 1,
                "kind": "llm",
                "levels": [{"id": "pass", "points": 1}, {"id": "fail", "points": 0, "fail": True}],
            }
        ]
    ).criteria[0]
    assert [level_for(two, r) for r in (0, 1, 2)] == ["fail", "pass", "pass"]
    four = make_rubric(
        [
            {
                "id": "y",
                "title": "y",
                "points": 3,
                "kind": "llm",
                "levels": [{"id": f"l{p}", "points": p} for p in (0, 1, 2, 3)],
            }
        ]
    ).criteria[0]
    # index = round_half_up(rank * 3 / 2): 0 -> 0, 1 -> 2 (1.5 up), 2 -> 3
    assert [level_for(four, r) for r in (0, 1, 2)] == ["l0", "l2", "l3"]


def test_na_not_allowed_gives_the_top_level(grader: OfflineGrader) -> None:
    rubric = make_rubric([criterion_spec("empathy"), criterion_spec("honesty")])
    chat = make_chat("zh", [("c", "请问几点营业？"), ("a", "9点到18点。")])
    empathy, honesty = asyncio.run(grader.grade(chat, rubric))
    for g in (empathy, honesty):
        assert (g.status, g.level) == ("scored", "good")
        assert "n/a not allowed by the rubric" in g.rationale
        assert g.confidence == offline_rules.ABSENCE
        assert g.evidence == []


def test_shipped_rubrics_are_fully_graded(grader: OfflineGrader) -> None:
    for name, lang in (("online-chat-zh", "zh"), ("online-chat-en", "en")):
        rubric = load_rubric(name)
        chat = make_chat(lang, [("c", "hello 你好"), ("a", "Hi, how can I help? 您好")])
        grades = asyncio.run(grader.grade(chat, rubric))
        assert [g.criterion for g in grades] == [c.id for c in rubric.llm_criteria]
        assert all(g.status in ("scored", "na") for g in grades)
        assert max(g.confidence or 0 for g in grades) <= offline_rules.STRONG


def test_grader_protocol_and_lifecycle(grader: OfflineGrader) -> None:
    assert isinstance(grader, Grader)
    assert (grader.name, grader.model) == ("offline", None)
    asyncio.run(grader.aclose())


def test_settings_key_changes_when_cues_change(tmp_path: Path) -> None:
    cues = tmp_path / "cues"
    shutil.copytree(DEFAULT_CUES_DIR, cues)
    before = OfflineGrader(cues).settings_key()
    assert before == OfflineGrader(cues).settings_key() == OfflineGrader().settings_key()
    assert f"rules={offline_rules.RULES_VERSION}" in before
    path = cues / "empathy.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["groups"]["soothing"]["zh"].append("我懂您")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    edited = OfflineGrader(cues)
    assert edited.settings_key() != before
    # and the new cue is live
    chat = make_chat("zh", [("c", "气死了"), ("a", "我懂您")])
    assert grade_one(edited, chat, "empathy").level == "good"


def test_invalid_cue_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("groups: {x: {role: agent, zh: [a], colour: red}}")
    with pytest.raises(GraderError, match=r"a\.yaml.*colour"):
        CueLibrary.load(tmp_path)
    (tmp_path / "a.yaml").write_text("groups: {x: {role: agent, zh: [a]}}")
    (tmp_path / "b.yaml").write_text("groups: {x: {role: customer, en: [b]}}")
    with pytest.raises(GraderError, match="'x' is defined in both a.yaml and b.yaml"):
        CueLibrary.load(tmp_path)
    with pytest.raises(GraderError, match="no cue files"):
        CueLibrary.load(tmp_path / "empty")


def test_a_failing_rule_is_unscored_not_raised(
    grader: OfflineGrader, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_signals: offline_rules.Signals) -> offline_rules.Outcome:
        raise ValueError("boom")

    monkeypatch.setitem(offline_rules.RULES, "attitude", broken)
    grades = asyncio.run(grader.grade(make_chat("en", [("c", "hi"), ("a", "hello")]), RUBRIC))
    by_id = {g.criterion: g for g in grades}
    assert by_id["attitude"].status == "unscored"
    assert by_id["attitude"].error == "offline rule attitude failed: ValueError: boom"
    assert by_id["expression"].status == "scored"


def test_normalise_keeps_offsets() -> None:
    text = "給您帶來不便ＯＫ？I’M SORRY"
    norm = normalise(text, "zh")
    assert len(norm) == len(text)
    assert norm == "给您带来不便ok?i'm sorry"
    assert len(normalise("İstanbul", "en")) == len("İstanbul")  # İ lowers to 2 chars: kept


def test_snippet_is_a_verbatim_slice() -> None:
    text = "您好。非常抱歉给您带来不便！我们马上处理。"
    start = text.index("抱歉")
    assert snippet(text, start, start + 2) == "非常抱歉给您带来不便！"
    long = "a" * 50 + "sorry" + "b" * 200
    quote = snippet(long, 50, 55)
    assert "sorry" in quote and quote in long and len(quote) == 80


# --- shortcuts taken for speed give what the long way gives ---------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from auditor.grading import offline  # noqa: E402

_LIBRARY = CueLibrary.load()
_WHOLE_KEYS = sorted({k for whole in _LIBRARY._whole.values() for k in whole})
_WORDY = st.lists(
    st.sampled_from([*"嗯好的okK 1０,.!！？~～_\n\t。…", *_WHOLE_KEYS]), max_size=8
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_WORDY)
def test_whole_message_regex_matches_exactly_the_reduced_keys(text: str) -> None:
    assert _WHOLE_KEYS  # the shipped cues have whole-message groups (terse replies)
    for key, whole in _LIBRARY._whole.items():
        regex = _LIBRARY._whole_re[key]
        norm = normalise(text, key[0])
        reduced = offline._PUNCT_SPACE.sub("", norm)
        expected = reduced in whole
        assert (regex is not None and regex.fullmatch(norm) is not None) == expected, (key, text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from([*"ab 字x'9\n。！!?."]), max_size=120),
    st.sampled_from(["zh", "en"]),
)
def test_short_texts_are_never_long(text: str, lang: str) -> None:
    assert not offline._is_long(text, lang)
    assert not offline._is_long_text(text, lang)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"0123456789１٣xX@.-_ a"]), max_size=40))
def test_pii_pre_check_hides_no_match(text: str) -> None:
    spans = tuple((m.start(), m.end(), m.group()) for m in offline._PII.finditer(text))
    assert offline._pii_spans(text) == spans


def test_cached_message_analysis_gives_the_same_grades(grader: OfflineGrader) -> None:
    rubric = load_rubric("online-chat-zh")
    chat = make_chat(
        "zh", [("c", "我的包裹到底怎么回事？气死了！！！"), ("a", "非常抱歉，我很理解您的心情。")]
    )
    first = [g.model_dump_json() for g in grader.grade_sync(chat, rubric)]
    assert [g.model_dump_json() for g in grader.grade_sync(chat, rubric)] == first


#: pieces of what _NOT_SAID drops (links, cards, thanks), and text around them
_SAID_PIECES = st.lists(
    st.sampled_from(
        [
            *("http://", "https://x.cn/a", "www.", "[订单编号]", "[", "]", "咨询订单号", "订单号"),
            *("商品 id", "商品编号", "订单金额", "下单时间", "thanks", "thank you", "OK", "okay"),
            *("谢谢", "好的", "ok?", "a.b", "x+y", "-", "_", " ", "\n", "快递", "where", "9"),
        ]
    ),
    max_size=10,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_SAID_PIECES)
def test_not_said_without_its_at_alternatives_drops_the_same_from_text_without_an_at(
    text: str,
) -> None:
    assert "@" not in text
    assert offline._NOT_SAID_WITHOUT_AT.sub("", text) == offline._NOT_SAID.sub("", text)
