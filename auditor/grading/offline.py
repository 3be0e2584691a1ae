"""The offline grader (``--grader offline``, the default): transparent zh/en cue rules.

It grades the rubric's ``llm`` criteria with no network and no model. Cue phrases (YAML in
``cues/``) are matched with one Aho-Corasick automaton per language, built once per grader;
the rules in ``offline_rules`` turn the hits into a level, a rationale naming the cues, and
evidence quoting the messages verbatim. It is a keyword baseline: it reports low confidence
(at most 0.55, not a probability) so its grades route to human review, and it is what the
eval harness compares LLM graders against. See docs/offline-grader.md.

Matching runs on a normalised copy of each message - traditional Chinese converted to
simplified with OpenCC, full-width ASCII folded, lower-cased - that keeps every character at
its offset, so a hit's span slices the *original* text and evidence stays verbatim.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple

import ahocorasick
import opencc
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import GraderError
from ..models import Chat, Evidence, Grade, Message, evidence_of, trusted
from ..reasons import ADVISORY
from ..redact import redact
from ..rubric import SAFE_LOADER, Criterion, Rubric
from ..scoring import settled_outcome
from .offline_rules import RANK_NAMES, RULES, RULES_VERSION, Hit, Outcome, Signals

#: shipped inside the package (a wheel unpacks onto the file system, so this is a real folder)
DEFAULT_CUES_DIR = Path(str(resources.files("auditor.grading").joinpath("cues")))
LANGUAGES = ("zh", "en")
ROLES = ("agent", "customer")  # whose words a cue group reads

MAX_EVIDENCE = 4
MAX_QUOTE = 80  # characters of one quote; a quote is always a slice of the message


# --- the cue files --------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _PerLanguage(_Strict):
    zh: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)  # language-independent (punctuation runs)


class CueGroupSpec(_PerLanguage):
    """One named group of cue phrases in a cue file."""

    role: Literal["agent", "customer"]
    about: str = ""  # why the group exists / which seed rule it encodes
    whole_message: bool = False  # the whole message (minus punctuation) must equal a cue
    exclude: _PerLanguage = Field(default_factory=_PerLanguage)  # spans that veto a hit
    # overlap: an exclude overlapping the hit vetoes it (不能保证 vetoes 保证);
    # sentence: an exclude anywhere in the hit's sentence does (请勿 ... 提供验证码)
    exclude_scope: Literal["overlap", "sentence"] = "overlap"


class CueFile(_Strict):
    about: str = ""
    groups: dict[str, CueGroupSpec]


@dataclass(frozen=True)
class _Pattern:
    group: str
    cue: str  # as written in the file
    length: int  # of the normalised pattern
    exclude: bool
    ascii_left: bool  # needs a word boundary on the left (starts with an ASCII letter/digit)
    ascii_right: bool


_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0x2018: 0x27, 0x2019: 0x27, 0x201C: 0x22, 0x201D: 0x22})
_PUNCT_SPACE = re.compile(r"[\s\W_]+", re.UNICODE)
_NOT_WORDS = re.compile(r"[\s\W_\d]+", re.UNICODE)
#: Parts of a customer message that are not words of theirs: links, e-mail addresses, @handles,
#: masked or bracketed placeholders and the field labels of an order or product card (JD.com sends
#: "咨询订单号:[订单编号]商品ID:1263678" when the customer clicks an order): two cards for two
#: orders, or two product links, are not a question asked again (CSDS, JDDC)
_LINKS = r"https?://\S+|www\.\S+"
_AT = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|@\w+"  # e-mail addresses and @handles
_CARDS_AND_THANKS = (
    r"\[[^\]\n]{0,40}\]"
    r"|(?:咨询|查询)?订单(?:编)?号|商品\s*(?:id|号|编码|编号)|订单金额|下单时间"
    # and thanks: "85196069@qq.com. Thank you!" then "OK, thank you!" asks nothing twice
    r"|thank(?:s| you)|\bok(?:ay)?\b|谢谢|多谢|感谢|好的"
)
_NOT_SAID = re.compile(f"{_LINKS}|{_AT}|{_CARDS_AND_THANKS}", re.UNICODE)
#: _NOT_SAID for a text without "@", where its e-mail and @handle alternatives cannot match
#: (the others keep their order, so every match is the same): the e-mail one tries each run
#: of word characters to its end and back in search of an "@", at every character of the
#: run, and costs more than all the rest (a 40-character Chinese message 8.5 µs, 3.2 without)
_NOT_SAID_WITHOUT_AT = re.compile(f"{_LINKS}|{_CARDS_AND_THANKS}", re.UNICODE)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


def normalise(text: str, language: str) -> str:
    """Matching form of ``text`` with the same length, so offsets map 1:1 to the original.

    zh: traditional -> simplified (OpenCC t2s). Both: full-width ASCII and curly quotes
    folded, lower-cased. Any step that would change the length falls back to a per-character
    version of itself that cannot.
    """
    if language == "zh":
        simplified = _t2s().convert(text)
        if len(simplified) != len(text):
            conv = _t2s().convert
            simplified = "".join(
                c2 if len(c2 := conv(c)) == 1 else c for c in text
            )  # rare: a phrase rule changed the length
        text = simplified
    text = text.translate(_FULLWIDTH)
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered


def _is_word_char(c: str) -> bool:
    return c.isascii() and c.isalnum()


#: One message's analysis: its normalised text, its cue hits ``(group, cue, start, end)``,
#: and for an agent message whether it is over-long and its personal data spans.
Analysed = tuple[str, tuple[tuple[str, str, int, int], ...], bool, tuple[tuple[int, int, str], ...]]
#: How many texts each (language, role) remembers its analysis for.
ANALYSED_MEMO = 16384


class CueLibrary:
    """All cue groups, loaded and compiled once: one automaton per language."""

    def __init__(self, groups: dict[str, CueGroupSpec], digest: str, source: str):
        self.groups = groups
        self.digest = digest  # sha256 of every cue file's name and bytes
        self.source = source
        # one automaton per (language, role): a message is only scanned for its role's cues
        self._automata: dict[tuple[str, str], Any] = {}
        self._whole: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._whole_re: dict[tuple[str, str], re.Pattern[str] | None] = {}
        for lang in LANGUAGES:
            for role in ROLES:
                key = (lang, role)
                self._automata[key], self._whole[key] = self._compile(lang, role)
                self._whole_re[key] = _whole_message_regex(self._whole[key])
        # chats repeat messages (macros, greetings, "好的"): analyse each distinct one once,
        # remembered by its text in one dict per (language, role) (a plain dict lookup of the
        # text, no key tuple built a message)
        self._memos: dict[tuple[str, str], dict[str, Analysed]] = {}

    @classmethod
    def load(cls, directory: Path = DEFAULT_CUES_DIR) -> CueLibrary:
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise GraderError(
                f"no cue files (*.yaml) in {directory}; the offline grader needs them"
            )
        digest = hashlib.sha256()
        groups: dict[str, CueGroupSpec] = {}
        where: dict[str, str] = {}
        for path in files:
            raw = path.read_bytes()
            digest.update(path.name.encode() + b"\0" + raw + b"\0")
            try:
                data = yaml.load(raw, Loader=SAFE_LOADER)
                spec = CueFile.model_validate(data)
            except yaml.YAMLError as e:
                raise GraderError(f"invalid cue file {path}: not valid YAML: {e}") from e
            except ValidationError as e:
                keys = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
                )
                raise GraderError(f"invalid cue file {path}: {keys}") from e
            for name, group in spec.groups.items():
                if name in groups:
                    raise GraderError(
                        f"cue group {name!r} is defined in both {where[name]} and {path.name}"
                    )
                groups[name] = group
                where[name] = path.name
        return cls(groups, digest.hexdigest(), str(directory))

    def _compile(self, lang: str, role: str) -> tuple[Any, dict[str, list[str]]]:
        automaton = ahocorasick.Automaton()
        whole: dict[str, list[str]] = {}
        entries: dict[str, list[_Pattern]] = {}
        for name, group in self.groups.items():
            if group.role != role:
                continue
            for cues, exclude in ((_cues(group, lang), False), (_cues(group.exclude, lang), True)):
                for cue in cues:
                    pattern = normalise(cue, lang).strip()
                    if not pattern:
                        continue
                    if group.whole_message and not exclude:
                        whole.setdefault(_PUNCT_SPACE.sub("", pattern), []).append(name)
                        continue
                    entries.setdefault(pattern, []).append(
                        _Pattern(
                            name,
                            cue,
                            len(pattern),
                            exclude,
                            _is_word_char(pattern[0]),
                            _is_word_char(pattern[-1]),
                        )
                    )
        for pattern, pats in entries.items():
            automaton.add_word(pattern, tuple(pats))
        if entries:
            automaton.make_automaton()
        return automaton, whole

    def memo(self, lang: str, role: str) -> dict[str, Analysed]:
        """The analyses of ``role``'s messages in ``lang`` remembered so far, by text (a
        miss is :meth:`analysed`)."""
        got = self._memos.get((lang, role))
        if got is None:
            got = self._memos[lang, role] = {}
        return got

    def analyse(self, text: str, lang: str, role: str) -> Analysed:
        """:meth:`analysed`, remembered per text."""
        got = self.memo(lang, role).get(text)
        return self.analysed(text, lang, role) if got is None else got

    def analysed(self, text: str, lang: str, role: str) -> Analysed:
        """``(normalise(text, lang), match(...), over-long, personal data spans)`` of one
        message (the last two for the agent's only): a pure function of its arguments,
        remembered (:meth:`memo`)."""
        norm = normalise(text, lang)
        agent = role == "agent"
        got = (
            norm,
            tuple(self.match(text, norm, lang, role)),
            agent and _is_long(text, lang),
            _pii_spans(text) if agent else (),
        )
        memo = self.memo(lang, role)
        if len(memo) >= ANALYSED_MEMO:
            memo.clear()
        memo[text] = got
        return got

    def match(self, text: str, norm: str, lang: str, role: str) -> list[tuple[str, str, int, int]]:
        """``(group, cue, start, end)`` of every cue of ``role`` in one message, vetoes applied."""
        found: list[tuple[str, str, int, int]] = []
        vetoes: dict[str, list[tuple[int, int]]] = {}
        automaton = self._automata[lang, role]
        if len(automaton):
            for last, pats in automaton.iter(norm):
                for p in pats:
                    start, end = last - p.length + 1, last + 1
                    if p.ascii_left and start > 0 and _is_word_char(norm[start - 1]):
                        continue
                    if p.ascii_right and end < len(norm) and _is_word_char(norm[end]):
                        continue
                    if p.exclude:
                        vetoes.setdefault(p.group, []).append((start, end))
                    else:
                        found.append((p.group, p.cue, start, end))
        if vetoes:
            index = {g: _Vetoes(spans) for g, spans in vetoes.items()}
            found = [f for f in found if not self._vetoed(f, index.get(f[0]), norm)]
        found = _outermost(found)
        whole = self._whole_re[lang, role]
        if whole is not None and whole.fullmatch(norm) is not None:
            bare = _PUNCT_SPACE.sub("", norm)  # the cue the message equals
            for name in self._whole[lang, role][bare]:
                found.append((name, bare, 0, len(text)))
        return found

    def _vetoed(self, hit: tuple[str, str, int, int], vetoes: _Vetoes | None, norm: str) -> bool:
        if vetoes is None:
            return False
        _, _, start, end = hit
        if self.groups[hit[0]].exclude_scope == "sentence":
            start, end = _sentence_bounds(norm, start, end)
        return vetoes.overlaps(start, end)


def _whole_message_regex(whole: dict[str, list[str]]) -> re.Pattern[str] | None:
    """Full-matches exactly the texts whose ``_PUNCT_SPACE.sub("", text)`` is a key of ``whole``.

    A key is made of characters ``_PUNCT_SPACE`` keeps (it was built with it), so the text
    reduces to the key iff it is the key's characters in order with only characters that
    ``_PUNCT_SPACE`` drops around and between them. Cheaper than reducing every message:
    a long message fails within its first few characters.
    """
    if not whole:
        return None
    gap = r"[\s\W_]*"
    keys = (gap.join(map(re.escape, key)) for key in sorted(whole, key=len, reverse=True))
    return re.compile(f"{gap}(?:{'|'.join(keys)}){gap}", re.UNICODE)


def _outermost(found: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    """Drop a hit nested in a longer hit of the same group (您放心 inside 请您放心).

    Linear after the sort: in order of start (the longer first at one start), a hit is nested
    exactly when an earlier hit of its group reaches at least as far, so one furthest end per
    group decides (a dropped hit never reaches further than the hit it is nested in).
    """
    if len(found) < 2 or len({f[0] for f in found}) == len(found):
        return found
    found.sort(key=lambda f: (f[2], f[2] - f[3]))
    kept: list[tuple[str, str, int, int]] = []
    reach: dict[str, int] = {}
    for f in found:
        if reach.get(f[0], -1) >= f[3]:
            continue
        kept.append(f)
        reach[f[0]] = f[3]
    return kept


_DELIMITER = re.compile(r"[。！？!?；;\n]")


@lru_cache(maxsize=64)
def _delimiters(text: str) -> list[int]:
    """Where the sentence delimiters of ``text`` are (one pass, shared by all its hits)."""
    return [m.start() for m in _DELIMITER.finditer(text)]


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """``[left, right)`` of the sentence holding ``text[start:end]``, its closing mark included.

    Sentences end at 。！？!?；; or a line break; a match that itself ends with one of them
    (a cue like ``!!!``) closes its sentence. Two binary searches in the delimiter positions,
    so a long message with many hits costs O(hits x log n), not O(hits x n).
    """
    marks = _delimiters(text)
    i = bisect_left(marks, start)
    j = bisect_left(marks, max(start, end - 1))
    return (marks[i - 1] + 1 if i else 0), (marks[j] + 1 if j < len(marks) else len(text))


class _Vetoes:
    """The veto spans of one group, sorted, answering "does any overlap [a, b)?" in O(log n)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [s for s, _ in spans]
        self.reach: list[int] = []  # the furthest end among the first k spans
        furthest = -1
        for _, e in spans:
            furthest = max(furthest, e)
            self.reach.append(furthest)

    def overlaps(self, a: int, b: int) -> bool:
        k = bisect_left(self.starts, b)  # spans starting before b
        return k > 0 and self.reach[k - 1] > a


def _cues(spec: _PerLanguage, lang: str) -> list[str]:
    return [*getattr(spec, lang), *spec.any]


# --- per-chat signals -----------------------------------------------------------------

#: Unmasked personal data in an agent message (masked forms like 138****5678 don't match).
_PII = re.compile(
    r"(?<![\dA-Za-z])(?:1[3-9]\d{9}|\d{17}[\dXx]|\d{16,19})(?![\dA-Za-z])"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
#: Cheap pre-check: every pattern above needs 11 digits in a row (\d\d{10}, not \d{11}: a
#: leading single \d lets the regex engine skip to the next digit) or an "@".
_PII_HINT = re.compile(r"\d\d{10}")
#: A number or address offered to the customer (a number to call, a manager's, an example in
#: instructions), not read out as theirs: an offer word in the 40 characters before it, with no
#: "your"/您 between them (STC-3: "whose contact number is 189…", "if you want to forward the
#: call to 138…"; "we will call your number 138…" stays a disclosure)
_OFFERED = re.compile(
    r"(?i)(?:\b(?:call|dial|ring|text|contact|reach|hotline|whose|example|e\.g\.|such as)\b"
    r"|拨打|致电|热线|例如|比如|请联系)(?:(?!\byour\b|您)[^。！？!?；;\n]){0,40}$"
)
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?:\s|$)")
_ZH_SENTENCE_END = re.compile(r"[。！？!?；;\n\s]|\.(?:\s|$)")
_WORD = re.compile(r"[A-Za-z0-9']+")

#: An agent message is "over-long and unbroken" past these sizes (docs/offline-grader.md).
LONG_MESSAGE = {"zh": 300, "en": 120}  # zh characters / en words, with no line break
LONG_SENTENCE = {"zh": 120, "en": 60}  # zh characters / en words in one sentence
REPEAT_MIN_CHARS = 6
REPEAT_SIMILARITY = 0.6  # Jaccard of character bigrams


def _size(text: str, lang: str) -> int:
    return len(text) if lang == "zh" else len(_WORD.findall(text))


#: Texts this short are never over-long: a zh size is at most the length, and an en text of
#: n characters holds at most (n + 1) // 2 words (words are separated), so <= 60 for n <= 120.
_NEVER_LONG = {
    "zh": min(LONG_MESSAGE["zh"], LONG_SENTENCE["zh"]),
    "en": 2 * min(LONG_MESSAGE["en"], LONG_SENTENCE["en"]),
}


def _is_long(text: str, lang: str) -> bool:
    if len(text) <= _NEVER_LONG[lang]:
        return False
    return _is_long_text(text, lang)


@lru_cache(maxsize=4096)
def _is_long_text(text: str, lang: str) -> bool:
    if "\n" not in text.strip() and _size(text, lang) > LONG_MESSAGE[lang]:
        return True
    # in Chinese chat a space often ends a clause, so it splits sentences too
    parts = (_ZH_SENTENCE_END if lang == "zh" else _SENTENCE_END).split(text)
    return any(_size(part, lang) > LONG_SENTENCE[lang] for part in parts)


@lru_cache(maxsize=4096)
def _repeat_grams(norm: str) -> frozenset[tuple[str, str]] | None:
    """Character bigrams of a normalised customer message, digits and punctuation out; None
    when it is too short to count as a repeat. Pairs of characters stand for the two-character
    strings one to one, so set sizes and overlaps are the same."""
    # digits, links and card fields out: re-sent order numbers and cards aren't repeats
    said = _NOT_SAID if "@" in norm else _NOT_SAID_WITHOUT_AT
    bare = _NOT_WORDS.sub("", said.sub("", norm))
    if len(bare) < REPEAT_MIN_CHARS:
        return None
    return frozenset(zip(bare, bare[1:], strict=False))


def _repeats(chat: Chat, norms: list[str | None]) -> list[tuple[int, int]]:
    """Customer messages that say again what an earlier one said, after an agent reply."""
    seen: list[tuple[int, frozenset[tuple[str, str]]]] = []
    out: list[tuple[int, int]] = []
    last_agent = -1
    for i, m in enumerate(chat.messages):
        role = m.role
        if role == "agent" and not m.auto:  # m.is_agent_reply, inlined (hot loop)
            last_agent = i
            continue
        norm = norms[i]
        if norm is None or role != "customer":
            continue
        grams = _repeat_grams(norm)
        if grams is None:
            continue
        for j, earlier in seen:
            if j >= last_agent:
                break  # later ones are newer still; no agent reply in between
            shared = len(grams & earlier)
            if shared / (len(grams) + len(earlier) - shared) >= REPEAT_SIMILARITY:
                out.append((j, i))
                break
        seen.append((i, grams))
    return out


_new_tuple = tuple.__new__


def extract_signals(chat: Chat, library: CueLibrary) -> Signals:
    """Run every cue over every customer and agent message of ``chat`` once."""
    lang = chat.language if chat.language in LANGUAGES else "en"
    hits: dict[str, list[Hit]] = {}
    norms: list[str | None] = []  # None: a message nobody's words are read from
    agent_indexes: list[int] = []
    long_agent: list[int] = []
    pii: list[Hit] = []
    customer_text = ""
    analysed = library.analysed
    agent_memo = library.memo(lang, "agent")
    customer_memo = library.memo(lang, "customer")
    for i, m in enumerate(chat.messages):
        text = m.text
        role = m.role
        if role == "agent" and not m.auto:  # m.is_agent_reply, inlined (hot loop)
            agent_indexes.append(i)
            got = agent_memo.get(text)
            if got is None:
                got = analysed(text, lang, role)
            if got[2]:
                long_agent.append(i)
            if got[3]:  # mostly none: no generator to start
                pii.extend(_pii_hits(m, i, customer_text))
        elif role == "customer":
            customer_text += "\n" + text
            got = customer_memo.get(text)
            if got is None:
                got = analysed(text, lang, role)
        else:
            norms.append(None)
            continue  # bots, system lines and auto-messages are nobody's words
        norm, found = got[0], got[1]
        norms.append(norm)
        for group, cue, start, end in found:
            # Hit(group, cue, i, ...) without the NamedTuple's Python-level __new__
            hit = _new_tuple(Hit, (group, cue, i, m.id, role, start, end, text[start:end]))
            listed = hits.get(group)
            if listed is None:
                hits[group] = [hit]
            else:
                listed.append(hit)
    return Signals(
        hits=hits,
        message_ids=[m.id for m in chat.messages],
        roles=[m.role for m in chat.messages],
        agent_indexes=agent_indexes,
        repeats=_repeats(chat, norms),
        long_agent=long_agent,
        pii_agent=pii,
    )


def _pii_hits(m: Message, index: int, customer_text: str) -> Iterable[Hit]:
    for start, end, found in _pii_spans(m.text):
        if found in customer_text:
            continue  # echoing back what the customer wrote leaks nothing
        if _OFFERED.search(m.text, max(0, start - 60), start):
            continue  # offered to call or given as an example, not the customer's own
        yield Hit("pii", "personal data", index, m.id, "agent", start, end, found)


@lru_cache(maxsize=4096)
def _pii_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, text)`` of every unmasked personal datum in ``text``."""
    if "@" not in text and not _PII_HINT.search(text):
        return ()
    return tuple((m.start(), m.end(), m.group()) for m in _PII.finditer(text))


# --- quotes and levels -----------------------------------------------------------------


@lru_cache(maxsize=8192)
def snippet(text: str, start: int, end: int, limit: int = MAX_QUOTE) -> str:
    """The sentence around ``text[start:end]``, at most ``limit`` characters: a verbatim slice.

    A pure function of its arguments, cached: macros are quoted again and again.
    """
    left, right = _sentence_bounds(text, start, end)
    if right - left > limit:
        if end - start >= limit:
            left, right = start, end
        else:
            pad = (limit - (end - start)) // 2
            left = max(left, start - pad)
            right = min(right, left + limit)
    quote = text[left:right].strip()
    return quote or text[start:end]


def level_for(criterion: Criterion, rank: int) -> str:
    """Map a rank on the 3-step scale (0 poor, 1 average, 2 good) onto the criterion's levels.

    By ordinal position among the levels ordered by points: index = round(rank * (n-1) / 2),
    halves rounded up. 3 levels: identity; 5 levels (-2..2): poor -> 1st, average -> 3rd,
    good -> 5th; 2 levels: poor -> lower, average and good -> upper.
    """
    ordered = criterion.ordered_levels
    index = (rank * (len(ordered) - 1) + 1) // 2
    return ordered[index].id


class _Plan(NamedTuple):
    """One ``llm`` criterion of a rubric as the offline grader grades it."""

    criterion: Criterion
    rule_set: str
    prefix: str  # the rationale's "[rule set] " when it is not the criterion's own
    na_allowed: bool
    agent_only: bool  # evidence quotes the agent's messages only
    templates: dict[int | None, dict[str, Any]]  # rank (None: n/a) -> _template's fields


class OfflineGrader:
    """Grades a rubric's ``llm`` criteria with cue rules; no network, no model."""

    name = "offline"
    model: str | None = None

    def __init__(self, cues_dir: Path | None = None):
        self.library = CueLibrary.load(cues_dir or DEFAULT_CUES_DIR)
        self.version = f"offline-rules-{RULES_VERSION}+cues-{self.library.digest[:12]}"
        #: (criterion object's id, status, level) -> (criterion, _template's fields)
        self._templates: dict[tuple[int, str, str | None], tuple[Criterion, dict[str, Any]]] = {}
        #: rubric object's id -> (rubric, its criteria's plans)
        self._plans: dict[int, tuple[Rubric, list[_Plan]]] = {}

    def settings_key(self) -> str:
        return f"offline:rules={RULES_VERSION}:cues={self.library.digest[:16]}"

    async def grade(self, chat: Chat, rubric: Rubric) -> list[Grade]:
        return self.grade_sync(chat, rubric)

    async def aclose(self) -> None:
        return None

    def grade_sync(self, chat: Chat, rubric: Rubric) -> list[Grade]:
        """One Grade per ``llm`` criterion, in rubric order; never raises for one chat."""
        signals: Signals | None = None
        failure: str | None = None
        grades: list[Grade] = []
        for plan in self._plan(rubric):
            criterion, rule_set = plan.criterion, plan.rule_set
            rule = RULES.get(rule_set)  # looked up each time: the table may be patched
            if rule is None:
                grades.append(
                    self._unscored(
                        criterion,
                        f"the offline grader has no rules for criterion {criterion.id}"
                        f" (offline_rules: {rule_set}); known rule sets: {', '.join(RULES)}",
                    )
                )
                continue
            if signals is None and failure is None:
                try:
                    signals = extract_signals(chat, self.library)
                except Exception as e:  # a bad chat must not stop the run
                    failure = f"offline cue matching failed: {type(e).__name__}: {e}"
            if signals is None:
                grades.append(self._unscored(criterion, failure or "no signals"))
                continue
            try:
                outcome = rule(signals)
            except Exception as e:
                grades.append(
                    self._unscored(
                        criterion, f"offline rule {rule_set} failed: {type(e).__name__}: {e}"
                    )
                )
                continue
            grades.append(self._to_grade(chat, plan, outcome))
        return grades

    def _plan(self, rubric: Rubric) -> list[_Plan]:
        """What grading each ``llm`` criterion of ``rubric`` takes that no chat changes,
        worked out once per rubric object (a loaded rubric is not edited)."""
        got = self._plans.get(id(rubric))
        if got is None or got[0] is not rubric:
            plans = []
            for criterion in rubric.llm_criteria:
                rule_set = criterion.offline_rules or criterion.id
                plans.append(
                    _Plan(
                        criterion,
                        rule_set,
                        f"[{rule_set}] " if rule_set != criterion.id else "",
                        criterion.na_allowed,
                        criterion.scope == "agent",
                        {},
                    )
                )
            got = (rubric, plans)  # the rubric kept: its id is never reused
            if len(self._plans) < 256:
                self._plans[id(rubric)] = got
        return got[1]

    def _unscored(self, criterion: Criterion, error: str) -> Grade:
        return Grade(
            criterion=criterion.id,
            status="unscored",
            grader=self.name,
            prompt_version=self.version,
            error=error,
        )

    def _to_grade(self, chat: Chat, plan: _Plan, out: Outcome) -> Grade:
        rank = out.rank
        if rank is None and plan.na_allowed:
            values = dict(self._ranked(plan, None))
            values["evidence"] = []
            rationale = f"{plan.prefix}n/a: {out.rationale}"
        else:
            note = ""
            if rank is None:
                rank = 2
                note = " (n/a not allowed by the rubric: nothing to fault, top level)"
            values = dict(self._ranked(plan, rank))
            values["evidence"] = (
                self._evidence(chat, plan.agent_only, out) if out.hits or out.context else []
            )
            rationale = f"{plan.prefix}{RANK_NAMES[rank]}: {out.rationale}{note}"
        values["rationale"] = redact(rationale)  # as Grade's validator does
        values["confidence"] = float(out.confidence)
        values["flags"] = [ADVISORY]
        return trusted(Grade, values)

    def _ranked(self, plan: _Plan, rank: int | None) -> dict[str, Any]:
        """:meth:`_template` of the plan's criterion at ``rank`` (None: n/a), remembered in
        the plan."""
        got = plan.templates.get(rank)
        if got is None:
            criterion = plan.criterion
            if rank is None:
                got = self._template(criterion, "na", None)
            else:
                got = self._template(criterion, "scored", level_for(criterion, rank))
            plan.templates[rank] = got
        return got

    def _template(self, criterion: Criterion, status: str, level: str | None) -> dict[str, Any]:
        """The fields of this grader's grade of ``criterion`` at ``status`` and ``level``
        that do not depend on the chat, in Grade's field order, as ``Grade(criterion=...,
        **settled_outcome(...), grader=..., prompt_version=...)`` validates them: the
        settled outcome's values come from the validated rubric (models.trusted).
        Remembered per criterion object and level; copy it, never change it."""
        key = (id(criterion), status, level)
        got = self._templates.get(key)
        if got is None or got[0] is not criterion:
            settled = settled_outcome(criterion, status, level)
            error = settled.get("error")
            template = {
                "criterion": criterion.id,
                "status": settled["status"],
                "level": settled["level"],
                "points_lost": float(settled["points_lost"]),
                "severity": settled["severity"],
                "failed": bool(settled["failed"]),
                "evidence": [],
                "rationale": "",
                "confidence": None,
                "grader": self.name,
                "model": None,
                "prompt_version": self.version,
                "error": redact(error) if error else error,
                "flags": [],
            }
            got = (criterion, template)  # the criterion kept: its id is never reused
            if len(self._templates) < 4096:
                self._templates[key] = got
        return got[1]

    def _evidence(self, chat: Chat, agent_only: bool, out: Outcome) -> list[Evidence]:
        if not out.hits and not out.context:
            return []
        messages = chat.messages
        cites: list[tuple[int, int, int]] = [(h.pos, h.start, h.end) for h in out.hits]
        for index in out.context:
            text = messages[index].text
            cites.append((index, 0, min(len(text), MAX_QUOTE)))
        evidence: list[Evidence] = []
        seen: set[tuple[str, str]] = set()
        for pos, start, end in cites:
            m = messages[pos]
            if agent_only and m.role != "agent":
                continue
            quote = snippet(m.text, start, end)
            if not quote or (m.id, quote) in seen:
                continue
            seen.add((m.id, quote))
            evidence.append(evidence_of(m.id, quote))
            if len(evidence) >= MAX_EVIDENCE:
                break
        return evidence
