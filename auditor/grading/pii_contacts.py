"""Contact details beyond phone numbers: IDN e-mails, phones in Chinese numerals, passport
numbers, QQ and WeChat ids, IP addresses.

* e-mail: any script in the local part and the domain (``张三@公司.中国``,
  ``josé@correo.es``, ``почта@пример.рф``, punycode ``xn--…``); a Chinese lead-in glued to
  the local part (``邮箱张三@…``) is left outside the span;
* phone in Chinese numerals (``一三八一二三四五六七八``, ``幺三九…``, mixed with digits):
  the run is read as digits and kept only when libphonenumber says it is a valid number;
* passport: the Chinese formats (``E12345678``, ``EA1234567``, ``G12345678``) anywhere, and
  6-9 letters/digits after a cue (护照, 通行证, passport);
* QQ: 5-11 digits after QQ/QQ号/扣扣/企鹅号; WeChat: the id after 微信/微信号/vx/wx/weixin/
  wechat (6-20 characters starting with a letter, or 6-11 digits; a bare word needs a digit,
  ``_`` or ``-``, or a separator such as ``：``/``是``/``is``) — the cue word stays readable;
* IP address: IPv4 and IPv6 literals that Python's ``ipaddress`` accepts.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

import phonenumbers

from .pii_types import Span

_EMAIL = re.compile(
    r"[\w.%+\-]{1,64}@(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+"
    r"(?:xn--[a-z0-9\-]{2,59}|[A-Za-z]{2,24}|[^\W\d_\u4e00-\u9fff]{2,24}"
    r"|中国|中國|公司|网络|網絡|在线|集团|商城|网址|网店|手机|我爱你|香港|台湾|台灣|新加坡|政务|公益)"
    r"(?![A-Za-z])"
)
#: A Chinese lead-in glued to an e-mail's local part: not part of the address.
_EMAIL_LEAD = re.compile(r"^.*(?:邮箱|邮件|电邮|信箱|地址|是|为|到|至|发|给)[:：]?")

_ZH_DIGIT = {
    "〇": "0", "零": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_ZH_PHONE_RUN = re.compile(
    r"[〇零一幺二两三四五六七八九0-9](?:[\s\-]?[〇零一幺二两三四五六七八九0-9]){6,13}"
)

_PASSPORT = re.compile(r"(?<![A-Za-z0-9])(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7})(?![A-Za-z0-9])")
_PASSPORT_CUE = re.compile(
    r"(?:护照|通行证|passport)(?:\s*(?:no\.?|number|#|号码?|号))?\s*(?:是|为|is)?[:：]?\s*"
    r"(?P<v>(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{6,9})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_QQ = re.compile(
    r"(?:(?<![A-Za-z])qq|扣扣|企鹅)(?:\s*号码?|\s*号)?\s*(?:是|为|:|：|is)?\s*"
    r"(?P<v>[1-9]\d{4,10})(?!\d)",
    re.IGNORECASE,
)
_WECHAT = re.compile(
    r"(?:微信|威信|薇信|V信|(?<![A-Za-z])(?:vx|wx|weixin|wechat)(?![A-Za-z0-9]))"
    r"(?:\s*(?:号|id))?\s*(?P<sep>是|为|:|：|\bis\b)?\s*"
    r"(?P<v>[A-Za-z][A-Za-z0-9_\-]{5,19}|\d{6,11})(?![A-Za-z0-9_\-])",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Za-z:])")


def find_emails(text: str) -> list[Span]:
    out = []
    for m in _EMAIL.finditer(text):
        start = m.start()
        local = m.group()[: m.group().index("@")]
        lead = _EMAIL_LEAD.match(local) if re.search(r"[\u4e00-\u9fff]", local) else None
        if lead and lead.end() < len(local):
            start += lead.end()
        out.append(Span(start, m.end(), "EMAIL"))
    return out


def find_zh_numeral_phones(text: str, region: str = "CN", taken: Sequence[Span] = ()) -> list[Span]:
    """Phone numbers written (partly) in Chinese numerals, validated as numbers.

    ``taken``: spans already masked by a detector that wins over phones; a run overlapping
    one could never be kept, so it is not parsed (``pii.find_pii``)."""
    out = []
    for m in _ZH_PHONE_RUN.finditer(text):
        run = m.group()
        if not any(c in _ZH_DIGIT for c in run):
            continue  # plain digits: libphonenumber's own matcher sees those
        if any(m.start() < t.end and t.start < m.end() for t in taken):
            continue
        digits = "".join(_ZH_DIGIT.get(c, c) for c in run if not (c.isspace() or c == "-"))
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            out.append(Span(m.start(), m.end(), "PHONE"))
    return out


def find_passports(text: str) -> list[Span]:
    out = [Span(m.start(), m.end(), "PASSPORT") for m in _PASSPORT.finditer(text)]
    out += [Span(m.start("v"), m.end("v"), "PASSPORT") for m in _PASSPORT_CUE.finditer(text)]
    return out


_MESSENGER_CUE = re.compile(r"qq|扣扣|企鹅|微信|威信|薇信|v信|vx|wx|weixin|wechat", re.IGNORECASE)


def find_messenger_ids(text: str) -> list[Span]:
    if _MESSENGER_CUE.search(text) is None:  # every match starts with a cue
        return []
    out = [Span(m.start("v"), m.end("v"), "QQ") for m in _QQ.finditer(text)]
    for m in _WECHAT.finditer(text):
        # "wechat official account": a bare word after the cue is an id only with a digit,
        # "_" or "-" in it, or after a separator ("微信号：zhangsan", "wx is zhangsan")
        if m.group("sep") or re.search(r"[\d_\-]", m.group("v")) or "号" in m.group():
            out.append(Span(m.start("v"), m.end("v"), "WECHAT"))
    return out


def find_ips(text: str) -> list[Span]:
    out: list[Span] = []
    patterns = ([_IPV4] if "." in text else []) + (
        [_IPV6] if "::" in text or text.count(":") > 2 else []
    )
    for pattern in patterns:
        for m in pattern.finditer(text):
            if m.group().count(":") == 1 or sum(c.isalnum() for c in m.group()) < 4:
                continue
            try:
                ipaddress.ip_address(m.group())
            except ValueError:
                continue
            out.append(Span(m.start(), m.end(), "IP"))
    return out
