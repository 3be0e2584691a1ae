"""The clean-pieces shortcut of the English check (``TypoChecker._detect``): a text made of
whitespace pieces seen in clean texts is clean, and the shortcut never hides a finding."""

from __future__ import annotations

from auditor.checks.typos import TypoChecker
from auditor.rubric import TypoSettings


def fresh() -> TypoChecker:
    return TypoChecker(TypoSettings())


def test_pieces_of_clean_texts_are_filed_and_recombined() -> None:
    c = fresh()
    assert c.check_text("Your order has shipped today.") == []
    assert {"Your", "order", "shipped", "today."} <= c._clean_chunks
    assert c.check_text("today. Your order has shipped") == []


def test_a_trigger_word_keeps_its_text_out_of_the_shortcut() -> None:
    c = fresh()
    assert c.check_text("You should check it.") == []
    assert c.check_text("Plenty of room.") == []
    assert "of" not in c._clean_chunks  # "of" may start a slip
    found = c.check_text("You should of room.")
    assert [(t.text, t.suggestion) for t in found] == [("of", "have")]


def test_the_shortcut_gives_what_a_fresh_checker_gives() -> None:
    warm = ["Thanks for waiting, your refund is on its way.", "We will call you back soon."]
    texts = [
        "Thanks for waiting, we will call you back soon.",
        "Thanks for wating, your refund is on its way.",
        "your refund is on its way 您好",
        "We will call you back soon. ^JD",
    ]
    c = fresh()
    for t in warm:
        c.check_text(t)
    for t in texts:
        assert c.check_text(t) == fresh().check_text(t)
    assert any(t.text == "wating" for t in c.check_text(texts[1]))
