"""Common-problem patterns: what a QA lead coaches on behind each failing criterion.

For every failing finding or grade the audit stores (table ``failure_patterns``, migration
m005) one row per *pattern* behind it, so that ``auditor report`` groups failures with a
plain SQL ``GROUP BY`` instead of reading and normalising the evidence of every failure
each time it runs:

* a forbidden phrase: the phrase matched (one row per distinct phrase);
* typos: the typo and its correction, ``帐户 → 账户`` (one row per distinct pair);
* timing checks: no pattern (their evidence is just the customer's message);
* any other check, and soft criteria: the evidence quote.

Patterns are normalised (:func:`normalise_pattern`) so that "亲，在的~" and "亲在的" group.
The store calls :func:`pattern_rows` when it saves a result; migration m005 calls it on
the rows stored before, and bench/report_bench.py on its synthetic rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from string import ascii_uppercase
from typing import Any

#: Checks whose evidence is a timestamped message, not a phrase: grouping their failures by
#: the quoted text would only list every customer message once, so they get no pattern.
TIMING_CHECKS: frozenset[str] = frozenset(
    {"first_response", "followup_response", "avg_response", "hold", "unanswered_customer"}
)

#: Characters removed when normalising: the sentence punctuation (full- and half-width) and
#: tildes that vary between agents typing the same phrase; apostrophes are kept ("don't").
STRIP_CHARS = "，。！？、,.!?~～…"
#: Whitespace that becomes a plain space before runs of spaces are collapsed.
SPACE_CHARS = "\t\n\r\u3000"
#: Patterns are the first characters of the normalised quote (enough to tell phrasings apart).
PATTERN_CHARS = 40

# One translate() does the per-character work: ASCII letters lower-cased (only ASCII, as
# SQLite's lower() did when the report normalised in SQL, so stored patterns group exactly
# as before), punctuation dropped, other whitespace turned into spaces.
_TABLE: dict[int, int | str | None] = {ord(c): ord(c) + 32 for c in ascii_uppercase}
_TABLE.update({ord(c): None for c in STRIP_CHARS})
_TABLE.update({ord(c): " " for c in SPACE_CHARS})

#: (pattern, quote) behind one failure; either may be None.
PatternQuote = tuple[str | None, str | None]
#: A failing finding or grade: (criterion, check, evidence, data); a grade has no check/data.
Failure = tuple[str, str | None, Sequence[Mapping[str, Any]], Mapping[str, Any] | None]


def normalise_pattern(text: str | None) -> str | None:
    """Lower-case, punctuation removed, spaces collapsed and trimmed, first 40 characters.

    Spaces are collapsed rather than removed so English stays readable. Runs of up to 8
    spaces become one (three halving passes), exactly as the report's SQL did before
    patterns were stored.
    """
    if text is None:
        return None
    s = text.translate(_TABLE)
    for _ in range(3):
        s = s.replace("  ", " ")
    return s.strip(" ")[:PATTERN_CHARS]


def _text(value: Any) -> str | None:
    """A JSON value as SQLite's json_extract() gives it to text functions."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def _hits(value: Any) -> list[Any]:
    """The elements json_each() walks: a list's items, an object's values, a scalar itself."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return list(value.values())
    return [value]


def item_patterns(
    check: str | None, evidence: Sequence[Mapping[str, Any]], data: Mapping[str, Any] | None
) -> list[PatternQuote]:
    """The (pattern, quote) pairs behind one failing finding, or a grade (``check=None``).

    The quote is what put the chat in the pattern's group: the phrase or typo itself, else
    the first evidence quote. A failure always yields at least one pair; its pattern is
    None when there is nothing to group by (timing checks, no evidence, no hits).
    """
    quote = _text(evidence[0].get("quote")) if evidence else None
    key = {"forbidden_phrase": "hits", "typos": "typos"}.get(check or "")
    hits = _hits((data or {}).get(key)) if key else []
    if not hits:
        pattern = None if key or check in TIMING_CHECKS else quote
        return [(normalise_pattern(pattern), quote)]
    out: list[PatternQuote] = []
    for hit in hits:
        if hit is None:  # a JSON null: as if the finding had no hit
            out.append((None, quote))
            continue
        if not isinstance(hit, Mapping):
            out.append((None, None))
            continue
        text = _text(hit.get("text"))
        pattern = text
        if check == "typos" and text is not None:
            suggestion = _text(hit.get("suggestion"))
            pattern = f"{text} → {'?' if suggestion is None else suggestion}"
        out.append((normalise_pattern(pattern), text))
    return out


def pattern_rows(
    failures: Iterable[Failure],
) -> list[tuple[str, int, str | None, str | None]]:
    """``(criterion, seq, pattern, quote)`` rows for one chat's failures.

    ``failures`` are ``(criterion, check, evidence, data)`` for the chat's failing findings
    and grades (``check=None`` for a grade). A pattern is kept once per criterion, with
    the smallest of its quotes (what the report shows as the chat's example quote); ``seq``
    numbers the rows of a criterion.
    """
    kept: dict[str, dict[str | None, str | None]] = {}
    for criterion, check, evidence, data in failures:
        patterns = kept.setdefault(criterion, {})
        for pattern, quote in item_patterns(check, evidence, data):
            if pattern not in patterns:
                patterns[pattern] = quote
            elif quote is not None:
                old = patterns[pattern]
                patterns[pattern] = quote if old is None else min(old, quote)
    return [
        (criterion, seq, pattern, quote)
        for criterion, patterns in kept.items()
        for seq, (pattern, quote) in enumerate(patterns.items())
    ]
