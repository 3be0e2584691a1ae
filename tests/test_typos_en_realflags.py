"""English false flags found on real agent replies (session 4 of issue 10), one general cause
each, with the real slips next to them that must still count.

Sentences are written for this test, modelled on what was seen in MAIA-DQE and STC-3 English
agent replies outside the held-out half of the labelled chats.
"""

from __future__ import annotations

import pytest

from auditor.checks.typos import TypoChecker
from auditor.rubric import TypoSettings


@pytest.fixture(scope="module")
def checker() -> TypoChecker:
    return TypoChecker(TypoSettings())


def counted(checker: TypoChecker, text: str) -> list[str]:
    return [t.text for t in checker.check_text(text) if t.tier == "typo"]


@pytest.mark.parametrize(
    "text",
    [
        # a title's full stop does not open a sentence: the name after it is a name
        "Hello Mr. Jin, I am the service director.",
        "Dr. Okonkwo will call you back today.",
        # file names and hosts with a short ending, and the path after them
        "Open Settings > Apps > weibo.apk and tap Install.",
        "Tap the epd-checkmark_auraglo.svg icon at the bottom.",
        "Please log in to gx.t.tt and download the update.",
        "Find a service point at t.tt/support/#/servicelist today.",
        # letters glued to an anonymisation mask are what is left of a cut word
        "Any books sidelo#PRS_ORG#d would be removed.",
        # a productive prefix before a known word
        "Deauthorize the reader, then authorize it again.",
        "You can deauthorize the old device from your account.",
        # a prefix written apart from the word it makes ("undelete")
        "Can you un delete it? Check the deleted folder.",
        # a Chinese nickname opening a sentence, nothing English close to it
        "Xiaomei will follow it up and reply to you soon.",
        # real English words the Hunspell lists lack
        "It looks like a technical error on the backend of the site.",
        "Little Wo has seen your microblog. Presale orders ship in May.",
    ],
)
def test_not_counted(checker: TypoChecker, text: str) -> None:
    assert counted(checker, text) == []


@pytest.mark.parametrize(
    ("text", "slips"),
    [
        ("Hello Mr. Jin, I recieved your mesage.", ["recieved", "mesage"]),
        # no space after a full stop: the words are still checked ("Please" is not an ending)
        ("I have recieved it.Please check again.", ["recieved"]),
        # a garbled sentence opener with an English word near is still a slip
        ("Gaing there now, thanks.", ["Gaing"]),
        # a prefix before a non-word, or before a word too short to be sure, is no excuse
        ("We will reeturn it untill Friday.", ["reeturn", "untill"]),
        ("Please check your accuont at #PRS_ORG#.", ["accuont"]),
        # "un" before a word it makes nothing with is still a slip
        ("I will un the order for you.", ["un"]),
    ],
)
def test_real_slips_still_counted(checker: TypoChecker, text: str, slips: list[str]) -> None:
    assert counted(checker, text) == slips
