"""Is a Latin token plausibly pinyin? Used to keep romanised Chinese out of the counted tier.

Agents in Chinese chats type pinyin ("hao de", "xiexie") and abbreviations; an English
dictionary would call all of them misspellings. The syllable inventory comes from pypinyin's
character table (toneless, extracted at build time), so it is complete without a hand list.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources


@cache
def _syllables() -> frozenset[str]:
    """The toneless syllables of pypinyin's character table (``data/zh_pinyin.txt``, written
    by ``bench/build_zh_lexicon.py``: importing pypinyin costs a third of a second)."""
    text = resources.files("auditor.typos.data").joinpath("zh_pinyin.txt").read_text("utf-8")
    return frozenset(text.split())


@lru_cache(maxsize=65536)
def is_pinyin(token: str) -> bool:
    """True when the lower-case ``token`` splits entirely into pinyin syllables (max 6 letters each)."""
    syl = _syllables()
    t = token.lower()
    n = len(t)
    ok = [False] * (n + 1)
    ok[0] = True
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            if t[i:j] in syl:
                ok[j] = True
    return n > 0 and ok[n]
