"""Chinese lexical data, loaded from compact tables shipped in the package.

``data/zh_lexicon.bin.xz`` is built by ``bench/build_zh_lexicon.py`` from installed packages:

* word counts: jieba's bundled ``dict.txt`` (349k words with corpus counts; the 342k of 1–4
  characters are kept, and the total of all counts);
* readings: pypinyin's per-character pinyin, reduced at run time to three keys per reading —
  exact (with tone), toneless, and "fuzzy" (z/zh, c/ch, s/sh, n/l, -n/-ng merged), the usual
  sources of homophone slips from pinyin input methods and regional accents — and the
  simplified, frequent characters under each toneless primary reading (the candidates);
* traditional → simplified: OpenCC ``t2s``; detection runs on simplified text.

Nothing is parsed into one big dictionary at start-up: the words are stored sorted, so the
words sharing a first character are one slice of the table, and that slice becomes a small
dictionary the first time a text holds the character (a message needs a few dozen of them).
Neither jieba nor pypinyin is imported at run time.
"""

from __future__ import annotations

import lzma
import sys
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from importlib import resources
from itertools import compress
from operator import itemgetter

import opencc

#: Single characters rarer than this (as standalone words in jieba's counts) are never proposed
#: as a correction: a suggestion must be a character an agent would plausibly have meant.
MIN_CANDIDATE_CHAR_FREQ = 50
#: longest word kept (jieba's dictionary has longer idioms; 4 covers nearly all)
MAX_WORD = 4

_NONE: frozenset[str] = frozenset()
_TONE_MARKS = {"\u0300", "\u0301", "\u0304", "\u030c"}  # grave, acute, macron, caron


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


@cache
def toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


@cache
def fuzzy_reading(plain: str) -> str:
    s = plain
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(a):
            s = b + s[len(a) :]
            break
    if s.startswith("l"):
        s = "n" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


def _u32(data: bytes) -> array[int]:
    a = array("I")
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a


class Lexicon:
    """The raw tables of one ``ZHLEX1`` file (see ``bench/build_zh_lexicon.py``)."""

    def __init__(self, data: bytes):
        if not data.startswith(b"ZHLEX1 "):
            raise ValueError("zh_lexicon.bin.xz: not a ZHLEX1 table")
        pos = data.index(b"\n") + 1
        meta = dict(f.split("=", 1) for f in data[7 : pos - 1].decode().split())
        self.total = int(meta["total"])
        sections: dict[str, bytes] = {}
        names = ("words", "counts", "firsts", "starts", "offsets", "readings", "plain")
        for name in (*names, "lasts", "pair_starts", "pair_firsts", "pair_counts"):
            size = int(meta[name])
            sections[name] = data[pos : pos + size]
            pos += size
        self.words = sections["words"].decode()
        self.counts = _u32(sections["counts"])
        firsts = _u32(sections["firsts"])
        self.index = {chr(cp): i for i, cp in enumerate(firsts)}
        self.starts = _u32(sections["starts"])
        self.offsets = _u32(sections["offsets"])
        self.readings_text = sections["readings"].decode()
        self.plain_text = sections["plain"].decode()
        self.pair_index = {chr(cp): i for i, cp in enumerate(_u32(sections["lasts"]))}
        self.pair_starts = _u32(sections["pair_starts"])
        self.pair_firsts = sections["pair_firsts"].decode("utf-32-le")
        self.pair_counts = _u32(sections["pair_counts"])

    def bucket(self, ch: str) -> dict[str, int]:
        """Every word starting with ``ch`` -> its count (a new dict: callers cache it)."""
        i = self.index.get(ch)
        if i is None:
            return {}
        words = self.words[self.offsets[i] : self.offsets[i + 1] - 1].split("\n")
        return dict(zip(words, self.counts[self.starts[i] : self.starts[i + 1]], strict=True))

    def before(self, ch: str, min_freq: int) -> set[str]:
        """The characters ``c`` for which ``c + ch`` is a word at least ``min_freq`` frequent."""
        i = self.pair_index.get(ch)
        if i is None:
            return set()
        a, b = self.pair_starts[i], self.pair_starts[i + 1]
        pairs = zip(self.pair_firsts[a:b], self.pair_counts[a:b], strict=True)
        return {c for c, n in pairs if n >= min_freq}


@cache
def lexicon() -> Lexicon:
    """The shipped lexicon; its unpacked bytes are kept in the cache directory the first time
    (auditor/datacache.py: ~0.1 s of xz a process -> a few ms to read and check 6 MB)."""
    from ..datacache import unpacked

    raw = resources.files("auditor.typos.data").joinpath("zh_lexicon.bin.xz").read_bytes()
    return Lexicon(unpacked("zh_lexicon", raw, lzma.decompress))


class ZhData:
    """Word frequencies, readings and homophone candidates (shared, read-only)."""

    def __init__(self) -> None:
        lex = self.lexicon = lexicon()
        self.total = lex.total
        self._buckets: dict[str, dict[str, int]] = {}
        self._table: dict[str, str] | None = None  # char -> pypinyin readings, on first use
        self._readings: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {}
        by_plain: dict[str, frozenset[str]] = {}
        by_fuzzy: dict[str, set[str]] = defaultdict(set)
        for line in lex.plain_text.split("\n"):
            primary, chars = line.split("\t")
            by_plain[primary] = frozenset(chars)
            by_fuzzy[fuzzy_reading(primary)].update(chars)
        self._by_plain = by_plain
        self._by_fuzzy = by_fuzzy
        self._cands: dict[str, tuple[tuple[str, int], ...]] = {}
        self._close: dict[str, tuple[tuple[str, int], ...]] = {}
        self._sorted_plain: dict[str, tuple[str, ...]] = {}  # see close_candidates
        self._with_tone: dict[str, frozenset[str]] = {}
        self.shape = _shape_groups()
        # per minimum frequency: covering words by first character, and the characters
        # after / before a character in two-character words (see the methods of those names)
        self._covering: dict[int, dict[str, frozenset[str]]] = defaultdict(dict)
        self._after: dict[int, dict[str, frozenset[str]]] = defaultdict(dict)
        self._before: dict[int, dict[str, frozenset[str]]] = defaultdict(dict)

    def bucket(self, ch: str) -> dict[str, int]:
        """Words (1–4 characters) starting with ``ch`` -> jieba count (built on first use)."""
        got = self._buckets.get(ch)
        if got is None:
            got = self._buckets[ch] = self.lexicon.bucket(ch)
        return got

    def covering(self, ch: str, min_freq: int) -> frozenset[str]:
        """The words of 2–4 characters starting with ``ch`` at least ``min_freq`` frequent
        (cached, shared by every detector)."""
        table = self._covering[min_freq]
        got = table.get(ch)
        if got is None:
            words = self.bucket(ch)
            # the words counted at least min_freq times (map and compress: no Python loop),
            # less the one word of a single character, ch itself
            got = frozenset(compress(words, map(min_freq.__le__, words.values())))
            if ch in got:
                got = got - {ch}
            table[ch] = got
        return got

    def after(self, ch: str, min_freq: int) -> frozenset[str]:
        """The characters ``c`` for which ``ch + c`` is a word at least ``min_freq`` frequent
        (cached)."""
        table = self._after[min_freq]
        got = table.get(ch)
        if got is None:
            words = list(self.covering(ch, min_freq))
            pairs = compress(words, map((2).__eq__, map(len, words)))
            got = table[ch] = frozenset(map(itemgetter(1), pairs))
        return got

    def before(self, ch: str, min_freq: int) -> frozenset[str]:
        """The characters ``c`` for which ``c + ch`` is a word at least ``min_freq`` frequent
        (cached)."""
        table = self._before[min_freq]
        got = table.get(ch)
        if got is None:
            got = table[ch] = frozenset(self.lexicon.before(ch, min_freq))
        return got

    def prewarm(self, chars: Iterable[str], min_freq: int) -> None:
        """Build the per-character tables of ``chars`` now (what first sight would build)."""
        for ch in chars:
            self.bucket(ch)
            self.covering(ch, min_freq)
            self.after(ch, min_freq)
            self.before(ch, min_freq)

    def freq(self, w: str) -> int:
        """jieba's count of the word ``w`` (0 when it is no word of 1–4 characters)."""
        if not w:
            return 0
        got = self._buckets.get(w[0])
        if got is None:
            got = self.bucket(w[0])
        return got.get(w, 0)

    def readings(self, ch: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """(readings with tone, toneless, fuzzy) of ``ch``; empty sets when pypinyin has none.
        Computed on first use per character."""
        got = self._readings.get(ch)
        if got is None:
            table = self._table
            if table is None:
                lines = self.lexicon.readings_text.split("\n")
                table = self._table = dict(line.split("\t", 1) for line in lines)
            raw = table.get(ch) if is_cjk(ch) else None
            exact = frozenset(raw.split(",")) if raw else frozenset()
            plain = frozenset(toneless(r) for r in exact)
            got = (exact, plain, frozenset(fuzzy_reading(p) for p in plain))
            self._readings[ch] = got
        return got

    def candidates(self, ch: str) -> tuple[tuple[str, int], ...]:
        """Characters that sound like ``ch``, each with a similarity level.

        3 = a shared reading with the same tone, 2 = same syllable in another tone,
        1 = fuzzy (z/zh, n/l, -n/-ng …). Cached per character.
        """
        got = self._cands.get(ch)
        if got is not None:
            return got
        out: dict[str, int] = {}
        exact, plain, fuzz = self.readings(ch)
        for z in fuzz:
            for h in sorted(self._by_fuzzy.get(z, ())):
                out[h] = 1
        for p in plain:
            for h in sorted(self._by_plain.get(p, ())):
                out[h] = 3 if exact & self.readings(h)[0] else 2
        out.pop(ch, None)
        result = tuple(out.items())
        self._cands[ch] = result
        return result

    def fuzzy_alike(self, ch: str, h: str) -> bool:
        """``h`` is among :meth:`candidates` of ``ch`` by a fuzzy sound (similarity ≥ 1)."""
        return h != ch and any(h in self._by_fuzzy.get(z, ()) for z in self.readings(ch)[2])

    def close_candidates(self, ch: str) -> tuple[tuple[str, int], ...]:
        """:meth:`candidates` of similarity 2 and 3 only (the same syllable), without the
        large fuzzy sets; cached per character."""
        got = self._close.get(ch)
        if got is not None:
            return got
        exact, plain, _ = self.readings(ch)
        # the same syllable in any tone (2), in order of the readings; then 3 for those
        # sharing a reading with its tone (with_tone: every candidate by tone reading)
        out: dict[str, int] = {}
        for p in plain:
            out.update(dict.fromkeys(self._plain_sorted(p), 2))
        if exact:
            with_tone = self._with_tone or self._tone_index()
            for r in exact:
                for h in with_tone.get(r, _NONE).intersection(out):
                    out[h] = 3
        out.pop(ch, None)
        result = self._close[ch] = tuple(out.items())
        return result

    def _plain_sorted(self, p: str) -> tuple[str, ...]:
        """The candidates under the toneless reading ``p``, sorted (cached)."""
        got = self._sorted_plain.get(p)
        if got is None:
            got = self._sorted_plain[p] = tuple(sorted(self._by_plain.get(p, ())))
        return got

    def _tone_index(self) -> dict[str, frozenset[str]]:
        """Every candidate character by each of its readings with tone (built once)."""
        index: dict[str, set[str]] = defaultdict(set)
        for chars in self._by_plain.values():
            for h in chars:
                for r in self.readings(h)[0]:
                    index[r].add(h)
        self._with_tone = {r: frozenset(v) for r, v in index.items()}
        return self._with_tone


def _shape_groups() -> dict[str, frozenset[str]]:
    """Character → shape-similar characters (``data/zh_shape.tsv``, from pycorrector)."""
    text = resources.files("auditor.typos.data").joinpath("zh_shape.tsv").read_text("utf-8")
    out: dict[str, set[str]] = defaultdict(set)
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        group = line.split("\t")
        for ch in group:
            out[ch].update(c for c in group if c != ch)
    return {ch: frozenset(v) for ch, v in out.items()}


@cache
def zh_data() -> ZhData:
    """The process-wide instance (a few hundredths of a second to build, then shared)."""
    return ZhData()


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Simplified text with the same length, so offsets map 1:1 back to the original.

    OpenCC converts by phrase; for Chinese that keeps the length, but if a phrase rule ever
    changed it, we fall back to converting character by character (always 1:1).
    """
    conv = _t2s()
    out: str = conv.convert(text)
    if len(out) == len(text):
        return out
    chars = []
    for ch in text:
        c = conv.convert(ch)
        chars.append(c if len(c) == 1 else ch)
    return "".join(chars)
