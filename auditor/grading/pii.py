"""Mask personal data before a transcript leaves the machine.

What is masked, and how it is recognised (each detector errs on the side of the
customer's privacy only where a checksum, a validator or an unambiguous cue backs it up;
docs/llm-grading.md has the table, docs/security.md what is *not* masked):

* e-mail addresses, any script (IDN) — ``pii_contacts``;
* Chinese resident ID numbers: 18 characters whose check digit validates
  (``stdnum.cn.ric``), so a random 18-digit order number is not taken for an ID;
* order numbers: the rubric's ``order_patterns`` (regexes), because only the shop knows
  what its order numbers look like;
* bank card numbers: 13-19 digits (spaces or dashes allowed) passing the Luhn check
  (``stdnum.luhn``);
* passport numbers: the Chinese formats, or after a passport cue — ``pii_contacts``;
* phone numbers, Chinese and international, as found by Google's libphonenumber
  (``phonenumbers.PhoneNumberMatcher`` with ``Leniency.VALID``, default region CN), and
  written in Chinese numerals (read as digits, then validated the same way);
* QQ and WeChat ids after their cue words; IPv4/IPv6 addresses — ``pii_contacts``;
* postal addresses, zh and en, with building/unit/room — ``pii_address``;
* personal names next to an honorific or an introduction — ``pii_names``.

Each distinct value gets a stable placeholder per chat (``⟨PHONE_1⟩``, ``⟨PHONE_2⟩``, the
same number twice gets the same placeholder), so the model can still reason ("the agent
repeated the customer's number back"). The mapping never leaves the process:
``MaskedText.to_original`` maps any span of masked text back to the transcript's own
characters, which is how evidence quotes are stored unmasked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

from ..models import Chat
from .pii_address import find_addresses
from .pii_contacts import (
    find_emails,
    find_ips,
    find_messenger_ids,
    find_passports,
    find_zh_numeral_phones,
)
from .pii_names import find_names
from .pii_types import Span

__all__ = ["KINDS", "ChatMasker", "MaskedChat", "MaskedText", "Span", "find_pii", "mask_chat"]

#: Placeholder brackets: mathematical angle brackets, which never occur in real chats
#: and which the model copies faithfully.
OPEN, CLOSE = "⟨", "⟩"

_DIGIT = re.compile(r"\d")
_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CARD_CANDIDATE = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")

#: Detector order is priority: an earlier kind wins an overlapping span.
KINDS: tuple[str, ...] = (
    *("EMAIL", "ID", "ORDER", "CARD", "PASSPORT", "PHONE", "QQ", "WECHAT", "IP"),
    *("ADDRESS", "NAME"),
)


def find_id_numbers(text: str) -> list[Span]:
    """Chinese resident ID numbers whose check digit and birth date validate."""
    return [
        Span(m.start(), m.end(), "ID")
        for m in _ID_CANDIDATE.finditer(text)
        if ric.is_valid(m.group())
    ]


def find_orders(text: str, patterns: Sequence[re.Pattern[str]]) -> list[Span]:
    return [
        Span(m.start(), m.end(), "ORDER")
        for p in patterns
        for m in p.finditer(text)
        if m.end() > m.start()
    ]


def find_cards(text: str) -> list[Span]:
    """13-19 digit numbers (optionally grouped by spaces or dashes) passing Luhn."""
    out = []
    for m in _CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"[ \-]", "", m.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            out.append(Span(m.start(), m.end(), "CARD"))
    return out


@functools.cache
def min_phone_digits(region: str) -> int:
    """The fewest digits a valid phone number can have in text read for ``region``: its own
    shortest national number, or a country code plus the shortest national number of that
    country (libphonenumber's own metadata; 6 for CN, e.g. ``+683 1234`` for Niue)."""
    shortest = []
    for code in phonenumbers.SUPPORTED_REGIONS:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(code)
        desc = meta.general_desc if meta is not None else None
        lengths = [n for n in desc.possible_length if n > 0] if desc is not None else []
        if meta is not None and lengths:
            own = 0 if code == region else len(str(meta.country_code))
            shortest.append(min(lengths) + own)
    return min(shortest, default=1)


def find_phones(text: str, region: str = "CN", taken: Sequence[Span] = ()) -> list[Span]:
    """Phone numbers: libphonenumber's, and those in Chinese numerals (``taken``: see
    ``find_zh_numeral_phones``)."""
    found = []
    # libphonenumber's matcher costs ~60 µs on a message with a few digits; a text with
    # fewer digits (any script's) than the shortest valid number cannot hold one
    if len(_DIGIT.findall(text)) >= min_phone_digits(region):
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        )
        found = [Span(m.start, m.end, "PHONE") for m in matcher]
    return found + find_zh_numeral_phones(text, region, taken)


def compile_order_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


def _take(taken: list[Span], spans: Iterable[Span]) -> None:
    """Add to ``taken`` each span (in priority order) that overlaps none taken before."""
    for span in spans:
        if all(span.end <= t.start or span.start >= t.end for t in taken):
            taken.append(span)


def find_pii(text: str, order_patterns: Sequence[re.Pattern[str]] = ()) -> list[Span]:
    """All personal-data spans in ``text``, non-overlapping, sorted by position."""
    higher = [
        *find_emails(text),
        *find_id_numbers(text),
        *find_orders(text, order_patterns),
        *find_cards(text),
        *find_passports(text),
    ]
    higher.sort(key=lambda s: KINDS.index(s.kind))
    taken: list[Span] = []
    _take(taken, higher)
    # A phone span is kept only clear of every span taken above, and a valid number has at
    # least ``min_phone_digits`` digits: with fewer digits left outside those spans (an
    # order number's digits are the ORDER's), libphonenumber's matcher cannot add a span.
    free = len(_DIGIT.findall(text)) - sum(
        len(_DIGIT.findall(text[t.start : t.end])) for t in taken
    )
    phones = (
        find_phones(text, taken=taken)
        if free >= min_phone_digits("CN")
        else find_zh_numeral_phones(text, "CN", taken)
    )
    lower = [
        *phones,
        *find_messenger_ids(text),
        *find_ips(text),
        *find_addresses(text),
        *find_names(text),
    ]
    lower.sort(key=lambda s: KINDS.index(s.kind))
    _take(taken, lower)
    return sorted(taken, key=lambda s: s.start)


@functools.lru_cache(maxsize=8192)
def _spans(text: str, order_patterns: tuple[re.Pattern[str], ...]) -> tuple[Span, ...]:
    """``find_pii``, remembered for the texts seen last: agents' canned replies recur in
    chat after chat, and finding nothing in one still costs every detector (~25 µs)."""
    return tuple(find_pii(text, order_patterns))


@dataclass(frozen=True)
class Replacement:
    """One masked value: where it sits in the masked text and in the original."""

    masked_start: int
    masked_end: int
    orig_start: int
    orig_end: int
    placeholder: str


@dataclass
class MaskedText:
    original: str
    masked: str
    replacements: list[Replacement] = field(default_factory=list)

    def to_original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``masked[start:end]`` to the original text's span.

        A boundary inside a placeholder widens to the whole masked value, so a quote that
        cuts a placeholder in half still maps to whole original characters.
        """
        return self._map(start, is_end=False), self._map(end, is_end=True)

    def to_original(self, start: int, end: int) -> str:
        a, b = self.to_original_span(start, end)
        return self.original[a:b]

    def _map(self, pos: int, *, is_end: bool) -> int:
        shift = 0
        for r in self.replacements:
            if (pos <= r.masked_start) if is_end else (pos < r.masked_start):
                break
            inside = (r.masked_start < pos <= r.masked_end) if is_end else (pos < r.masked_end)
            if inside:
                return r.orig_end if is_end else r.orig_start
            shift = r.orig_end - r.masked_end
        return pos + shift


class ChatMasker:
    """Placeholders for one chat: the same value always gets the same placeholder."""

    def __init__(self, order_patterns: Sequence[str] | Sequence[re.Pattern[str]] = ()):
        self._orders = [p if isinstance(p, re.Pattern) else re.compile(p) for p in order_patterns]
        self.mapping: dict[str, str] = {}  # placeholder -> original value
        self._by_value: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, re.sub(r"[\s\-]", "", value))
        if key not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            ph = f"{OPEN}{kind}_{self._counts[kind]}{CLOSE}"
            self._by_value[key] = ph
            self.mapping[ph] = value
        return self._by_value[key]

    def mask(self, text: str) -> MaskedText:
        parts: list[str] = []
        reps: list[Replacement] = []
        pos = 0
        out_len = 0
        for span in _spans(text, tuple(self._orders)):
            parts.append(text[pos : span.start])
            out_len += span.start - pos
            ph = self._placeholder(span.kind, text[span.start : span.end])
            reps.append(Replacement(out_len, out_len + len(ph), span.start, span.end, ph))
            parts.append(ph)
            out_len += len(ph)
            pos = span.end
        parts.append(text[pos:])
        return MaskedText(text, "".join(parts), reps)

    def unmask(self, text: str) -> str:
        """Put the original values back into model-written text (rationales), locally."""
        if OPEN not in text:
            return text
        return re.sub(
            f"{OPEN}[A-Z]+_\\d+{CLOSE}", lambda m: self.mapping.get(m.group(), m.group()), text
        )


@dataclass
class MaskedChat:
    """A chat's messages masked for sending, with the local way back."""

    chat: Chat
    texts: dict[str, MaskedText]  # message id -> masked text
    masker: ChatMasker

    @property
    def mapping(self) -> dict[str, str]:
        return self.masker.mapping

    def masked(self, message_id: str) -> str:
        return self.texts[message_id].masked


def mask_chat(chat: Chat, order_patterns: Sequence[str] = ()) -> MaskedChat:
    masker = ChatMasker(order_patterns)
    texts = {m.id: masker.mask(m.text) for m in chat.messages}
    return MaskedChat(chat, texts, masker)
