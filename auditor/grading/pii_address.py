"""Postal addresses, Chinese and English, found by their structure (no gazetteer, no NER).

Chinese: ``[province/city/district…] road N号`` and everything after the 号 that still
belongs to the address — a compound (``院``), a named building or estate (``万达广场``,
``阳光小区``), building / unit / floor / room in any notation (``3号楼2单元501室``,
``3栋 1单元 1203``, ``3-2-1203``, ``B座1502``). An estate with a building number and no
road (``阳光花园小区3栋2单元501``) counts too.

English: ``N [direction] Name… Street/St/Avenue/Road/…`` (the street name in capitals, or an
ordinal like ``45th``; the street type in any case), with what follows on the same line —
a direction (``NW``), an apartment/suite/unit, and ``, City, ST 12345`` or a UK postcode;
and ``PO Box N``. A street name in lower case (``221 baker street``) is taken only when a
unit, city/state/ZIP or postcode follows, since "3 boxes on the road" must stay readable.
"""

from __future__ import annotations

import re

from .pii_types import Span

_CJK = r"\u4e00-\u9fff"
_ZH_UNIT = rf"[{_CJK}]{{1,8}}?(?:省|自治区|特别行政区|市|区|县|旗|镇|乡|街道)"
_ZH_ROAD = rf"[{_CJK}0-9]{{1,12}}?(?:路|街|大道|大街|巷|弄|胡同|道)"
_ZH_NUM = r"[0-9０-９一二三四五六七八九十百]{1,6}号"
_NUMERAL = r"[0-9０-９A-Za-z一二三四五六七八九十]"
#: what comes after 号: a compound, a named building, then building/unit/floor/room
_ZH_PLACE = rf"[{_CJK}A-Za-z0-9]{{1,10}}?(?:小区|花园|公寓|大厦|广场|中心|家园|苑|府|大楼|写字楼|商城|园区|新村|公馆)"
_ZH_PART = rf"{_NUMERAL}{{1,6}}\s?(?:号楼|栋|幢|座|楼|单元|层|室|号|房|户|门|期|排|区)"
_ZH_ROOM = r"[0-9A-Za-z]{1,5}(?:-[0-9A-Za-z]{1,5}){0,3}(?![0-9A-Za-z])"
_ZH_TAIL = rf"(?:院)?(?:\s?{_ZH_PLACE})?(?:\s?{_ZH_PART}){{0,5}}(?:\s?{_ZH_ROOM})?"
_ZH_ADDRESS = re.compile(
    rf"(?:{_ZH_UNIT}){{0,4}}(?:{_ZH_ROAD}{_ZH_NUM}{_ZH_TAIL}"
    rf"|{_ZH_PLACE}(?:\s?{_ZH_PART}){{1,5}}(?:\s?{_ZH_ROOM})?)"
)
#: Words that introduce an address and end up inside the leftmost regex match.
_ZH_LEAD_IN = re.compile(
    r"^.*?(?:地址(?:是|为)?|住在|寄到|送到|发到|寄往|改成|改为|登记|填写|填的|写的|留的|默认|"
    r"在|是|到)[:：]?"
)

_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Parkway|Pkwy|Highway|Hwy|Square|Sq|Crescent|Close|Circle|Cir|Trail|Row|Mews"
)
_DIRECTION = r"(?:[NSEW]|NE|NW|SE|SW|North|South|East|West)\.?"
_UNIT = r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Rm|Floor|Fl)\.?\s*#?\s*\w{1,6}|#\s?\w{1,6}"
_CITY_ZIP = (
    r"[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+){0,2},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?"  # City, ST 12345
    r"|[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+){0,2},?\s+[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # UK
    r"|[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+){0,2}(?=[.;!?]|$)"  # City at the end
)
_NAME_WORD = r"(?:[A-Z][A-Za-z'\-]*|\d{1,4}(?:st|nd|rd|th))"
_EN_TAIL = (
    rf"(?:\s+{_DIRECTION}(?![A-Za-z]))?"
    rf"(?:,?\s+(?:{_UNIT}))?"
    rf"(?:,\s*(?:{_CITY_ZIP}))?"
)
_EN_ADDRESS = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?(?:-\d{{1,5}})?\s+(?:{_DIRECTION}\s+)?(?:{_NAME_WORD}\s+){{1,4}}"
    rf"(?i:{_STREET_TYPES})\b\.?{_EN_TAIL}"
)
#: lower-case street names: only with a unit or a city/ZIP/postcode after the street type
_EN_ADDRESS_LOWER = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?\s+(?:[a-z][a-z'\-]*\s+){{1,3}}(?i:{_STREET_TYPES})\b\.?"
    rf"(?:,?\s+(?i:{_UNIT})|,?\s+(?i:[a-z]+(?:\s[a-z]+)?,?\s+[a-z]{{2}}\s+\d{{5}}"
    rf"|[a-z]+,?\s+[a-z]{{1,2}}\d[a-z\d]?\s?\d[a-z]{{2}}\b))"
)
_PO_BOX = re.compile(r"\b(?:P\.?\s?O\.?|Post\s+Office)\s*Box\s+\d{1,6}\b", re.IGNORECASE)


#: Every Chinese match contains 号 (the road branch ends its number with it) or a building
#: part — a numeral, then 栋/单元/室… — (the estate branch needs one); every English one a
#: digit. Cheap searches that let most messages skip the big patterns ("订单" is no address).
_ZH_NEEDED = re.compile(rf"号|{_NUMERAL}\s?[栋幢座楼单层室房户门期排区]")
_DIGIT = re.compile(r"\d")
#: Every English match has a house number followed (after a letter or "-N" at most) by a
#: space, or the word box (PO Box): Chinese text with digits seldom has either.
_EN_NEEDED = re.compile(r"\d[A-Za-z]?(?:-\d{1,5})?\s|(?i:box)")


def find_addresses(text: str) -> list[Span]:
    out: list[Span] = []
    if _DIGIT.search(text) is None and _ZH_NEEDED.search(text) is None:
        return out
    for m in _ZH_ADDRESS.finditer(text) if _ZH_NEEDED.search(text) else ():
        start = m.start()
        lead = _ZH_LEAD_IN.match(m.group())
        if lead and _ZH_ADDRESS.fullmatch(m.group()[lead.end() :]):
            start += lead.end()
        end = m.end()
        while end > start and text[end - 1].isspace():
            end -= 1
        out.append(Span(start, end, "ADDRESS"))
    english = _DIGIT.search(text) and _EN_NEEDED.search(text)
    for pattern in (_EN_ADDRESS, _EN_ADDRESS_LOWER, _PO_BOX) if english else ():
        out.extend(Span(m.start(), m.end(), "ADDRESS") for m in pattern.finditer(text))
    return out
