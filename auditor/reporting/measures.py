"""Response-time histograms, their quantiles and the typo distribution, summed in one pass
over the period's chats (the rows of :func:`.queries.chat_measures`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: Column positions in a :func:`.queries.chat_measures` row.
FIRST_RESPONSE, FOLLOWUP, TYPOS = 0, 2, 4


def histogram(
    rows: Sequence[Sequence[Any]], column: int, *, bin_width: float, n_bins: int
) -> dict[str, Any]:
    """Bins ``[k*w, (k+1)*w)``, the last collecting everything at or beyond its start; the
    chats timed, how many are over their rubric's limit, and the sorted times."""
    counts = [0] * n_bins
    values = []
    over = 0
    last = n_bins - 1
    for row in rows:
        v = row[column]
        if v is None:
            continue  # not timed: nobody replied, or no follow-up turn
        counts[min(int(v / bin_width), last)] += 1
        values.append(v)
        if row[column + 1]:
            over += 1
    values.sort()
    return {"counts": counts, "timed": len(values), "over_limit": over, "values": values}


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile of sorted ``values`` (None when there are none)."""
    n = len(values)
    if n == 0:
        return None
    return values[max(1, min(n, math.ceil(q * n - 1e-9))) - 1]


def typo_distribution(rows: Sequence[Sequence[Any]]) -> list[dict[str, int]]:
    """Chats per typo count (chats with a count only), each with how many are over their
    rubric's limit, by typo count."""
    chats: dict[int, int] = {}
    over: dict[int, int] = {}
    for row in rows:
        n = row[TYPOS]
        if n is None:
            continue
        chats[n] = chats.get(n, 0) + 1
        if row[TYPOS + 1]:
            over[n] = over.get(n, 0) + 1
    return [{"typos": n, "chats": chats[n], "over_limit": over.get(n, 0)} for n in sorted(chats)]
