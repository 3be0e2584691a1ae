"""The review queue sized to the team: at most ``review.daily_capacity`` items a chat day.

After each audit (with the per-agent quotas, auditor/review/quotas.py), every chat day the run
touched is trimmed to its capacity, keeping the items in the order the queue is worked
(``store.QUEUE_ORDER``: the most urgent reason, then the lowest measured confidence, then
the most cue evidence of an advisory grader, then the oldest day). Never dropped: items
with a ``fatal`` or ``suspected_injection`` reason (even past the capacity) and items that
already have a review (they are history). A dropped item leaves the queue only: its result
keeps the reasons it had (``review.reasons``, with ``queued`` false).

The capacity of a day, per rubric, is ``review.daily_capacity`` when the rubric sets it,
else the standards' sampling rule (STANDARDS.md §5) applied to the day's chats: each agent
is sampled at ``quota_rate`` × ``new_agent_factor`` of their chats, at least one — the
most that rule asks of a team (every agent reviewed as if new). Two rubrics audited on the
same day add their capacities.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .reasons import FATAL, INJECTION
from .rubric import ReviewSettings

if TYPE_CHECKING:
    from .store import Store

#: Reasons that keep an item in the queue past the day's capacity.
NEVER_DROPPED: tuple[str, ...] = (FATAL, INJECTION)


@dataclass
class DayCapacity:
    day: str
    capacity: int
    kept: int
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (chat_id, rubric_name)


@dataclass
class CapacityReport:
    days: list[DayCapacity]

    @property
    def dropped(self) -> int:
        return sum(len(d.dropped) for d in self.days)


def standard_capacity(agent_volumes: list[int], settings: ReviewSettings) -> int:
    """The standards' sampling rule for one day: each agent's chats x quota_rate x
    new_agent_factor, rounded up, at least one per agent with chats."""
    rate = settings.quota_rate * settings.new_agent_factor
    # round() first, as in quotas.quota_for: 300 x 0.01 x 3 is 9.000000000000002
    return sum(max(1, math.ceil(round(n * rate, 9))) for n in agent_volumes if n > 0)


def newest_review(
    store: Store, rubric_name: str, found: dict[str, ReviewSettings]
) -> ReviewSettings:
    """The ``review`` section of the rubric's newest version stored, kept in ``found`` (by
    rubric name) for the rest of the step: finding it reads every result of the rubric, so
    once a step, not once an agent or a day."""
    if rubric_name not in found:
        found[rubric_name] = store.stored_rubric(store.newest_rubric_hash(rubric_name)).review
    return found[rubric_name]


def day_capacity(store: Store, day: str, found: dict[str, ReviewSettings] | None = None) -> int:
    """The day's capacity: each rubric's ``daily_capacity``, else its standards' rule
    (``found``: see :func:`newest_review`)."""
    volumes: dict[str, list[int]] = defaultdict(list)
    for row in store.day_volumes(day):
        volumes[row["rubric_name"]].append(row["chats"])
    found = {} if found is None else found
    total = 0
    for rubric_name, agent_volumes in volumes.items():
        settings = newest_review(store, rubric_name, found)
        if settings.daily_capacity is not None:
            total += settings.daily_capacity
        else:
            total += standard_capacity(agent_volumes, settings)
    return total


def apply_capacity(
    store: Store, run_id: str, found: dict[str, ReviewSettings] | None = None
) -> CapacityReport:
    """Trim the queue of every chat day the run audited to the day's capacity (``found``:
    see :func:`newest_review`)."""
    report = CapacityReport(days=[])
    drops: list[tuple[str, str]] = []
    found = {} if found is None else found
    for day in store.run_days(run_id):
        capacity = day_capacity(store, day, found)
        kept = 0
        decision = DayCapacity(day=day, capacity=capacity, kept=0)
        for item in store.day_queue(day):  # in QUEUE_ORDER
            must = item["reviewed"] or any(r in NEVER_DROPPED for r in item["reasons"])
            if must or kept < capacity:
                kept += 1
            else:
                decision.dropped.append((item["chat_id"], item["rubric_name"]))
        decision.kept = kept
        drops += decision.dropped
        report.days.append(decision)
    store.drop_queue_items(drops)
    return report
