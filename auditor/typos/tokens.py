"""Latin words as the English check reads them: one precompiled tokeniser for the whole package.

A word is a maximal run of Latin letters, accented ones included (café, Zoë, naïve), with
' ’ ´ apostrophes inside (don’t, O´Brien). Letters glued to a digit are part of a code or a
number (11th, 2nd, B2B, A4) and are no word at all: the tokeniser never yields them, so a
message whose only unknown "word" is the "th" of "11th" stays on the fast path, and a
customer's "11th" adds no "th" to the chat's own words. (Possessive quantifiers keep the
digit test from backtracking into the run, and a word starts only where a run of letters
starts: "abc1" yields nothing, not "ab", and "11th" not "h".)
"""

from __future__ import annotations

import re

#: Latin letters: ASCII, Latin-1 letters (not × ÷), Latin Extended-A/B, Latin Extended Additional
LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
#: a word (see the module docstring)
LATIN_WORD = re.compile(f"(?<![0-9{LETTERS}])[{LETTERS}]++(?:['’´][{LETTERS}]++)*+(?![0-9])")


def fold_apostrophes(word: str) -> str:
    """’ and ´ typed as apostrophes become '."""
    if "’" in word or "´" in word:
        return word.replace("’", "'").replace("´", "'")
    return word
