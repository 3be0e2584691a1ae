"""PII masking: what is masked, stable placeholders, the way back to the original."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from fake_openai.data import make_chat
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.grading.pii import (
    KINDS,
    ChatMasker,
    Span,
    find_cards,
    find_id_numbers,
    find_orders,
    find_phones,
    find_pii,
    mask_chat,
    min_phone_digits,
)
from auditor.grading.pii_address import find_addresses
from auditor.grading.pii_contacts import find_emails, find_ips, find_messenger_ids, find_passports
from auditor.grading.pii_names import find_names


def masked(text: str, orders: list[str] | None = None) -> str:
    return ChatMasker(orders or []).mask(text).masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机号是13812345678，请联系", "我的手机号是⟨PHONE_1⟩，请联系"),
        ("call 138-1234-5678 ok", "call ⟨PHONE_1⟩ ok"),
        ("London +44 20 7946 0958 please", "London ⟨PHONE_1⟩ please"),
        ("座机010-62345678", "座机⟨PHONE_1⟩"),
        ("邮箱 zhang.san@example.com 谢谢", "邮箱 ⟨EMAIL_1⟩ 谢谢"),
        ("身份证110101199003074514", "身份证⟨ID_1⟩"),
        ("卡号 4111 1111 1111 1111", "卡号 ⟨CARD_1⟩"),
        ("地址是北京市朝阳区建国路88号3号楼2单元501室，谢谢", "地址是⟨ADDRESS_1⟩，谢谢"),
        ("我住在上海市浦东新区世纪大道100号", "我住在⟨ADDRESS_1⟩"),
        ("Ship to 221 Baker Street, Apt 2B please", "Ship to ⟨ADDRESS_1⟩ please"),
    ],
)
def test_each_kind_is_masked(text, expected):
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "身份证110101199003074515",  # wrong check digit: not an ID
        "卡号 4111 1111 1111 1112",  # fails Luhn: not a card
        "订单金额 128 元，3 天内到",  # small numbers
        "我在路上，马上到",  # 路 without a street number is not an address
        "Turn right on Main Street",  # a street name without a number
        "您好，很高兴为您服务",
    ],
)
def test_lookalikes_are_left_alone(text):
    assert masked(text) == text


def test_order_numbers_follow_the_rubric_patterns():
    assert masked("订单DD12345678已发货", [r"DD\d{8}"]) == "订单⟨ORDER_1⟩已发货"
    assert masked("订单DD12345678已发货") == "订单DD12345678已发货"


def test_placeholders_are_stable_within_a_chat():
    chat = make_chat(
        ("customer", "号码13812345678，备用13900001111"),
        ("agent", "好的，13812345678 已登记"),
    )
    m = mask_chat(chat)
    assert m.masked("m1") == "号码⟨PHONE_1⟩，备用⟨PHONE_2⟩"
    assert m.masked("m2") == "好的，⟨PHONE_1⟩ 已登记"
    assert m.mapping == {"⟨PHONE_1⟩": "13812345678", "⟨PHONE_2⟩": "13900001111"}
    assert m.masker.unmask("客服复述了⟨PHONE_1⟩和⟨PHONE_9⟩") == "客服复述了13812345678和⟨PHONE_9⟩"


def test_spans_map_back_to_original_text():
    text = "电话13812345678，邮箱a@b.cn"
    mt = ChatMasker().mask(text)
    assert mt.masked == "电话⟨PHONE_1⟩，邮箱⟨EMAIL_1⟩"
    start = mt.masked.index("⟨PHONE_1⟩")
    assert mt.to_original(0, start + len("⟨PHONE_1⟩") + 1) == "电话13812345678，"
    assert mt.to_original(0, len(mt.masked)) == text


def test_overlaps_resolve_by_priority():
    # an 18-digit valid ID is also a digit run an order pattern would take: ID wins
    spans = find_pii("110101199003074514", [__import__("re").compile(r"\d{10,20}")])
    assert [s.kind for s in spans] == ["ID"]


@given(st.text(max_size=60))
def test_masking_round_trips_any_text(text):
    mt = ChatMasker([r"DD\d{8}"]).mask(text)
    assert mt.to_original(0, len(mt.masked)) == text
    for r in mt.replacements:
        assert mt.masked[r.masked_start : r.masked_end] == r.placeholder
        assert mt.to_original(r.masked_start, r.masked_end) == text[r.orig_start : r.orig_end]


def test_min_phone_digits_is_the_shortest_valid_number():
    # CN's shortest national number has 7 digits; written internationally, Austria (+43),
    # Germany (+49) and Iran (+98) have 4-digit national numbers: 2 + 4 = 6
    assert min_phone_digits("CN") == 6


@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789０１２+-() ./x号电话打") + ["\u0661"]),
        max_size=40,
    ).filter(lambda t: sum(ch.isdigit() for ch in t) < min_phone_digits("CN"))
)
@settings(max_examples=300, deadline=None)
def test_texts_below_the_digit_floor_hold_no_phone_for_libphonenumber(text):
    # the floor only skips work: the matcher itself finds nothing in such a text
    matcher = phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.VALID)
    assert list(matcher) == []


def test_a_number_at_or_above_the_floor_is_still_found():
    assert [s.kind for s in find_phones("电话 13812345678")] == ["PHONE"]


def test_a_recurring_text_masks_the_same_in_every_chat():
    # find_pii's results are remembered per text; placeholders stay numbered per chat
    canned = "请拨打 13812345678 或 13987654321 联系我们"
    first = ChatMasker().mask("我的号码 13987654321")
    assert first.masked == "我的号码 ⟨PHONE_1⟩"
    one, two = ChatMasker(), ChatMasker()
    one.mask("我的号码 13987654321")
    assert one.mask(canned).masked == "请拨打 ⟨PHONE_2⟩ 或 ⟨PHONE_1⟩ 联系我们"
    assert two.mask(canned).masked == "请拨打 ⟨PHONE_1⟩ 或 ⟨PHONE_2⟩ 联系我们"
    assert ChatMasker(["DD\\d{8}"]).mask("DD20240012 13812345678").masked == ("⟨ORDER_1⟩ ⟨PHONE_1⟩")
    assert ChatMasker().mask("DD20240012 13812345678").masked == "DD20240012 ⟨PHONE_1⟩"


@given(
    st.text(
        alphabet=st.sampled_from(
            list("0123456789０１号栋幢座楼单元层室房户门期排区路街道小区花园大厦AB一二十 -")
        ),
        max_size=30,
    )
)
@settings(max_examples=400, deadline=None)
def test_the_address_prefilter_never_hides_an_address(text):
    # find_addresses skips the big Chinese pattern where its cheap prefilter finds nothing
    from auditor.grading.pii_address import _ZH_ADDRESS, _ZH_NEEDED

    if _ZH_ADDRESS.search(text):
        assert _ZH_NEEDED.search(text)


@given(
    st.lists(
        st.sampled_from(
            list("0123456789 -,#.ABNW号") + ["Street", "St", "Ave", "road", "Apt", "Box", "PO"]
        ),
        max_size=12,
    ).map("".join)
)
@settings(max_examples=400, deadline=None)
def test_the_english_address_prefilter_never_hides_an_address(text):
    from auditor.grading.pii_address import _EN_ADDRESS, _EN_ADDRESS_LOWER, _EN_NEEDED, _PO_BOX

    if any(p.search(text) for p in (_EN_ADDRESS, _EN_ADDRESS_LOWER, _PO_BOX)):
        assert _EN_NEEDED.search(text)


def every_detector(text: str, orders: list[re.Pattern[str]]) -> list[Span]:
    """find_pii without its shortcut: every detector run, overlaps resolved by priority."""
    found = [
        *find_emails(text),
        *find_id_numbers(text),
        *find_orders(text, orders),
        *find_cards(text),
        *find_passports(text),
        *find_phones(text),
        *find_messenger_ids(text),
        *find_ips(text),
        *find_addresses(text),
        *find_names(text),
    ]
    kept: list[Span] = []
    for s in sorted(found, key=lambda s: KINDS.index(s.kind)):
        if all(s.end <= t.start or s.start >= t.end for t in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


@given(
    st.lists(
        st.sampled_from(
            list("D0123456789 -+()号码单一三八幺") + ["13812345678", "DD2024", "DD20240012"]
        ),
        max_size=12,
    ).map("".join)
)
@settings(max_examples=400, deadline=None)
def test_skipping_the_phone_matcher_beside_an_order_number_changes_no_span(text):
    # with fewer free digits than a phone needs outside the spans taken before phones
    # (an order number's digits are the ORDER's), find_pii skips libphonenumber
    orders = [re.compile(r"DD\d{8}")]
    assert find_pii(text, orders) == every_detector(text, orders)
