"""Phrase checks on the agent's words: forbidden phrases, greeting, closing, polite address.

Each check is a pure function of a chat and the rubric's ``phrases`` settings, compiled
once into a :class:`PhraseChecks` (Aho-Corasick automatons for the phrase lists, ``re``
for the patterns) so that a chat costs one pass over each agent message.

Matching rules, shared by every phrase list (and by the hold patterns in ``timing``):

* case-insensitive substrings;
* a phrase that begins (ends) with a Latin letter or digit must begin (end) at a word
  boundary there, so ``hi`` does not match inside ``this`` and ``ok`` not inside
  ``book``; Chinese has no word boundaries and matches anywhere;
* every hit is reported with offsets into the message's own text, so a quote is always
  the text exactly as it stands in the message.

Only human agent messages (``role == "agent"`` and not ``auto``) are checked: automatic
macros and bot messages are not the agent's words (the same rule as the timing clocks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from ..models import Chat, Evidence, Message, Status, evidence_of
from ..rubric import PhraseSettings

#: How many characters of context a polite-address quote keeps on each side of the 你:
#: a lone "你" tells a reviewer nothing, "你的订单已经发货" does.
ADDRESS_CONTEXT = 8


def _is_word_char(ch: str) -> bool:
    """Latin letters and digits form words; CJK characters do not need boundaries."""
    return ch.isascii() and ch.isalnum()


@dataclass(slots=True)
class Hit:
    """One match inside one message: ``text == message.text[start:end]``.

    Read-only by convention (not ``frozen``: frozen dataclasses are slower to build).
    """

    message_id: str
    start: int
    end: int
    text: str
    rule: str  # the phrase or pattern that matched

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "rule": self.rule,
        }


class PhraseMatcher:
    """Case-insensitive multi-phrase search (Aho-Corasick) with Latin word boundaries."""

    def __init__(self, phrases: Iterable[str]):
        self.phrases = [p for p in dict.fromkeys(p.strip() for p in phrases) if p]
        self._automaton: Any = None
        if self.phrases:
            automaton = ahocorasick.Automaton()
            for phrase in self.phrases:
                key = phrase.lower()
                # Two phrases may lower-case alike ("OK", "ok"): the first one is kept.
                if not automaton.exists(key):
                    automaton.add_word(
                        key, (phrase, len(key), _is_word_char(key[0]), _is_word_char(key[-1]))
                    )
            automaton.make_automaton()
            self._automaton = automaton

    def __bool__(self) -> bool:
        return self._automaton is not None

    def _raw_hits(self, text: str) -> list[tuple[int, int, str]]:
        """Every boundary-respecting hit as (start, end, phrase) in ``text``'s offsets."""
        if self._automaton is None or not text:
            return []
        lowered = text.lower()
        index: list[int] | None = None
        if len(lowered) != len(text):
            # Rare: a character whose lower case has another length ("İ"). Map offsets back.
            index = []
            parts = []
            for i, ch in enumerate(text):
                low = ch.lower()
                parts.append(low)
                index.extend([i] * len(low))
            index.append(len(text))
            lowered = "".join(parts)
        hits = []
        n = len(lowered)
        for end_idx, (phrase, length, word_start, word_end) in self._automaton.iter(lowered):
            start, end = end_idx - length + 1, end_idx + 1
            if word_start and start > 0 and _is_word_char(lowered[start - 1]):
                continue
            if word_end and end < n and _is_word_char(lowered[end]):
                continue
            if index is not None:
                start, end = index[start], index[end]
            hits.append((start, end, phrase))
        return hits

    def find_all(self, message: Message) -> list[Hit]:
        """Non-overlapping hits, leftmost first, the longest phrase winning at a position."""
        raw = self._raw_hits(message.text)
        if not raw:
            return []
        raw.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        out: list[Hit] = []
        last_end = -1
        for start, end, phrase in raw:
            if start >= last_end:
                out.append(Hit(message.id, start, end, message.text[start:end], phrase))
                last_end = end
        return out

    def first(self, message: Message) -> Hit | None:
        """The leftmost hit (the longest phrase at that position), or None."""
        raw = self._raw_hits(message.text)
        if not raw:
            return None
        start, end, phrase = min(raw, key=lambda h: (h[0], -(h[1] - h[0])))
        return Hit(message.id, start, end, message.text[start:end], phrase)

    def contains(self, text: str) -> bool:
        """Whether any phrase occurs in ``text`` (stops at the first hit; no offsets)."""
        if self._automaton is None:
            return False
        lowered = text.lower()
        n = len(lowered)
        for end_idx, (_, length, word_start, word_end) in self._automaton.iter(lowered):
            start = end_idx - length + 1
            if word_start and start > 0 and _is_word_char(lowered[start - 1]):
                continue
            if word_end and end_idx + 1 < n and _is_word_char(lowered[end_idx + 1]):
                continue
            return True
        return False


@dataclass(slots=True)
class Verdict:
    """A check's verdict before it is tied to a rubric criterion."""

    status: Status
    detail: str
    evidence: list[Evidence] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def _any_of(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex matching wherever any of ``patterns`` matches: a cheap screen per message.

    Only built when the alternation means exactly "any of them": several patterns, none
    with capturing groups (their numbers would shift) and no global flags past the start
    (a leading ``(?i)`` is dropped, as every pattern is compiled case-insensitive anyway).
    """
    if len(patterns) < 2:
        return None
    parts = []
    for p in patterns:
        p = p.removeprefix("(?i)")
        try:
            if re.compile(p).groups:
                return None
        except re.error:
            return None
        parts.append(f"(?:{p})")
    try:
        return re.compile("|".join(parts), re.IGNORECASE)
    except re.error:
        return None


def quote_prefix(text: str, limit: int = 60) -> str:
    """A verbatim prefix of the message (surrounding whitespace skipped), about ``limit`` chars."""
    stripped = text.strip()
    return stripped[:limit] if stripped else text[:limit]


def agent_replies(chat: Chat) -> list[Message]:
    """The human agent's messages, in order."""
    return [m for m in chat.messages if m.role == "agent" and not m.auto]


class PhraseChecks:
    """The four phrase checks of one rubric, compiled once."""

    def __init__(self, settings: PhraseSettings):
        self.settings = settings
        self.forbidden = PhraseMatcher(settings.forbidden)
        self.forbidden_patterns = [
            (p, re.compile(p, re.IGNORECASE)) for p in settings.forbidden_patterns
        ]
        self._forbidden_any = _any_of(settings.forbidden_patterns)
        self.greeting_phrases = PhraseMatcher(settings.greeting)
        self.closing_help = PhraseMatcher(settings.closing_help)
        self.closing_thanks = PhraseMatcher(settings.closing_thanks)
        self.impolite = [re.compile(p) for p in settings.impolite_address]
        self.allow = [re.compile(p) for p in settings.polite_address_allow]

    # -- forbidden phrases ---------------------------------------------------------------
    def forbidden_hits(self, replies: Sequence[Message]) -> list[Hit]:
        """Phrase-list and pattern hits in the agent's messages; overlapping hits count once."""
        out: list[Hit] = []
        screen = self._forbidden_any
        for m in replies:
            hits = self.forbidden.find_all(m)
            if screen is not None and screen.search(m.text) is None:
                out.extend(hits)
                continue
            for pattern, rx in self.forbidden_patterns:
                for mt in rx.finditer(m.text):
                    if mt.end() == mt.start():
                        continue  # an empty match quotes nothing
                    if any(h.start < mt.end() and mt.start() < h.end for h in hits):
                        continue
                    hits.append(Hit(m.id, mt.start(), mt.end(), mt.group(0), pattern))
            hits.sort(key=lambda h: h.start)
            out.extend(hits)
        return out

    def check_forbidden(self, replies: Sequence[Message]) -> Verdict:
        if not replies:
            return Verdict("na", "no agent reply to check")
        hits = self.forbidden_hits(replies)
        data = {"hits": [h.as_dict() for h in hits]}
        if not hits:
            return Verdict("pass", "no forbidden phrase", data=data)
        listed = ", ".join(f"{h.text!r} in {h.message_id}" for h in hits)
        return Verdict(
            "fail",
            f"{len(hits)} forbidden phrase{'s' if len(hits) > 1 else ''}: {listed}",
            [evidence_of(h.message_id, h.text) for h in hits],
            data,
        )

    # -- greeting ----------------------------------------------------------------------
    def check_greeting(self, replies: Sequence[Message]) -> Verdict:
        if not replies:
            return Verdict("na", "the agent never replied")
        if not self.greeting_phrases:
            return Verdict("na", "the rubric lists no greeting phrases")
        first = replies[0]
        hit = self.greeting_phrases.first(first)
        if hit is None:
            return Verdict(
                "fail",
                f"no standard greeting in the agent's first reply ({first.id})",
                [evidence_of(first.id, quote_prefix(first.text))],
                {"message_id": first.id, "matched": None},
            )
        return Verdict(
            "pass",
            f"greeting {hit.text!r} in {first.id}",
            [evidence_of(first.id, hit.text)],
            {"message_id": first.id, "matched": hit.text},
        )

    # -- closing -----------------------------------------------------------------------
    def check_closing(self, replies: Sequence[Message]) -> Verdict:
        if not replies:
            return Verdict("na", "the agent never replied")
        parts = [("offer of further help", self.closing_help), ("thanks", self.closing_thanks)]
        parts = [(name, matcher) for name, matcher in parts if matcher]
        if not parts:
            return Verdict("na", "the rubric lists no closing phrases")
        window = list(replies[-max(1, self.settings.closing_window) :])
        found: dict[str, Hit | None] = {}
        for name, matcher in parts:
            found[name] = None
            # The latest mention is the closing; search the window from its end.
            for m in reversed(window):
                hit = matcher.first(m)
                if hit is not None:
                    found[name] = hit
                    break
        data: dict[str, Any] = {
            "window": [m.id for m in window],
            **{
                ("help" if name.startswith("offer") else "thanks"): (h.text if h else None)
                for name, h in found.items()
            },
        }
        missing = [name for name, h in found.items() if h is None]
        hits = [h for h in found.values() if h is not None]
        span = f"the agent's last {len(window)} repl{'ies' if len(window) > 1 else 'y'}"
        if missing:
            last = window[-1]
            return Verdict(
                "fail",
                f"closing lacks {' and '.join(missing)} in {span}",
                [evidence_of(h.message_id, h.text) for h in hits]
                or [evidence_of(last.id, quote_prefix(last.text))],
                data,
            )
        return Verdict(
            "pass",
            "closing: " + ", ".join(f"{h.text!r} in {h.message_id}" for h in hits),
            [evidence_of(h.message_id, h.text) for h in hits],
            data,
        )

    # -- polite address (zh) -----------------------------------------------------------
    def address_hits(self, replies: Sequence[Message]) -> list[Hit]:
        """Impolite-address matches not excused by an overlapping allow-list match."""
        out: list[Hit] = []
        for m in replies:
            text = m.text
            allowed: list[tuple[int, int]] | None = None  # computed only when needed
            for rx in self.impolite:
                for mt in rx.finditer(text):
                    s, e = mt.start(), mt.end()
                    if e == s:
                        continue
                    if allowed is None:
                        allowed = [
                            (a.start(), a.end()) for al in self.allow for a in al.finditer(text)
                        ]
                    if any(a < e and s < b for a, b in allowed):
                        continue
                    out.append(Hit(m.id, s, e, mt.group(0), rx.pattern))
        return out

    def check_polite_address(self, chat: Chat, replies: Sequence[Message]) -> Verdict:
        if chat.language != "zh":
            return Verdict("na", "polite address (您/你) applies to Chinese chats only")
        if not replies:
            return Verdict("na", "the agent never replied")
        if not self.impolite:
            return Verdict("na", "the rubric lists no impolite_address patterns")
        hits = self.address_hits(replies)
        by_id = {m.id: m.text for m in replies}
        evidence = []
        occurrences = []
        for h in hits:
            text = by_id[h.message_id]
            lo, hi = max(0, h.start - ADDRESS_CONTEXT), min(len(text), h.end + ADDRESS_CONTEXT)
            evidence.append(evidence_of(h.message_id, text[lo:hi]))
            occurrences.append(h.as_dict())
        data = {"occurrences": occurrences}
        if not hits:
            return Verdict("pass", "the agent addresses the customer as 您", data=data)
        ids = sorted({h.message_id for h in hits}, key=[m.id for m in replies].index)
        return Verdict(
            "fail",
            f"{len(hits)} use{'s' if len(hits) > 1 else ''} of 你 where 您 is expected "
            f"(in {', '.join(ids)})",
            evidence,
            data,
        )
