"""Every kind of personal data the masker claims, and its lookalikes (issue 11 item 18).

One case per kind that was let through before (English street addresses, the rest of a
Chinese address after 号, IDN e-mails, phones in Chinese numerals, passports, QQ/WeChat ids,
IP addresses, names after a cue), and ordinary service text that must stay readable.
"""

from __future__ import annotations

import pytest
from fake_openai.data import make_chat

from auditor.grading.evidence import verify_evidence
from auditor.grading.pii import ChatMasker, mask_chat


def masked(text: str) -> str:
    return ChatMasker().mask(text).masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English street addresses, with what follows them on the line
        (
            "Send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500 please",
            "Send it to ⟨ADDRESS_1⟩ please",
        ),
        ("Ship to 55 West 45th Street, New York, NY 10036", "Ship to ⟨ADDRESS_1⟩"),
        ("I live at 10 Downing Street, London SW1A 2AA.", "I live at ⟨ADDRESS_1⟩."),
        ("it's 221b baker street, apt 4 thanks", "it's ⟨ADDRESS_1⟩ thanks"),
        ("mail it to PO Box 1234, thanks", "mail it to ⟨ADDRESS_1⟩, thanks"),
        # the rest of a Chinese address after 号
        ("寄到北京市朝阳区建国路88号院3号楼2单元1203", "寄到⟨ADDRESS_1⟩"),
        ("地址：上海市徐汇区漕溪北路88号万达广场B座1502室，谢谢", "地址：⟨ADDRESS_1⟩，谢谢"),
        ("广州市天河区天河路385号 3栋 1单元 1203，谢谢", "⟨ADDRESS_1⟩，谢谢"),
        ("深圳市南山区科技园路1号3-2-1203", "⟨ADDRESS_1⟩"),
        ("我住在阳光花园小区3栋2单元501室", "我住在⟨ADDRESS_1⟩"),
        # IDN e-mails
        ("邮箱张三@公司.中国 谢谢", "邮箱⟨EMAIL_1⟩ 谢谢"),
        ("write to josé@correo.es", "write to ⟨EMAIL_1⟩"),
        ("почта: иван@пример.рф", "почта: ⟨EMAIL_1⟩"),
        ("mail me at user@xn--fiqs8s.xn--fiqz9s ok", "mail me at ⟨EMAIL_1⟩ ok"),
        # phones in Chinese numerals (validated as numbers)
        ("电话一三八一二三四五六七八", "电话⟨PHONE_1⟩"),
        ("手机幺三九 零零零零 一一一一", "手机⟨PHONE_1⟩"),
        ("打138一二三四5678", "打⟨PHONE_1⟩"),
        # passports
        ("护照E12345678", "护照⟨PASSPORT_1⟩"),
        ("护照号码是 EA1234567", "护照号码是 ⟨PASSPORT_1⟩"),
        ("passport no. K1234567 expires", "passport no. ⟨PASSPORT_1⟩ expires"),
        ("港澳通行证 C12345678", "港澳通行证 ⟨PASSPORT_1⟩"),
        # QQ / WeChat ids (the cue stays)
        ("QQ号 123456789", "QQ号 ⟨QQ_1⟩"),
        ("我的qq是8765432", "我的qq是⟨QQ_1⟩"),
        ("微信号：zhang_san88", "微信号：⟨WECHAT_1⟩"),
        ("加我vx abc123456", "加我vx ⟨WECHAT_1⟩"),
        ("wx is zhangsan", "wx is ⟨WECHAT_1⟩"),
        # IP addresses
        ("my IP is 192.168.1.20", "my IP is ⟨IP_1⟩"),
        ("登录地址 2001:db8::8a2e:370:7334 异常", "登录地址 ⟨IP_1⟩ 异常"),
        # names after a cue
        ("谢谢王先生", "谢谢⟨NAME_1⟩先生"),
        ("王小明女士您好", "⟨NAME_1⟩女士您好"),
        ("欧阳娜娜小姐", "⟨NAME_1⟩小姐"),
        ("我叫张三，电话", "我叫⟨NAME_1⟩，电话"),
        ("收件人：李四", "收件人：⟨NAME_1⟩"),
        ("Mr Smith called", "Mr ⟨NAME_1⟩ called"),
        ("with Dr. Ruth E. Howard at 3", "with Dr. ⟨NAME_1⟩ at 3"),
        ("用户:[数字]申女士", "用户:[数字]⟨NAME_1⟩女士"),
        ("Dear Ms. Jane Doe,", "Dear Ms. ⟨NAME_1⟩,"),
        ("Hi, my name is John Smith.", "Hi, my name is ⟨NAME_1⟩."),
    ],
)
def test_each_kind_is_masked(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I have 3 boxes on the road",  # no capitalised street name, no unit or ZIP
        "Turn right on Main Street",
        "我这里3号就发货",
        "我在路上，马上到",
        "我买了一二三四五六七八件",  # not a valid phone number read as digits
        "三三两两",
        "wechat official account",  # a bare word after the cue is not an id
        "微信支付已到账",
        "QQ音乐会员",
        "at 10:30:45 today",  # a time is not an IPv6 address
        "Note:: see above",
        "好的先生，这就为您处理",  # no surname before the honorific
        "各位老师好",
        "谢谢先生",
        "好的，那我这边直接为您安排师傅上门检修。",  # 师傅 is not a name cue
        "本人已收到货",
        "please give me a refund",
        "麻烦给个五星好评",
        "订单已发货，3天内送达",
        "能给我配送货的联系人方式吗?",  # 联系人 + 方式: contact details, not a name
        "收货人电话和姓名和地址",
        "感谢小姐姐",
        "空心线圈圈包女士手提包",  # a product: women's handbag
        "the reference number is : VXSYVE96.",  # VX inside a code is not a WeChat cue
    ],
)
def test_lookalikes_are_left_alone(text: str) -> None:
    assert masked(text) == text


def test_new_kinds_keep_evidence_verifying_against_the_transcript() -> None:
    chat = make_chat(
        ("customer", "寄到北京市朝阳区建国路88号院3号楼2单元1203，我叫张三，微信号：zhang_san88"),
        ("agent", "好的张先生，已登记北京市朝阳区建国路88号院3号楼2单元1203"),
    )
    m = mask_chat(chat)
    assert m.masked("m1") == "寄到⟨ADDRESS_1⟩，我叫⟨NAME_1⟩，微信号：⟨WECHAT_1⟩"
    assert m.masked("m2") == "好的⟨NAME_2⟩先生，已登记⟨ADDRESS_1⟩"  # the same address: same id
    result = verify_evidence(
        [("m2", "已登记⟨ADDRESS_1⟩"), ("m2", "好的⟨NAME_2⟩先生")],
        chat,
        criterion="info_security",
        scope="agent",
        masked=m,
    )
    assert result.ok, result.errors
    assert [e.quote for e in result.evidence] == [
        "已登记北京市朝阳区建国路88号院3号楼2单元1203",
        "好的张先生",
    ]
    assert (
        m.masker.unmask("客服复述了⟨ADDRESS_1⟩")
        == "客服复述了北京市朝阳区建国路88号院3号楼2单元1203"
    )
