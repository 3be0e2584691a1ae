"""Chinese lexical data built once per process from installed packages only.

* word frequencies: jieba's bundled ``dict.txt`` (349k words with corpus counts) — read directly
  rather than through ``jieba.Tokenizer`` so nothing is cached to disk and no HMM is loaded;
* readings: pypinyin's per-character pinyin table, reduced to three keys per reading —
  exact (with tone), toneless, and "fuzzy" (z/zh, c/ch, s/sh, n/l, -n/-ng merged), the usual
  sources of homophone slips from pinyin input methods and regional accents;
* traditional → simplified: OpenCC ``t2s``; detection runs on simplified text.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from functools import cache
from importlib import resources

import opencc
from pypinyin import pinyin_dict

#: Single characters rarer than this (as standalone words in jieba's counts) are never proposed
#: as a correction: a suggestion must be a character an agent would plausibly have meant.
MIN_CANDIDATE_CHAR_FREQ = 50

_TONE_MARKS = {"\u0300", "\u0301", "\u0304", "\u030c"}  # grave, acute, macron, caron


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


def _fuzzy(toneless: str) -> str:
    s = toneless
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(a):
            s = b + s[len(a) :]
            break
    if s.startswith("l"):
        s = "n" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


def _is_simplified(ch: str) -> bool:
    return _t2s().convert(ch) == ch


class ZhData:
    """Word frequencies, readings and homophone candidates (shared, read-only)."""

    def __init__(self) -> None:
        self.freq = freq = _jieba_counts()
        self.char_freq = {w: n for w, n in freq.items() if len(w) == 1}
        self._readings: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {}
        by_plain: dict[str, set[str]] = defaultdict(set)
        by_fuzzy: dict[str, set[str]] = defaultdict(set)
        table = pinyin_dict.pinyin_dict
        for ch, n in self.char_freq.items():
            # A correction is indexed under its primary (first) reading only: the writer
            # meant the common sound of the intended character; rare readings add noise.
            if n < MIN_CANDIDATE_CHAR_FREQ or not is_cjk(ch):
                continue
            readings = table.get(ord(ch))
            if readings and _is_simplified(ch):
                primary = _toneless(readings.split(",", 1)[0])
                by_plain[primary].add(ch)
                by_fuzzy[_fuzzy(primary)].add(ch)
        self._by_plain = by_plain
        self._by_fuzzy = by_fuzzy
        self._cands: dict[str, tuple[tuple[str, int], ...]] = {}
        self._cover: dict[int, frozenset[str]] = {}
        self.shape = _shape_groups()

    def cover_words(self, min_freq: int) -> frozenset[str]:
        """Words of 2–4 characters at least ``min_freq`` frequent (cached per threshold)."""
        got = self._cover.get(min_freq)
        if got is None:
            got = frozenset(w for w, n in self.freq.items() if 2 <= len(w) <= 4 and n >= min_freq)
            self._cover[min_freq] = got
        return got

    def readings(self, ch: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """(readings with tone, toneless, fuzzy) of ``ch``; empty sets when pypinyin has none.
        Computed on first use per character (building them all costs ~0.3 s at start-up)."""
        got = self._readings.get(ch)
        if got is None:
            raw = pinyin_dict.pinyin_dict.get(ord(ch)) if is_cjk(ch) else None
            exact = frozenset(raw.split(",")) if raw else frozenset()
            plain = frozenset(_toneless(r) for r in exact)
            got = (exact, plain, frozenset(_fuzzy(p) for p in plain))
            self._readings[ch] = got
        return got

    def two_char_words(self, min_freq: int) -> list[str]:
        """Two-character words at least ``min_freq`` frequent."""
        return [w for w, n in self.freq.items() if len(w) == 2 and n >= min_freq]

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
            for h in self._by_fuzzy.get(z, ()):
                out[h] = 1
        for p in plain:
            for h in self._by_plain.get(p, ()):
                out[h] = 3 if exact & self.readings(h)[0] else 2
        out.pop(ch, None)
        result = tuple(out.items())
        self._cands[ch] = result
        return result


def _jieba_counts() -> dict[str, int]:
    """word -> count from jieba's ``dict.txt`` (``word count tag`` lines). Read as one split
    when every line has three fields (half the time of a per-line loop), else line by line."""
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    tokens = text.replace("\n", " ").split(" ")
    if tokens and tokens[-1] == "":
        tokens.pop()
    if len(tokens) % 3 == 0 and len(tokens) == 3 * text.count("\n"):
        try:
            return dict(zip(tokens[0::3], map(int, tokens[1::3]), strict=True))
        except ValueError:
            pass  # a line of another shape: fall back
    freq: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2:
            freq[parts[0]] = int(parts[1])
    return freq


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
    """The process-wide instance (about 1.5 s to build, then shared by every checker)."""
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
