"""Disguised injections: the same words, obfuscated so the plain patterns miss them.

``injection.py`` matches text addressed to the grader on each message's NFKC-folded
words, quoting them exactly. An attacker can keep the words readable to a model while
breaking that match. This module undoes the disguises and scans what is left:

* **the compact view** of a message: NFKD, then every format character (zero-width
  spaces and joiners, soft hyphens, bidi controls — Unicode category Cf), combining mark,
  punctuation, symbol, separator and control character removed; letters mapped to their
  confusable skeleton (Cyrillic ``о`` and Greek ``ο`` are ``o`` — Unicode's confusables.txt
  as packaged by ``confusable-homoglyphs``, plus the small-capital lookalikes ``к м т н в п
  г ш``); lower case; leetspeak digits and signs read as letters (``0→o 1→i 3→e 4→a 5→s
  7→t 8→b 9→g @→a $→s !→i |→i +→t``), and ``l`` read as ``i`` (so ``1``/``l``/``I``/``|``
  are one letter). Zero-width-split, letter-spaced (``i g n o r e``, ``I.G.N.O.R.E``),
  homoglyph and leetspeak text all compact to the same string as the plain words;
* **compact patterns** in English, Chinese and pinyin (``hu lue zhi qian de zhi ling``),
  run over each run of consecutive messages from one sender joined — so an instruction
  split across adjacent messages is one string;
* **decoded text**: every plausible base64 run (16+ characters, standard or URL-safe)
  that decodes to printable UTF-8, and every span after a right-to-left override
  (U+202E/U+202B/U+2067) read backwards, are scanned by both the plain and the compact
  patterns.

What these hits quote: the base64 run or the reversed span itself; for a compact hit, the
whole message (up to 300 characters), since its words are scattered.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

import ahocorasick

#: Lookalikes the confusables data maps only from their capitals (``К`` → ``K``), since the
#: lower-case forms are small capitals rather than Latin letters; attackers use both.
_SMALL_CAPS = {"к": "k", "м": "m", "т": "t", "н": "h", "в": "b", "п": "n", "г": "r", "ш": "w"}
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"}
_LEET_SIGNS = {"@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "l": "i"}
_DROP_CATEGORIES = ("P", "S", "Z", "C", "M")


@cache
def _skeletons() -> dict[str, str]:
    """Non-ASCII character -> the ASCII letter or digit it is confusable with."""
    from confusable_homoglyphs.confusables import confusables_data  # 0.1 s: only when needed

    out: dict[str, str] = {}
    for ch, entries in confusables_data.items():
        if len(ch) != 1 or ch.isascii():
            continue
        ascii_twins = sorted(
            (e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalnum()),
            key=lambda c: (not c.islower(), c),
        )
        if ascii_twins:
            out[ch] = ascii_twins[0]
    out.update(_SMALL_CAPS)
    return out


def _final(c: str) -> str:
    c = c.lower()
    return _LEET.get(c) or _LEET_SIGNS.get(c) or c


@cache
def _table() -> list[str | None]:
    """The compact view's translation table, indexed by code point (BMP; built once).

    A list rather than a dict: ``str.translate`` then never raises a KeyError per unmapped
    character, which halves the time of the view. Characters beyond the BMP (an IndexError,
    a LookupError to ``translate``) are kept as they are.

    Building it (and the confusables data it reads) costs ~0.1 s a process, so it is kept in
    the cache directory (auditor/datacache.py) under the hash of what it is built from —
    this module's source, Python's version and Unicode data, the confusables file — and
    read back from there (a few ms).
    """
    from .. import datacache

    confusables = _confusables_file()
    if confusables is None:
        return _build_table()
    made_of = b"\0".join(
        (
            Path(__file__).read_bytes(),
            sys.version.encode(),
            unicodedata.unidata_version.encode(),
            confusables.read_bytes(),
        )
    )
    body = datacache.unpacked("injection-table", made_of, lambda _: _table_bytes(_build_table()))
    entries = body.decode("utf-8").split("\0")
    if len(entries) != 0x10000:
        return _build_table()
    return [e or None for e in entries]


def _table_bytes(table: list[str | None]) -> bytes:
    """The table as kept: its entries joined by NUL (a control character, which the view
    drops, so no entry holds one), None as the empty entry (no entry is empty otherwise)."""
    return "\0".join(e or "" for e in table).encode("utf-8")


def _confusables_file() -> Path | None:
    spec = find_spec("confusable_homoglyphs")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "confusables.json"
    return path if path.is_file() else None


def _build_table() -> list[str | None]:
    """:func:`_table`, built."""
    skeletons = _skeletons()

    def one(c: str) -> str:
        if c in _LEET_SIGNS:
            return _LEET_SIGNS[c]
        if unicodedata.category(c)[0] in _DROP_CATEGORIES:
            return ""
        return _final(skeletons.get(c, c))

    table: list[str | None] = []
    for cp in range(0x10000):
        c = chr(cp)
        # NFKD per character is NFKD of the text up to the order of combining marks,
        # which the view drops: the table folds the normalisation in
        mapped = "".join(one(d) for d in unicodedata.normalize("NFKD", c))
        table.append(mapped or None)
    return table


@lru_cache(maxsize=1 << 15)
def compact(text: str) -> str:
    """The compact view of ``text`` (see the module docstring); remembered for the texts
    seen last (agents paste the same replies all day)."""
    return text.translate(_table())


def _c(pattern: str) -> str:
    """A compact pattern, written with plain words: ``l`` reads as ``i`` in the compact view."""
    return pattern.replace("l", "i")


_WORDS = r"[a-z]"
_HAN = r"[\u4e00-\u9fffa-z]"
COMPACT_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(_c(p))
    for p in (
        # en: override the instructions
        r"(?:ignore|disregard|forget|override|bypass)"
        r"(?:a|any|all|the|your|these|those|previous|prior|above|earlier|preceding|of|my|every|"
        r"other|grading|scoring|system){0,5}"
        r"(?:instruction|rubric|rule|criteri|prompt|guideline|systemmessage|direction|polic)",
        # en: demand marks
        rf"(?:give|grade|rate|score|mark|assign|award)(?!you|u(?:fu|top|per|max)){_WORDS}{{0,30}}?"
        r"(?:fullmarks|fullscore|topmarks|perfectscore|perfectrating|maxscore|maximumscore|"
        r"maximummarks|ioooutofioo|iooioo|tenoutoften)",
        # en: an appeal to the grader for a top score
        rf"(?:dear|attention|noteto|notefor|messagefor)(?:the|my|our)?"
        r"(?:qa|quality|grader|reviewer|auditor|evaluator|assessor|scorer|rater|inspector|ai|llm|"
        rf"languagemodel|model){_WORDS}{{0,60}}?"
        r"(?:(?:highest|top|best|perfect|full|maximum|max|high|good|ioo)(?:score|mark|rating|grade)"
        r"|excellent)",
        r"(?:qa|qualityinspector|qualitychecker|qualityteam|grader|reviewer|auditor|evaluator|"
        rf"assessor|scorer|rater|inspector){_WORDS}{{0,40}}?"
        rf"(?:give|deserve|award|assign|grant|rate|score|mark){_WORDS}{{0,20}}?"
        r"(?:highest|top|best|perfect|full|maximum|max)(?:score|mark|rating|grade)",
        rf"(?:give|rate|grade|score|mark)(?:this|the)(?:conversation|chat|transcript|dialogue|agent)"
        rf"{_WORDS}{{0,20}}?(?:highest|top|best|perfect|full|maximum|max)(?:score|mark|rating|grade)",
        # en: role play
        r"youarenow(?:a|an|the)?(?:ai|assistant|grader|evaluator|languagemodel|chatbot|dan|"
        r"jailbroken|unrestricted|developer)",
        # zh: override, demand marks, role play, appeal
        rf"(?:忽略|无视|不要理会|覆盖){_HAN}{{0,10}}?"
        r"(?:指令|指示|规则|评分标准|评分规则|质检标准|提示词|设定|rubric|prompt)",
        rf"(?:忘记|忘掉|别管|跳过){_HAN}{{0,10}}?"
        r"(?:指令|指示|评分标准|评分规则|质检标准|提示词|rubric|prompt)",
        rf"(?:质检|评分|审核|打分|评估|考核){_HAN}{{0,15}}?(?:满分|最高分|全部{_HAN}{{0,3}}(?:好|优秀|通过|合格))",
        rf"(?:给|打|评)(?:这个?|这位|本次|该|我的?)?(?:对话|会话|客服){_HAN}{{0,6}}?(?:满分|最高分)",
        r"从现在(?:开始|起)你(?:是|就是|扮演)|你现在是一?个?(?:ai|人工智能|模型|助手|质检员|评分员)",
        # pinyin
        rf"(?:hulue|hushi|wushi|wangji|wangdiao|buyaolihui|biguan|tiaoguo|fugai){_WORDS}{{0,24}}?"
        r"(?:zhiling|zhishi|guize|pingfenbiaozhun|zhijianbiaozhun|tishici|shezhi)",
        rf"(?:gei|da|ping|zhijian|pingfen|dafen|shenhe){_WORDS}{{0,24}}?(?:manfen|zuigaofen)",
    )
)
_ANY_COMPACT = re.compile("|".join(f"(?:{p.pattern})" for p in COMPACT_PATTERNS))

#: Words one of which every compact match contains (a mandatory literal part of each
#: pattern above, or a substring of every alternative of one): a compact view without any
#: of them cannot match, which one Aho-Corasick pass decides. tests/test_injection_corpus.py
#: checks each pattern's matches in the corpus contain one.
COMPACT_TRIGGERS: tuple[str, ...] = tuple(
    _c(w)
    for w in (
        *("ignore", "disregard", "forget", "override", "bypass"),
        *("score", "mark", "rating", "grade", "excellent", "perfect", "tenoutoften"),
        *("iooioo", "ioooutofioo"),
        *("youarenow",),
        *("忽略", "无视", "不要理会", "覆盖", "忘记", "忘掉", "别管", "跳过"),
        *("满分", "最高分", "全部", "从现在", "你现在是"),
        *("hulue", "hushi", "wushi", "wangji", "wangdiao", "buyaolihui", "biguan", "tiaoguo"),
        *("fugai", "manfen", "zuigaofen"),
    )
)
_SCREEN = ahocorasick.Automaton()
for _word in set(COMPACT_TRIGGERS):
    _SCREEN.add_word(_word, _word)
_SCREEN.make_automaton()


def may_match_compact(view: str) -> bool:
    return next(_SCREEN.iter(view), None) is not None


def compact_match(text: str) -> bool:
    return _ANY_COMPACT.search(text) is not None


def runs(roles: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) index ranges of consecutive messages from the same sender."""
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(roles) + 1):
        if i == len(roles) or roles[i] != roles[start]:
            out.append((start, i))
            start = i
    return out


def compact_hits(texts: Sequence[str], roles: Sequence[str]) -> list[int]:
    """Indices of the messages a compact match covers (within one sender's run of messages)."""
    views = [compact(t) for t in texts]
    if not may_match_compact("".join(views)):
        return []
    return view_hits(views, roles)


def view_hits(views: Sequence[str], roles: Sequence[str]) -> list[int]:
    """:func:`compact_hits` of the messages' compact views."""
    hit: list[int] = []
    for start, end in runs(roles):
        joined = "".join(views[start:end])
        if not compact_match(joined):
            continue
        bounds = []
        pos = 0
        for i in range(start, end):
            bounds.append((pos, pos + len(views[i]), i))
            pos += len(views[i])
        for m in _ANY_COMPACT.finditer(joined):
            hit += [i for a, b, i in bounds if a < m.end() and b > m.start() and i not in hit]
    return sorted(hit)


_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{16,}={0,2}")
_RTL = re.compile("[\u202e\u202b\u2067]([^\u202c\u2069\n]*)")


def _decode_base64(run: str) -> str | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = (
            base64.urlsafe_b64decode(padded)
            if "-" in body or "_" in body
            else base64.b64decode(padded, validate=True)
        )
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return text if text and printable >= 0.95 * len(text) else None


def decoded_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, decoded text) for each base64 run and each right-to-left override span."""
    out: list[tuple[int, int, str]] = []
    if len(text) >= 16:
        for m in _BASE64.finditer(text):
            decoded = _decode_base64(m.group())
            if decoded is not None:
                out.append((m.start(), m.end(), decoded))
    if "\u202e" in text or "\u202b" in text or "\u2067" in text:
        for m in _RTL.finditer(text):
            out.append((m.start(1), m.end(1), m.group(1)[::-1]))
    return out


_LONG_RUN = re.compile("[A-Za-z0-9+/_\\-]{16}")


def may_hide_text(text: str) -> bool:
    """False when ``text`` has no base64-like run and no right-to-left override."""
    return ("\u202e" in text or "\u202b" in text or "\u2067" in text) or _LONG_RUN.search(
        text
    ) is not None


def decoded_hits(text: str, plain_match: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Spans of ``text`` whose decoding matches the plain or the compact patterns."""
    return [
        (start, end)
        for start, end, decoded in decoded_spans(text)
        if plain_match(decoded) or compact_match(compact(decoded))
    ]
