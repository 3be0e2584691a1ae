"""A check's verdict from its rubric rule: ``require`` and ``forbid`` rules, with evidence.

* ``require``: passes when the condition holds, citing what it found; fails otherwise,
  naming the missing parts (the ``name`` of each ``all`` part that does not hold) and
  citing what was found, else the start of the scope's last message.
* ``forbid``: fails when the condition holds, citing every hit; passes otherwise.

Every quote is the hit's text as it stands in the message (``quote_context`` characters
around it when the rule asks for them: a lone "你" tells a reviewer nothing). ``data`` has
the hits with their offsets (``hits``) and the ids of the messages read (``messages``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..checks.phrases import Hit, Verdict, quote_prefix
from ..models import Chat, Evidence, Message, evidence_of
from .engine import LEAF_CACHE, ChatView, Node, Outcome, describe_scope, is_local, select
from .model import CheckRule, Scope

#: A remembered outcome: holds, hits as (message position, start, end, text, rule), missing.
_Remembered = tuple[bool, tuple[tuple[int, int, int, str, str], ...], tuple[str, ...]]


class CompiledRule:
    """One check's rule, compiled once per rubric."""

    def __init__(self, check: str, rule: CheckRule, node: Node):
        self.check = check
        self.rule = rule
        self.node = node
        self.scope: Scope = node.scope or Scope()
        self.where = describe_scope(node.scope)
        self.kind = rule.kind
        self.forbid = self.kind == "forbid"
        self.verdict_rule = self.kind in ("require", "forbid")  # gives a check's verdict
        # outcomes by the texts of the scope's messages, when nothing else can change them
        # (agents' first and last messages are mostly macros); hits kept by message position
        # (only for a bounded scope — first or last N — where texts recur)
        bounded = self.scope.first is not None or self.scope.last is not None
        self._memo: dict[tuple[str, ...], _Remembered] | None = (
            {} if bounded and is_local(node) else None
        )

    def verdict(self, chat: Chat | ChatView) -> Verdict:
        view = chat if isinstance(chat, ChatView) else ChatView(chat)
        messages = select(view, self.scope)
        where = self.where
        if not messages:
            return Verdict("na", f"nothing to check: no message in {where}", data={"messages": []})
        out = self._outcome(view, messages)
        data: dict[str, Any] = {
            "messages": [m.id for m in messages],
            "hits": [h.as_dict() for h in out.hits] if out.hits else [],
        }
        evidence = self._evidence(view, out.hits) if out.hits else []
        if self.forbid:
            if not out.holds:
                return Verdict("pass", f"nothing forbidden in {where}", data=data)
            listed = ", ".join(f"{h.text!r} in {h.message_id}" for h in out.hits)
            n = len(out.hits)
            detail = f"{n} forbidden hit{'s' if n != 1 else ''}: {listed}" if n else "forbidden"
            return Verdict("fail", detail, evidence, data)
        # require
        if out.holds:
            listed = ", ".join(f"{h.text!r} in {h.message_id}" for h in out.hits)
            return Verdict("pass", f"found {listed or 'it'} in {where}", evidence, data)
        missing = out.missing
        if not evidence:
            evidence = [_prefix(messages[-1] if self.scope.first is None else messages[0])]
        what = " and ".join(missing) if missing else (self.node.name or self.check)
        data["missing"] = missing
        return Verdict("fail", f"{what} not found in {where}", evidence, data)

    def _outcome(self, view: ChatView, messages: list[Message]) -> Outcome:
        memo = self._memo
        if memo is None:
            return self.node.eval(view, messages)
        key = tuple(m.text for m in messages)
        got = memo.get(key)
        if got is None:
            out = self.node.eval(view, messages)
            at = {m.id: i for i, m in enumerate(messages)}
            spans = tuple((at[h.message_id], h.start, h.end, h.text, h.rule) for h in out.hits)
            got = (out.holds, spans, tuple(out.missing))
            if len(memo) >= LEAF_CACHE:
                memo.clear()
            memo[key] = got
            return out
        holds, spans, missing = got
        hits = [Hit(messages[i].id, s, e, t, r) for i, s, e, t, r in spans]
        return Outcome(holds, hits, list(missing))

    def _evidence(self, view: ChatView, hits: Sequence[Hit]) -> list[Evidence]:
        ctx = self.rule.quote_context
        out = []
        for h in hits:
            if not h.text:
                continue
            if ctx:
                text = view.message(h.message_id).text
                quote = text[max(0, h.start - ctx) : min(len(text), h.end + ctx)]
            else:
                quote = h.text
            out.append(evidence_of(h.message_id, quote))
        return out


def _prefix(m: Message) -> Evidence:
    return evidence_of(m.id, quote_prefix(m.text))
