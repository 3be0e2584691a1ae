"""Verify the model's evidence against the transcript, and store the transcript's own words.

A grade is only as good as the words it cites. For every ``{message_id, quote}`` the model
returns we check, in this order, that

1. the message exists in the transcript;
2. for an ``scope: agent`` criterion, it is a message the agent typed (not the customer's,
   not a bot's, not an automatic greeting): the grade judges the agent's own words;
3. the message contains the quote, after normalising both sides the same way — Unicode
   NFKC (full-width → half-width), case folding, and dropping whitespace, quotation marks
   and punctuation, which models routinely "tidy". An ellipsis (``…`` or ``...``) in a
   quote joins fragments that must appear in that order.

The quote we store is the transcript's span that matched, in its original (unmasked)
characters: never the model's paraphrase. The error messages are written for the model,
which reads them when it is re-asked (instructor's validation-retry loop).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from ..models import Chat, Evidence, Message
from .pii import MaskedChat

_ELLIPSIS = re.compile(r"(?:…|⋯|\.{3,}|。{3,})+")
#: Characters dropped before matching beyond Unicode categories P* and Z* (which already
#: include every quotation mark and whitespace): ASCII angle brackets, which models use
#: for placeholders instead of ⟨ ⟩, and control characters such as newlines.
_EXTRA_DROP = set("<>\n\r\t\u200b\ufeff")


@lru_cache(maxsize=65536)
def _fold_char(ch: str, drop_punctuation: bool) -> str:
    folded = unicodedata.normalize("NFKC", ch).casefold()
    if not drop_punctuation:
        return folded
    return "".join(
        c for c in folded if c not in _EXTRA_DROP and unicodedata.category(c)[0] not in "PZC"
    )


@lru_cache(maxsize=4096)
def _fold(text: str, drop_punctuation: bool) -> tuple[str, tuple[int, ...]]:
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        f = _fold_char(ch, drop_punctuation)
        if len(f) == 1:
            out.append(f)
            index.append(i)
        elif f:
            out.append(f)
            index.extend([i] * len(f))
    return "".join(out), tuple(index)


def fold(text: str, *, drop_punctuation: bool = True) -> tuple[str, tuple[int, ...]]:
    """Normalise ``text`` for matching; return it with, per output character, its source index.

    NFKC and case folding are applied per character so that every folded character maps
    back to exactly one original character: a match in the folded text is a span of the
    original text. Results are cached: the same message is folded once per criterion.
    """
    return _fold(text, drop_punctuation)


def find_quote(haystack: str, quote: str) -> tuple[int, int] | None:
    """The span of ``haystack`` that contains ``quote`` after normalisation, or None.

    Fragments separated by an ellipsis must occur in order; the span runs from the first
    fragment's first character to the last fragment's last character.
    """
    folded, index = fold(haystack)
    fragments = [f for f in (fold(p)[0] for p in _ELLIPSIS.split(quote)) if f]
    if not fragments or not index:
        return None
    pos = 0
    first: int | None = None
    last_end = 0
    for frag in fragments:
        at = folded.find(frag, pos)
        if at < 0:
            return None
        if first is None:
            first = at
        last_end = at + len(frag)
        pos = last_end
    assert first is not None
    return index[first], index[last_end - 1] + 1


@dataclass
class EvidenceCheck:
    """The verified evidence of one grade, and what was wrong with the rest."""

    evidence: list[Evidence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _role_words(m: Message) -> str:
    if m.role == "agent" and m.auto:
        return "an automatic agent message (a macro or auto-greeting, not the agent's own words)"
    return {
        "customer": "the customer's",
        "bot": "a bot's",
        "system": "a system message",
        "agent": "the agent's",
    }[m.role]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verify_evidence(
    items: list[tuple[str, str]],
    chat: Chat,
    *,
    criterion: str,
    scope: str,
    masked: MaskedChat | None = None,
    require: bool = True,
) -> EvidenceCheck:
    """Check ``(message_id, quote)`` pairs the model gave for one criterion.

    ``masked``: when the model saw a masked transcript, quotes are matched against the
    masked text (placeholders and all) and mapped back to the original characters.
    ``require``: a scored level must cite at least one message (``na`` need not).
    """
    result = EvidenceCheck()
    known = [m.id for m in chat.messages]
    for n, (message_id, quote) in enumerate(items):
        where = f"{criterion}: evidence[{n}]"
        msg = chat.message(message_id)
        if msg is None:
            result.errors.append(
                f"{where} cites message id {message_id!r}, which is not in the transcript; "
                f"use one of the ids in square brackets ({', '.join(known[:3])}, …)."
            )
            continue
        if scope == "agent" and not msg.is_agent_reply:
            result.errors.append(
                f"{where} cites message {message_id!r}, which is {_role_words(msg)}; this "
                "criterion judges the agent, so cite a message tagged [agent] that the agent wrote."
            )
            continue
        if masked is not None and message_id in masked.texts:
            mt = masked.texts[message_id]
            found = find_quote(mt.masked, quote)
            span = mt.to_original_span(*found) if found else None
        else:
            span = find_quote(msg.text, quote)
        if span is None:
            result.errors.append(
                f"{where}: the quote {_short(quote)!r} does not appear in message {message_id!r}; "
                "copy the words exactly as they are written in that message."
            )
            continue
        result.evidence.append(Evidence(message_id=message_id, quote=msg.text[span[0] : span[1]]))
    if require and not items:
        result.errors.append(
            f"{criterion}: a level was given without evidence; cite at least one message "
            "(its id and the exact words) that shows the level."
        )
    return result
