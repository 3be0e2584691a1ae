"""Context score for Chinese: how much better a sentence reads with one character swapped.

A unigram word model over jieba's dictionary counts (the same model jieba segments with):
the score of a text is the log-probability of its best segmentation into dictionary words,
where a character that forms no word with its neighbours pays a penalty. A typed slip
usually breaks a word apart (问提: 问 + 提); the intended character joins it again (问题), so
the swap raises the score of the window around it. ``gain`` measures that rise.

Only a window around the swapped position is segmented (words are at most 4 characters, so
4 characters either side see every word that could change), and scores are cached per
window text: agents repeat themselves, and so do candidate windows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .zhdata import MAX_WORD, ZhData

#: Debian's libime-data-language-model: a KenLM word trigram of Chinese (17 MB, mmap)
LIBIME_LM = Path("/usr/lib/x86_64-linux-gnu/libime/zh_CN.lm")
#: ``AUDITOR_ZH_LM``: unset or "off" = no language model (the default, pip-only);
#: "auto" = libime's model when it and the kenlm package are installed; or a KenLM file path
LM_ENV = "AUDITOR_ZH_LM"


def load_language_model(setting: str | None = None) -> Any | None:
    """The optional KenLM model, or None. Never required: anything missing means None."""
    setting = os.environ.get(LM_ENV, "off") if setting is None else setting
    if setting in ("", "off"):
        return None
    path = LIBIME_LM if setting == "auto" else Path(setting)
    if not path.is_file():
        return None
    try:
        import kenlm  # type: ignore[import-not-found]
    except ImportError:
        return None
    return kenlm.Model(str(path))


__all__ = ["MAX_WORD", "ContextScorer", "load_language_model"]
#: extra log10 cost of a character that is no word on its own (not in the dictionary)
UNKNOWN_CHAR_PENALTY = 2.0


class ContextScorer:
    """Best-segmentation log10-probabilities of short texts (cached)."""

    def __init__(
        self,
        data: ZhData,
        extra_words: set[str] | frozenset[str] = frozenset(),
        lm: Any | None = None,
    ):
        self.lm = lm
        self._log_total = math.log10(data.total)
        self._data = data
        self._extra = extra_words
        self._floor = -self._log_total - UNKNOWN_CHAR_PENALTY
        self._cache: dict[str, float] = {}

    def score(self, text: str) -> float:
        got = self._cache.get(text)
        if got is not None:
            return got
        n = len(text)
        best = [0.0] + [-math.inf] * n
        back = [0] * (n + 1)
        self._segment(text, best, back, 0, n)
        if self.lm is None:
            result = best[n]
        else:  # the language model scores the same segmentation, word trigrams in context
            words: list[str] = []
            j = n
            while j > 0:
                words.append(text[j - back[j] : j])
                j -= back[j]
            result = float(self.lm.score(" ".join(reversed(words)), bos=False, eos=False))
        if len(self._cache) < 1_000_000:
            self._cache[text] = result
        return result

    def _segment(self, text: str, best: list[float], back: list[int], done: int, upto: int) -> None:
        """Fill ``best[j]`` (the best score of ``text[:j]``) and ``back[j]`` (the length of
        its last word) for ``done < j <= upto``, ``best[:done + 1]`` being filled already."""
        first = max(0, done + 1 - MAX_WORD)  # the earliest start of a word ending after done
        buckets, bucket = self._data._buckets, self._data.bucket
        # the words starting at each position (an empty bucket is looked up again: cached)
        starting = [buckets.get(c) or bucket(c) for c in text[first:upto]]
        extra = self._extra
        log_total = self._log_total
        for j in range(done + 1, upto + 1):
            top, arg = -math.inf, 1
            for k in range(1, min(MAX_WORD, j) + 1):
                w = text[j - k : j]
                f = starting[j - k - first].get(w)
                if f:
                    lp = math.log10(f) - log_total
                elif w in extra:
                    lp = 3.0 - log_total  # an organisation term: as likely as a common word
                elif k > 1:
                    continue
                else:
                    lp = self._floor
                v = best[j - k] + lp
                if v > top:
                    top, arg = v, k
            best[j], back[j] = top, arg

    def gains(self, s: str, i: int, chars: Sequence[str]) -> list[float]:
        """``[gain(s, i, ch, 0, len(s)) for ch in chars]``: the segmentation up to ``i``,
        which no swap at ``i`` changes, is done once for them all (same arithmetic, so the
        same scores as :meth:`score`)."""
        if self.lm is not None:
            return [self.gain(s, i, ch, 0, len(s)) for ch in chars]
        a, b = max(0, i - MAX_WORD), min(len(s), i + MAX_WORD + 1)
        window = s[a:b]
        k = i - a
        n = len(window)
        prefix: list[float] | None = None
        base = self._cache.get(window)
        if base is None:  # segmented here, its beginning kept for the swaps
            best = [0.0] + [-math.inf] * n
            self._segment(window, best, [0] * (n + 1), 0, n)
            base = best[n]
            if len(self._cache) < 1_000_000:
                self._cache[window] = base
            prefix = best[: k + 1]
        head, tail = window[:k], window[k + 1 :]
        out: list[float] = []
        for ch in chars:
            text = head + ch + tail
            got = self._cache.get(text)
            if got is None:
                if prefix is None:
                    prefix = [0.0] + [-math.inf] * k
                    self._segment(window, prefix, [0] * (k + 1), 0, k)
                best = prefix + [-math.inf] * (n - k)
                self._segment(text, best, [0] * (n + 1), k, n)
                got = best[n]
                if len(self._cache) < 1_000_000:
                    self._cache[text] = got
            out.append(got - base)
        return out

    def gain(self, s: str, i: int, ch: str, lo: int, hi: int) -> float:
        """Score rise of ``s[lo:hi]`` when ``s[i]`` is replaced by ``ch``."""
        a, b = max(lo, i - MAX_WORD), min(hi, i + MAX_WORD + 1)
        window = s[a:b]
        k = i - a
        return self.score(window[:k] + ch + window[k + 1 :]) - self.score(window)
