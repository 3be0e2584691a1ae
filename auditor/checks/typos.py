"""Typo detection for agent messages (issue #3). Interface used by ``auditor.checks``.

``TypoChecker`` is built once per rubric (dictionaries merged, data loaded once per process)
and then ``check(chat)`` runs per chat. It looks at agent messages only: customer text is not
graded, and bot/system messages are nobody's typing. An agent message marked ``auto`` (a
macro or auto-greeting) is checked, but its findings are only ``possible``: a template's typo
should be fixed in the template, not charged to the agent who triggered it.

The per-language logic lives in ``auditor.typos`` (skip rules, dictionary layers, English and
Chinese detectors); this module merges their findings into ``Typo`` records whose offsets
point into the original message text (``message.text[start:end] == typo.text``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from ..ingest.language import message_language
from ..models import Chat, Message
from ..rubric import TypoSettings
from ..typos.dictionaries import ChatTerms, Lexicon, build_lexicon
from ..typos.en import (
    CAPITALISED_MIN_LEN,
    PRODUCTIVE_PREFIXES,
    EnglishSpeller,
    Verdict,
    rarely_written,
)
from ..typos.en_context import TRIGGER_WORDS, context_slips
from ..typos.pinyin import is_pinyin
from ..typos.skip import SpanSet, skip_spans, word_rule
from ..typos.tokens import LATIN_WORD, fold_apostrophes
from ..typos.zh import CURATED_MARK, PINYIN_MARK, ChineseDetector, Hit, ZhParams
from ..typos.zhdata import to_simplified

#: languages the checker has a speller for; other messages are skipped (and counted)
SPELLED_LANGUAGES = frozenset({"en", "zh"})
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SENTENCE_END = frozenset(".!?。！？\n:：;；…")
_OPENERS = frozenset(" \t\"'“‘(（[「-–—*")


@dataclass(frozen=True)
class Typo:
    message_id: str
    start: int  # character offsets into the message text
    end: int
    text: str  # the suspect text, == message.text[start:end]
    suggestion: str | None
    tier: Literal["typo", "possible"]
    reason: str = ""


@dataclass
class TypoReport:
    typos: list[Typo] = field(default_factory=list)  # counted against the rubric limit
    possible: list[Typo] = field(default_factory=list)  # shown to reviewers, not counted

    # agent messages not spell-checked because they are in a language we have no speller
    # for: (message id, ISO 639-1 code)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.typos)


def _sentence_initial(text: str, start: int) -> bool:
    """True when the word at ``start`` opens the text or a sentence (so a capital is not a name)."""
    i = start - 1
    while i >= 0 and text[i] in _OPENERS:
        i -= 1
    if i < 0:
        return True
    if text[i] == "." and _ABBREVIATION_BEFORE.search(text, max(0, i - 6), i + 1):
        return False  # "Hello Mr. Jin": the full stop of a title, not of a sentence
    return text[i] in _SENTENCE_END


#: a full stop that ends a title or an abbreviation written before a name, not a sentence
_ABBREVIATION_BEFORE = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Mx|Dr|Prof|St|Messrs)\.$")


#: distinct agent texts whose suspects are remembered (cleared when full)
_TEXT_CACHE_SIZE = 100_000
#: whitespace-separated pieces of clean texts remembered (no more are added when full)
_CLEAN_CHUNKS_SIZE = 500_000


#: what may follow a sign-off name ending the message: spaces, emoji, a link — not a full
#: stop or "!" ("Graet." is a one-word sentence, "… Ceri" a signature)
_TRAILER = re.compile(r"[^\w.!?]*(?:https?://\S*[\W_]*)?$")
#: a letter typed three or more times in a row
#: the next word starts with a capital letter
_NEXT_CAPITAL = re.compile(r"[ \t]+[A-Z]")
_ELONGATED = re.compile(r"(.)\1\1")
#: where a capitalised word is someone addressed (a vocative): before , . ! ? or after a
#: greeting or a comma ("Hey Pazcal!", "…with you, Abbye.", "any issues Indur.")
_VOCATIVE_NEXT = re.compile(r"[ \t]*[,.!?;:]")
_VOCATIVE_PREV = re.compile(
    r"(?:\b(?:hi|hey|hello|dear|thanks|thank you|sorry|welcome|morning|evening)|,)[ \t]*$",
    re.IGNORECASE,
)
_RUN = re.compile(r"(.)\1{2,}")
#: the word after a space
_NEXT_WORD = re.compile(r" ([A-Za-z]+)")
#: words that put a person's name after them ("Mrs Smiht," is someone addressed)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "madam", "dear", "mister"})


def _hyphenated(text: str, start: int, end: int) -> bool:
    """The word is joined to another by a hyphen (spook-tacular, un-packaged)."""
    return (end + 1 < len(text) and text[end] == "-" and text[end + 1].isalpha()) or (
        start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()
    )


def _clear_slip(low: str, v: Verdict) -> bool:
    """One edit from a known word and 5+ letters: a slip even inside a hyphenated word
    (pet-frendly), unlike a coinage's part (spook-tacular, un-packaged)."""
    return v.distance == 1 and len(low) >= CAPITALISED_MIN_LEN


def _nobody_writes(low: str, v: Verdict) -> bool:
    """A slip, not a name: 5+ letters, a correction one edit away, and written almost never
    (names, pinyin included, are written: Kirsty, Xiao; Airpot, Ameracan are not)."""
    return (
        v.suggestion is not None
        and v.distance == 1
        and len(low) >= CAPITALISED_MIN_LEN
        and low.isascii()
        and rarely_written(low)
    )


def _inside_name(text: str, start: int) -> bool:
    """The word follows a capitalised word that does not open a sentence ("Tacoma
    International Airpot.", "Spring Aveune."): part of a multi-word name, not someone addressed."""
    end = start
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    if end == start:
        return False
    begin = end
    while begin > 0 and text[begin - 1].isalpha():
        begin -= 1
    prev = text[begin:end]
    return (
        "A" <= prev[:1] <= "Z"
        and prev.lower() not in _TITLES
        and not _sentence_initial(text, begin)
    )


def _fold_word(word: str) -> str:
    """A Latin word as the chat's own-words layer stores it."""
    return fold_apostrophes(word.lower())


class TypoChecker:
    """Built once per rubric (dictionaries loaded once), then ``check(chat)`` per chat."""

    def __init__(
        self,
        settings: TypoSettings,
        extra_dictionaries: Sequence[Path] = (),
        *,
        zh_params: ZhParams | None = None,
    ):
        self.settings = settings
        self.extra_dictionaries = list(extra_dictionaries)
        self.lexicon: Lexicon = build_lexicon(
            settings.terms, [*self.extra_dictionaries, *settings.dictionaries]
        )
        self.en = EnglishSpeller(self.lexicon.en_words, settings.locale)
        self._clean_words: set[str] = set()
        # whitespace-separated pieces of clean texts ("you.", "(order") whose words are all
        # known and no context rule's trigger, without Chinese: see _detect
        self._clean_chunks: set[str] = set()
        self._zh_params = zh_params
        self._zh: ChineseDetector | None = None  # built on first Chinese text (about 1.5 s)
        self._by_text: dict[str, tuple[tuple[str, Typo], ...]] = {}
        self._shape_skip: dict[str, bool] = {}
        self._skip_lang: dict[str, str | None] = {}

    @property
    def zh(self) -> ChineseDetector:
        if self._zh is None:
            self._zh = ChineseDetector(self.lexicon.zh_words, self._zh_params)
        return self._zh

    # -- public -------------------------------------------------------------------------
    def check(self, chat: Chat) -> TypoReport:
        """Typos in the chat's agent messages, counted and possible, in message order."""
        # the customer's words, read once the first agent message has a suspect word (most
        # chats have none: a message without candidates has no typo, whatever the terms)
        terms: ChatTerms | None = None
        report = TypoReport()
        for m in chat.messages:
            if m.role != "agent":
                continue
            if terms is None and self._candidates(m.text):
                terms = ChatTerms(c.text for c in chat.messages if c.role == "customer")
            found = [] if terms is None else self.check_message(m, terms)
            lang = self.skipped_language(m.text)
            if lang is not None:
                report.skipped.append((m.id, lang))
                continue
            for t in found:
                (report.typos if t.tier == "typo" else report.possible).append(t)
        return report

    def skipped_language(self, text: str) -> str | None:
        """The language of ``text`` when we have no speller for it (its findings are dropped).

        Asked only of messages with a suspect Latin word and no Chinese (a message whose words
        are all known is English enough, whatever its language): the language model is not
        consulted for clean traffic.
        """
        got = self._skip_lang.get(text, "")
        if got != "":
            return got
        lang: str | None = None
        if self._candidates(text):
            code = message_language(text)
            if code is not None and code not in SPELLED_LANGUAGES:
                lang = code
        if len(self._skip_lang) >= _TEXT_CACHE_SIZE:
            self._skip_lang.clear()
        self._skip_lang[text] = lang
        return lang

    def check_message(self, message: Message, terms: ChatTerms | None = None) -> list[Typo]:
        """Typos in one message; ``terms`` is the chat's own dictionary layer."""
        found = self.check_text(message.text, message.id, terms)
        if message.auto:
            found = [
                replace(t, tier="possible", reason=f"{t.reason}; automatic message, not counted")
                if t.tier == "typo"
                else t
                for t in found
            ]
        return found

    def check_text(
        self, text: str, message_id: str = "", terms: ChatTerms | None = None
    ) -> list[Typo]:
        """Typos in a piece of agent text (the unit the benchmark measures).

        What is suspect depends on the text alone and is computed once per distinct text
        (agents paste the same macro replies all day); the chat's own words (``terms``) are
        then applied, exactly as if the text were checked afresh.
        """
        out: list[Typo] = []
        for kind, t in self._candidates(text):
            if terms is not None:
                if kind == "en" and _fold_word(t.text) in terms.en_words:
                    continue
                if kind == "zh" and self._customer_wrote_zh(text, t, terms):
                    continue
            out.append(replace(t, message_id=message_id) if message_id else t)
        return out

    def _candidates(self, text: str) -> tuple[tuple[str, Typo], ...]:
        cached = self._by_text.get(text)
        if cached is None:
            cached = self._detect(text)
            if len(self._by_text) >= _TEXT_CACHE_SIZE:
                self._by_text.clear()
            self._by_text[text] = cached
        return cached

    def _detect(self, text: str) -> tuple[tuple[str, Typo], ...]:
        # A word never spans whitespace and the tokeniser's boundary tests see whitespace as
        # the string's edge, so a text's words are its pieces' words in order: a text made
        # only of pieces seen in clean texts (no Chinese, every word known, no context trigger)
        # is clean, without tokenising it (most of a clean message's cost).
        chunks = text.split()
        if self._clean_chunks.issuperset(chunks):
            return ()
        has_cjk = not text.isascii() and _CJK.search(text) is not None
        words = LATIN_WORD.findall(text)
        slips = context_slips(text, words) if not TRIGGER_WORDS.isdisjoint(words) else []
        if not has_cjk and not slips and self._all_clean(words):
            self._remember_clean(chunks, words)
            return ()  # the common case: no suspect word, no span work needed
        spans: list[tuple[int, int]] = [
            (s, e) for s, e, _ in skip_spans(text, latin_only=not has_cjk)
        ]
        if self.lexicon.phrases:
            spans.extend(self.lexicon.phrase_spans(text.lower()))
        protected = SpanSet(spans)
        out = [("en", t) for t in self._english(text, "", protected, None, has_cjk)]
        # wrong-word slips are real words: the chat's own words never excuse them
        out.extend(
            ("context", Typo("", c.start, c.end, c.wrong, c.right, "typo", c.reason))
            for c in slips
            if not (protected and protected.overlaps(c.start, c.end))
        )
        if has_cjk:
            zh = self._chinese(text, "", protected, None)
            if out and any(PINYIN_MARK in t.reason for t in zh):
                # a particle left as pinyin (好的ne) is the Chinese slip, not an English word
                spans_zh = {(t.start, t.end) for t in zh}
                out = [kt for kt in out if (kt[1].start, kt[1].end) not in spans_zh]
            out.extend(("zh", t) for t in zh)
        if slips or has_cjk:
            out.sort(key=lambda kt: kt[1].start)
        return tuple(out)

    def _remember_clean(self, chunks: list[str], words: list[str]) -> None:
        """Files the pieces of a clean text (``words``: its words, all known, no Chinese)
        when none of its words is a context rule's trigger ("of" may start a slip: "should
        of"); telling such a text's pieces apart cost more than it saved on new texts."""
        if len(self._clean_chunks) < _CLEAN_CHUNKS_SIZE and TRIGGER_WORDS.isdisjoint(words):
            self._clean_chunks.update(chunks)

    # -- English ------------------------------------------------------------------------
    def _all_clean(self, words: list[str]) -> bool:
        """True when every Latin word (``words``, as tokenised) is known (a set lookup each).

        Words seen clean once are remembered verbatim, so steady traffic never lower-cases or
        consults the speller; the skip rules only run for messages with a suspect word.
        """
        clean = self._clean_words
        if clean.issuperset(words):
            return True
        for w in words:
            if w in clean:
                continue
            if self.en.verdict(fold_apostrophes(w)) is not None:
                return False
            if len(clean) < 500_000:
                clean.add(w)
        return True

    def _word_skipped(self, word: str) -> bool:
        """An acronym or brand spelling (VIP, iPhone): the word-level skip rules, per word."""
        got = self._shape_skip.get(word)
        if got is None:
            got = word_rule(word) is not None
            if len(self._shape_skip) < 300_000:
                self._shape_skip[word] = got
        return got

    def _english(
        self,
        text: str,
        mid: str,
        protected: SpanSet,
        terms: ChatTerms | None,
        in_chinese: bool,
    ) -> list[Typo]:
        out: list[Typo] = []
        verdict = self.en.verdict
        clean = self._clean_words
        for m in LATIN_WORD.finditer(text):
            raw = m.group()
            if raw in clean:
                continue
            word = fold_apostrophes(raw)
            v = verdict(word)
            if v is None or len(word) < 2:
                continue
            start, end = m.span()
            if (protected and protected.overlaps(start, end)) or self._word_skipped(raw):
                continue
            low = word.lower()
            if terms is not None and low in terms.en_words:
                continue
            tier, reason = v.tier, v.reason
            if tier == "typo":
                mid_capital = word[0].isupper() and not _sentence_initial(text, start)
                if mid_capital and not self._misspelt_capital(text, start, end, low, v):
                    tier, reason = "possible", "capitalised word not in the dictionary (a name?)"
                elif (
                    word[0].isupper()
                    and is_pinyin(low)
                    and _NEXT_CAPITAL.match(text, end)
                    and not _nobody_writes(low, v)
                ):
                    tier, reason = "possible", "capitalised pinyin before a capital (Xiao Mei)"
                elif v.suggestion is None and word[0].isupper() and is_pinyin(low):
                    # nothing English is near it: a Chinese name or nickname opening a
                    # sentence ("Xiaomei will follow it up"), not a garbled word
                    tier, reason = "possible", "capitalised pinyin, no English word near (a name?)"
                elif word[0].isupper() and _TRAILER.match(text, end):
                    tier, reason = "possible", "capitalised last word (a sign-off name?)"
                elif text.startswith("'", end) and low.endswith("in") and self._known(low + "g"):
                    tier, reason = "possible", "dropped g (lookin', nothin')"
                elif low in PRODUCTIVE_PREFIXES and self._prefix_apart(text, end, low):
                    tier, reason = "possible", "a prefix written apart (un delete)"
                elif _hyphenated(text, start, end) and not _clear_slip(low, v):
                    tier, reason = "possible", "part of a hyphenated coinage (un-packaged)"
                elif _ELONGATED.search(low) and self._elongation_of_word(low):
                    tier, reason = "possible", "drawn-out word (noooo, sooo)"
                elif in_chinese and is_pinyin(low):
                    tier, reason = "possible", "may be pinyin in a Chinese message"
                elif in_chinese and not (v.distance == 1 and len(low) >= 5):
                    tier = "possible"
                    reason = "Latin word in a Chinese message (often a brand or product name)"
            suggestion = v.suggestion
            if suggestion and word[0].isupper() and suggestion[0].islower():
                suggestion = suggestion[0].upper() + suggestion[1:]
            out.append(Typo(mid, start, end, m.group(), suggestion, tier, reason))
        return out

    def _prefix_apart(self, text: str, end: int, low: str) -> bool:
        """The prefix ``low`` is followed by a word it makes a word with ("un delete",
        "re install"): a word split in two, not a slip."""
        m = _NEXT_WORD.match(text, end)
        if m is None:
            return False
        joined = low + m.group(1).lower()
        return self._known(joined) or self.en.prefixed_word(joined)

    def _known(self, word: str) -> bool:
        return self.en.verdict(word) is None

    @staticmethod
    def _misspelt_capital(text: str, start: int, end: int, low: str, v: Verdict) -> bool:
        """A capitalised word inside a sentence that is a slip, not a name: long enough, a
        correction one edit away, written almost never (names are written), and not where
        someone is addressed (vocative)."""
        return (
            (_VOCATIVE_NEXT.match(text, end) is None or _inside_name(text, start))
            and _VOCATIVE_PREV.search(text, max(0, start - 12), start) is None
            and _nobody_writes(low, v)
        )

    def _elongation_of_word(self, low: str) -> bool:
        """A letter held down makes a known word once the run is shortened (noooo → no)."""
        for repl in (r"\1\1", r"\1"):
            short = _RUN.sub(repl, low)
            if self.en.verdict(short) is None:
                return True
        return False

    # -- Chinese ------------------------------------------------------------------------
    def _chinese(
        self, text: str, mid: str, protected: SpanSet, terms: ChatTerms | None
    ) -> list[Typo]:
        simple = to_simplified(text)
        n = len(text)
        blocked = [False] * n
        for a, b in protected.spans():
            blocked[a:b] = [True] * (b - a)
        out: list[Typo] = []
        for h in self.zh.detect(simple, blocked):
            if terms is not None and self._customer_wrote_zh(text, h, terms):
                continue
            tier, reason = h.tier, h.reason
            if h.function_swap and not self.settings.count_function_chars:
                tier = "possible"
                reason += "; 的/地/得 or 在/再 use is not counted by this rubric"
            suggestion = h.suggestion
            if simple != text and text[h.start : h.end] != simple[h.start : h.end]:
                reason += f" (simplified: {simple[h.start : h.end]})"
            out.append(Typo(mid, h.start, h.end, text[h.start : h.end], suggestion, tier, reason))
        return out

    @classmethod
    def _customer_wrote_zh(cls, text: str, hit: Typo | Hit, terms: ChatTerms) -> bool:
        """The customer's own words cover the suspect: for a curated confusion, the whole
        confused phrase (a customer who writes 现在申请 does not make 收货后在申请 right);
        otherwise the suspect characters with a neighbour (a name, a street)."""
        marker = hit.reason.find(CURATED_MARK)
        if marker >= 0:
            return terms.covers_zh(hit.reason[:marker].split("→", 1)[0])
        return cls._customer_wrote(text, hit.start, hit.end, terms)

    @staticmethod
    def _customer_wrote(text: str, start: int, end: int, terms: ChatTerms) -> bool:
        """The suspect characters with a neighbour appear in the customer's own messages."""
        for a, b in ((start - 1, end), (start, end + 1), (start - 1, end + 1)):
            if a >= 0 and b <= len(text) and terms.covers_zh(text[a:b]):
                return True
        return False
