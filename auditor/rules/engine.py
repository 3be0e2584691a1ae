"""Evaluate rule conditions on a chat: compiled once per rubric, then one pass per chat.

``compile_condition(cond)`` turns a validated :class:`~auditor.rules.model.Condition` into a
tree of small evaluator objects (phrase automatons and regexes built once); ``evaluate``
runs it on a chat and returns an :class:`Outcome`: whether the condition holds and the
hits — each a verbatim span of one message — that are its evidence.

Semantics (rubrics/README.md has examples):

* a condition reads the messages of its scope (``in``), else its parent's; the rule's root
  reads the human agent's messages;
* a leaf (``keywords``, ``regex``, ``similar``, ``only``, ``empty``) holds when at least one
  message of its scope satisfies it; its hits are the spans it found;
* ``all`` holds when every part holds (each in its own scope), ``any`` when one does;
  their hits are the holding parts' hits; ``not`` holds when its part does not (no hits);
* ``anchor`` holds when at least one hit of ``find`` is kept: ``keep: absent`` keeps a hit
  when ``expect`` does not hold in the messages around it, ``keep: present`` when it does.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..checks.phrases import Hit, PhraseMatcher, _any_of
from ..checks.timing import AckMatcher
from ..models import Chat, Message
from .model import Condition, Role, Scope
from .similar import EMBEDDING_FALLBACK, NGRAM, EmbeddingUnavailable, Match, backend

#: How many message texts each similar-sentence condition remembers its verdict for.
SIMILAR_CACHE = 50_000
#: How many message texts each leaf condition (and each ``any`` screen) remembers its
#: result for: a leaf's result depends on the text alone, and agents repeat their macros.
LEAF_CACHE = 50_000

#: Placeholder texts some exports put for a picture, sticker or file ("[图片]", "<img …>").
_ATTACHMENT = re.compile(
    r"^\s*(?:\[(?:图片|圖片|表情|动画表情|文件|语音|视频|image|img|photo|picture|sticker|file|"
    r"attachment|emoji|gif|video|voice)[^\]]*\]|<img\b[^>]*>|https?://\S+\.(?:png|jpe?g|gif|webp))"
    r"\s*$",
    re.IGNORECASE,
)


def is_empty_message(text: str) -> bool:
    """Nothing but blanks, or only an attachment placeholder."""
    return not text.strip() or _ATTACHMENT.match(text) is not None


@dataclass(slots=True)
class Outcome:
    holds: bool
    hits: list[Hit] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # an ``all``'s parts that did not hold


_FALSE = Outcome(False)


class ChatView:
    """One chat's messages by role (computed on demand) and each message's position."""

    __slots__ = ("chat", "_roles", "_pos", "warnings")

    def __init__(self, chat: Chat):
        self.chat = chat
        self._roles: dict[str, list[Message]] = {}
        self._pos: dict[str, int] | None = None
        self.warnings: list[str] = []  # for the chat's result (an embeddings fallback)

    def role(self, role: Role) -> list[Message]:
        got = self._roles.get(role)
        if got is None:
            ms = self.chat.messages
            if role == "agent":
                got = [m for m in ms if m.role == "agent" and not m.auto]
            elif role == "customer":
                got = [m for m in ms if m.role == "customer"]
            else:
                got = [m for m in ms if m.role == "customer" or (m.role == "agent" and not m.auto)]
            self._roles[role] = got
        return got

    def position(self, message_id: str) -> int:
        if self._pos is None:
            self._pos = {m.id: i for i, m in enumerate(self.chat.messages)}
        return self._pos[message_id]

    def message(self, message_id: str) -> Message:
        return self.chat.messages[self.position(message_id)]


def select(view: ChatView, scope: Scope) -> list[Message]:
    ms = view.role(scope.role)
    if scope.first is not None:
        return ms[: scope.first]
    if scope.last is not None:
        return ms[-scope.last :]
    return ms


def describe_scope(scope: Scope | None) -> str:
    """Words for a scope, for details: "the agent's last 2 messages"."""
    scope = scope or Scope()
    who = {"agent": "the agent's", "customer": "the customer's", "any": "the chat's"}[scope.role]
    if scope.first == 1:
        return f"{who} first message"
    if scope.last == 1:
        return f"{who} last message"
    if scope.first is not None:
        return f"{who} first {scope.first} messages"
    if scope.last is not None:
        return f"{who} last {scope.last} messages"
    return f"{who} messages"


class Node(ABC):
    """A compiled condition."""

    scope: Scope | None
    name: str

    def run(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        if self.scope is not None:
            messages = select(view, self.scope)
        return self.eval(view, messages)

    @abstractmethod
    def eval(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        """Whether the condition holds over ``messages``, with the hits that show it."""


class _Leaf(Node):
    """A condition on one message at a time; its result depends on the text alone.

    Results are remembered per text (``LEAF_CACHE``) as plain spans, and the hits rebuilt
    with the message's id, so a repeated macro is matched once.
    """

    _memo: dict[str, tuple[tuple[int, int, str, str], ...] | None]

    def eval(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        try:
            memo = self._memo
        except AttributeError:
            memo = self._memo = {}
        holds = False
        hits: list[Hit] = []
        for m in messages:
            text = m.text
            try:
                got = memo[text]
            except KeyError:
                ok, found = self.message(m)
                got = tuple((h.start, h.end, h.text, h.rule) for h in found) if ok else None
                if len(memo) >= LEAF_CACHE:
                    memo.clear()
                memo[text] = got
            if got is not None:
                holds = True
                if got:
                    mid = m.id
                    hits.extend([Hit(mid, s, e, t, r) for s, e, t, r in got])
        return Outcome(holds, hits) if holds else _FALSE

    @abstractmethod
    def message(self, m: Message) -> tuple[bool, list[Hit]]:
        """Whether the condition holds for one message's text, with its hits."""


class KeywordsNode(_Leaf):
    def __init__(self, cond: Condition):
        assert cond.keywords is not None
        kw = cond.keywords
        self.scope, self.name = cond.scope, cond.name
        self.any_phrases = list(kw.any)
        self.any = PhraseMatcher(kw.any) if kw.any else None
        self.all_phrases = [p.strip() for p in kw.all if p.strip()]
        self.all = PhraseMatcher(self.all_phrases) if self.all_phrases else None
        self.none = PhraseMatcher(kw.none) if kw.none else None

    def message(self, m: Message) -> tuple[bool, list[Hit]]:
        hits: list[Hit] = []
        if self.any is not None:
            hits = self.any.find_all(m)
            if not hits:
                return False, []
        if self.all is not None:
            found = self.all.find_all(m)
            wanted = {p.lower() for p in self.all_phrases}
            if {h.rule.lower() for h in found} != wanted:
                return False, []
            hits = sorted([*hits, *found], key=lambda h: h.start)
        if self.none is not None and self.none.contains(m.text):
            return False, []
        return True, hits


class RegexNode(_Leaf):
    def __init__(self, cond: Condition):
        assert cond.regex is not None
        self.scope, self.name = cond.scope, cond.name
        self.patterns = [(p, re.compile(p, re.IGNORECASE)) for p in cond.regex.pattern]
        self.exclude = [re.compile(p, re.IGNORECASE) for p in cond.regex.exclude]
        # one alternation of every pattern: most messages match none, and one search says so
        self.screen = _any_of(cond.regex.pattern) if len(self.patterns) > 1 else None

    def message(self, m: Message) -> tuple[bool, list[Hit]]:
        text = m.text
        if self.screen is not None and self.screen.search(text) is None:
            return False, []
        hits: list[Hit] = []
        excluded: list[tuple[int, int]] | None = None  # computed only when needed
        for pattern, rx in self.patterns:
            for mt in rx.finditer(text):
                s, e = mt.start(), mt.end()
                if e == s or any(h.start < e and s < h.end for h in hits):
                    continue  # an empty match quotes nothing; overlapping hits count once
                if self.exclude:
                    if excluded is None:
                        excluded = [
                            (x.start(), x.end()) for r in self.exclude for x in r.finditer(text)
                        ]
                    if any(a < e and s < b for a, b in excluded):
                        continue
                hits.append(Hit(m.id, s, e, mt.group(0), pattern))
        hits.sort(key=lambda h: h.start)
        return bool(hits), hits


class SimilarNode(_Leaf):
    """Similar-sentence match; with the embeddings backend, a server failure on a message
    falls back to the offline n-gram score for it and warns on the chat (``view.warnings``),
    and the next chat tries the server again."""

    def __init__(self, cond: Condition):
        assert cond.similar is not None
        self.scope, self.name = cond.scope, cond.name
        self.examples = list(cond.similar.examples)
        self.threshold = cond.similar.threshold
        self.backend_name = cond.similar.backend
        # message text -> best match: agents repeat their macros, so texts recur a lot
        self._cache: dict[str, Match | None] = {}

    def eval(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        holds = False
        hits: list[Hit] = []
        for m in messages:
            ok, found = self.message(m, view)
            if ok:
                holds = True
                hits.extend(found)
        return Outcome(holds, hits) if holds else _FALSE

    def message(self, m: Message, view: ChatView | None = None) -> tuple[bool, list[Hit]]:
        try:
            match = self._cache[m.text]
        except KeyError:
            try:
                match = backend(self.backend_name).best(m.text, self.examples, self.threshold)
            except EmbeddingUnavailable as e:
                # this message only: n-grams now, not remembered, the server again next time
                match = NGRAM.best(m.text, self.examples, self.threshold)
                if view is not None:
                    note = f"{EMBEDDING_FALLBACK} ({e}): similar-sentence rules used n-grams"
                    if note not in view.warnings:
                        view.warnings.append(note)
                return self._hit(m, match)
            if len(self._cache) >= SIMILAR_CACHE:
                self._cache.clear()
            self._cache[m.text] = match
        return self._hit(m, match)

    @staticmethod
    def _hit(m: Message, match: Match | None) -> tuple[bool, list[Hit]]:
        if match is None:
            return False, []
        s = match.span
        rule = f"similar to {match.example!r} ({match.score:.2f})"
        return True, [Hit(m.id, s.start, s.end, s.text, rule)]


class OnlyNode(_Leaf):
    def __init__(self, cond: Condition):
        assert cond.only is not None
        self.scope, self.name = cond.scope, cond.name
        self.matcher = AckMatcher(cond.only.phrases)

    def message(self, m: Message) -> tuple[bool, list[Hit]]:
        if not self.matcher.is_ack(m.text):
            return False, []
        return True, [_whole(m, "only")]


class EmptyNode(_Leaf):
    def __init__(self, cond: Condition):
        self.scope, self.name = cond.scope, cond.name
        self.want = bool(cond.empty)

    def message(self, m: Message) -> tuple[bool, list[Hit]]:
        if is_empty_message(m.text) != self.want:
            return False, []
        return True, ([_whole(m, "empty")] if m.text.strip() else [])


def _whole(m: Message, rule: str) -> Hit:
    text = m.text.strip()
    start = m.text.find(text) if text else 0
    return Hit(m.id, start, start + len(text), text, rule)


class AllNode(Node):
    def __init__(self, cond: Condition, parts: list[Node]):
        self.scope, self.name, self.parts = cond.scope, cond.name, parts

    def eval(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        """Every part is evaluated, so a failure can name all the parts that are missing."""
        hits: list[Hit] = []
        missing: list[str] = []
        for i, part in enumerate(self.parts):
            out = part.run(view, messages)
            if out.holds:
                hits.extend(out.hits)
            else:
                missing.append(part.name or f"part {i + 1}")
        return Outcome(not missing, hits, missing)


class AnyNode(Node):
    """Holds when a part holds; its hits are those of every part that holds.

    ``similar`` parts (the slow ones) are tried only when no other part holds: when a
    keyword already found the sentence, a similar-sentence hit would only repeat it.
    """

    def __init__(self, cond: Condition, parts: list[Node]):
        self.scope, self.name, self.parts = cond.scope, cond.name, parts
        self.quick = [p for p in parts if not isinstance(p, SimilarNode)]
        self.slow = [p for p in parts if isinstance(p, SimilarNode)]
        self.screen = _screen(parts)

    def eval(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        if self.screen is not None:
            # Most messages match none of the parts: one automaton pass and one regex
            # search rule them out for all parts at once.
            messages = [m for m in messages if self.screen(m.text)]
            if not messages:
                return _FALSE
        holds = False
        hits: list[Hit] = []
        for group in (self.quick, self.slow):
            for part in group:
                out = part.run(view, messages)
                if out.holds:
                    holds = True
                    hits.extend(h for h in out.hits if not _overlaps(h, hits))
            if holds:
                break
        return Outcome(holds, hits) if holds else _FALSE


def _screen(parts: Sequence[Node]) -> Callable[[str], bool] | None:
    """A test that is true for every message text any of ``parts`` could hit, or None.

    Only built when every part is a message-local, scope-less keyword or regex leaf (or an
    anchor whose ``find`` is one): a part that can hold on absence (``keywords: none``,
    ``not``) or on meaning (``similar``) cannot be screened by its words.
    """
    phrases: list[str] = []
    patterns: list[str] = []
    for part in parts:
        leaf = part.find if isinstance(part, AnchorNode) else part
        if leaf.scope is not None:
            return None
        if isinstance(leaf, KeywordsNode) and leaf.none is None:
            phrases += leaf.any_phrases + leaf.all_phrases
        elif isinstance(leaf, RegexNode):
            patterns += [p for p, _ in leaf.patterns]
        else:
            return None
    matcher = PhraseMatcher(phrases) if phrases else None
    rx = _any_of(patterns) if len(patterns) > 1 else None
    if patterns and rx is None:
        if len(patterns) > 1:
            return None  # patterns that cannot be joined (capturing groups): no screen
        rx = re.compile(patterns[0], re.IGNORECASE)
    contains = matcher.contains if matcher else None
    search = rx.search if rx else None
    memo: dict[str, bool] = {}

    def screen(text: str) -> bool:
        got = memo.get(text)
        if got is None:
            got = bool((contains and contains(text)) or (search and search(text)))
            if len(memo) >= LEAF_CACHE:
                memo.clear()
            memo[text] = got
        return got

    return screen


def _overlaps(hit: Hit, hits: list[Hit]) -> bool:
    return any(
        h.message_id == hit.message_id and h.start < hit.end and hit.start < h.end for h in hits
    )


class NotNode(Node):
    def __init__(self, cond: Condition, part: Node):
        self.scope, self.name, self.part = cond.scope, cond.name, part

    def eval(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        return Outcome(not self.part.run(view, messages).holds)


class AnchorNode(Node):
    def __init__(self, cond: Condition, find: Node, expect: Node):
        assert cond.anchor is not None
        a = cond.anchor
        self.scope, self.name = cond.scope, cond.name
        self.find, self.expect = find, expect
        self.before, self.after, self.role = a.before, a.after, a.role
        self.include_self, self.keep_absent = a.include_self, a.keep == "absent"

    def window(self, view: ChatView, anchor: Message) -> list[Message]:
        pool = view.role(self.role)
        at = view.position(anchor.id)
        before = [m for m in pool if view.position(m.id) < at]
        after = [m for m in pool if view.position(m.id) > at]
        out = before[len(before) - self.before :] if self.before else []
        if self.include_self:
            out.append(anchor)
        if self.after:
            out.extend(after[: self.after])
        return out

    def eval(self, view: ChatView, messages: Sequence[Message]) -> Outcome:
        found = self.find.run(view, messages)
        if not found.holds:
            return _FALSE
        kept: list[Hit] = []
        verdicts: dict[str, bool] = {}  # expect's verdict per anchor message
        for hit in found.hits:
            present = verdicts.get(hit.message_id)
            if present is None:
                window = self.window(view, view.message(hit.message_id))
                present = verdicts[hit.message_id] = self.expect.run(view, window).holds
            if present != self.keep_absent:
                kept.append(hit)
        return Outcome(bool(kept), kept) if kept else _FALSE


def is_local(node: Node) -> bool:
    """Whether ``node``'s outcome depends on nothing but the texts of the messages it is given
    (in order): no anchor, no scope below it, no similar-sentence part that may call a server
    (its fallback warns on the chat). Such an outcome can be remembered by those texts."""
    if isinstance(node, AnchorNode):
        return False
    if isinstance(node, SimilarNode):
        return node.backend_name == "ngram"
    if isinstance(node, AllNode | AnyNode):
        return all(p.scope is None and is_local(p) for p in node.parts)
    if isinstance(node, NotNode):
        return node.part.scope is None and is_local(node.part)
    return isinstance(node, _Leaf)


def compile_condition(cond: Condition) -> Node:
    if cond.keywords is not None:
        return KeywordsNode(cond)
    if cond.regex is not None:
        return RegexNode(cond)
    if cond.similar is not None:
        return SimilarNode(cond)
    if cond.only is not None:
        return OnlyNode(cond)
    if cond.empty is not None:
        return EmptyNode(cond)
    if cond.anchor is not None:
        return AnchorNode(
            cond, compile_condition(cond.anchor.find), compile_condition(cond.anchor.expect)
        )
    if cond.all_of is not None:
        return AllNode(cond, [compile_condition(c) for c in cond.all_of])
    if cond.any_of is not None:
        return AnyNode(cond, [compile_condition(c) for c in cond.any_of])
    assert cond.not_ is not None
    return NotNode(cond, compile_condition(cond.not_))


def evaluate(
    node: Node, chat: Chat | ChatView, messages: Sequence[Message] | None = None
) -> Outcome:
    """Run a compiled condition on a chat (its root scope: the agent's messages by default)."""
    view = chat if isinstance(chat, ChatView) else ChatView(chat)
    if messages is None:
        messages = select(view, node.scope or Scope())
    return node.eval(view, messages)
