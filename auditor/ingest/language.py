"""Language of a chat when the input does not say: Chinese (``zh``) or English (``en``).

The rule counts *tokens*: every CJK ideograph is one token (a Chinese character
carries about as much as an English word), every run of Latin letters is one token.
A chat is ``zh`` when CJK tokens make up at least :data:`ZH_THRESHOLD` (40%) of all
tokens. Counting words rather than letters keeps "我的iPhone 15 Pro Max屏幕坏了"
Chinese (6 CJK vs 3 words) and "I ordered 茶叶 from your store" English (2 vs 5).
The threshold sits under one half because Chinese chats often paste English product
names, URLs and codes, while English chats rarely contain Chinese. Traditional
characters are in the same Unicode blocks, so Traditional Chinese is ``zh`` too.
A chat with no letters at all (only digits, emoji) is ``en`` with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..models import Language

ZH_THRESHOLD = 0.4
SAMPLE_CHARS = 2000

# CJK Unified Ideographs + Extension A, Compatibility Ideographs, Extensions B-F (plane 2)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def detect_language(texts: Iterable[str]) -> tuple[Language, bool]:
    """Return ``(language, certain)``; ``certain`` is False when there was nothing to count.

    Only the first :data:`SAMPLE_CHARS` characters are counted: the language is plain
    long before that, and long chats then cost no more than short ones.
    """
    sample = "\n".join(texts)[:SAMPLE_CHARS]
    cjk = len(_CJK.findall(sample))
    words = len(_LATIN_WORD.findall(sample))
    total = cjk + words
    if total == 0:
        return "en", False
    return ("zh" if cjk / total >= ZH_THRESHOLD else "en"), True
