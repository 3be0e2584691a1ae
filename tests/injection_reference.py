"""The prompt-injection screen as it worked before it remembered each text's screen
(auditor/grading/injection.py ``detect_injection``): a plain pass over the joined chat, then
a disguised pass. The reference the per-text screen is checked against
(tests/test_injection_corpus.py, tests/test_injection.py)."""

from __future__ import annotations

from auditor.grading import injection_views as views
from auditor.grading.injection import (
    QUOTE_CHARS,
    _folded,
    _may_match,
    _plain_hits,
    plain_match,
)
from auditor.models import Chat, Evidence, evidence_of


def plain(chat: Chat, joined: str | None = None) -> list[Evidence]:
    """The plain pass over a whole chat, with the joined chat's screen first."""
    # Folding is per character, so folding the joined messages is joining their folds; no
    # trigger word spans a line break. No trigger anywhere in the chat: nothing can match.
    if joined is None:
        joined = "\n".join([msg.text for msg in chat.messages])
    if not _may_match(_folded(joined)):
        return []
    found: list[Evidence] = []
    for msg in chat.messages:
        if plain_match(msg.text):
            found += _plain_hits(msg.id, msg.text)
    return found


def disguised(chat: Chat, plain: list[Evidence], joined: str | None = None) -> list[Evidence]:
    """Disguised injections in the messages without a plain match (``injection_views``);
    ``joined``: the chat's texts joined by line breaks, when the caller has them."""
    done = {e.message_id for e in plain}
    msgs = chat.messages
    if joined is None:
        joined = "\n".join([m.text for m in msgs])
    found: list[Evidence] = []
    for msg in msgs if views.may_hide_text(joined) else ():
        if msg.id in done:
            continue
        for start, end in views.decoded_hits(msg.text, plain_match):
            found.append(evidence_of(msg.id, msg.text[start:end]))
            done.add(msg.id)
    for i in views.compact_hits([m.text for m in msgs], [m.role for m in msgs]):
        if msgs[i].id not in done:
            found.append(evidence_of(msgs[i].id, msgs[i].text[:QUOTE_CHARS]))
            done.add(msgs[i].id)
    if len(found) < 2:
        return found  # nothing to order (the common case: nothing found)
    order = {m.id: i for i, m in enumerate(msgs)}
    return sorted(found, key=lambda e: order[e.message_id])
