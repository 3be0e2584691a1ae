"""Consensus and confidence: the single-sample shortcut against the general tally."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.grading.confidence import REASK_FACTOR, Vote, _tally, consensus

votes = st.builds(
    Vote,
    level=st.one_of(st.none(), st.sampled_from(["good", "poor", "na"])),
    prob=st.one_of(
        st.none(),
        st.floats(min_value=0.0, max_value=1.0),
        st.integers(min_value=0, max_value=1),  # a server's "0"/"1" parsed as ints
    ),
)


@given(vote=votes, reasks=st.integers(min_value=0, max_value=3))
def test_one_sample_is_the_general_tally_exactly(vote, reasks):
    fast = consensus([vote], 1, reasks=reasks)
    general = _tally([vote], 1, reasks)
    assert fast == general
    assert repr(fast) == repr(general)  # the same types too (1 against 1.0 would show)


def test_one_sample_values():
    assert consensus([Vote("good", 0.5)], 1, reasks=1) == consensus([Vote("good", 0.5)], 1, 1)
    one = consensus([Vote("good", 0.5)], 1, reasks=1)
    assert (one.level, one.prob, one.agreement, one.winner) == ("good", 0.5, None, 0)
    assert one.confidence == 0.5 * REASK_FACTOR
    assert consensus([Vote("good")], 1).confidence is None  # nothing measured: unknown
    assert consensus([Vote(None, 0.9)], 1).level is None


def test_several_samples_still_tally():
    c = consensus([Vote("good", 0.9), Vote("poor", 0.8), Vote("good", 0.7)], 3)
    assert (c.level, c.winner) == ("good", 0)
    assert c.agreement == 2 / 3
