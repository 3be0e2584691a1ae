"""English spelling: non-word detection over pyspellchecker's bundled frequency list.

Why pyspellchecker: it ships a 160k-word English frequency list (OpenSubtitles-derived) inside
the wheel and needs no download. We use the list for (a) "is this a word" lookups and (b)
corrections within two edits, found through a symmetric-delete index over the list (its own
``edit_distance_2`` is far too slow on long tokens). Verdicts are cached per distinct word, so
clean traffic costs one dict lookup per token.

Tiers (see docs/typos.md):
* ``typo`` — a lower-case (or sentence-initial) alphabetic word of 3+ letters that is in no
  dictionary layer and has a close correction (edit distance 1, or 2 for words of 5+ letters);
* ``possible`` — other non-words: capitalised mid-sentence words (likely names), words without
  a close correction, two-letter non-words, contractions missing an apostrophe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from spellchecker import SpellChecker

Tier = Literal["typo", "possible"]

#: A word needs at least this count in the frequency list to count as known. Tuned on the SGD
#: dev split (bench/typos_bench.py): the list's rarest entries include common misspellings.
MIN_KNOWN_FREQ = 50
#: Candidate corrections must be at least this frequent to be offered.
MIN_SUGGEST_FREQ = 100

#: A non-word this long with no correction within two edits is still counted (it is no word
#: at all); shorter ones may be abbreviations or names and are only possible. Tuned on SGD dev.
NO_SUGGESTION_MIN_LEN = 7
#: Two-letter non-words ("ot", "il") are counted only when the correction is this frequent.
SHORT_MIN_FREQ = 1_000_000

#: Drawn-out interjections and laughter are chat, not spelling: hmmm, mmm, ahh, uhh, hahaha.
_INTERJECTION = re.compile(
    r"h+m+|m+h*m*|u+h+|u+m+|a+h+|o+h+|e+r+m*|w+o+w+|y+a+y+|(?:h+a+)+h*|(?:h+e+)+h*|l+o+l+|o+o+p+s+"
)

#: Contractions typed without their apostrophe: a style slip, shown but never counted.
APOSTROPHE_LESS: dict[str, str] = {
    "dont": "don't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "arent": "aren't",
    "werent": "weren't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "hadnt": "hadn't",
    "couldnt": "couldn't",
    "shouldnt": "shouldn't",
    "wouldnt": "wouldn't",
    "im": "I'm",
    "ive": "I've",
    "youre": "you're",
    "youve": "you've",
    "youll": "you'll",
    "theyre": "they're",
    "thats": "that's",
    "whats": "what's",
    "theres": "there's",
    "lets": "let's",
    "wont": "won't",
    "cant": "can't",
    "shouldve": "should've",
}


@dataclass(frozen=True)
class Verdict:
    """What the speller thinks of one word (independent of its position in the text)."""

    tier: Tier
    suggestion: str | None
    reason: str
    distance: int = 0  # edit distance of the suggestion (0 when there is none)
    suggestion_freq: int = 0  # its count in the frequency list


@cache
def _speller() -> SpellChecker:
    """The bundled English list, loaded once per process (about 0.2 s)."""
    return SpellChecker(language="en", distance=2, case_sensitive=False)


class EnglishSpeller:
    """Classifies single English words; holds the extra accepted words of the lexicon."""

    def __init__(self, accepted: set[str]):
        self._sc = _speller()
        self._freq = self._sc.word_frequency.dictionary
        self._accepted = accepted
        self._cache: dict[str, Verdict | None] = {}

    def is_known(self, low: str) -> bool:
        if low in self._accepted or self._freq.get(low, 0) >= MIN_KNOWN_FREQ:
            return True
        # possessives and plurals of known words: "customer's", "customers'", "refunds", "boxes";
        # a plural -s never follows s ("acess" is not the plural of "aces")
        for stem in _stems(low):
            if stem in self._accepted or self._freq.get(stem, 0) >= MIN_KNOWN_FREQ:
                return True
        return False

    def verdict(self, low: str) -> Verdict | None:
        """None for a known word; otherwise the tier, suggestion and reason. Cached per word."""
        try:
            return self._cache[low]
        except KeyError:
            pass
        v = self._judge(low)
        if len(self._cache) < 200_000:  # bound memory on adversarial input
            self._cache[low] = v
        return v

    def _judge(self, low: str) -> Verdict | None:
        if self.is_known(low) or _INTERJECTION.fullmatch(low):
            return None
        if low in APOSTROPHE_LESS:
            return Verdict("possible", APOSTROPHE_LESS[low], "contraction without apostrophe")
        if "'" in low:
            head = low.split("'", 1)[0]
            if self.is_known(head):
                return None  # an unusual contraction of a known word ("agent'll")
        distance, best = self._suggest(low)
        if best is None:
            if len(low) >= NO_SUGGESTION_MIN_LEN:
                return Verdict("typo", None, "not in the dictionary")
            return Verdict("possible", None, "not in the dictionary, no close correction")
        freq = self._freq.get(best, 0)
        if len(low) < 3 and freq < SHORT_MIN_FREQ:
            return Verdict("possible", best, "short non-word", distance, freq)
        return Verdict("typo", best, "not in the dictionary", distance, freq)

    def _suggest(self, low: str) -> tuple[int, str | None]:
        """The best known word within two edits (one for words under 5 letters).

        Candidates come from a symmetric-delete index (``_delete_index``) instead of
        pyspellchecker's ``edit_distance_2``, which enumerates every two-edit string over the
        list's whole alphabet and takes seconds per long token. Ranking: fewest edits, then
        frequency, with a different first letter weighed down 20x (people rarely mistype the
        first letter: "adress" means address, not dress).
        """
        if not low.isascii() or len(low) > 24:
            return 0, None
        index = _delete_index()
        keys = {low}
        first = _deletes(low)
        keys.update(first)
        if len(low) >= 5:
            for k in first:
                keys.update(_deletes(k))
        seen: set[str] = set()
        for k in keys:
            seen.update(index.get(k, ()))
        limit = 2 if len(low) >= 5 else 1
        best: tuple[int, float, str] | None = None
        freq = self._freq
        for w in seen:
            d = _osa_distance(low, w, limit)
            if d > limit:
                continue
            f = freq.get(w, 0)
            score = -(f if w[:1] == low[:1] else f / 20)
            if best is None or (d, score) < best[:2]:
                best = (d, score, w)
        return (best[0], best[2]) if best else (0, None)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@cache
def _delete_index() -> dict[str, tuple[str, ...]]:
    """Every suggestable word (count >= MIN_SUGGEST_FREQ) under itself and its one-deletes.

    About 45k words and 330k keys, built once per process on the first unknown word (~1 s).
    """
    index: dict[str, list[str]] = {}
    for w, f in _speller().word_frequency.dictionary.items():
        if f < MIN_SUGGEST_FREQ or not (w.isascii() and w.isalpha()):
            continue
        index.setdefault(w, []).append(w)
        for d in _deletes(w):
            index.setdefault(d, []).append(w)
    return {k: tuple(v) for k, v in index.items()}


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).

    Returns ``limit + 1`` early when the lengths alone rule the pair out.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        prev2, prev = prev, cur
    return prev[len(b)]


def _stems(low: str) -> list[str]:
    out: list[str] = []
    if low.endswith("'s") and len(low) > 3:
        out.append(low[:-2])
    elif low.endswith("s'") and len(low) > 3:
        out.append(low[:-1])
    elif low.endswith("es") and len(low) > 4 and low[-3] in "sxzho":
        out.append(low[:-2])
    elif low.endswith("s") and len(low) > 3 and low[-2] != "s":
        out.append(low[:-1])
    return out
