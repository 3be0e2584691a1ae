"""English wrong-word slips that only their neighbours give away ("should of", "more then").

A dictionary cannot see a slip into another real word (knot for not, then for than). A few
such slips are common in agents' typing and have a context in which the written word cannot be
meant; each rule below names that context and nothing wider, so precision stays first (the
finding is counted and shown to the agent). The rules were written from the slips QA reviewers
mark in support chats (LABELS.md: "wrong-word homophones (loose/lose)") and checked against
correct brand replies (TWCS dev) for false flags; tests pin each rule's hits and the innocent
sentences it must not match ("you should of course", "your welcome pack", "a loose cable",
"thank your team for").

Only the wrong word's span is reported (``ContextSlip.start``/``end``), with its correction in
the case it was typed ("Should of" → "have", "Then" stays capitalised).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_I = re.IGNORECASE


@dataclass(frozen=True)
class ContextSlip:
    start: int
    end: int
    wrong: str
    right: str
    reason: str


@dataclass(frozen=True)
class _Rule:
    name: str
    trigger: str  # a word every hit contains (lower case): the rule runs only when it is there
    pattern: re.Pattern[str]  # the wrong word is the group "w" (or "w2")
    right: str


RULES: tuple[_Rule, ...] = (
    # "should of", "could've" heard as "could of"; not "should of course"
    _Rule(
        "modal of",
        "of",
        re.compile(r"\b(?:should|could|would|must|might)\s+(?P<w>of)\b(?!\s+course\b)", _I),
        "have",
    ),
    # "your welcome" as the reply to thanks: at the end of a clause, not "your welcome pack"
    _Rule(
        "your welcome",
        "welcome",
        re.compile(r"\b(?P<w>your)\s+welcome\b(?=\s*(?:[.!,;:)]|$|\s+(?:to|any\s*time)\b))", _I),
        "you're",
    ),
    # comparisons take "than": "more then 3 days", "rather then", "other then that"
    _Rule(
        "comparative then",
        "then",
        re.compile(r"\b(?:more|less|rather|other|fewer|greater)\s+(?P<w>then)\b", _I),
        "than",
    ),
    # "knot" after an auxiliary is a slip for "not": "we do knot", "it is knot"
    _Rule(
        "auxiliary knot",
        "knot",
        re.compile(
            r"\b(?:do|does|did|is|are|was|were|will|would|could|should|can|may|might|must|"
            r"have|has|had|am)\s+(?P<w>knot)\b",
            _I,
        ),
        "not",
    ),
    # "knot" before what "not" negates, or after an adverb: "knot sure", "honestly knot"
    _Rule(
        "knot sure",
        "knot",
        re.compile(
            r"\b(?P<w>knot)\s+(?:sure|able|available|possible|working|yet|aware|allowed|"
            r"eligible|certain|responsible|affiliated|related)\b"
            r"|\b(?:honestly|really|just|certainly|definitely|simply|currently|unfortunately)"
            r"\s+(?P<w2>knot)\b",
            _I,
        ),
        "not",
    ),
    # "too" where only the preposition fits: "referring too", "due too", "next too the"
    _Rule(
        "preposition too",
        "too",
        re.compile(
            r"\b(?:referring|refer|according|due|next|supposed|prior|similar|compared|addition|"
            r"regards|regard|subject|related)\s+(?P<w>too)\b",
            _I,
        ),
        "to",
    ),
    # "not problem" opening a reply: "no problem" ("it's not a problem" has its article)
    _Rule(
        "no problem",
        "problem",
        re.compile(r"(?:^|[.!?,]\s*|\b(?:and|oh|ok|okay)\s+)(?P<w>not)\s+problems?\b", _I),
        "no",
    ),
    # "thank your for …": "thank you" ("thank your team for" is right)
    _Rule(
        "thank you",
        "thank",
        re.compile(r"\bthank\s+(?P<w>your)\s+(?:for|so|very)\b", _I),
        "you",
    ),
    # "loose" after "to", a modal or a negation is the verb "lose": "you will loose access"
    _Rule(
        "verb loose",
        "loose",
        re.compile(
            r"\b(?:to|will|won't|not|don't|didn't|never|could|might|may|would|can't)\s+"
            r"(?P<w>loose)\b(?!\s+(?:fit|fitting|cable|connection|wire|part|end|ends)\b)",
            _I,
        ),
        "lose",
    ),
    # "rest your password": the password is reset
    _Rule(
        "rest password",
        "rest",
        re.compile(r"\b(?P<w>rest)\s+(?:your|the|my|his|her|their|a)\s+password", _I),
        "reset",
    ),
    # "hear form us", "away form home": the preposition "from"
    _Rule(
        "from",
        "form",
        re.compile(
            r"\b(?:hear|heard|hearing|away|far|apart|aside|different)\s+(?P<w>form)\b"
            r"|\b(?P<w2>form)\s+(?:us|them|you)\s+(?:soon|shortly|again|directly)\b",
            _I,
        ),
        "from",
    ),
)


def _cased(right: str, wrong: str) -> str:
    return right[0].upper() + right[1:] if wrong[:1].isupper() else right


_BY_TRIGGER: dict[str, list[_Rule]] = {}
for _rule in RULES:
    _BY_TRIGGER.setdefault(_rule.trigger, []).append(_rule)
#: the trigger words as a tokeniser yields them (of, Of, OF): a message none of whose words
#: is one runs no rule, at the cost of one set intersection
TRIGGER_WORDS = frozenset(v for w in _BY_TRIGGER for v in (w, w[0].upper() + w[1:], w.upper()))


def context_slips(text: str, words: Iterable[str]) -> list[ContextSlip]:
    """The rules' hits in ``text``, in text order (one per span); ``words`` are the text's
    Latin words (``tokens.LATIN_WORD.findall(text)``), used only to pick the rules to run."""
    present = TRIGGER_WORDS.intersection(words)
    if not present:
        return []
    triggers = {w.lower() for w in present}
    found: dict[int, ContextSlip] = {}
    for word in triggers:
        for rule in _BY_TRIGGER[word]:
            for m in rule.pattern.finditer(text):
                group = "w" if m.group("w") is not None else "w2"
                start, end = m.span(group)
                if start in found:
                    continue
                wrong = m.group(group)
                found[start] = ContextSlip(
                    start,
                    end,
                    wrong,
                    _cased(rule.right, wrong),
                    f"wrong word in context ({rule.name}: {wrong} → {rule.right})",
                )
    return [found[k] for k in sorted(found)]
