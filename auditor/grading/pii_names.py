"""Personal names where a cue makes them certain — no NER model, no name list to download.

* Chinese: a surname from the table below (about 250 single-character surnames, which
  most Chinese people carry, and 20 compound ones) directly before 先生/女士/小姐/老师 —
  ``张先生``, ``王小明女士``, ``李老师``, ``欧阳娜娜小姐`` (the name is masked, the
  honorific stays: ``⟨NAME_1⟩先生``) — or after an introduction — ``我叫张三``,
  ``收件人：李四``, ``联系人王五``;
* English: a capitalised name after a title (``Mr``, ``Mrs``, ``Ms``, ``Miss``, ``Mx``,
  ``Dr``) or after ``my name is`` / ``name:`` / ``recipient:``.

Not masked: a name with no such cue ("张三说过", "ask John"), given names alone, nicknames,
and names in scripts other than Chinese and Latin.
"""

from __future__ import annotations

import re

from .pii_types import Span

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
    "解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬"
    "边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
    "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里",
)  # fmt: skip
_SINGLE = set(SURNAMES)
#: Only honorifics that follow a name; 师傅/经理/阿姨 are as often generic ("安排师傅上门").
_HONORIFIC = re.compile(
    r"(?:先生|女士|小姐|老师)(?!手提|包|鞋|装|衣|用品|专用|款|系列|手表|香水|内衣)"
)
_ZH_INTRO = re.compile(
    r"(?:我叫|我的名字是|我的名字叫|名字是|本人|姓名|收件人|收货人|联系人|寄件人|取件人)"
    r"(?:是|为|叫)?[:：]?\s*"
    r"(?!方式|电话|手机|信息|地址|名字|姓名|是谁|的|和|与|及)"  # 联系人方式: contact details
    rf"(?P<v>(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])[\u4e00-\u9fff]{{1,2}}?)"
    r"(?=[^\u4e00-\u9fff]|$|电话|手机|地址|的|先生|女士|小姐|收|在|说|已|要|想)"
)
_EN_TITLE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+"
    r"(?P<v>[A-Z][a-z'\-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-z'\-]+)?)"
)
_ASCII_CAPITAL = re.compile("[A-Z]")
_EN_INTRO = re.compile(
    r"(?i:\bmy\s+name\s+is|\bmy\s+name's|\bname\s*:|\brecipient\s*:|\bconsignee\s*:)\s*"
    r"(?P<v>[A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+){0,2})"
)


#: Characters that do not occur inside a name after its surname (courtesy words, pronouns,
#: particles): "谢谢王先生" is 王, not 谢王 or 谢谢王.
_NOT_IN_NAME = set(
    "谢您好的是请问位了吗呢啊和与跟给对向让叫找喂嗨你我他她个各这那哪谁亲爱尊敬本该此"
)
#: Surnames that are far more often a preposition or conjunction before a name ("和王先生").
_NOT_FIRST = set("和与于向跟给对让叫找请为把被由")
#: Two-character words whose second character is a surname: "谢谢先生" names no one.
_WORDS = {
    "谢谢",
    "感谢",
    "多谢",
    "明白",
    "说明",
    "完成",
    "清楚",
    "告诉",
    "认同",
    "不同",
    "相同",
    "如何",
}


def _zh_name_before(text: str, end: int) -> int | None:
    """Start of the longest plausible surname-led name (1-4 characters) ending at ``end``."""
    for length in (4, 3, 2, 1):
        start = end - length
        if start < 0:
            continue
        name = text[start:end]
        if not all("\u4e00" <= c <= "\u9fff" for c in name):
            continue
        compound = name[:2] in COMPOUND_SURNAMES
        if not (compound or (length <= 3 and name[0] in _SINGLE)):
            continue
        if (
            name[0] in _NOT_FIRST
            or any(c in _NOT_IN_NAME for c in name[1:])
            or text[max(0, start - 1) : start + 1] in _WORDS
        ):
            continue
        if length == 4 and not compound:
            continue
        return start
    return None


def find_names(text: str) -> list[Span]:
    out = []
    for m in _HONORIFIC.finditer(text):
        start = _zh_name_before(text, m.start())
        if start is not None:
            out.append(Span(start, m.start(), "NAME"))
    # both English patterns capture a name that starts with an ASCII capital
    for pattern in (
        (_ZH_INTRO, _EN_TITLE, _EN_INTRO) if _ASCII_CAPITAL.search(text) else (_ZH_INTRO,)
    ):
        out.extend(Span(m.start("v"), m.end("v"), "NAME") for m in pattern.finditer(text))
    return out
