"""Confidence of an LLM grade: measured from the model's behaviour, never asked of it.

A model's self-reported confidence is poorly calibrated; how consistently it answers is a
better signal. Per criterion:

* **agreement** ``a`` (when ``k = samples > 1``, via the API's ``n``): the share of the *k
  requested* samples whose valid answer is the chosen (majority) level. A sample whose
  answer for this criterion was invalid (bad level, unverifiable evidence) counts as
  disagreeing, so evidence failures lower ``a``.
* **level probability** ``p`` (when the server returns logprobs): the probability the model
  gave the chosen level's tokens, ``exp(sum of their logprobs)``, averaged over the samples
  that chose it.

``confidence = a × p × 0.75^r`` using the signals that exist, where ``r`` is the number of
re-asks the criterion needed before its evidence verified. With one sample and no logprobs
nothing was measured and the confidence is ``None`` (unknown), not a made-up number.

The chosen level is the majority among valid samples; a tie goes to the level with the
higher mean probability, then to the earliest sample's answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

REASK_FACTOR = 0.75

_LEVEL = re.compile(r'"level"\s*:\s*"([^"\\]*)"')
_CRITERION = re.compile(r'"criterion"\s*:\s*"([^"\\]*)"')


@dataclass(frozen=True)
class Vote:
    """One sample's answer for one criterion: its level (None if invalid) and probability."""

    level: str | None
    prob: float | None = None


@dataclass(frozen=True)
class Consensus:
    level: str | None
    confidence: float | None
    agreement: float | None
    prob: float | None
    winner: int | None  # index of the first sample that chose the level


def level_probabilities(content: str, tokens: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Probability of each criterion's level value, from the reply's token logprobs.

    ``tokens`` are ``(token, logprob)`` in order; their text must spell ``content``
    (otherwise offsets are meaningless and nothing is returned). Each ``"level": "x"`` is
    attributed to the nearest ``"criterion": "id"`` before it, which is where the schema puts it.
    """
    if "".join(t for t, _ in tokens) != content:
        return {}
    starts = []
    pos = 0
    for t, _ in tokens:
        starts.append(pos)
        pos += len(t)
    crits = [(m.start(), m.group(1)) for m in _CRITERION.finditer(content)]
    out: dict[str, float] = {}
    for m in _LEVEL.finditer(content):
        owner = [cid for at, cid in crits if at < m.start()]
        if not owner or owner[-1] in out:
            continue
        a, b = m.span(1)
        if a == b:
            continue
        logp = sum(
            lp for (t, lp), s in zip(tokens, starts, strict=True) if s < b and s + len(t) > a
        )
        out[owner[-1]] = math.exp(logp)
    return out


def consensus(votes: Sequence[Vote], samples: int, reasks: int = 0) -> Consensus:
    """The chosen level and its confidence, by the formula in this module's docstring."""
    if len(votes) == 1 and samples <= 1:
        return _one(votes[0], reasks)
    return _tally(votes, samples, reasks)


def _tally(votes: Sequence[Vote], samples: int, reasks: int) -> Consensus:
    valid = [(i, v) for i, v in enumerate(votes) if v.level is not None]
    if not valid:
        return Consensus(None, None, None, None, None)
    counts: dict[str, list[int]] = {}
    for i, v in valid:
        counts.setdefault(v.level, []).append(i)  # type: ignore[arg-type]

    def mean_prob(level: str) -> float | None:
        ps = [votes[i].prob for i in counts[level] if votes[i].prob is not None]
        return sum(ps) / len(ps) if ps else None  # type: ignore[arg-type]

    level = max(
        counts,
        key=lambda lv: (len(counts[lv]), mean_prob(lv) or 0.0, -counts[lv][0]),
    )
    agreement = len(counts[level]) / max(samples, len(votes)) if samples > 1 else None
    prob = mean_prob(level)
    signals = [s for s in (agreement, prob) if s is not None]
    confidence = None
    if signals:
        confidence = math.prod(signals) * REASK_FACTOR**reasks
    return Consensus(level, confidence, agreement, prob, counts[level][0])


def _one(vote: Vote, reasks: int) -> Consensus:
    """``consensus`` of a single sample's vote (the default, ``samples`` 1) without the
    tallies (8 criteria a chat): no agreement, so the confidence is the vote's probability
    (the mean of one) times the re-ask factor."""
    if vote.level is None:
        return Consensus(None, None, None, None, None)
    if vote.prob is None:
        return Consensus(vote.level, None, None, None, 0)
    prob = vote.prob + 0.0  # the mean of one: a float, as sum()/len() gives it (-0.0 is 0.0)
    return Consensus(vote.level, prob * REASK_FACTOR**reasks, None, prob, 0)
