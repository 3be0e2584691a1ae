"""Dictionary layers: terms that are never typos.

Layers, from the most general to the most specific (a term in any layer is never flagged):

1. general lists — pyspellchecker's English frequency list and jieba's Chinese dictionary
   (loaded by ``en.py`` / ``zh.py``), plus ``data/en_terms.txt`` (chat and customer-service
   English: app, wifi, pls, thx …);
2. the organisation dictionary — ``data/org_terms.txt`` (e-commerce, telecom and banking
   jargon, brands, chat particles such as 亲 哈 滴) plus any ``--dictionary`` files;
3. per-rubric terms — ``TypoSettings.terms`` and the files in ``TypoSettings.dictionaries``;
4. the chat itself — words the customer wrote (names, order numbers), see ``ChatTerms``.

Term files are UTF-8, one term a line; ``#`` starts a comment; blank lines are ignored. A term
may contain spaces ("Apple Pay"); English matching is case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import ahocorasick

from ..errors import UsageError
from .tokens import LATIN_WORD, fold_apostrophes

DATA_PACKAGE = "auditor.typos.data"
SHIPPED_FILES: tuple[str, ...] = ("en_terms.txt", "org_terms.txt")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")


def parse_terms(text: str) -> list[str]:
    """Terms from a term file's text: one a line, ``#`` comments and blank lines dropped."""
    out: list[str] = []
    for line in text.splitlines():
        term = line.split("#", 1)[0].strip()
        if term:
            out.append(term)
    return out


def read_term_file(path: Path | str) -> list[str]:
    """Read a user term file, with an error that says which file could not be read."""
    p = Path(path)
    try:
        return parse_terms(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise UsageError(
            f"dictionary file not found: {p} (check --dictionary / typos.dictionaries)"
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(
            f"cannot read dictionary file {p}: {e} (expected UTF-8, one term a line)"
        ) from e


def shipped_terms(name: str) -> list[str]:
    """Terms of a shipped data file (``auditor/typos/data/<name>``)."""
    return parse_terms(resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8"))


@dataclass
class Lexicon:
    """Every dictionary layer except the chat's own, merged once per checker.

    ``en_words`` holds lower-cased single English words; ``phrases`` every term (lower-cased)
    for span protection by an Aho-Corasick automaton (multi-word English terms and all Chinese
    terms); ``zh_words`` the Chinese terms, which the Chinese detector also treats as words.
    """

    en_words: set[str] = field(default_factory=set)
    zh_words: set[str] = field(default_factory=set)
    phrases: set[str] = field(default_factory=set)
    _automaton: ahocorasick.Automaton | None = field(default=None, repr=False)

    def add(self, terms: Iterable[str]) -> None:
        for raw in terms:
            term = raw.strip()
            if not term:
                continue
            low = term.lower()
            if _CJK.search(term):
                self.zh_words.add(term)
                self.phrases.add(low)
            elif _LATIN_WORD.fullmatch(term):
                self.en_words.add(low.replace("’", "'"))
            else:
                self.phrases.add(low)  # "Apple Pay", "wi-fi", "T-Mobile", "7-Eleven"
        self._automaton = None

    @property
    def automaton(self) -> ahocorasick.Automaton | None:
        """Automaton over ``phrases`` (built lazily, once); None when there are no phrases."""
        if self._automaton is None and self.phrases:
            a = ahocorasick.Automaton()
            for p in self.phrases:
                a.add_word(p, len(p))
            a.make_automaton()
            self._automaton = a
        return self._automaton

    def phrase_spans(self, lowered: str) -> list[tuple[int, int]]:
        """Spans of ``lowered`` (the message text, lower-cased) covered by a phrase term.

        A Latin phrase only counts on word boundaries ("wi-fi" protects "wi-fi", not
        "kiwi-fig"); Chinese phrases match anywhere, as Chinese has no spaces.
        """
        a = self.automaton
        if a is None:
            return []
        spans: list[tuple[int, int]] = []
        n = len(lowered)
        for end_idx, length in a.iter(lowered):
            start, end = end_idx - length + 1, end_idx + 1
            if lowered[start].isascii() and start > 0 and lowered[start - 1].isalnum():
                continue
            if lowered[end - 1].isascii() and end < n and lowered[end].isalnum():
                continue
            spans.append((start, end))
        return spans


def build_lexicon(
    terms: Sequence[str] = (),
    files: Sequence[Path | str] = (),
    *,
    shipped: bool = True,
) -> Lexicon:
    """Merge the shipped lists, term files (org ``--dictionary`` and rubric) and rubric terms."""
    lex = Lexicon()
    if shipped:
        for name in SHIPPED_FILES:
            lex.add(shipped_terms(name))
    for f in files:
        lex.add(read_term_file(f))
    lex.add(terms)
    return lex


class ChatTerms:
    """The chat's own dictionary layer: what the customer wrote.

    A customer's name, street or order number repeated by the agent is not the agent's typo.
    English: every Latin word of the customer's messages (case-insensitive; as ``tokens.py``
    reads words, so letters glued to digits, as in "11th" or "B2B", add none). Chinese: a
    suspect span is excused when the customer wrote the same characters (``covers``).
    """

    __slots__ = ("en_words", "_zh_text")

    def __init__(self, customer_texts: Iterable[str]):
        texts = list(customer_texts)
        self.en_words = {fold_apostrophes(w.lower()) for t in texts for w in LATIN_WORD.findall(t)}
        self._zh_text = "\n".join(texts)

    def covers_zh(self, fragment: str) -> bool:
        return bool(fragment) and fragment in self._zh_text
