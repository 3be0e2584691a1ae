"""The injection screen against a corpus of disguised attacks and of ordinary requests.

tests/data/injection-attacks.jsonl: attack variants, each a chat fragment tagged with its
disguise (zero-width split, letter-spaced, homoglyphs, base64, forged JSON reply, split
across messages, leetspeak, pinyin, right-to-left override, appeals to the grader).
tests/data/injection-benign.jsonl: ordinary zh/en service talk, including five-star pleas,
refund requests, praise with "full marks", and codes that look like base64.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai.data import make_chat

from auditor.grading.injection import detect_injection

DATA = Path(__file__).parent / "data"
ATTACKS = [json.loads(x) for x in (DATA / "injection-attacks.jsonl").read_text().splitlines()]
BENIGN = [
    json.loads(x)["text"]
    for x in (DATA / "injection-benign.jsonl").read_text(encoding="utf-8").splitlines()
]
KINDS = {
    *("zero_width", "letter_spaced", "homoglyph", "base64", "forged_json", "split", "leet"),
    *("pinyin", "rtl", "appeal"),
}


def test_the_corpus_is_as_large_as_promised() -> None:
    assert len(ATTACKS) >= 48 and len(BENIGN) >= 100
    assert {a["kind"] for a in ATTACKS} >= KINDS
    assert any("五星好评" in t for t in BENIGN) and "please give me a refund" in BENIGN


@pytest.mark.parametrize("attack", ATTACKS, ids=[f"{i}-{a['kind']}" for i, a in enumerate(ATTACKS)])
def test_every_attack_variant_is_flagged(attack: dict) -> None:
    chat = make_chat(("agent", "您好，请问有什么可以帮您？"), *map(tuple, attack["messages"]))
    found = detect_injection(chat)
    assert found, attack
    assert {e.message_id for e in found} <= {m.id for m in chat.messages[1:]}
    for e in found:  # every quote is the transcript's own text
        assert e.quote and e.quote in next(m.text for m in chat.messages if m.id == e.message_id)


@pytest.mark.parametrize("text", BENIGN)
def test_no_ordinary_request_is_flagged(text: str) -> None:
    for role in ("customer", "agent"):
        assert detect_injection(make_chat(("customer", "你好"), (role, text))) == []


def test_benign_requests_are_not_flagged_when_joined_either() -> None:
    """Consecutive messages are scanned joined; the benign set, sent in a row, stays clean."""
    chat = make_chat(*(("customer", t) for t in BENIGN))
    assert detect_injection(chat) == []


def _views() -> list[str]:
    from auditor.grading.injection_views import compact

    texts = [t for a in ATTACKS for _, t in a["messages"]] + BENIGN
    return [compact(t) for t in texts] + [
        "".join(compact(t) for _, t in a["messages"]) for a in ATTACKS
    ]


def test_every_compact_match_contains_a_trigger_word() -> None:
    """The Aho-Corasick screen may only skip views that no compact pattern can match."""
    from auditor.grading import injection_views as v

    matched = 0
    for view in _views():
        for pattern in v.COMPACT_PATTERNS:
            for m in pattern.finditer(view):
                matched += 1
                assert any(t in m.group() for t in v.COMPACT_TRIGGERS), (pattern.pattern, m)
    assert matched >= len(ATTACKS) // 2  # the check saw real matches


def test_the_screen_never_hides_a_compact_hit(monkeypatch) -> None:
    from auditor.grading import injection_views as v

    chats = [[tuple(m) for m in a["messages"]] for a in ATTACKS] + [
        [("customer", t)] for t in BENIGN
    ]
    screened = [v.compact_hits([t for _, t in c], [r for r, _ in c]) for c in chats]
    monkeypatch.setattr(v, "may_match_compact", lambda view: True)
    assert screened == [v.compact_hits([t for _, t in c], [r for r, _ in c]) for c in chats]


@pytest.mark.realdata
def test_no_false_flags_on_real_support_chats(shared_data: Path) -> None:
    """Every string of the real chat sets (zh and en support chats), screened as one message
    each: none was written to attack a grader, so any flag is a false one."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from injection_realdata import texts  # noqa: PLC0415

    seen = {t for _, t in texts(shared_data / "chats")}
    assert len(seen) > 10_000  # the sets are there and were read
    flagged = [t for t in seen if detect_injection(make_chat(("customer", t)))]
    assert flagged == []


@pytest.mark.parametrize("remembered", [None, 7])
def test_the_per_text_screen_finds_what_the_two_passes_find(monkeypatch, remembered) -> None:
    """detect_injection screens each message's text once (remembered per text) instead of
    the joined chat; it must give exactly the evidence, in the order, of the plain pass
    followed by the disguised pass, on every attack, each attack mixed into ordinary talk
    and in other messages' company, and the benign set — with texts new and seen, and
    with the memory forgotten in the middle of chats (``remembered``: 7 texts at most)."""
    from injection_reference import disguised, plain  # tests/ is on sys.path

    from auditor.grading import injection

    monkeypatch.setattr(injection, "_SCREENED", {})
    if remembered is not None:
        monkeypatch.setattr(injection, "SCREENED_MAX", remembered)

    chats = [make_chat(("customer", "你好"), *map(tuple, a["messages"])) for a in ATTACKS]
    chats += [
        make_chat(("agent", BENIGN[i]), *map(tuple, a["messages"]), ("customer", BENIGN[-i - 1]))
        for i, a in enumerate(ATTACKS)
    ]
    every = [tuple(m) for a in ATTACKS for m in a["messages"]]
    chats += [
        make_chat(*every),
        make_chat(*every[::-1]),
        make_chat(*(("agent", t) for t in BENIGN)),
    ]
    flagged = 0
    for chat in chats + chats[::-1]:  # each text new, then seen
        found = plain(chat)
        expected = [(e.message_id, e.quote) for e in found + disguised(chat, found)]
        assert [(e.message_id, e.quote) for e in detect_injection(chat)] == expected
        flagged += bool(expected)
    assert flagged >= 4 * len(ATTACKS) + 4  # the check compared real hits, not empty lists
    # bounded: never more than the limit, or one chat's texts when a chat alone has more
    largest = max(len({m.text for m in chat.messages}) for chat in chats)
    assert len(injection._SCREENED) <= max(remembered or injection.SCREENED_MAX, largest)
